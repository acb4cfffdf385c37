#!/usr/bin/env python3
"""Index a real QEMU tree and print the figures: files, bytes, cold and warm times, memory.

    .venv/bin/python bench/index_tree.py [--qemu-tree DIR] [--jobs N] [--prefixes hw/ ...]

The tree comes from --qemu-tree, else REVIEWBOT_QEMU_TREE, else ../shared/scripts/get-qemu-tree
(Debian's qemu source package) unpacked into ~/.cache/reviewbot/qemu-tree, outside the
repository. Cold: an empty cache in a temporary directory, every file parsed on --jobs
processes. Warm: the same call again, everything from the cache. Both are timed inside this
process (interpreter start excluded); the graph over the facts is timed too. Targets from the
issue: hw/+include/+system/ cold < 10 s on 2 cores, warm < 1 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from reviewbot.c.graph import build_graph  # noqa: E402
from reviewbot.c.index import IndexStats, index_tree  # noqa: E402
from reviewbot.patch.tree import DirTree  # noqa: E402


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


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qemu-tree", metavar="DIR")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--prefixes", nargs="+", default=["hw/", "include/", "system/"])
    args = parser.parse_args()

    tree = DirTree(find_tree(args.qemu_tree))
    version = tree.version() or "?"
    print(f"tree: {tree.root} (QEMU {version}), prefixes {' '.join(args.prefixes)}, "
          f"{args.jobs} jobs on {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="reviewbot-bench-") as cache:
        cold = IndexStats()
        cpu0 = cpu_seconds()
        facts = index_tree(tree, args.prefixes, args.jobs, cache, stats=cold)
        cold_cpu = cpu_seconds() - cpu0
        warm = IndexStats()
        facts = index_tree(tree, args.prefixes, args.jobs, cache, stats=warm)
        cache_bytes = sum(p.stat().st_size for p in Path(cache).iterdir())
    started = time.perf_counter()
    g = build_graph(facts)
    graph_seconds = time.perf_counter() - started

    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"files: {cold.files}  bytes: {cold.bytes:,}  functions: "
          f"{sum(len(f.functions) for f in facts):,}  calls: {sum(len(f.calls) for f in facts):,}")
    print(f"cold: {cold.seconds:.2f} s wall, {cold_cpu:.1f} s CPU ({cold.parsed} parsed)"
          f"   target < 10 s on 2 cores")
    print(f"warm: {warm.seconds:.2f} s wall ({warm.cached} from cache, {warm.parsed} parsed)"
          f"   target < 1 s")
    print(f"cache: {cache_bytes / 1e6:.1f} MB")
    print(f"graph: {g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges in "
          f"{graph_seconds:.2f} s")
    print(f"peak memory: {own_peak:.0f} MB (this process), {worker_peak:.0f} MB (largest worker)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
