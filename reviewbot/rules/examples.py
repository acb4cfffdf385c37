"""Annotated rule examples: read the ``ruleid:``/``ok:`` marks and run the rules on the file.

A mark applies to the next line that is not itself a mark. In a C (``.c``/``.h``) or QAPI
(``.json``) example the file becomes a new file added by a one-patch series, at the path named
by a first-line comment ``path: hw/mem/foo.c`` (default: the file name), so the marks' lines
are post-image lines. A mail example (``.mbox``, ``.eml``, ``.patch``) goes through the real
ingest; a mark before a diff line means "at that file and line" (post-image line for ``+`` and
context lines, pre-image line for ``-`` lines); a mark anywhere else in a mail means "on this
mail, without a file" and is met by a finding of that patch that has no path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from reviewbot.diff import REMOVED, parse_diff
from reviewbot.finding import Finding
from reviewbot.model import Mail, Patch, Person, Series, Subject

MAIL_SUFFIXES = (".mbox", ".eml", ".patch", ".diff")
_MARK = re.compile(r"(?:/\*|//|#)\s*(ruleid|ok):\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*(?:\*/)?")
_PATH = re.compile(r"^\s*(?:/\*|//|#)\s*path:\s*(\S+?)\s*(?:\*/)?\s*$")


@dataclass(frozen=True)
class Place:
    """Where a mark points: a file line, or (path None) a mail as a whole."""

    path: str | None
    line: int | None
    side: str = "new"
    message_id: str | None = None  # for mail-level marks: the mail they sit in


@dataclass(frozen=True)
class Mark:
    kind: str  # "ruleid" or "ok"
    rule: str
    example_line: int  # line of the mark in the example file
    place: Place


def example_path(example: Path, text: str) -> str:
    """The repository path a C/JSON example stands for."""
    first = text.splitlines()[0] if text else ""
    m = _PATH.match(first)
    return m.group(1) if m else example.name


def _marks_and_targets(lines: Sequence[str]) -> list[tuple[str, str, int, int]]:
    """(kind, rule, mark line, target line) for every mark; lines are 1-based."""
    out: list[tuple[str, str, int, int]] = []
    pending: list[tuple[str, str, int]] = []
    for no, text in enumerate(lines, start=1):
        body = text[1:] if text[:1] in "+- " and _MARK.search(text[1:] or "") else text
        found = list(_MARK.finditer(body))
        if found and not _strip_marks(body).strip(" \t+-"):
            for m in found:
                for rid in m.group(2).split(","):
                    pending.append((m.group(1), rid.strip(), no))
            continue
        for kind, rid, mark_line in pending:
            out.append((kind, rid, mark_line, no))
        pending = []
    return out


def _strip_marks(text: str) -> str:
    return _MARK.sub("", text)


def c_marks(example: Path) -> tuple[str, str, list[Mark]]:
    """(path, text, marks) of a C or JSON example."""
    text = example.read_text(encoding="utf-8")
    path = example_path(example, text)
    marks = [Mark(kind, rid, mark_line, Place(path, target))
             for kind, rid, mark_line, target in _marks_and_targets(text.splitlines())]
    return path, text, marks


def new_file_diff(path: str, text: str) -> str:
    lines = text.splitlines()
    body = "".join(f"+{ln}\n" for ln in lines)
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n"
            f"+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}")


def synthetic_series(files: Iterable[tuple[str, str]], *, title: str = "add example files",
                     source: str = "example") -> Series:
    """A one-patch series that adds ``files`` (path, text) as new files."""
    diff_text = "".join(new_file_diff(p, t) for p, t in files)
    subject = Subject(raw=f"[PATCH] {title}", title=title, tags=("PATCH",), is_patch=True)
    who = Person("Example Author", "author@example.org")
    mail = Mail(
        message_id=f"example.{abs(hash(diff_text)) % 10**12}@reviewbot.invalid",
        subject=subject, sender=who, author=who,
        date=datetime(2026, 1, 1, tzinfo=timezone.utc), in_reply_to=None, references=(),
        to=(), cc=(), body=f"{title}\n\nSigned-off-by: {who}\n---\n{diff_text}", origin=source,
    )
    patch = Patch(mail=mail, commit_message=f"{title}\n\nSigned-off-by: {who}\n", notes="",
                  trailers=(), diff_text=diff_text,
                  files=parse_diff(diff_text, source))
    return Series(patches=(patch,), source=source, all_mails=(mail,))


_MESSAGE_ID = re.compile(r"^message-id:\s*<?([^>\s]+)>?", re.I)


def mail_marks(example: Path) -> list[Mark]:
    """Marks of a mail example, placed by reading the example's diffs directly."""
    lines = example.read_text(encoding="utf-8", errors="replace").splitlines()
    # where each message starts, and its Message-Id
    starts = [i for i, t in enumerate(lines) if t.startswith("From ")] or [0]
    ids: dict[int, str | None] = {}
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        mid = None
        for t in lines[s:end]:
            if not t.strip():
                break
            m = _MESSAGE_ID.match(t)
            if m:
                mid = m.group(1)
        ids[s] = mid
    # map example line -> diff place, by parsing each message's diff
    places: dict[int, Place] = {}
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        first = next((i for i in range(s, end) if lines[i].startswith("diff --git ")), None)
        if first is None:
            continue
        last = end
        for i in range(first, end):
            if lines[i] == "-- ":
                last = i
                break
        kept = list(range(first, last))
        text = "\n".join(lines[first:last]) + "\n"
        for fd in parse_diff(text, str(example)):
            for hunk in fd.hunks:
                for ln in hunk.lines:
                    file_line = kept[ln.diff_line - 1]
                    if ln.kind == REMOVED:
                        places[file_line + 1] = Place(fd.source_path, ln.source_line, "old")
                    else:
                        places[file_line + 1] = Place(fd.target_path, ln.target_line)
    marks: list[Mark] = []
    for kind, rid, mark_line, target in _marks_and_targets(lines):
        place = places.get(target)
        if place is None:
            owner = max((s for s in starts if s < target), default=starts[0])
            place = Place(None, None, "new", ids.get(owner))
        marks.append(Mark(kind, rid, mark_line, place))
    return marks


def hits(mark: Mark, findings: Sequence[Finding]) -> list[Finding]:
    """Findings of the mark's rule at the mark's place."""
    out = []
    for f in findings:
        if f.rule != mark.rule:
            continue
        if mark.place.path is None:
            if f.path is None and (mark.place.message_id is None or f.patch is None
                                   or f.patch.message_id == mark.place.message_id):
                out.append(f)
        elif f.path == mark.place.path and f.line == mark.place.line:
            out.append(f)
    return out
