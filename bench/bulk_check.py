#!/usr/bin/env python3
"""Threads per second of a bulk check over a directory of many mbox threads.

    .venv/bin/python bench/bulk_check.py [--quick] [--threads N] [--jobs N ...]

Fills a temporary directory with N threads copied from ../shared/corpus-real and the repo's
corpus/ (round robin), then checks the whole directory, one process per run with the cold
start included, for each --jobs value (default: 1 and every core). Uses
`reviewbot check --jobs N DIR` when the installed command has --jobs, and otherwise
reviewbot.batch.bulk.check_many in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS_REAL = REPO / ".." / "shared" / "corpus-real"

_VIA_MODULE = """
import sys
from reviewbot.batch.bulk import check_many, exit_status
from reviewbot.context import Options
items = check_many([sys.argv[1]], Options(), jobs=int(sys.argv[2]), progress=False)
bad = [i for i in items if i.result is None]
print(len(items), len(bad))
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="60 threads, one run each")
    parser.add_argument("--threads", type=int, help="threads in the directory (default 300)")
    parser.add_argument("--jobs", type=int, action="append",
                        help="worker processes; repeatable (default: 1 and every core)")
    parser.add_argument("--runs", type=int, help="runs per --jobs value (default 3, quick 1)")
    args = parser.parse_args(argv)
    count = args.threads or (60 if args.quick else 300)
    runs = args.runs or (1 if args.quick else 3)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    jobs_list = args.jobs or sorted({1, cores or 1})

    sources = sorted(CORPUS_REAL.glob("*.mbox")) + sorted((REPO / "corpus").rglob("*.mbox"))
    if not sources:
        sys.exit("bench: no threads found in ../shared/corpus-real or corpus/")
    use_cli = _check_has_jobs()
    print(f"{count} threads from {len(sources)} distinct series; cores: {cores}; "
          f"load average {os.getloadavg()[0]:.2f}; via "
          f"{'reviewbot check --jobs' if use_cli else 'reviewbot.batch.bulk.check_many'}")
    with tempfile.TemporaryDirectory(prefix="reviewbot-bulk-") as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        for i in range(count):
            src = sources[i % len(sources)]
            shutil.copyfile(src, inbox / f"{i:05d}-{src.name}")
        print(f"{'jobs':>5} {'median s':>9} {'threads/s':>10}  notes")
        for jobs in jobs_list:
            times: list[float] = []
            note = ""
            for _ in range(runs):
                seconds, note = _run(inbox, jobs, use_cli, Path(tmp))
                times.append(seconds)
            times.sort()
            median = times[len(times) // 2]
            print(f"{jobs:>5} {median:>9.2f} {count / median:>10.1f}  {note}")
    return 0


def _reviewbot() -> list[str]:
    script = Path(sys.executable).parent / "reviewbot"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "reviewbot"]


def _check_has_jobs() -> bool:
    done = subprocess.run([*_reviewbot(), "check", "--help"], capture_output=True, text=True,
                          check=False)
    return "--jobs" in done.stdout


def _run(inbox: Path, jobs: int, use_cli: bool, tmp: Path) -> tuple[float, str]:
    if use_cli:
        argv = [*_reviewbot(), "check", "--jobs", str(jobs), "--format", "json", str(inbox)]
    else:
        argv = [sys.executable, "-c", _VIA_MODULE, str(inbox), str(jobs)]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=tmp)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1, 2):
        last = done.stderr.strip().splitlines()[-1:] or ["no message"]
        sys.exit(f"bench: {' '.join(argv[:3])}... exited {done.returncode}: {last[0]}")
    if use_cli:
        refused = sum(1 for ln in done.stderr.splitlines() if ln.startswith("reviewbot: error"))
    else:
        refused = int(done.stdout.split()[1])
    return seconds, f"{refused} refused" if refused else ""


if __name__ == "__main__":
    sys.exit(main())
