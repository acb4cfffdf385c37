"""Check many series at once (a maintainer's inbox, a slice of a list archive).

Each SOURCE is a series of its own: a file, or a directory whose mail and patch files are
each a series (a maildir, with cur/ new/ tmp/, is one series). Series are checked in a pool
of processes, one per core unless told otherwise; one bad or crashing series is reported
as such and does not stop the others. Results come back in the order of the sources.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reviewbot.errors import InputError
from reviewbot.util import limits
from reviewbot.util.limits import time_limit

if TYPE_CHECKING:
    from reviewbot.context import Options
    from reviewbot.engine import CheckResult
    from reviewbot.rules.model import Rule

# File names taken from a directory; anything else there (READMEs, .expect.yaml) is ignored.
SERIES_SUFFIXES = (".mbox", ".mbx", ".mbox.gz", ".eml", ".patch", ".diff")
_MAILDIR_PARTS = ("cur", "new", "tmp")


@dataclass(frozen=True)
class BulkItem:
    """What became of one source."""

    source: str
    result: CheckResult | None  # None when the source could not be checked
    error: str | None = None  # one line: "<source>: <problem>"
    internal: bool = False  # the error is a bug in reviewbot, not a problem of the input
    seconds: float = 0.0


def is_maildir(path: Path) -> bool:
    return all((path / part).is_dir() for part in _MAILDIR_PARTS)


def expand_sources(paths: Sequence[str]) -> list[str]:
    """Files as given; directories walked in name order for series files and maildirs.

    Raises InputError for a path that does not exist or a directory without any series.
    """
    out: list[str] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise InputError(f"{given}: no such file or directory")
        if not path.is_dir() or is_maildir(path):
            out.append(given)
            continue
        found = _walk(path)
        if not found:
            suffixes = ", ".join(SERIES_SUFFIXES)
            raise InputError(f"{given}: no series in this directory (looked for {suffixes})")
        out.extend(found)
    return out


def _walk(top: Path) -> list[str]:
    found: list[str] = []
    for entry in sorted(top.iterdir(), key=lambda p: p.name):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink() and entry.is_dir():
            continue  # a link to a directory could lead anywhere, including back here
        if entry.is_dir():
            if is_maildir(entry):
                found.append(str(entry))
            else:
                found.extend(_walk(entry))
        elif entry.is_file() and entry.name.endswith(SERIES_SUFFIXES):
            found.append(str(entry))
    return found


class _WorkerState:
    """Per worker process: the options and rules, set once by _init_worker."""

    options: Options | None = None
    rules: tuple[Rule, ...] | None = None


def _init_worker(options: Options, rules: tuple[Rule, ...] | None) -> None:
    _WorkerState.options = options
    _WorkerState.rules = rules


def check_one(source: str, options: Options, rules: Sequence[Rule] | None = None,
              seconds: float | None = None) -> BulkItem:
    """Load and check one source; never raises for a problem of that source.

    ``seconds``: time limit for this source (default ``limits.SERIES_SECONDS``).
    """
    from reviewbot.engine import run_check
    from reviewbot.ingest import load

    if seconds is None:
        seconds = limits.SERIES_SECONDS
    started = time.perf_counter()
    try:
        with time_limit(seconds, source):
            series = load(source)
            result = run_check(series, options, rules)
    except InputError as exc:
        return BulkItem(source, None, _one_line(str(exc)), False,
                        time.perf_counter() - started)
    except RecursionError:
        return BulkItem(source, None, f"{source}: could not analyse: nested too deeply",
                        False, time.perf_counter() - started)
    except Exception as exc:  # a bug: report it against this source and go on with the rest
        return BulkItem(source, None,
                        _one_line(f"{source}: internal error: {type(exc).__name__}: {exc}"),
                        True, time.perf_counter() - started)
    return BulkItem(source, result, None, False, time.perf_counter() - started)


def _check_in_worker(source: str) -> BulkItem:
    assert _WorkerState.options is not None, "worker used before _init_worker"
    return check_one(source, _WorkerState.options, _WorkerState.rules)


def default_jobs() -> int:
    """Every core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_many(
    paths: Sequence[str],
    options: Options,
    jobs: int | None = None,
    progress: bool | None = None,
    *,
    rules: Sequence[Rule] | None = None,
    out: TextIO | None = None,
) -> list[BulkItem]:
    """Check every series under ``paths``; one BulkItem per series, in source order.

    ``jobs``: worker processes (None or 0: one per core; 1: in this process).
    ``progress``: a "[done/total]" line on ``out`` (default stderr); None shows it only
    when ``out`` is a terminal.
    """
    sources = expand_sources(paths)
    stream = out if out is not None else sys.stderr
    show = stream.isatty() if progress is None else progress
    report = _Progress(stream, len(sources)) if show else None
    workers = min(jobs or default_jobs(), max(1, len(sources)))
    if rules is None:
        from reviewbot.rules.loader import load_rules

        rules = load_rules(())  # once here, not once per series or per worker
    frozen_rules = tuple(rules)

    if workers <= 1:
        items = []
        for source in sources:
            items.append(check_one(source, options, frozen_rules))
            if report:
                report.step(source)
        if report:
            report.done()
        return items
    return _in_pool(sources, options, frozen_rules, workers, report)


