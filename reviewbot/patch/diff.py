"""Unified diffs as frozen values, parsed by unidiff after a repair pass for what mail does.

unidiff wants a well-formed diff; mail rarely delivers one. ``_Repair`` first walks the text the
way ``git apply`` reads it, counting each hunk's lines against its ``@@`` header, and fixes in
place (line for line, so diff line numbers stay those of the input):

- CRLF line ends lose the CR;
- a blank line where the counts say a context line is due gets its stripped space back;
- a hunk cut short at the end of a truncated mail gets the counts of what is there, and is
  marked (``Hunk.truncated``) with the counts its header announced;
- a ``\\ No newline`` marker in another language becomes the English one unidiff knows.

It also delimits each file, so that text between files (a signature, an ``Index:`` line, a
removed line ``-- x`` past a hunk's count) never reaches unidiff, and reads git's extended
header lines (modes, renames, copies, binary markers), which unidiff only partly knows. Each
file with hunks then goes through ``unidiff.PatchSet`` on its own, and its hunks and lines are
converted into the frozen types below. A file without hunks (binary, pure rename, mode change)
has nothing for unidiff to parse and is built from its header alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from reviewbot.errors import InputError
from reviewbot.util.frozen import frozen

ADDED = "+"
REMOVED = "-"
CONTEXT = " "


@dataclass(frozen=True)  # not @frozen: one per diff line, a generated __init__ is faster
class Line:
    kind: str  # ADDED, REMOVED or CONTEXT
    text: str  # without the leading marker and without the line end
    source_line: int | None  # line number in the pre-image, None for added lines
    target_line: int | None  # line number in the post-image, None for removed lines
    diff_line: int  # 1-based line number within the diff text


@frozen
class Hunk:
    source_start: int
    source_length: int
    target_start: int
    target_length: int
    section: str  # text after the second @@, usually the enclosing function
    lines: tuple[Line, ...]
    diff_line: int  # 1-based line of the @@ header within the diff text
    truncated: bool = False  # fewer lines than the @@ header announced (cut-off mail)

    @cached_property
    def added(self) -> tuple[Line, ...]:
        """The added lines (worked out once: several rules read them)."""
        return tuple(ln for ln in self.lines if ln.kind == ADDED)

    @cached_property
    def removed(self) -> tuple[Line, ...]:
        return tuple(ln for ln in self.lines if ln.kind == REMOVED)


@frozen
class FileDiff:
    source_path: str | None  # None for a new file
    target_path: str | None  # None for a deleted file
    hunks: tuple[Hunk, ...]
    is_binary: bool = False
    is_rename: bool = False
    diff_line: int = 1  # 1-based line of the "diff --git"/"---" header within the diff text
    is_copy: bool = False
    old_mode: str | None = None
    new_mode: str | None = None

    @property
    def path(self) -> str:
        """The path a reader knows the file by: the new one, or the old for a deletion."""
        return self.target_path or self.source_path or ""

    @property
    def is_new(self) -> bool:
        return self.source_path is None and self.target_path is not None

    @property
    def is_deleted(self) -> bool:
        return self.target_path is None

    @property
    def truncated(self) -> bool:
        return any(h.truncated for h in self.hunks)

    @property
    def added_count(self) -> int:
        return sum(1 for h in self.hunks for ln in h.lines if ln.kind == ADDED)

    @property
    def removed_count(self) -> int:
        return sum(1 for h in self.hunks for ln in h.lines if ln.kind == REMOVED)

    @cached_property
    def added_lines(self) -> frozenset[int]:
        """Post-image line numbers the diff adds."""
        return frozenset(
            ln.target_line for h in self.hunks for ln in h.lines
            if ln.kind == ADDED and ln.target_line is not None
        )

    @cached_property
    def removed_lines(self) -> frozenset[int]:
        """Pre-image line numbers the diff removes."""
        return frozenset(
            ln.source_line for h in self.hunks for ln in h.lines
            if ln.kind == REMOVED and ln.source_line is not None
        )

    def line_at(self, target_line: int) -> Line | None:
        """The diff line showing post-image line ``target_line``, if the diff shows it."""
        for h in self.hunks:
            for ln in h.lines:
                if ln.target_line == target_line:
                    return ln
        return None


_DEV_NULL = "/dev/null"
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")
_NO_NEWLINE = "\\ No newline at end of file"
_KINDS = frozenset((ADDED, REMOVED, CONTEXT))
_GIT_EXTENDED = (
    "old mode ", "new mode ", "deleted file mode ", "new file mode ", "copy from ", "copy to ",
    "rename from ", "rename to ", "similarity index ", "dissimilarity index ", "index ",
)
_BASE85_LINE = re.compile(r"[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]+")
_C_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f",
              "r": "\r", "v": "\v"}


def _unquote(path: str) -> str:
    """git C-quotes paths with unusual bytes: ``"a/caf\\303\\251.c"``."""
    if len(path) < 2 or not (path.startswith('"') and path.endswith('"')):
        return path
    out = bytearray()
    body = path[1:-1]
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and i + 4 <= len(body):
                out.append(int(body[i + 1:i + 4], 8) & 0xFF)
                i += 4
                continue
            out.extend(_C_ESCAPES.get(nxt, nxt).encode())
            i += 2
            continue
        out.extend(ch.encode())
        i += 1
    return out.decode("utf-8", "replace")


def _strip_prefix(path: str, prefix: str) -> str:
    return path[len(prefix):] if path.startswith(prefix) else path


def _header_path(raw: str, prefix: str) -> str | None:
    """A path as unidiff read it from a ---/+++ line: unquoted, without a/ or b/, /dev/null."""
    raw = _unquote(raw.rstrip())
    if raw == _DEV_NULL or not raw:
        return None
    return _strip_prefix(raw, prefix)


def _git_header_paths(rest: str) -> tuple[str, str]:
    """Both paths of ``diff --git a/X b/Y``; exact when X == Y (the only ambiguous case)."""
    if rest.startswith('"'):
        m = re.match(r'^("(?:[^"\\]|\\.)*") (.*)$', rest)
        if m:
            return (_strip_prefix(_unquote(m.group(1)), "a/"),
                    _strip_prefix(_unquote(m.group(2)), "b/"))
    half = (len(rest) - 1) // 2
    left, right = rest[:half], rest[half + 1:]
    if len(rest) % 2 == 1 and left[2:] == right[2:]:
        return _strip_prefix(left, "a/"), _strip_prefix(right, "b/")
    idx = rest.rfind(" b/")
    if idx > 0:
        return _strip_prefix(rest[:idx], "a/"), _unquote(rest[idx + 3:])
    parts = rest.split(" ", 1)
    return parts[0], parts[-1]


@frozen
class _HunkMark:
    """What the repair pass learned about one hunk."""

    header: int  # 0-based index of the @@ line
    source_start: int
    source_length: int  # as announced, before a truncated hunk's header was rewritten
    target_start: int
    target_length: int
    section: str
    truncated: bool
    empty: bool  # not a single line after the header (kept from unidiff, which wants one)


@dataclass
class _Section:
    """One file of the diff as the repair pass delimited it."""

    header: int  # 0-based index of the "diff --git" line, or of "---" for a plain diff
    start: int = -1  # lines [start, end) go to unidiff: from "---" to the end of the hunks
    end: int = -1
    hunks: list[_HunkMark] | None = None
    hidden: list[int] = field(default_factory=list)  # lines in [start, end) unidiff must not see
    git_paths: tuple[str, str] = ("", "")
    new_file: bool = False
    deleted: bool = False
    rename: bool = False
    copy: bool = False
    binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None


class _Repair:
    """Walks the lines once, repairing them in place and cutting them into sections."""

    def __init__(self, lines: list[str], origin: str) -> None:
        self.lines = lines
        self.origin = origin
        self.pos = 0
        self.sections: list[_Section] = []

    def at(self, offset: int = 0) -> str | None:
        i = self.pos + offset
        return self.lines[i] if i < len(self.lines) else None

    def starts_plain_file(self) -> bool:
        first, second, third = self.at(), self.at(1), self.at(2)
        return (first is not None and first.startswith("--- ")
                and second is not None and second.startswith("+++ ")
                and third is not None and third.startswith("@@ "))

    def run(self) -> list[_Section]:
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.startswith("diff --git "):
                self.git_file()
            elif self.starts_plain_file():
                self.hunks(_Section(header=self.pos))
            else:
                self.pos += 1  # text between files: "Index:", "====", a signature, ...
        return self.sections

    def git_file(self) -> None:
        sec = _Section(header=self.pos)
        sec.git_paths = _git_header_paths(self.lines[self.pos][len("diff --git "):])
        self.pos += 1
        while (line := self.at()) is not None:
            if line.startswith(("new file mode ", "deleted file mode ")):
                sec.new_file = sec.new_file or line.startswith("new")
                sec.deleted = sec.deleted or line.startswith("deleted")
                sec.new_mode = line.rsplit(" ", 1)[-1] if sec.new_file else sec.new_mode
                sec.old_mode = line.rsplit(" ", 1)[-1] if sec.deleted else sec.old_mode
            elif line.startswith("old mode "):
                sec.old_mode = line[len("old mode "):].strip()
            elif line.startswith("new mode "):
                sec.new_mode = line[len("new mode "):].strip()
            elif line.startswith(("rename from ", "copy from ")):
                sec.rename = sec.rename or line.startswith("rename")
                sec.copy = sec.copy or line.startswith("copy")
                sec.git_paths = (_unquote(line.split(" from ", 1)[1]), sec.git_paths[1])
            elif line.startswith(("rename to ", "copy to ")):
                sec.git_paths = (sec.git_paths[0], _unquote(line.split(" to ", 1)[1]))
            elif line.startswith(_GIT_EXTENDED):
                pass
            elif line.startswith("Binary files ") and line.endswith(" differ"):
                sec.binary = True
            elif line == "GIT binary patch":
                sec.binary = True
                self.pos += 1
                self.skip_binary_payload()
                break
            else:
                break
            self.pos += 1
        if not sec.binary and self.starts_plain_file():
            self.hunks(sec)  # the ---/+++ lines are authoritative for the paths when present
        else:
            self.sections.append(sec)

    def skip_binary_payload(self) -> None:
        # "literal N"/"delta N" then base85 lines, a blank line, and the same for the reverse.
        while (line := self.at()) is not None:
            if line.startswith(("literal ", "delta ")) or line == "" or (
                    _BASE85_LINE.fullmatch(line)):
                self.pos += 1
            else:
                return

    def hunks(self, sec: _Section) -> None:
        """The ---/+++ pair at ``pos`` and the hunks after it."""
        sec.start = self.pos
        sec.hunks = []
        self.pos += 2
        while (line := self.at()) is not None and line.startswith("@@"):
            mark = self.hunk()
            sec.hunks.append(mark)
            if mark.empty:
                # unidiff reads at least one line into any hunk; an empty one is built here
                sec.hidden.append(mark.header)
            while (line := self.at()) is not None and line.startswith("\\"):
                if mark.empty:
                    sec.hidden.append(self.pos)
                else:
                    self.lines[self.pos] = _NO_NEWLINE
                self.pos += 1
        sec.end = self.pos
        self.sections.append(sec)

    def hunk(self) -> _HunkMark:
        lines = self.lines
        header = self.pos
        m = _HUNK_HEADER.match(lines[header])
        if m is None:
            raise InputError(f"{self.origin}: malformed hunk header at line {header + 1}: "
                             f"{lines[header][:60]!r}")
        src_len = int(m.group(2)) if m.group(2) is not None else 1
        tgt_len = int(m.group(4)) if m.group(4) is not None else 1
        old_left, new_left = src_len, tgt_len
        pos, end = header + 1, len(lines)
        while (old_left > 0 or new_left > 0) and pos < end:
            marker = lines[pos][:1]
            if marker == " " and old_left > 0 and new_left > 0:
                old_left, new_left = old_left - 1, new_left - 1
            elif marker == "-" and old_left > 0:
                old_left -= 1
            elif marker == "+" and new_left > 0:
                new_left -= 1
            elif marker == "\\":  # "\ No newline at end of file", inside the hunk
                pass
            elif marker == "" and old_left > 0 and new_left > 0:
                lines[pos] = " "  # mail stripped the context line's single space
                old_left, new_left = old_left - 1, new_left - 1
            else:
                break
            pos += 1
        self.pos = pos
        truncated = old_left > 0 or new_left > 0
        empty = pos == header + 1
        if truncated and not empty:
            lines[header] = (f"@@ -{m.group(1)},{src_len - old_left} "
                             f"+{m.group(3)},{tgt_len - new_left} @@ {m.group(5)}")
        return _HunkMark(header, int(m.group(1)), src_len, int(m.group(3)), tgt_len,
                         m.group(5).strip(), truncated, empty)


def _file_without_hunks(sec: _Section) -> FileDiff:
    source, target = sec.git_paths
    return FileDiff(
        source_path=None if sec.new_file else source, target_path=None if sec.deleted else target,
        hunks=(), is_binary=sec.binary, is_rename=sec.rename, is_copy=sec.copy,
        diff_line=sec.header + 1, old_mode=sec.old_mode, new_mode=sec.new_mode,
    )


def _file_with_hunks(lines: list[str], sec: _Section, origin: str) -> FileDiff:
    marks = sec.hunks or []
    if sec.hidden:
        hidden = set(sec.hidden)
        shown: Sequence[int] = [i for i in range(sec.start, sec.end) if i not in hidden]
        given = [lines[i] + "\n" for i in shown]
    else:
        shown = range(sec.start, sec.end)
        given = [ln + "\n" for ln in lines[sec.start:sec.end]]
    try:
        (patched,) = PatchSet(given)  # a ValueError unless exactly one file
    except (UnidiffParseError, ValueError) as exc:
        # the repair pass hands unidiff only what it accepts, so this is a bug; bad input
        # must still end as one line
        problem = " ".join(str(exc).split())[:80]
        raise InputError(f"{origin}: unreadable diff at line {sec.start + 1}: {problem}") from exc
    expected = sum(1 for mark in marks if not mark.empty)
    if len(patched) != expected:
        raise InputError(f"{origin}: unreadable diff at line {sec.start + 1}: unidiff read "
                         f"{len(patched)} hunks, not {expected}")
    theirs = iter(patched)
    hunks = []
    for mark in marks:
        if mark.empty:
            hunks.append(Hunk(mark.source_start, mark.source_length, mark.target_start,
                              mark.target_length, mark.section, (), mark.header + 1,
                              mark.truncated))
            continue
        hunk = next(theirs)
        hunks.append(Hunk(
            source_start=hunk.source_start, source_length=mark.source_length,
            target_start=hunk.target_start, target_length=mark.target_length,
            section=hunk.section_header.strip(),
            lines=tuple([
                # unidiff numbers the lines it was given from 1, every hunk line it reads
                Line(ln.line_type, ln.value[:-1], ln.source_line_no, ln.target_line_no,
                     shown[(ln.diff_line_no or 1) - 1] + 1)
                for ln in hunk if ln.line_type in _KINDS
            ]),
            diff_line=mark.header + 1, truncated=mark.truncated,
        ))
    return FileDiff(
        source_path=_header_path(patched.source_file, "a/"),
        target_path=_header_path(patched.target_file, "b/"),
        hunks=tuple(hunks), is_rename=sec.rename, is_copy=sec.copy, diff_line=sec.header + 1,
        old_mode=sec.old_mode, new_mode=sec.new_mode,
    )


def parse_diff(text: str, origin: str = "diff") -> tuple[FileDiff, ...]:
    """Parse a unified diff (git or plain).

    Raises InputError only for text that cannot be a diff at all (a broken ``@@`` header);
    a hunk cut short is kept with ``truncated=True`` so the caller can report it.
    """
    if not text.strip():
        return ()
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    sections = _Repair(lines, origin).run()
    return tuple(_file_with_hunks(lines, sec, origin) if sec.hunks is not None
                 else _file_without_hunks(sec) for sec in sections)
