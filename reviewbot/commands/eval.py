"""``reviewbot eval [PATH...]``: score the rules on annotated series or on real review threads."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reviewbot.commands.common import add_archive_arguments

if TYPE_CHECKING:
    from reviewbot.rules.model import Rule

HELP = "score the rules: precision/recall on annotated series, or coverage of review comments"

DEFAULT_CORPUS = "corpus"
CONFIG_NAME = "eval.yaml"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="annotated series (NAME.mbox with NAME.expect.yaml beside it) or "
                        f"directories holding them (default: {DEFAULT_CORPUS}/); with "
                        "--reviews, review threads")
    parser.add_argument("--min-precision", type=float, metavar="X",
                        help="exit 1 when a rule's precision is below X (0..1)")
    parser.add_argument("--min-recall", type=float, metavar="X",
                        help="exit 1 when a rule's recall is below X (0..1)")
    parser.add_argument("--config", metavar="FILE",
                        help=f"thresholds file (default: {CONFIG_NAME} in the first PATH "
                        "directory, when present)")
    parser.add_argument("--rules", metavar="DIR", action="append", default=[],
                        help="also load the rule packs in DIR (repeatable)")
    parser.add_argument("--reviews", action="store_true",
                        help="PATHs are review threads: mine the reviewers' comments and say, "
                        "for each, whether a finding of check hits the same place")
    parser.add_argument("--tree", metavar="DIR",
                        help="with --reviews: the QEMU checkout to check the threads against")
    parser.add_argument("--qemu-version", metavar="X.Y.Z",
                        help="with --reviews: the version the threads' series target")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list every true positive too, not only the mistakes")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (default) or one JSON document: per-rule scores with "
                        "every finding's verdict, or every review comment with its hits")
    add_archive_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from reviewbot.rules.loader import load_rules

    rules = load_rules(args.rules)
    if args.reviews:
        return _reviews(args, rules)
    return _corpus(args, rules)


def _corpus(args: argparse.Namespace, rules: Sequence[Rule]) -> int:
    import sys
    from pathlib import Path

    from reviewbot.errors import UsageError
    from reviewbot.review import evaluate as ev

    paths = args.paths or [DEFAULT_CORPUS]
    limits = ev.Thresholds()
    config = Path(args.config) if args.config else None
    if config is None and Path(paths[0]).is_dir() and (Path(paths[0]) / CONFIG_NAME).is_file():
        config = Path(paths[0]) / CONFIG_NAME
    if config is not None:
        limits = ev.load_thresholds(config)
    for name in ("min_precision", "min_recall"):
        value = getattr(args, name)
        if value is not None:
            if not 0 <= value <= 1:
                raise UsageError(f"--{name.replace('_', '-')}: expected 0..1, got {value}")
            limits = ev.Thresholds(**{**limits.__dict__, name: value})
    cases = ev.find_cases(paths)
    if not cases:
        raise UsageError(f"no annotated series ({ev.EXPECT_SUFFIX}) under {', '.join(paths)}")
    out = sys.stdout
    results = [ev.check_case(case, rules) for case in cases]
    scores = ev.rule_scores(results, [rule.id for rule in rules])
    failures = ev.below([*scores, ev.total(scores)], limits)
    if args.format == "json":
        _dump(ev.corpus_document(results, scores, limits, failures))
        return 1 if failures else 0
    for r in results:
        for f in r.false_positives:
            out.write(f"FP {r.case.name}: {ev.describe(f)}: {f.message}\n")
            for s in r.silent_broken_by(f):
                out.write(f"   a place that must stay silent: {s}\n")
        for e in r.false_negatives:
            out.write(f"FN {r.case.name}: {e}\n")
        if args.verbose:
            for f in r.true_positives:
                out.write(f"TP {r.case.name}: {ev.describe(f)}\n")
    out.write(ev.format_table(scores) + "\n")
    out.write(f"{len(cases)} annotated series; thresholds: precision >= "
              f"{limits.min_precision:.2f}, recall >= {limits.min_recall:.2f}\n")
    for line in failures:
        out.write(f"below threshold: {line}\n")
    return 1 if failures else 0


def _reviews(args: argparse.Namespace, rules: Sequence[Rule]) -> int:
    import re
    import sys

    from reviewbot.context import Options
    from reviewbot.engine import run_check
    from reviewbot.errors import UsageError
    from reviewbot.ingest import load
    from reviewbot.review.evaluate import review_coverage
    from reviewbot.review.mine import KIND_COMMENT, mine_series, where

    if not args.paths:
        raise UsageError("--reviews needs at least one THREAD")
    if args.qemu_version and not re.fullmatch(r"\d+\.\d+(\.\d+)?", args.qemu_version):
        raise UsageError(f"--qemu-version: expected X.Y or X.Y.Z, got {args.qemu_version!r}")
    options = Options(tree=args.tree, qemu_version=args.qemu_version)
    from reviewbot.batch import archive

    archives = [p for p in args.paths if archive.is_archive_source(p)]
    if archives:
        if len(args.paths) != 1:
            raise UsageError("--reviews takes one public-inbox archive, or review threads")
        return archive.command_eval(args, archives[0], options, rules)
    if args.scheduler or args.since or args.until or args.incremental or args.jobs is not None:
        raise UsageError("--jobs, --scheduler, --since, --until and --incremental take a "
                         "public-inbox archive")
    out = sys.stdout
    hit_count = total = 0
    threads: list[dict[str, object]] = []
    for thread in args.paths:
        series = load(thread)
        comments = [c for c in mine_series(series) if c.kind == KIND_COMMENT]
        result = run_check(series, options, rules)
        hits = review_coverage(comments, result.findings)
        hit_count += sum(h.hit for h in hits)
        total += len(hits)
        if args.format == "json":
            threads.append({"thread": thread, "comments": [h.as_dict() for h in hits]})
            continue
        for h in hits:
            c = h.comment
            first = c.comment.splitlines()[0] if c.comment else ""
            if len(first) > 60:
                first = first[:57] + "..."
            rules_hit = ",".join(sorted({f.rule for f in h.findings}))
            mark = f"HIT  [{rules_hit}]" if h.hit else "miss"
            place = where(c.patch_index, c.path, c.side, c.line_start, c.line_end)
            out.write(f"{mark} {thread}: {c.reviewer.split(' <')[0]} on {place}: {first}\n")
    if args.format == "json":
        _dump({"version": 1, "threads": threads,
               "coverage": {"hit": hit_count, "comments": total}})
        return 0
    share = 100.0 * hit_count / total if total else 0.0
    out.write(f"coverage: {hit_count} of {total} review comments hit by a finding "
              f"({share:.1f}%)\n")
    return 0


def _dump(document: object) -> None:
    import json
    import sys

    json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
