"""Check or mine every thread of a public-inbox archive, in a process pool or on Dask.

The archive is scanned here (``reviewbot.ingest.archive.scan``: message ids and blob ids,
grouped into threads); the threads then go out in batches. A worker reads its threads' blobs
from the archive itself (so a Dask worker needs the archive at the same path), puts each
thread together as mbox input would be (``ingest.mail.parse_all`` then
``ingest.series.assemble``), runs the rules, and sends back for each thread either the
rendered report (``check``) or one row per review comment with the rules that hit it
(``mine``). Results come back in the order of the threads, whatever ran them: a process pool
on this machine (``jobs``), or a Dask distributed cluster (``scheduler``, see
``reviewbot.batch.distributed``). A thread with no patch in it (a discussion) is counted and
skipped; a thread that fails is one line and the others go on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from reviewbot.batch.work import (
    KIND_CHECK,
    KIND_MINE,
    InOrder,
    Job,
    Outcome,
    batches,
    failed_batch,
    run_batch,
    run_thread,
)
from reviewbot.errors import InputError, UsageError
from reviewbot.ingest.archive import Readers, Scan, Thread, scan

if TYPE_CHECKING:
    from reviewbot.context import Options
    from reviewbot.rules.model import Rule

@dataclass
class Summary:
    scan: Scan
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0  # the whole run
    work_seconds: float = 0.0  # the threads, after the scan
    where: str = ""
    mined: bool = False

    def line(self) -> str:
        done = [o for o in self.outcomes if not o.skipped and o.error is None]
        skipped = sum(o.skipped for o in self.outcomes)
        refused = sum(o.error is not None for o in self.outcomes)
        rate = self.scan.messages / self.scan.seconds if self.scan.seconds > 0 else 0.0
        trate = len(self.outcomes) / self.work_seconds if self.work_seconds > 0 else 0.0
        rows = sum(o.comments for o in self.outcomes)
        mined = f", {rows} review comment(s)" if self.mined else ""
        return (f"{self.scan.messages} message(s) read from {self.scan.epochs} epoch(s) "
                f"({rate:.0f}/s); {len(self.outcomes)} thread(s): {len(done)} with a series, "
                f"{skipped} without a patch, {refused} refused; "
                f"{sum(o.findings for o in self.outcomes)} finding(s){mined}; "
                f"{trate:.1f} threads/s {self.where}; {self.seconds:.1f} s in all")


class _PoolState:
    job: Job | None = None


def _init_pool(job: Job) -> None:
    _PoolState.job = job


def _pool_batch(threads: Sequence[Thread]) -> list[Outcome]:
    assert _PoolState.job is not None, "worker used before _init_pool"
    return run_batch(threads, _PoolState.job)


def run_local(job: Job, threads: Sequence[Thread], jobs: int,
              step: Callable[[int], None] | None = None,
              emit: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """In this process (``jobs`` 1) or a pool of ``jobs`` processes; in thread order (see
    InOrder for ``emit``)."""
    order = InOrder(emit)
    if jobs <= 1 or len(threads) <= 1:
        with Readers() as readers:
            for i, thread in enumerate(threads):
                order.put(i, [run_thread(job, thread, readers)])
                if step:
                    step(1)
        return order.kept
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    forking = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if forking else None)
    if forking:
        from reviewbot.c.facts import extract

        extract("warm-up.c", "int x;\n")  # tree-sitter's parser, inherited by the workers
    parts = batches(threads, jobs)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init_pool,
                             initargs=(job,)) as pool:
        futures = {pool.submit(_pool_batch, part): i for i, part in enumerate(parts)}
        for future in as_completed(futures):
            i = futures.pop(future)
            try:
                order.put(i, future.result())
            except Exception as exc:  # the worker died (killed, out of memory)
                order.put(i, failed_batch(parts[i], exc))
            if step:
                step(len(parts[i]))
    return order.kept


# --- the whole run ---------------------------------------------------------------------------

def run_archive(source: str, job: Job, *, jobs: int | None = None,
                scheduler: str | None = None, since: int | None = None,
                until: int | None = None, incremental: bool = False,
                cache_dir: str | None = None, progress: bool | None = None,
                err: TextIO | None = None,
                emit: Callable[[Outcome], None] | None = None) -> Summary:
    """Scan ``source`` and run ``job`` on each thread; the outcomes in thread order, each
    handed to ``emit`` as soon as it can be (see InOrder)."""
    stream = err if err is not None else sys.stderr
    show = stream.isatty() if progress is None else progress
    meter = Progress(stream) if show else None
    started = time.perf_counter()
    client = None
    if scheduler is not None:  # before the scan: a cluster that cannot be had fails at once
        from reviewbot.batch.distributed import client_for

        client = client_for(scheduler)
    try:
        return _run_archive(source, job, jobs=jobs, scheduler=scheduler, client=client,
                            since=since, until=until, incremental=incremental,
                            cache_dir=cache_dir, meter=meter, stream=stream, started=started,
                            emit=emit)
    finally:
        if client is not None:
            client.close()


def _run_archive(source: str, job: Job, *, jobs: int | None, scheduler: str | None,
                 client: Any, since: int | None, until: int | None, incremental: bool,
                 cache_dir: str | None, meter: Progress | None, stream: TextIO,
                 started: float, emit: Callable[[Outcome], None] | None) -> Summary:
    from reviewbot.batch.bulk import default_jobs

    result = scan(source, since=since, until=until, incremental=incremental,
                  cache_dir=cache_dir, progress=meter.reading if meter else None)
    if result.messages == 0 and result.problems and not incremental:
        more = f" (and {len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
        raise InputError(f"{source}: nothing could be read: {result.problems[0]}{more}")
    for line in result.problems:
        stream.write(f"reviewbot: warning: {line}\n")
    summary = Summary(result, mined=job.kind == KIND_MINE)
    if meter:
        meter.start(len(result.threads))
    work = time.perf_counter()
    step = meter.step if meter else None
    if client is not None:
        from reviewbot.batch.distributed import run_on_cluster

        summary.outcomes = run_on_cluster(client, job, result.threads, step, emit)
        summary.where = f"on {scheduler}"
    else:
        workers = jobs or default_jobs()
        summary.outcomes = run_local(job, result.threads, workers, step, emit)
        summary.where = f"in {workers} process(es)"
    if meter:
        meter.done()
    summary.work_seconds = time.perf_counter() - work
    summary.seconds = time.perf_counter() - started
    for outcome in summary.outcomes:
        for line in outcome.problems:
            stream.write(f"reviewbot: warning: {line}\n")
    return summary


def exit_status(outcomes: Sequence[Outcome]) -> int:
    """As ``check --jobs`` over files: 3 a bug, 2 a refused thread, 1 findings, 0 clean."""
    if any(o.internal for o in outcomes):
        return 3
    if any(o.error for o in outcomes):
        return 2
    return 1 if any(o.fails for o in outcomes) else 0


class Progress:
    """Messages read, then threads done with rate and ETA, rewritten in place."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.width = 0
        self.started = time.perf_counter()
        self.total = 0
        self.count = 0

    def _show(self, line: str) -> None:
        pad = max(0, self.width - len(line))
        self.width = len(line)
        self.out.write("\r" + line + " " * pad)
        self.out.flush()

    def reading(self, messages: int, epoch: str) -> None:
        rate = messages / max(time.perf_counter() - self.started, 1e-6)
        self._show(f"reading {epoch}: {messages} messages ({rate:.0f}/s)")

    def start(self, total: int) -> None:
        self.total = total
        self.count = 0
        self.started = time.perf_counter()

    def step(self, count: int) -> None:
        self.count += count
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        rate = self.count / elapsed
        eta = (self.total - self.count) / rate if rate > 0 else 0.0
        self._show(f"[{self.count}/{self.total} threads] {rate:.1f}/s, "
                   f"ETA {int(eta) // 60}:{int(eta) % 60:02d}")

    def done(self) -> None:
        self.out.write("\r" + " " * self.width + "\r")
        self.out.flush()


