"""Where the qemu-practice rules fire with --all over a QEMU tree, and a sample of each.

    .venv/bin/python bench/practice_precision.py [--tree DIR] [--json OUT] [--sample N]

Every .c/.h file under hw/, system/, net/ and include/ becomes a new file of one synthetic
patch, and the whole qemu-practice pack runs on it once with --all (one pass for all rules,
not one per rule). For each rule it prints how many places it flags and a deterministic
sample of them (every len/N-th finding in path order) with the flagged line, which is what
was read to fill the precision table of rules/qemu-practice/README.md. Series-level rules
(Cc, threading, compat entries, QAPI members) need a real series and flag nothing here.

The tree is --tree, else $REVIEWBOT_QEMU_TREE. This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DIRS = ("hw", "system", "net", "include")
PACK = "qemu-practice"


def tree_files(tree: Path, dirs: tuple[str, ...] = DIRS) -> list[tuple[str, str]]:
    out = []
    for d in dirs:
        for p in sorted((tree / d).rglob("*")):
            if p.suffix in (".c", ".h") and p.is_file():
                out.append((str(p.relative_to(tree)),
                            p.read_text(encoding="utf-8", errors="replace")))
    return out


def sample(items: list[tuple[str, int]], n: int) -> list[int]:
    """Indices of a deterministic spread of ``n`` items (all of them when there are fewer)."""
    if len(items) <= n:
        return list(range(len(items)))
    return sorted({(i * len(items)) // n for i in range(n)})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", default=os.environ.get("REVIEWBOT_QEMU_TREE"))
    ap.add_argument("--json", help="write the counts and samples here")
    ap.add_argument("--sample", type=int, default=10)
    ap.add_argument("--dirs", nargs="+", default=list(DIRS),
                    help=f"directories of the tree to read (default: {' '.join(DIRS)})")
    args = ap.parse_args(argv)
    if not args.tree or not Path(args.tree, "MAINTAINERS").is_file():
        print("practice_precision: give --tree or set REVIEWBOT_QEMU_TREE to a QEMU tree",
              file=sys.stderr)
        return 2
    from reviewbot.context import Options
    from reviewbot.engine import run_check
    from reviewbot.review.examples import synthetic_series
    from reviewbot.rules.loader import load_rules

    tree = Path(args.tree)
    rules = [r for r in load_rules() if r.pack == PACK]
    dirs = tuple(args.dirs)
    files = tree_files(tree, dirs)
    t0 = time.perf_counter()
    series = synthetic_series(files, source=f"{tree} ({', '.join(dirs)})")
    result = run_check(series, Options(all_files=True), rules)
    elapsed = time.perf_counter() - t0
    by_rule: dict[str, list[tuple[str, int]]] = defaultdict(list)
    crashes = []
    for f in result.findings:
        if f.rule == "could-not-analyse":
            crashes.append(f.message)
        elif f.path is not None and f.line is not None:
            by_rule[f.rule].append((f.path, f.line))
    texts = dict(files)
    report: dict[str, object] = {"tree": str(tree), "files": len(files),
                                 "seconds": round(elapsed, 1), "rules": {}}
    print(f"{len(files)} files of {', '.join(dirs)} in {tree}, {len(rules)} rules, "
          f"{elapsed:.0f} s")
    for rule in sorted(rules, key=lambda r: r.id):
        hits = sorted(set(by_rule.get(rule.id, [])))
        picked = sample(hits, args.sample)
        print(f"\n== {rule.id} ({rule.severity.name.lower()}): {len(hits)} places")
        shown = []
        for i in picked:
            path, line = hits[i]
            lines = texts[path].splitlines()
            code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            print(f"  [{i}] {path}:{line}: {code[:100]}")
            shown.append({"index": i, "path": path, "line": line, "code": code})
        report["rules"][rule.id] = {"flagged": len(hits), "sample": shown}  # type: ignore[index]
    for c in crashes:
        print(f"could-not-analyse: {c}", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
