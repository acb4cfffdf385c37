"""``reviewbot check SOURCE``: run the rule packs over a series and report the findings."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from reviewbot.commands.common import add_archive_arguments, add_source_arguments, write_output

if TYPE_CHECKING:
    from reviewbot.context import Options
    from reviewbot.engine import CheckResult
    from reviewbot.rules.model import Rule

HELP = "review a series: report what maintainers would ask to change, with evidence"

FORMATS = ("text", "json", "sarif", "email", "checkpatch", "b4-review")


def configure(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--tree", metavar="DIR",
                        help="QEMU checkout to read whole files and the call graph from "
                        "(for git input the repository itself is used)")
    parser.add_argument("--rules", metavar="DIR", action="append", default=[],
                        help="also load the rule packs in DIR (repeatable)")
    parser.add_argument("--enable", metavar="ID", action="append", default=[],
                        help="run only this rule (repeatable)")
    parser.add_argument("--disable", metavar="ID", action="append", default=[],
                        help="do not run this rule (repeatable)")
    parser.add_argument("--fail-on", metavar="LEVEL", default="warning",
                        choices=("error", "warning", "info"),
                        help="exit 1 when a finding is at or above LEVEL: error, warning "
                        "(default) or info")
    parser.add_argument("--all", action="store_true", dest="all_files",
                        help="report on the whole of every touched file, not only on what "
                        "the series changes")
    parser.add_argument("--format", default="text", choices=FORMATS, metavar="FORMAT",
                        help=f"output format: {', '.join(FORMATS)} (default: text)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.add_argument("--per-series", action="store_true",
                        help="formats that write one report per patch (email) write one for "
                        "the whole series")
    parser.add_argument("-j", "--jobs", type=int, metavar="N",
                        help="SOURCE is a directory of threads (each .mbox/.eml/.patch file in "
                        "it, and each maildir, is a series of its own) or a public-inbox "
                        "archive: check N at a time (0: one per core)")
    parser.add_argument("--qemu-version", metavar="X.Y.Z",
                        help="the QEMU version the series targets (default: the tree's VERSION)")
    parser.add_argument("--previous", metavar="PREVIOUS",
                        help="the previous version's thread with its reviews (as for "
                        "`reviewbot followup`): one warning per review point still open")
    add_archive_arguments(parser, jobs=False)


def formatter(name: str) -> object:
    """The module ``reviewbot.report.<name>``; a one-line usage error when it is missing."""
    import importlib

    from reviewbot.errors import UsageError

    module_name = f"reviewbot.report.{name.replace('-', '_')}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise UsageError(f"output format {name!r} is not available in this build") from None
        raise
    if not callable(getattr(module, "write", None)):
        raise UsageError(f"output format {name!r} is not available in this build")
    return module


def run(args: argparse.Namespace) -> int:
    import re
    from pathlib import Path

    from reviewbot.errors import UsageError

    if args.qemu_version and not re.fullmatch(r"\d+\.\d+(\.\d+)?", args.qemu_version):
        raise UsageError(f"--qemu-version: expected X.Y or X.Y.Z, got {args.qemu_version!r}")
    write = formatter(args.format).write  # type: ignore[attr-defined]
    bulk = bool(args.jobs is not None or args.scheduler or args.since or args.until
                or args.incremental)
    if args.tree and not bulk and Path(args.tree).is_dir():
        # the index stats every C file of the tree: in another process, while the rules
        # are loaded, the series is read and the rules that need no tree run
        from reviewbot.context import TREE_PREFIXES
        from reviewbot.patch.tree import drop_listings, list_stats_soon

        list_stats_soon(args.tree, TREE_PREFIXES)
        try:
            return _run(args, write, bulk)
        finally:
            drop_listings()
    return _run(args, write, bulk)


def _run(args: argparse.Namespace, write: Callable[[CheckResult, TextIO], None],
         bulk: bool) -> int:
    from reviewbot.commands.common import load_series
    from reviewbot.context import Options
    from reviewbot.engine import run_check
    from reviewbot.errors import UsageError
    from reviewbot.finding import Severity
    from reviewbot.rules.loader import load_rules

    rules = load_rules(args.rules)
    options = Options(
        all_files=args.all_files, tree=args.tree, qemu_version=args.qemu_version,
        enabled=frozenset(args.enable), disabled=frozenset(args.disable),
        fail_on=Severity.parse(args.fail_on), per_series=args.per_series,
    )
    if bulk:
        if args.previous:
            raise UsageError("--previous follows up one series; it does not go with --jobs")
        return _run_bulk(args, options, rules, write)
    from reviewbot.util.nogc import collector_paused

    # One series, then the process ends: what a check builds (the diff's lines, facts,
    # matches) is freed by reference counting; cyclic garbage collections would only walk
    # it again and again (5-15 ms of a check, and in a split check's child they copy every
    # page they touch). A check's peak memory is the same without them.
    with collector_paused():
        series = load_series(args)
        result = run_check(series, options, rules, parallel=True)
        if args.previous:
            from reviewbot.review.followup import with_open_points

            result = with_open_points(result, args.previous, repo=args.repo)
        write_output(args.output, lambda out: write(result, out))
    return 1 if result.fails() else 0


def _run_bulk(args: argparse.Namespace, options: Options, rules: Sequence[Rule],
              write: Callable[[CheckResult, TextIO], None]) -> int:
    """``--jobs``: every series under the SOURCE directory, in a pool of processes."""
    import sys
    from pathlib import Path

    from reviewbot.batch import archive, bulk
    from reviewbot.errors import UsageError

    if archive.is_archive_source(args.source, args.repo) and not args.staged:
        return archive.command_check(args, str(Path(args.repo or ".") / args.source),
                                     options, rules)
    if args.scheduler or args.since or args.until or args.incremental:
        raise UsageError("--scheduler, --since, --until and --incremental take a "
                         "public-inbox archive as SOURCE")
    if args.jobs < 0:
        raise UsageError("--jobs: expected a number of processes (0: one per core)")
    if args.staged or not args.source or not bulk.is_bulk_source(args.source, args.repo):
        raise UsageError("--jobs takes a directory of threads as SOURCE")
    if args.format not in ("text", "json", "checkpatch"):
        raise UsageError(f"--jobs writes text, json (as JSON Lines) or checkpatch, "
                         f"not {args.format}")
    json_lines = args.format == "json"
    source = str(Path(args.repo or ".") / args.source)
    items = bulk.check_many([source], options, jobs=args.jobs or None, rules=rules)
    write_output(args.output, lambda out: bulk.write_reports(items, write, out, sys.stderr,
                                                              json_lines=json_lines))
    return bulk.exit_status(items)