# --- the subcommands' side ---------------------------------------------------------------

def is_archive_source(source: str | None, cwd: str | None = None) -> bool:
    """Is SOURCE a public-inbox archive (an inbox, a directory of epochs, or one epoch)?"""
    from pathlib import Path

    from reviewbot.ingest.archive import is_archive

    return bool(source) and is_archive(Path(cwd or ".") / str(source))


def _run_args(args: Any, source: str, job: Job, err: TextIO,
              emit: Callable[[Outcome], None] | None = None) -> Summary:
    from reviewbot.errors import UsageError
    from reviewbot.ingest.archive import parse_date

    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 0:
        raise UsageError("--jobs: expected a number of processes (0: one per core)")
    since = parse_date(args.since, "--since") if args.since else None
    until = parse_date(args.until, "--until") if args.until else None
    if args.scheduler and jobs:
        raise UsageError("--scheduler runs the work on the Dask cluster: give it or --jobs, "
                         "not both")
    return run_archive(source, job, jobs=jobs or None, scheduler=args.scheduler,
                       since=since, until=until, incremental=args.incremental, err=err,
                       emit=emit)


def command_check(args: Any, source: str, options: Options, rules: Sequence[Rule]) -> int:
    """``check --jobs N ARCHIVE``: every thread's report in thread order, the summary on
    stderr; exit status as for a directory of threads."""

    from reviewbot.errors import UsageError

    if args.format not in ("text", "json", "checkpatch"):
        raise UsageError(f"an archive run writes text, json (as JSON Lines) or checkpatch, "
                         f"not {args.format}")
    job = Job(KIND_CHECK, options, tuple(rules), args.format)
    with _output(args.output) as out:
        summary = _run_args(args, source, job, sys.stderr,
                            lambda outcome: write_check([outcome], out, sys.stderr))
    sys.stderr.write(f"reviewbot: {source}: {summary.line()}\n")
    return exit_status(summary.outcomes)


