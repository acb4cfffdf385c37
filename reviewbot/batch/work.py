"""What is done to the threads of an archive, one batch at a time, wherever a batch runs.

``Job`` says what (check, or mine the review comments) and is sent to each worker once;
``run_batch`` puts each thread of a batch together as mbox input would be (``ingest.mail``
then ``ingest.series``), runs the rules and returns an ``Outcome`` per thread: the rendered
report, or one row per review comment with the rules that hit it. ``InOrder`` passes the
batches' outcomes on in thread order whatever order they come back in. Both back ends take
their work from here: the process pool of ``reviewbot.batch.archive`` and the Dask cluster
of ``reviewbot.batch.distributed``.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from reviewbot.errors import InputError
from reviewbot.ingest.archive import Readers, Thread, raw_mails
from reviewbot.util import limits

if TYPE_CHECKING:
    from reviewbot.context import Options
    from reviewbot.model import Mail, Series
    from reviewbot.rules.model import Rule

KIND_CHECK = "check"
KIND_MINE = "mine"


@dataclass(frozen=True)
class Job:
    """What every thread gets done to; sent to each worker once."""

    kind: str  # KIND_CHECK or KIND_MINE
    options: Options
    rules: tuple[Rule, ...]
    report: str = "text"  # check: a formatter name; "json" is written as JSON Lines


@dataclass(frozen=True)
class Outcome:
    """What became of one thread."""

    root: str  # the thread's first message-id
    report: str = ""  # check: the rendered report
    rows: tuple[dict[str, Any], ...] = ()  # mine: one a review comment
    fails: bool = False  # a finding at or above --fail-on
    findings: int = 0
    skipped: bool = False  # no patch in the thread
    error: str | None = None  # one line
    internal: bool = False
    problems: tuple[str, ...] = ()  # blobs of the thread that could not be read
    comments: int = 0  # mine: len(rows), kept when the rows are let go

    def light(self) -> Outcome:
        """This outcome without its report and rows (once they are written)."""
        return replace(self, report="", rows=())


class InOrder:
    """Batches' outcomes, passed on in thread order as soon as every earlier batch is in:
    to ``emit`` (and then kept without report or rows, so memory does not grow with the
    archive), or kept whole without ``emit``."""

    def __init__(self, emit: Callable[[Outcome], None] | None = None) -> None:
        self.emit = emit
        self.pending: dict[int, list[Outcome]] = {}
        self.next = 0
        self.kept: list[Outcome] = []

    def put(self, index: int, outcomes: list[Outcome]) -> None:
        self.pending[index] = outcomes
        while self.next in self.pending:
            for outcome in self.pending.pop(self.next):
                if self.emit is not None:
                    self.emit(outcome)
                self.kept.append(outcome if self.emit is None else outcome.light())
            self.next += 1


# --- one thread --------------------------------------------------------------------------

def run_thread(job: Job, thread: Thread, readers: Readers) -> Outcome:
    """Put one thread together and run ``job`` on it; never raises for the thread's problems."""
    raws, problems = raw_mails(thread, readers)
    try:
        with limits.time_limit(limits.SERIES_SECONDS, thread.root):
            return _run(job, thread.root, raws, tuple(problems))
    except InputError as exc:
        text = " ".join(str(exc).split())
        if ": no patch found (" in text:
            return Outcome(thread.root, skipped=True, problems=tuple(problems))
        return Outcome(thread.root, error=text, problems=tuple(problems))
    except RecursionError:
        return Outcome(thread.root, error=f"{thread.root}: could not analyse: nested too deeply")
    except Exception as exc:  # a bug: reported against this thread, the others go on
        return Outcome(thread.root, internal=True, problems=tuple(problems),
                       error=" ".join(f"{thread.root}: internal error: "
                                      f"{type(exc).__name__}: {exc}".split()))


def _run(job: Job, root: str, raws: list[Any], problems: tuple[str, ...]) -> Outcome:
    from reviewbot.engine import run_check
    from reviewbot.ingest.mail import parse_all
    from reviewbot.ingest.series import assemble

    if not raws:
        raise InputError(f"{root}: no readable message")
    mails, mail_problems = parse_all(raws)
    series = assemble(mails, source=root, problems=mail_problems)
    result = run_check(series, job.options, job.rules)
    if job.kind == KIND_MINE:
        rows = tuple(_rows(root, series, result.findings))
        return Outcome(root, rows=rows, findings=len(result.findings), problems=problems,
                       comments=len(rows))
    out = io.StringIO()
    if job.report == "json":
        import json

        from reviewbot.report.json import document

        doc = {"source": root, **document(result)}
        out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        import importlib

        module = importlib.import_module(f"reviewbot.report.{job.report.replace('-', '_')}")
        out.write(f"==> {root} <==\n")
        module.write(result, out)
    return Outcome(root, report=out.getvalue(), fails=result.fails(),
                   findings=len(result.findings), problems=problems)


def _rows(root: str, series: Series, findings: Sequence[Any]) -> list[dict[str, Any]]:
    from reviewbot.review.evaluate import review_coverage
    from reviewbot.review.mine import KIND_COMMENT, mine_series

    comments = [c for c in mine_series(series) if c.kind == KIND_COMMENT]
    by_id = {m.message_id: m for m in series.all_mails}
    rows = []
    for hit in review_coverage(comments, findings):
        reply = by_id.get(hit.comment.reply_id)
        rows.append({
            **hit.comment.as_dict(),
            "thread": root,
            "date": _iso(reply),
            "list": _list_id(reply),
            "rules": sorted({f.rule for f in hit.findings}),
        })
    return rows


def _iso(mail: Mail | None) -> str | None:
    return mail.date.isoformat() if mail is not None and mail.date is not None else None


def _list_id(mail: Mail | None) -> str | None:
    if mail is None:
        return None
    for name, value in mail.headers:
        if name.lower() == "list-id":
            start, end = value.rfind("<"), value.rfind(">")
            return value[start + 1:end] if 0 <= start < end else value.strip()
    return None


# --- a batch of threads, in a worker ------------------------------------------------------

_LOCAL = threading.local()  # each worker thread's git readers, kept between batches


def _worker_readers() -> Readers:
    readers: Readers | None = getattr(_LOCAL, "readers", None)
    if readers is None:
        readers = _LOCAL.readers = Readers()
    return readers


def run_batch(threads: Sequence[Thread], job: Job) -> list[Outcome]:
    """Every thread of a batch, in order (a task of the pool or of Dask)."""
    readers = _worker_readers()
    return [run_thread(job, thread, readers) for thread in threads]


def batches(threads: Sequence[Thread], workers: int, largest: int = 16) -> list[list[Thread]]:
    """Threads cut into batches: a few per worker so that the slow ones even out."""
    size = max(1, min(largest, len(threads) // max(1, workers * 4)))
    return [list(threads[i:i + size]) for i in range(0, len(threads), size)]


def failed_batch(part: Sequence[Thread], exc: BaseException) -> list[Outcome]:
    return [Outcome(t.root, internal=True,
                    error=" ".join(f"{t.root}: internal error: worker failed: "
                                   f"{type(exc).__name__}: {exc}".split()))
            for t in part]
