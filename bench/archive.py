#!/usr/bin/env python3
"""A public-inbox archive at scale: read, check and mine, locally and on Dask.

    .venv/bin/python bench/archive.py [--messages N] [--quick] [--skip-dask]

Builds one public-inbox v2 epoch under the system temp directory from the real messages of
../shared/corpus-real, replicated with fresh Message-IDs (and the In-Reply-To/References
that point at them) and fresh dates until there are N messages (default 20,000), then prints:
messages/s read; threads/s checked and mined in this process, with the process pool at 1
and 2 workers and on a Dask LocalCluster of 2 workers on 127.0.0.1, each against this run's
single-process figure; peak memory; and the time of an incremental run after 100 more
messages are appended (goal: under 2 s). The machine's load average is printed beside the
figures, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS_REAL = REPO / ".." / "shared" / "corpus-real"
_ID = re.compile(rb"<([^<>\s]+)>")
_DATE = re.compile(rb"^Date:[^\n]*\n", re.IGNORECASE | re.MULTILINE)


def corpus() -> list[bytes]:
    from reviewbot.ingest.mail import raw_mails

    out = []
    for path in sorted(CORPUS_REAL.glob("*.mbox")):
        out.extend(r.data for r in raw_mails(path.read_bytes(), str(path)))
    if not out:
        sys.exit(f"bench: no messages in {CORPUS_REAL}")
    return out


def replicas(messages: list[bytes], count: int, start_round: int = 0,
             ) -> tuple[list[bytes], list[int]]:
    """``count`` messages: round r renames every id X of the corpus to r<r>.X and dates the
    round's messages one minute apart, a day after the previous round."""
    out: list[bytes] = []
    dates: list[int] = []
    base = 1_600_000_000
    r = start_round
    while len(out) < count:
        prefix = b"r%d." % r
        for i, data in enumerate(messages):
            if len(out) == count:
                break
            head, sep, body = data.partition(b"\n\n")
            head = _ID.sub(lambda m, p=prefix: b"<" + p + m.group(1) + b">", head)
            when = base + r * 86400 + i * 60
            stamp = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(when)).encode()
            head = _DATE.sub(b"Date: " + stamp + b"\n", head, count=1)
            out.append(head + sep + body)
            dates.append(when)
        r += 1
    return out, dates


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--quick", action="store_true", help="3,100 messages")
    parser.add_argument("--skip-dask", action="store_true")
    args = parser.parse_args(argv)
    count = 3_100 if args.quick else args.messages

    from reviewbot.batch import archive as run
    from reviewbot.context import Options
    from reviewbot.ingest import archive
    from reviewbot.rules.loader import load_rules

    rules = load_rules(())
    base = corpus()
    print(f"cores {len(os.sched_getaffinity(0))}; {load()} at start")
    with tempfile.TemporaryDirectory(prefix="reviewbot-archive-") as tmp:
        inbox = Path(tmp) / "inbox"
        epoch = inbox / "git" / "0.git"
        msgs, dates = replicas(base, count)
        started = time.perf_counter()
        archive.append_messages(epoch, msgs, dates)
        seconds = time.perf_counter() - started
        subprocess.run(["git", "--git-dir", str(epoch), "gc", "-q"], check=True)
        print(f"built {count} messages ({len(base)} real ones, replicated) in {seconds:.1f} s "
              f"under {tmp}")
        del msgs

        seconds, scanned = timed(lambda: archive.scan(str(inbox)))
        threads = scanned.threads  # type: ignore[attr-defined]
        print(f"read: {count / seconds:,.0f} messages/s with git cat-file --batch "
              f"({seconds:.2f} s; {len(threads)} threads)")
        _catfile_rate(epoch, count)
        _pygit2_rate(epoch, count)

        figures: dict[str, dict[str, float]] = {}
        results: dict[str, list[object]] = {}
        for kind in (run.KIND_CHECK, run.KIND_MINE):
            job = run.Job(kind, Options(), rules, "json")
            figures[kind] = {}
            for name, jobs in (("in process", 1), ("pool of 2", 2)):
                seconds, got = timed(lambda j=jobs, jb=job: run.run_local(jb, threads, j))
                figures[kind][name] = len(threads) / seconds
                results.setdefault(kind, got)  # type: ignore[arg-type]
                assert got == results[kind], f"{kind} {name}: not the in-process result"
                print(f"{kind} {name}: {len(threads) / seconds:.1f} threads/s ({load()})",
                      flush=True)
            if not args.skip_dask:
                rate = _dask(job, threads, results[kind])
                figures[kind]["Dask LocalCluster, 2 workers"] = rate
                print(f"{kind} on Dask LocalCluster(2): {rate:.1f} threads/s ({load()})",
                      flush=True)
        print()
        print(f"{'':32} {'check th/s':>11} {'x':>5} {'mine th/s':>10} {'x':>5}")
        single_c = figures[run.KIND_CHECK]["in process"]
        single_m = figures[run.KIND_MINE]["in process"]
        for name in figures[run.KIND_CHECK]:
            c, m = figures[run.KIND_CHECK][name], figures[run.KIND_MINE][name]
            print(f"{name:32} {c:>11.1f} {c / single_c:>5.2f} {m:>10.1f} {m / single_m:>5.2f}")
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory: {own:.0f} MiB this process (scan, results); "
              f"{kids:.0f} MiB the largest worker or git process")

        _cli_memory(inbox, Path(tmp))
        _incremental(inbox, epoch, base, count, Path(tmp))
    return 0