def _in_pool(sources: list[str], options: Options, rules: tuple[Rule, ...] | None,
             workers: int, report: _Progress | None) -> list[BulkItem]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # fork is cheap and the parent is single-threaded here; elsewhere use the default.
    methods = multiprocessing.get_all_start_methods()
    forking = "fork" in methods
    context = multiprocessing.get_context("fork" if forking else None)
    if forking:
        # Build tree-sitter's parser and query once here; forked workers inherit them.
        from reviewbot.c.facts import extract

        extract("warm-up.c", "int x;\n")
    results: list[BulkItem | None] = [None] * len(sources)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_init_worker, initargs=(options, rules)) as pool:
        futures = {pool.submit(_check_in_worker, src): i for i, src in enumerate(sources)}
        try:
            for future in as_completed(futures):
                i = futures[future]
                try:
                    results[i] = future.result()
                except Exception as exc:  # the worker died (killed, out of memory)
                    results[i] = BulkItem(
                        sources[i], None,
                        _one_line(f"{sources[i]}: internal error: worker failed: "
                                  f"{type(exc).__name__}: {exc}"),
                        True)
                if report:
                    report.step(sources[i])
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            raise
    if report:
        report.done()
    return [item for item in results if item is not None]


def exit_status(items: Sequence[BulkItem]) -> int:
    """3 if any series hit a bug, else 2 if any was refused, else 1 if any series has a
    finding at or above its --fail-on, else 0."""
    if any(item.internal for item in items):
        return 3
    if any(item.error for item in items):
        return 2
    return 1 if any(item.result is not None and item.result.fails() for item in items) else 0


def is_bulk_source(source: str, cwd: str | None = None) -> bool:
    """A directory that can hold many series (not a maildir, which is one series).

    Without ``check --jobs`` such a directory is read by ingest as one series (the output of
    ``git format-patch -o DIR``); ``--jobs`` is what asks for one series per file.
    """
    path = Path(cwd or ".") / source
    return path.is_dir() and not is_maildir(path)


def write_reports(items: Sequence[BulkItem], write: Callable[[CheckResult, TextIO], None],
                  out: TextIO, err: TextIO, *, json_lines: bool = False) -> None:
    """Each series' report under a ``==> SOURCE <==`` line; refused ones on ``err``.

    With ``json_lines`` (for a JSON formatter) each report is one compact line with a
    ``"source"`` key instead, so that the whole output stays machine-readable (JSON Lines).
    """
    import json

    from reviewbot.report.json import document

    for item in items:
        if item.result is None:
            err.write(f"reviewbot: error: {item.error}\n")
            continue
        if json_lines:
            doc = {"source": item.source, **document(item.result)}
            out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
            continue
        out.write(f"==> {item.source} <==\n")
        write(item.result, out)
    out.flush()


class _Progress:
    """"[12/300] path" rewritten in place on a terminal."""

    def __init__(self, out: TextIO, total: int) -> None:
        self.out = out
        self.total = total
        self.count = 0
        self.started = time.perf_counter()
        self.width = 0

    def step(self, source: str) -> None:
        self.count += 1
        rate = self.count / max(time.perf_counter() - self.started, 1e-6)
        line = f"[{self.count}/{self.total}] {rate:.1f} series/s {_shorten(source, 50)}"
        pad = max(0, self.width - len(line))
        self.width = len(line)
        self.out.write("\r" + line + " " * pad)
        self.out.flush()

    def done(self) -> None:
        self.out.write("\r" + " " * self.width + "\r")
        self.out.flush()


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else "..." + text[-(width - 3):]


def _one_line(text: str) -> str:
    return " ".join(text.split())

