#!/usr/bin/env python3
"""The language rules' matcher: ast-grep-py against tree-sitter queries, on QEMU files.

    .venv/bin/python bench/matcher.py [--files N] [--runs N]

Takes N .c files of the QEMU tree's hw/ (REVIEWBOT_QEMU_TREE, sorted, every k-th so that
all of hw/ is sampled), blanks QEMU's macros as reviewbot.c.facts does, and for each matcher
measures, per file: parsing, then finding the calls of three rules (a plain call pattern,
a call with a captured callback and a type-test inside the callback's function, and a
file-scope list declaration). Also counted: ERROR nodes in each parse, with and without the
blanking (each matcher ships its own C grammar), and the import cost of each in a fresh
interpreter. Prints figures and ratios; not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.c import astgrep  # noqa: E402
from reviewbot.c.facts import blank_macros  # noqa: E402

# The same three searches, once as ast-grep rule objects, once as tree-sitter queries.
AST_GREP = {
    "call": {"rule": astgrep.prepare({"pattern": "qemu_add_machine_init_done_notifier(&$N)"})},
    "walk": {"rule": astgrep.prepare(
        {"pattern": "object_child_foreach_recursive($ROOT, $CB, $$$REST)"})},
    "list": {"rule": astgrep.prepare({
        "kind": "declaration",
        "not": {"inside": {"kind": "function_definition", "stopBy": "end"}},
        "has": {"field": "type", "regex": "^((QLIST|QTAILQ)_HEAD_*|GSList|GList)$"}})},
}
TS_QUERIES = {
    "call": """(call_expression function: (identifier) @f
                 arguments: (argument_list (pointer_expression argument: (_) @n))
                 (#eq? @f "qemu_add_machine_init_done_notifier")) @call""",
    "walk": """(call_expression function: (identifier) @f
                 arguments: (argument_list . (_) @root . (_) @cb)
                 (#eq? @f "object_child_foreach_recursive")) @call""",
    "list": """(translation_unit (declaration type: (_) @t
                 (#match? @t "^((QLIST|QTAILQ)_HEAD_*|GSList|GList)$")) @decl)""",
}


def sample(tree: Path, n: int) -> list[Path]:
    files = sorted((tree / "hw").rglob("*.c"))
    step = max(1, len(files) // n)
    return files[::step][:n]


def import_cost(stmt: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", stmt],
                              capture_output=True, text=True, check=True)
        total = 0
        for line in done.stderr.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and not parts[2].startswith("  ") and parts[1].strip().isdigit():
                total += int(parts[1])
        times.append(total / 1000)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    where = os.environ.get("REVIEWBOT_QEMU_TREE")
    if not where or not (Path(where) / "hw").is_dir():
        print("set REVIEWBOT_QEMU_TREE to a QEMU source tree", file=sys.stderr)
        return 2
    tree = Path(where)

    import ast_grep_py
    import tree_sitter_c
    from tree_sitter import Language, Parser, Query, QueryCursor

    lang = Language(tree_sitter_c.language())
    parser = Parser(lang)
    queries = {k: Query(lang, q) for k, q in TS_QUERIES.items()}

    files = sample(tree, args.files)
    texts = []
    for f in files:
        raw = f.read_bytes()
        texts.append((f, raw, blank_macros(raw)[0]))
    total_lines = sum(raw.count(b"\n") for _, raw, _ in texts)

    def ts_errors(node: object) -> int:
        count = 0
        stack = [node]
        while stack:
            n = stack.pop()
            if n.type == "ERROR":  # type: ignore[attr-defined]
                count += 1
            stack.extend(n.children)  # type: ignore[attr-defined]
        return count

    timing: dict[str, list[float]] = {k: [] for k in (
        "ts parse", "ts match", "sg parse", "sg match")}
    hits = {"ts": dict.fromkeys(TS_QUERIES, 0), "sg": dict.fromkeys(AST_GREP, 0)}
    errors = {"ts raw": 0, "ts blanked": 0, "sg raw": 0, "sg blanked": 0}
    files_with_errors = dict.fromkeys(errors, 0)
    for run in range(args.runs):
        sums = dict.fromkeys(timing, 0.0)
        for _, raw, blanked in texts:
            t0 = time.perf_counter()
            tree_ts = parser.parse(blanked)
            t1 = time.perf_counter()
            for key, q in queries.items():
                got = QueryCursor(q).matches(tree_ts.root_node)
                if run == 0:
                    hits["ts"][key] += len(got)
            t2 = time.perf_counter()
            text = blanked.decode("utf-8", "replace")
            root = ast_grep_py.SgRoot(text, "c").root()
            t3 = time.perf_counter()
            for key, cfg in AST_GREP.items():
                got_sg = root.find_all(cfg)  # type: ignore[call-overload]
                if run == 0:
                    hits["sg"][key] += len(got_sg)
            t4 = time.perf_counter()
            sums["ts parse"] += t1 - t0
            sums["ts match"] += t2 - t1
            sums["sg parse"] += t3 - t2
            sums["sg match"] += t4 - t3
            if run == 0:
                for label, src in (("raw", raw), ("blanked", blanked)):
                    n_ts = ts_errors(parser.parse(src).root_node)
                    n_sg = len(ast_grep_py.SgRoot(src.decode("utf-8", "replace"), "c").root()
                               .find_all(kind="ERROR"))
                    errors[f"ts {label}"] += n_ts
                    errors[f"sg {label}"] += n_sg
                    files_with_errors[f"ts {label}"] += bool(n_ts)
                    files_with_errors[f"sg {label}"] += bool(n_sg)
        for k, v in sums.items():
            timing[k].append(v)

    n = len(texts)
    med = {k: statistics.median(v) for k, v in timing.items()}
    print(f"{n} files of {tree}/hw ({total_lines} lines), median of {args.runs} runs")
    print(f"{'':14}{'parse ms/file':>15}{'3 rules ms/file':>17}{'total ms/file':>15}")
    for tool, label in (("ts", "tree-sitter"), ("sg", "ast-grep-py")):
        p, m = med[f"{tool} parse"] / n * 1000, med[f"{tool} match"] / n * 1000
        print(f"{label:14}{p:15.3f}{m:17.3f}{p + m:15.3f}")
    ratio = (med["sg parse"] + med["sg match"]) / (med["ts parse"] + med["ts match"])
    print(f"ratio ast-grep / tree-sitter (parse + match): {ratio:.2f}")
    print("matches (tree-sitter / ast-grep): "
          + ", ".join(f"{k} {hits['ts'][k]}/{hits['sg'][k]}" for k in TS_QUERIES))
    print("ERROR nodes (files with any), without / with the macro blanking:")
    for tool, label in (("ts", "tree-sitter"), ("sg", "ast-grep-py")):
        print(f"  {label:12} raw {errors[f'{tool} raw']} ({files_with_errors[f'{tool} raw']})"
              f"   blanked {errors[f'{tool} blanked']} "
              f"({files_with_errors[f'{tool} blanked']})")
    base = import_cost("pass", 5)
    ts_import = import_cost("import tree_sitter, tree_sitter_c", 5) - base
    sg_import = import_cost("import ast_grep_py", 5) - base
    print(f"import in a fresh interpreter (median of 5, -X importtime, less `pass`): tree-sitter + "
          f"tree_sitter_c {ts_import:.1f} ms, ast_grep_py {sg_import:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
