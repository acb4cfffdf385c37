"""Annotated rule examples: read the ``ruleid:``/``ok:`` marks and run the rules on the file.

A mark (``/* ruleid: ID */``, ``// ok: ID``, ``# ruleid: ID1, ID2``) stands alone on its line
and applies to the next line that is not itself a mark. ``ruleid`` means the rule must report
a finding there, ``ok`` that it must not; and a rule must not fire anywhere its own examples
leave unmarked. Where a mark points depends on the kind of example:

* C (``.c``/``.h``) and QAPI (``.json``): the file becomes a new file added by a one-patch
  series, at the path named by a first-line comment ``path: hw/mem/foo.c`` (default: the file
  name), so the marks' lines are post-image lines and are met by a finding at that path and
  line.
* Boot log (``.log``): the file is checked as ``reviewbot spec FILE`` checks it; a mark is met
  by a finding on the same line of the file.
* Mail (``.mbox``, ``.eml``, ``.patch``, ``.diff``): the file goes through the real ingest. A
  mark before a diff line means that file and line (post-image line for ``+`` and context
  lines, pre-image line for ``-`` lines). A mark anywhere else is about the mail it sits in
  and is met by a finding without a path of that mail (findings tied to no mail, such as input
  problems, belong to every mail), narrowed by the finding's ``anchor``, the text the finding
  is about: when the anchor is the text of a body line of the mail (outside its diff, spaces
  aside), only a mark on such a line meets it. A finding without an anchor, or whose anchor is
  no body line (a subject or a ``From:`` header, a summary like ``split:device,acpi``), is
  about the whole mail and meets every mark in it, wherever the mark sits. So an ``ok:`` and a
  ``ruleid:`` for one rule may share a mail when the rule anchors its findings to lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.finding import Finding
from reviewbot.model import Mail, Patch, Person, Series, Subject
from reviewbot.patch.diff import REMOVED, parse_diff

if TYPE_CHECKING:
    from reviewbot.rules.model import Rule

MAIL_SUFFIXES = (".mbox", ".eml", ".patch", ".diff")
LOG_SUFFIXES = (".log",)
# "[ruleid: ID]" is for a mail's trailer block, which a "#" line would end but which keeps
# "[...]" notes.
_MARK = re.compile(r"(?:/\*|//|#|\[)\s*(ruleid|ok):\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*"
                   r"(?:\*/|\])?")
_PATH = re.compile(r"^\s*(?:/\*|//|#)\s*path:\s*(\S+?)\s*(?:\*/)?\s*$")
_MESSAGE_ID = re.compile(r"^message-id:\s*<?([^>\s]+)>?", re.I)


def squash(text: str) -> str:
    """``text`` with runs of white space made one space and the ends stripped."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Place:
    """Where a mark points: a file line, or (path None) a line of a mail outside its diff."""

    path: str | None
    line: int | None
    side: str = "new"
    message_id: str | None = None  # for mail-level marks: the mail they sit in
    text: str = ""  # for mail-level marks: the marked line, squashed
    # for mail-level marks: the squashed body lines (outside diffs) of the mail
    mail_lines: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __str__(self) -> str:
        if self.path is not None:
            old = " (pre-image)" if self.side == "old" else ""
            return f"{self.path}:{self.line}{old}"
        return f"mail <{self.message_id}> line {self.text!r}"


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


def _is_mark_line(text: str) -> bool:
    """A line that holds marks and nothing else (a ``+``/``-``/`` `` diff prefix allowed)."""
    body = text[1:] if text[:1] in "+- " and _MARK.search(text[1:] or "") else text
    return bool(_MARK.search(body)) and not _MARK.sub("", body).strip(" \t+-")


def _marks_and_targets(lines: Sequence[str]) -> list[tuple[str, str, int, int]]:
    """(kind, rule, mark line, target line) for every mark; lines are 1-based."""
    out: list[tuple[str, str, int, int]] = []
    pending: list[tuple[str, str, int]] = []
    for no, text in enumerate(lines, start=1):
        if _is_mark_line(text):
            for m in _MARK.finditer(text):
                for rid in m.group(2).split(","):
                    pending.append((m.group(1), rid.strip(), no))
            continue
        for kind, rid, mark_line in pending:
            out.append((kind, rid, mark_line, no))
        pending = []
    return out


def c_marks(example: Path) -> tuple[str, str, list[Mark]]:
    """(path, text, marks) of a C or JSON example."""
    text = example.read_text(encoding="utf-8")
    path = example_path(example, text)
    marks = [Mark(kind, rid, mark_line, Place(path, target))
             for kind, rid, mark_line, target in _marks_and_targets(text.splitlines())]
    return path, text, marks


def log_marks(example: Path) -> list[Mark]:
    """Marks of a boot-log example: file lines, as ``reviewbot spec`` numbers them."""
    lines = example.read_text(encoding="utf-8", errors="replace").splitlines()
    return [Mark(kind, rid, mark_line, Place(str(example), target))
            for kind, rid, mark_line, target in _marks_and_targets(lines)]


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


@dataclass(frozen=True)
class _Message:
    start: int  # 0-based index of the ``From `` line (or 0)
    end: int  # 0-based, exclusive
    body: int  # 0-based index of the first body line
    message_id: str | None


def _messages(lines: Sequence[str]) -> list[_Message]:
    starts = [i for i, t in enumerate(lines) if t.startswith("From ")] or [0]
    out = []
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        mid = None
        body = end
        for i in range(s, end):
            if not lines[i].strip():
                body = i + 1
                break
            m = _MESSAGE_ID.match(lines[i])
            if m:
                mid = m.group(1)
        out.append(_Message(s, end, body, mid))
    return out


