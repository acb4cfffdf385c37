"""``reviewbot followup`` reports: text, JSON (docs/followup.md, version 1) and a reply email.

The changelog draft has a module of its own (``changelog.py``).
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime, timezone
from typing import Any, TextIO

from reviewbot import __version__
from reviewbot.finding import Finding
from reviewbot.model import Mail, Series
from reviewbot.review.followup import (
    ADDRESSED,
    ANSWERED,
    OPEN,
    STATUSES,
    UNCLEAR,
    Ledger,
    Point,
    point_id,
)

JSON_VERSION = 1
WIDTH = 72


def place(point: Point, version: int) -> str:
    """``v1 patch 2 hw/foo.c:12``, ``v1 patch 1 commit message``, ``v1 cover letter``."""
    head = (f"v{version} cover letter" if point.patch == 0 else
            f"v{version} patch {point.patch}" if point.patch is not None else f"v{version}")
    if point.path is not None:
        span = "" if point.line is None else (
            f":{point.line}" if point.end_line in (None, point.line)
            else f":{point.line}-{point.end_line}")
        side = " (removed lines)" if point.side == "old" else ""
        func = f" ({point.function})" if point.function else ""
        return f"{head} {point.path}{span}{func}{side}"
    if point.side == "message":
        return f"{head} commit message"
    return head


def new_place(point: Point, version: int) -> str | None:
    if point.new_path is not None:
        line = f":{point.new_line}" if point.new_line else ""
        return f"v{version} patch {point.new_patch} {point.new_path}{line}"
    if point.new_patch is not None:
        return f"v{version} patch {point.new_patch}"
    return None


def _status_label(point: Point, version: int) -> str:
    return f"{point.status}, made after v{version} was posted" if point.after_new else \
        point.status


def _series_line(s: Series) -> str:
    cover = " + cover letter" if s.cover is not None else ""
    return f"v{s.version}: {len(s.patches)} patch(es){cover} ({s.source})"


def write_text(ledger: Ledger, out: TextIO) -> None:
    old, new = ledger.previous, ledger.new
    out.write(f"reviewbot followup: {old.title!r}\n")
    out.write(f"  {_series_line(old)}\n  {_series_line(new)}\n")
    for m in ledger.matches:
        to = (f"v{new.version} patch{'es' if len(m.new) > 1 else ''} "
              f"{', '.join(map(str, m.new))} ({m.how})" if m.new else "not in the new version")
        out.write(f"  v{old.version} patch {m.old} -> {to}\n")
    out.write("\n")
    for p in ledger.points:
        out.write(f"[{_status_label(p, new.version)}] {p.reviewer} on "
                  f"{place(p, old.version)}\n")
        for q in [q for q in p.quoted.splitlines() if q.strip()][-2:]:
            out.write(f"  > {q.rstrip()}\n")
        words = [ln for ln in p.comment.splitlines() if ln.strip()]
        for ln in words[:4]:
            out.write(f"  | {ln.strip()}\n")
        if len(words) > 4:
            out.write(f"  | [{len(words) - 4} more line(s)]\n")
        for e in p.evidence:
            out.write(f"  - {e}\n")
        where = new_place(p, new.version)
        if where:
            out.write(f"  now: {where}\n")
        out.write("\n")
    counts = ", ".join(f"{ledger.count(s)} {s}" for s in STATUSES)
    out.write(f"{len(ledger.points)} point(s): {counts}\n")
    if ledger.findings is not None:
        f = ledger.findings
        out.write(f"reviewbot's own findings: {len(f.fixed)} fixed, {len(f.still)} still "
                  f"there, {len(f.new)} new\n")
        for label, items in (("fixed", f.fixed), ("still", f.still), ("new", f.new)):
            for item in items:
                out.write(f"  {label}: {_finding_line(item)}\n")


def _finding_line(item: Finding) -> str:
    where = f"{item.path}:{item.line}" if item.path and item.line else item.path or "series"
    patch = f"patch {item.patch.index} " if item.patch is not None else ""
    return f"{patch}{where}: {item.message} [{item.rule}]"


# --- JSON ---------------------------------------------------------------------------------------

def _series_json(s: Series) -> dict[str, Any]:
    return {
        "source": s.source, "title": s.title, "version": s.version,
        "patches": len(s.patches), "cover_letter": s.cover is not None,
        "message_ids": [m.message_id for m in
                        ([s.cover] if s.cover else []) + [p.mail for p in s.patches]],
    }


def point_json(p: Point) -> dict[str, Any]:
    return {
        "id": point_id(p),
        "reviewer": p.reviewer,
        "message_id": p.message_id,
        "date": p.date.isoformat() if p.date is not None else None,
        "patch": p.patch,
        "path": p.path,
        "line": p.line,
        "end_line": p.end_line,
        "function": p.function,
        "side": p.side,
        "kind": p.kind,
        "request": p.request,
        "quote": p.quote or None,
        "comment": p.comment,
        "asks": p.asks,
        "status": p.status,
        "evidence": list(p.evidence),
        "after_new": p.after_new,
        "new_patch": p.new_patch,
        "new_path": p.new_path,
        "new_line": p.new_line,
        "answer": None if p.answer is None else {
            "message_id": p.answer.message_id, "first_line": p.answer.first_line,
            "agrees": p.answer.agrees, "defers": p.answer.defers,
        },
    }


def _finding_json(item: Finding) -> dict[str, Any]:
    return {"rule": item.rule, "severity": str(item.severity), "path": item.path,
            "line": item.line, "patch": item.patch.index if item.patch else None,
            "message": item.message, "fingerprint": item.fingerprint()}


def build_json(ledger: Ledger) -> dict[str, Any]:
    f = ledger.findings
    return {
        "version": JSON_VERSION,
        "kind": "followup",
        "tool": {"name": "reviewbot", "version": __version__},
        "previous": _series_json(ledger.previous),
        "new": _series_json(ledger.new),
        "patches": [{"previous": m.old, "new": list(m.new), "how": m.how,
                     "similarity": m.similarity} for m in ledger.matches],
        "summary": {s: ledger.count(s) for s in STATUSES},
        "points": [point_json(p) for p in ledger.points],
        "findings": None if f is None else {
            "fixed": [_finding_json(x) for x in f.fixed],
            "still": [_finding_json(x) for x in f.still],
            "new": [_finding_json(x) for x in f.new],
        },
    }


def write_json(ledger: Ledger, out: TextIO) -> None:
    json.dump(build_json(ledger), out, indent=2, ensure_ascii=False)
    out.write("\n")


# --- email ----------------------------------------------------------------------------------

def _wrap(text: str, indent: str = "", more: str | None = None) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), WIDTH, initial_indent=indent,
                         subsequent_indent=indent if more is None else more, break_long_words=False,
                         break_on_hyphens=False) or [indent.rstrip()]


def email_body(ledger: Ledger) -> list[str]:
    old, new = ledger.previous, ledger.new
    pending = [p for p in ledger.points if p.status in (OPEN, UNCLEAR)]
    answered = [p for p in ledger.points if p.status == ANSWERED]
    done = [p for p in ledger.points if p.status == ADDRESSED]
    author = new.patches[0].mail.author.name.split()
    lines = [f"Hi {author[0]}," if author else "Hi,",
             "",
             *_wrap(f"Following up the review of v{old.version}: of {len(ledger.points)} "
                    f"point(s) reviewers made, v{new.version} addresses {len(done)}, "
                    f"{len(answered)} were answered on the list, and {len(pending)} look "
                    f"still open or unclear."),
             ""]
    for title, group in (("Still open", pending), ("Answered on the list", answered)):
        if not group:
            continue
        lines += [f"{title}:", ""]
        for p in group:
            late = f", after v{new.version} was posted" if p.after_new else ""
            lines += _wrap(f"* {p.reviewer_first_name} on {place(p, old.version)} "
                           f"({p.status}{late}):", "", "  ")
            quoted = [q for q in p.quoted.splitlines() if q.strip()][-3:]
            lines += [f"  > {q.rstrip()[:WIDTH - 4]}" for q in quoted]
            words = " ".join(p.comment.split())
            lines += _wrap(words[:300] + ("..." if len(words) > 300 else ""), "    ")
            for e in p.evidence:
                lines += _wrap(f"- {e}", "    ", "      ")
            lines.append("")
    if done:
        lines += ["Addressed:", ""]
        for p in done:
            lines += _wrap(f"* {p.reviewer_first_name} on {place(p, old.version)}: "
                           f"{p.evidence[0] if p.evidence else ''}", "", "  ")
        lines.append("")
    return lines


def _reply_target(series: Series) -> Mail:
    return series.cover if series.cover is not None else series.patches[0].mail


def write_email(ledger: Ledger, out: TextIO, *, sender: str | None = None,
                now: datetime | None = None) -> None:
    """One reply to the new version's cover letter (or first patch), as an mbox."""
    import os
    from email.utils import parseaddr

    from reviewbot.report.email import _recipients, reply_message, write_mbox

    target = _reply_target(ledger.new)
    sender = sender or os.environ.get("REVIEWBOT_FROM")
    to, cc = _recipients(target)
    reviewers = {p.reviewer for p in ledger.points}
    known = {p.email.lower() for p in (*to, *cc)}
    extra = [r for r in sorted(reviewers) if parseaddr(r)[1].lower() not in known]
    footer = (f"reviewbot {__version__} followup: review points of "
              f"v{ledger.previous.version} against v{ledger.new.version}")
    write_mbox([reply_message(target, email_body(ledger), sender,
                              now or datetime.now(timezone.utc), footer=footer,
                              extra_cc=extra)], out)