def write_check(outcomes: Sequence[Outcome], out: TextIO, err: TextIO) -> None:
    for outcome in outcomes:
        if outcome.error is not None:
            err.write(f"reviewbot: error: {outcome.error}\n")
        elif not outcome.skipped:
            out.write(outcome.report)
    out.flush()


def command_mine(args: Any, source: str) -> int:
    """``mine ARCHIVE``: every review comment with its rule hits, as JSON Lines or Parquet."""
    from reviewbot.context import Options
    from reviewbot.errors import UsageError
    from reviewbot.rules.loader import load_rules

    if args.format == "text":
        raise UsageError("mine over an archive writes jsonl or parquet (--format)")
    if args.format == "parquet":
        from reviewbot.batch.dataset import require_pyarrow

        require_pyarrow()
        if not args.output:
            raise UsageError("--format parquet needs -o FILE")
    job = Job(KIND_MINE, Options(), load_rules(args.rules))
    with RowSink(args.format, args.output) as sink:
        summary = _run_args(args, source, job, sys.stderr, sink.outcome)
    sys.stderr.write(f"reviewbot: {source}: {summary.line()}\n")
    return 3 if any(o.internal for o in summary.outcomes) else 0


class RowSink:
    """Mined rows written as they come: JSON Lines, or Parquet row groups."""

    def __init__(self, fmt: str, output: str | None) -> None:
        self.fmt = fmt
        self.output = output
        self._stack = ExitStack()
        self._write: Callable[[Sequence[dict[str, Any]]], None]

    def __enter__(self) -> RowSink:
        if self.fmt == "parquet":
            from reviewbot.batch.dataset import ParquetRows

            if not self.output:
                raise UsageError("--format parquet needs -o FILE")
            self._write = self._stack.enter_context(ParquetRows(self.output)).write
        else:
            import json

            out = self._stack.enter_context(_output(self.output))

            def write(rows: Sequence[dict[str, Any]]) -> None:
                for row in rows:
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")

            self._write = write
        return self

    def outcome(self, outcome: Outcome) -> None:
        if outcome.error is not None:
            sys.stderr.write(f"reviewbot: error: {outcome.error}\n")
        if outcome.rows:
            self._write(outcome.rows)

    def __exit__(self, *exc: object) -> None:
        self._stack.close()


def write_rows(rows: Sequence[dict[str, Any]], fmt: str, output: str | None) -> None:
    """Rows as JSON Lines (to ``output`` or stdout) or Parquet (to ``output``)."""

    from reviewbot.errors import UsageError

    if fmt == "parquet":
        from reviewbot.batch.dataset import write_parquet

        if not output:
            raise UsageError("--format parquet needs -o FILE")
        write_parquet(rows, output)
        return
    import json

    with _output(output) as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    """``path`` opened for writing (a one-line error when it cannot be), or stdout."""
    from pathlib import Path

    from reviewbot.errors import UsageError

    if not path:
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        stream = Path(path).open("w", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror}") from None
    with stream:
        yield stream


def command_eval(args: Any, source: str, options: Options, rules: Sequence[Rule]) -> int:
    """``eval --reviews ARCHIVE``: each review comment, hit or missed, and the coverage."""
    from reviewbot.review.mine import where

    job = Job(KIND_MINE, options, tuple(rules))
    summary = _run_args(args, source, job, sys.stderr)
    rows = [row for o in summary.outcomes for row in o.rows]
    hit = sum(1 for row in rows if row["rules"])
    out = sys.stdout
    if args.format == "json":
        import json

        threads: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            threads.setdefault(str(row["thread"]), []).append(row)
        json.dump({"version": 1,
                   "threads": [{"thread": k, "comments": v} for k, v in threads.items()],
                   "coverage": {"hit": hit, "comments": len(rows)}},
                  out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        for row in rows:
            first = str(row["comment"]).splitlines()[0] if row["comment"] else ""
            if len(first) > 60:
                first = first[:57] + "..."
            mark = f"HIT  [{','.join(row['rules'])}]" if row["rules"] else "miss"
            place = where(row["patch"], row["path"], row["side"], row["line_start"],
                          row["line_end"])
            out.write(f"{mark} {row['thread']}: {str(row['reviewer']).split(' <')[0]} on "
                      f"{place}: {first}\n")
        share = 100.0 * hit / len(rows) if rows else 0.0
        out.write(f"coverage: {hit} of {len(rows)} review comments hit by a finding "
                  f"({share:.1f}%)\n")
    for outcome in summary.outcomes:
        if outcome.error is not None:
            sys.stderr.write(f"reviewbot: error: {outcome.error}\n")
    sys.stderr.write(f"reviewbot: {source}: {summary.line()}\n")
    return 3 if any(o.internal for o in summary.outcomes) else 0
