#!/usr/bin/env python3
"""Index a real QEMU tree into the tree index database and print the figures: the floor
(tree-sitter parsing alone), cold and warm index times, the graph, memory.

    .venv/bin/python bench/index_tree.py [--qemu-tree DIR] [--jobs N] [--prefixes hw/ ...]

The tree comes from --qemu-tree, else REVIEWBOT_QEMU_TREE, else ../shared/scripts/get-qemu-tree
(Debian's qemu source package) unpacked into ~/.cache/reviewbot/qemu-tree, outside the
repository. Timed inside this process (interpreter start excluded), each in a fresh worker
process so that one's memory does not count for the next:

- floor: every file read and parsed by tree-sitter (the macro blanking included, nothing
  extracted) on --jobs processes: what no index of these files can go below;
- cold: an empty database in a temporary directory, every file parsed, its facts extracted
  and written on --jobs processes (target: within 2x the floor);
- warm: the same call again (every file's size and mtime checked, nothing parsed);
- graph: the tree's graph built from the facts and written to the database (what the first
  check with a tree adds), then a warm check's read of it (``open_index`` + ``load_state``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def find_tree(given: str | None) -> Path:
    for candidate in (given, os.environ.get("REVIEWBOT_QEMU_TREE")):
        if candidate:
            path = Path(candidate)
            if not (path / "hw").is_dir():
                sys.exit(f"index_tree: {path} is not a QEMU source tree (no hw/)")
            return path
    script = REPO / ".." / "shared" / "scripts" / "get-qemu-tree"
    if not script.is_file():
        sys.exit("index_tree: no tree: set REVIEWBOT_QEMU_TREE or pass --qemu-tree "
                 f"({script} is not there to fetch one)")
    dest = Path.home() / ".cache" / "reviewbot" / "qemu-tree"
    print(f"fetching a QEMU tree with {script} into {dest} ...", flush=True)
    done = subprocess.run([str(script), str(dest)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"index_tree: get-qemu-tree failed: {done.stderr.strip()[-300:]}")
    return Path(done.stdout.strip().splitlines()[-1])


def _parse_only(batch: list[str]) -> int:
    from reviewbot.c.facts import _parser_and_query, blank_macros

    parser, _ = _parser_and_query()
    nodes = 0
    for full in batch:
        with open(full, "rb") as fh:  # noqa: PTH123
            src, _ = blank_macros(fh.read())
        nodes += parser.parse(src).root_node.child_count
    return nodes


def floor(root: Path, paths: list[str], jobs: int) -> float:
    """Seconds to read and parse ``paths`` with tree-sitter on ``jobs`` processes, batched as
    the index batches them."""
    from concurrent.futures import ProcessPoolExecutor

    from reviewbot.c.index import BATCH_FILES

    sized = sorted(paths, key=lambda p: -(root / p).stat().st_size)
    size = max(1, min(BATCH_FILES, len(sized) // (jobs * 4) or 1))
    batches = [[str(root / p) for p in sized[i:i + size]] for i in range(0, len(sized), size)]
    started = time.perf_counter()
    if jobs <= 1:
        for b in batches:
            _parse_only(b)
    else:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            list(pool.map(_parse_only, batches))
    return time.perf_counter() - started


def _in_child(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` in a forked process: (its result, its peak memory in MB)."""
    reader, writer = multiprocessing.Pipe(duplex=False)

    def run() -> None:
        result = fn(*args)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        writer.send((result, peak))

    proc = multiprocessing.get_context("fork").Process(target=run)
    proc.start()
    result = reader.recv()
    proc.join()
    return result


def _index(root: str, prefixes: list[str], jobs: int, cache: str) -> dict[str, Any]:
    from reviewbot.c.index import IndexStats, open_index
    from reviewbot.patch.tree import DirTree

    stats = IndexStats()
    open_index(DirTree(root), prefixes, jobs, cache, stats=stats, progress=False)
    return {"files": stats.files, "bytes": stats.bytes, "parsed": stats.parsed,
            "cached": stats.cached, "seconds": stats.seconds}