def _diff_places(example: Path, lines: Sequence[str], msg: _Message) -> dict[int, Place]:
    """1-based example line -> file place, for the diff lines of one message."""
    places: dict[int, Place] = {}
    first = next((i for i in range(msg.start, msg.end) if lines[i].startswith("diff --git ")),
                 None)
    if first is None:
        return places
    last = next((i for i in range(first, msg.end) if lines[i] == "-- "), msg.end)
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
    return places


def mail_marks(example: Path) -> list[Mark]:
    """Marks of a mail example, placed by reading the example's diffs directly."""
    lines = example.read_text(encoding="utf-8", errors="replace").splitlines()
    messages = _messages(lines)
    places: dict[int, Place] = {}
    for msg in messages:
        places.update(_diff_places(example, lines, msg))
    body_lines = {
        msg.start: frozenset(squash(lines[i]) for i in range(msg.body, msg.end)
                             if i + 1 not in places and not _is_mark_line(lines[i])
                             and lines[i].strip())
        for msg in messages
    }
    marks: list[Mark] = []
    for kind, rid, mark_line, target in _marks_and_targets(lines):
        place = places.get(target)
        if place is None:
            owner = max((m for m in messages if m.start < target), key=lambda m: m.start,
                        default=messages[0])
            place = Place(None, None, "new", owner.message_id, squash(lines[target - 1]),
                          body_lines[owner.start])
        marks.append(Mark(kind, rid, mark_line, place))
    return marks


def marks_of(example: Path) -> list[Mark]:
    """The marks of any kind of example."""
    if example.suffix in MAIL_SUFFIXES:
        return mail_marks(example)
    if example.suffix in LOG_SUFFIXES:
        return log_marks(example)
    return c_marks(example)[2]


def _meets_mail_mark(place: Place, f: Finding) -> bool:
    if f.path is not None:
        return False
    if place.message_id is not None and f.patch is not None \
            and f.patch.message_id != place.message_id:
        return False
    anchor = squash(f.anchor)
    if not anchor or anchor not in place.mail_lines:
        return True  # not tied to a line of this mail: about the mail as a whole
    return place.text == anchor


def hits(mark: Mark, findings: Sequence[Finding]) -> list[Finding]:
    """Findings of the mark's rule at the mark's place."""
    out = []
    for f in findings:
        if f.rule != mark.rule:
            continue
        if mark.place.path is None:
            if _meets_mail_mark(mark.place, f):
                out.append(f)
        elif (f.path == mark.place.path and f.line == mark.place.line
              and f.side == mark.place.side):
            out.append(f)
    return out


def run_example(example: Path, rules: Sequence[Rule]) -> list[Finding]:
    """What ``rules`` report on ``example``; InputError when the example cannot be read."""
    from reviewbot.context import Options
    from reviewbot.engine import run_check

    if example.suffix in LOG_SUFFIXES:
        from reviewbot.checks.spec import check_log_text

        wanted = {r.id for r in rules}
        text = example.read_text(encoding="utf-8", errors="replace")
        return [f for f in check_log_text(text, str(example)) if f.rule in wanted]
    if example.suffix in MAIL_SUFFIXES:
        from reviewbot.ingest import load

        series = load(str(example))
    else:
        path, text, _ = c_marks(example)
        series = synthetic_series([(path, text)], source=str(example))
    return list(run_check(series, Options(tree=example_tree(example)), rules).findings)


def example_tree(example: Path) -> str | None:
    """The checkout an example is checked against (``--tree``): a directory named like the
    example with ``.tree`` added, beside it; None when there is none."""
    tree = example.with_name(example.name + ".tree")
    return str(tree) if tree.is_dir() else None


CRASH_RULE = "could-not-analyse"


def check_example(rule: Rule, example: Path, rules: Mapping[str, Rule]) -> list[str]:
    """What is wrong with one of ``rule``'s examples: a ``ruleid:`` mark the rules do not meet,
    an ``ok:`` mark they do meet, a finding of ``rule`` at no ``ruleid:`` mark of it, a
    primitive that crashed. ``rules`` (by id) must hold every rule the marks name."""
    from reviewbot.errors import InputError

    name = example.name
    marks = marks_of(example)
    if not marks:
        return [f"{name}: no ruleid:/ok: marks"]
    ids = {m.rule for m in marks} | {rule.id}
    unknown = sorted(ids - set(rules))
    if unknown:
        return [f"{name}: marks name unknown rules {', '.join(unknown)}"]
    try:
        findings = run_example(example, [rules[i] for i in sorted(ids)])
    except InputError as exc:
        return [f"{name}: {exc}"]
    problems = [f"{name}: {f.rule}: {f.message}" for f in findings if f.rule == CRASH_RULE]
    for mark in marks:
        found = hits(mark, findings)
        where = f"{name}:{mark.example_line}"
        if mark.kind == "ruleid" and not found:
            problems.append(f"{where}: {mark.rule} should fire at {mark.place} but did not")
        if mark.kind == "ok" and found:
            problems.append(f"{where}: {mark.rule} should not fire at {mark.place}: "
                            f"{found[0].message}")
    marked = [m for m in marks if m.kind == "ruleid" and m.rule == rule.id]
    for f in findings:
        if f.rule == rule.id and not any(hits(m, [f]) for m in marked):
            where = f"{f.path}:{f.line}" if f.path else f"mail anchor {f.anchor!r}"
            problems.append(f"{name}: {rule.id} fired at an unmarked place {where}: "
                            f"{f.message}")
    return problems