def _catfile_rate(epoch: Path, count: int) -> None:
    from reviewbot.ingest.archive import BlobReader

    log = subprocess.run(["git", "--git-dir", str(epoch), "rev-list", "--reverse", "HEAD"],
                         capture_output=True, text=True, check=True).stdout.split()
    reader = BlobReader(str(epoch))

    def read_all() -> int:  # pipelined, as the scan reads
        return sum(len(answer[1]) for _, answer in reader.read_many([f"{c}:m" for c in log])
                   if isinstance(answer, tuple))

    seconds, _ = timed(read_all)
    reader.close()
    print(f"read with git cat-file --batch (blobs only, no grouping): "
          f"{count / seconds:,.0f} messages/s")


def _pygit2_rate(epoch: Path, count: int) -> None:
    try:
        import pygit2  # type: ignore[import-not-found]
    except ImportError:
        print("read with pygit2: not installed; not compared")
        return
    repo = pygit2.Repository(str(epoch))

    def walk() -> int:
        n = 0
        for commit in repo.walk(repo.head.target, pygit2.GIT_SORT_REVERSE):
            entry = commit.tree["m"] if "m" in commit.tree else None  # noqa: SIM401
            if entry is not None:
                n += len(repo[entry.id].data)
        return n

    seconds, _ = timed(walk)
    print(f"read with pygit2 {pygit2.__version__} (blobs only, no grouping): "
          f"{count / seconds:,.0f} messages/s")


def _dask(job: object, threads: list[object], local: list[object]) -> float:
    try:
        import distributed
    except ImportError:
        print("Dask: distributed not installed (pip install 'reviewbot[dask]'); skipped")
        return float("nan")
    from reviewbot.batch.distributed import run_on_cluster

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=50) as cluster, \
            distributed.Client(cluster) as client:
        seconds, got = timed(lambda: run_on_cluster(client, job, threads))  # type: ignore[arg-type]
    assert got == local, "the Dask run differs from the local one"
    return len(threads) / seconds


_MEASURE = """
import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(done.returncode, time.perf_counter() - started, peak)
print(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "")
"""


def _cli_memory(inbox: Path, tmp: Path) -> None:
    """The whole command as a user runs it: time and the peak memory of its processes."""
    reviewbot = Path(sys.executable).parent / "reviewbot"
    argv = [str(reviewbot), "mine", str(inbox), "--jobs", "2", "--format", "jsonl", "-o",
            str(tmp / "reviews.jsonl")]
    done = subprocess.run([sys.executable, "-c", _MEASURE, *argv], capture_output=True,
                          text=True, check=True).stdout.splitlines()
    status, seconds, peak = done[0].split()
    print(f"`reviewbot mine ARCHIVE --jobs 2 -o reviews.jsonl`: exit {status}, "
          f"{float(seconds):.1f} s, peak memory {float(peak):.0f} MiB (largest of its "
          f"processes) ({load()})")
    if len(done) > 1:
        print(f"  {done[1]}")


def _incremental(inbox: Path, epoch: Path, base: list[bytes], count: int, tmp: Path) -> None:
    from reviewbot.ingest import archive

    cache = tmp / "cache"
    seconds, first = timed(lambda: archive.scan(str(inbox), incremental=True, cache_dir=cache))
    print(f"incremental, first run (state built): {seconds:.2f} s for "
          f"{first.messages} messages")  # type: ignore[attr-defined]
    rounds = count // len(base) + 1
    more, dates = replicas(base, 100, start_round=rounds)
    archive.append_messages(epoch, more, dates)
    reviewbot = Path(sys.executable).parent / "reviewbot"
    argv = [str(reviewbot), "check", "--jobs", "1", "--incremental", "--format", "json",
            str(inbox)]
    env = {**os.environ, "REVIEWBOT_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    summary = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "(no summary)"
    print(f"incremental, second run after 100 more messages: {seconds:.2f} s for the whole "
          f"`reviewbot check --jobs 1 --incremental` (goal: under 2 s)")
    print(f"  {summary}")


if __name__ == "__main__":
    sys.exit(main())