def _count(root: str, prefixes: list[str], cache: str) -> tuple[int, int]:
    from reviewbot.c.index import open_index
    from reviewbot.patch.tree import DirTree

    facts = open_index(DirTree(root), prefixes, None, cache, progress=False).all_facts()
    return sum(len(f.functions) for f in facts), sum(len(f.calls) for f in facts)


def _graph(root: str, cache: str) -> dict[str, Any]:
    """The tree's graph as the first check with a tree makes it (TREE_PREFIXES)."""
    from reviewbot.c.index import open_index
    from reviewbot.context import TREE_PREFIXES, tree_graph_state
    from reviewbot.patch.tree import DirTree

    started = time.perf_counter()
    indexed = open_index(DirTree(root), TREE_PREFIXES, None, cache, progress=False)
    opened = time.perf_counter()
    tree_graph_state(indexed)
    built = time.perf_counter()
    db = indexed.store.db
    nodes = db.execute("SELECT count(*) FROM nodes").fetchone()[0]
    edges = db.execute("SELECT count(*) FROM out_edges").fetchone()[0]
    return {"index": opened - started, "graph": built - opened, "nodes": nodes, "edges": edges}


def _warm_open(root: str, cache: str) -> float:
    from reviewbot.c.index import open_index
    from reviewbot.context import TREE_PREFIXES, tree_graph_state
    from reviewbot.patch.tree import DirTree

    started = time.perf_counter()
    tree_graph_state(open_index(DirTree(root), TREE_PREFIXES, None, cache, progress=False))
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qemu-tree", metavar="DIR")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--prefixes", nargs="+", default=["hw/", "include/", "system/"])
    args = parser.parse_args()

    from reviewbot.patch.tree import DirTree

    tree = DirTree(find_tree(args.qemu_tree))
    root = str(tree.root)
    version = tree.version() or "?"
    print(f"tree: {root} (QEMU {version}), prefixes {' '.join(args.prefixes)}, "
          f"{args.jobs} jobs on {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    paths = tree.list_files(args.prefixes)
    with tempfile.TemporaryDirectory(prefix="reviewbot-bench-") as cache:
        base, _ = _in_child(floor, tree.root, paths, args.jobs)
        cold, cold_mb = _in_child(_index, root, args.prefixes, args.jobs, cache)
        warm, warm_mb = _in_child(_index, root, args.prefixes, args.jobs, cache)
        graph, graph_mb = _in_child(_graph, root, cache)
        again, again_mb = _in_child(_warm_open, root, cache)
        (functions, calls), _ = _in_child(_count, root, args.prefixes, cache)
        db_bytes = sum(p.stat().st_size for p in Path(cache).iterdir())
    ratio = cold["seconds"] / base
    print(f"files: {cold['files']}  bytes: {cold['bytes']:,}  functions: {functions:,}  "
          f"calls: {calls:,}")
    print(f"floor (tree-sitter parse only): {base:.2f} s")
    print(f"cold: {cold['seconds']:.2f} s wall ({cold['parsed']} parsed), {ratio:.2f}x the floor"
          f"   target <= 2x: {'met' if ratio <= 2 else 'NOT met'}; peak {cold_mb:.0f} MB")
    print(f"warm: {warm['seconds']:.2f} s wall ({warm['cached']} from the database, "
          f"{warm['parsed']} parsed); peak {warm_mb:.0f} MB")
    print(f"graph of the check's prefixes: {graph['nodes']:,} nodes, {graph['edges']:,} edges, "
          f"built and stored in {graph['graph']:.2f} s (after {graph['index']:.2f} s indexing "
          f"the rest); peak {graph_mb:.0f} MB")
    print(f"a warm check's open of index and graph: {again:.3f} s; peak {again_mb:.0f} MB")
    print(f"database: {db_bytes / 1e6:.1f} MB")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
