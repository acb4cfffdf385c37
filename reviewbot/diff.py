"""Unified diffs as frozen values.

The parser walks the text itself, counting each hunk's lines against its ``@@`` header, rather
than trusting line prefixes: a removed line ``-- x`` is then never taken for a ``--- x`` file
header, and what mail does to diffs is survivable — a blank line standing for a context line
whose single space was stripped, CRLF line ends, a hunk cut short at the end of a truncated
mail (``Hunk.truncated``), binary diffs (``FileDiff.is_binary``, no hunks), renames and mode
changes. unidiff rejects several of these outright, so it is not used here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from reviewbot.errors import InputError

ADDED = "+"
REMOVED = "-"
CONTEXT = " "


@dataclass(frozen=True)
class Line:
    kind: str  # ADDED, REMOVED or CONTEXT
    text: str  # without the leading marker and without the line end
    source_line: int | None  # line number in the pre-image, None for added lines
    target_line: int | None  # line number in the post-image, None for removed lines
    diff_line: int  # 1-based line number within the diff text


@dataclass(frozen=True)
class Hunk:
    source_start: int
    source_length: int
    target_start: int
    target_length: int
    section: str  # text after the second @@, usually the enclosing function
    lines: tuple[Line, ...]
    diff_line: int  # 1-based line of the @@ header within the diff text
    truncated: bool = False  # fewer lines than the @@ header announced (cut-off mail)

    @property
    def added(self) -> tuple[Line, ...]:
        return tuple(ln for ln in self.lines if ln.kind == ADDED)

    @property
    def removed(self) -> tuple[Line, ...]:
        return tuple(ln for ln in self.lines if ln.kind == REMOVED)


@dataclass(frozen=True)
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
_GIT_EXTENDED = (
    "old mode ", "new mode ", "deleted file mode ", "new file mode ", "copy from ", "copy to ",
    "rename from ", "rename to ", "similarity index ", "dissimilarity index ", "index ",
)
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
    """Path of a ---/+++ line: drop a tab-separated timestamp, the a/ or b/ prefix, /dev/null."""
    raw = raw.split("\t", 1)[0].rstrip() if not raw.startswith('"') else raw.rstrip()
    raw = _unquote(raw)
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


class _Parser:
    def __init__(self, lines: list[str], origin: str) -> None:
        self.lines = lines
        self.origin = origin
        self.pos = 0
        self.files: list[FileDiff] = []

    def at(self, offset: int = 0) -> str | None:
        i = self.pos + offset
        return self.lines[i] if i < len(self.lines) else None

    def starts_plain_file(self) -> bool:
        first, second, third = self.at(), self.at(1), self.at(2)
        return (first is not None and first.startswith("--- ")
                and second is not None and second.startswith("+++ ")
                and third is not None and third.startswith("@@ "))

    def run(self) -> tuple[FileDiff, ...]:
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.startswith("diff --git "):
                self.git_file()
            elif self.starts_plain_file():
                self.plain_file(self.pos + 1)
            else:
                self.pos += 1  # text between files: "Index:", "====", a signature, ...
        return tuple(self.files)

    def git_file(self) -> None:
        header_line = self.pos + 1
        source, target = _git_header_paths(self.lines[self.pos][len("diff --git "):])
        self.pos += 1
        new_file = deleted = rename = copy = binary = False
        old_mode = new_mode = None
        while (line := self.at()) is not None:
            if line.startswith(("new file mode ", "deleted file mode ")):
                new_file = new_file or line.startswith("new")
                deleted = deleted or line.startswith("deleted")
                new_mode = line.rsplit(" ", 1)[-1] if new_file else new_mode
                old_mode = line.rsplit(" ", 1)[-1] if deleted else old_mode
            elif line.startswith("old mode "):
                old_mode = line[len("old mode "):].strip()
            elif line.startswith("new mode "):
                new_mode = line[len("new mode "):].strip()
            elif line.startswith(("rename from ", "copy from ")):
                rename = rename or line.startswith("rename")
                copy = copy or line.startswith("copy")
                source = _unquote(line.split(" from ", 1)[1])
            elif line.startswith(("rename to ", "copy to ")):
                target = _unquote(line.split(" to ", 1)[1])
            elif line.startswith(_GIT_EXTENDED):
                pass
            elif line.startswith("Binary files ") and line.endswith(" differ"):
                binary = True
            elif line == "GIT binary patch":
                binary = True
                self.pos += 1
                self.skip_binary_payload()
                break
            else:
                break
            self.pos += 1
        if not binary and self.starts_plain_file():
            # the ---/+++ lines are authoritative for the paths when present
            self.plain_file(header_line, rename=rename, copy=copy,
                            old_mode=old_mode, new_mode=new_mode)
            return
        self.files.append(FileDiff(
            source_path=None if new_file else source, target_path=None if deleted else target,
            hunks=(), is_binary=binary, is_rename=rename, is_copy=copy, diff_line=header_line,
            old_mode=old_mode, new_mode=new_mode,
        ))

    def skip_binary_payload(self) -> None:
        # "literal N"/"delta N" then base85 lines, a blank line, and the same for the reverse.
        while (line := self.at()) is not None:
            if line.startswith(("literal ", "delta ")) or line == "" or (
                    re.fullmatch(r"[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]+", line)):
                self.pos += 1
            else:
                return

    def plain_file(self, header_line: int, *, rename: bool = False, copy: bool = False,
                   old_mode: str | None = None, new_mode: str | None = None) -> None:
        minus, plus = self.lines[self.pos], self.lines[self.pos + 1]
        src = _header_path(minus[4:], "a/")
        dst = _header_path(plus[4:], "b/")
        self.pos += 2
        hunks: list[Hunk] = []
        while (line := self.at()) is not None and line.startswith("@@"):
            hunks.append(self.hunk())
        self.files.append(FileDiff(
            source_path=src, target_path=dst, hunks=tuple(hunks), is_rename=rename,
            is_copy=copy, diff_line=header_line, old_mode=old_mode, new_mode=new_mode,
        ))

    def hunk(self) -> Hunk:
        header = self.lines[self.pos]
        m = _HUNK_HEADER.match(header)
        if m is None:
            raise InputError(f"{self.origin}: malformed hunk header at line {self.pos + 1}: "
                             f"{header[:60]!r}")
        src_start, tgt_start = int(m.group(1)), int(m.group(3))
        src_len = int(m.group(2)) if m.group(2) is not None else 1
        tgt_len = int(m.group(4)) if m.group(4) is not None else 1
        hunk_line = self.pos + 1
        self.pos += 1
        old_left, new_left = src_len, tgt_len
        old_no, new_no = src_start, tgt_start
        out: list[Line] = []
        while old_left > 0 or new_left > 0:
            line = self.at()
            if line is None:
                break
            marker = line[:1]
            if marker == "\\":  # "\ No newline at end of file"
                self.pos += 1
                continue
            if marker in (" ", "") and old_left > 0 and new_left > 0:
                out.append(Line(CONTEXT, line[1:], old_no, new_no, self.pos + 1))
                old_no, new_no = old_no + 1, new_no + 1
                old_left, new_left = old_left - 1, new_left - 1
            elif marker == "-" and old_left > 0:
                out.append(Line(REMOVED, line[1:], old_no, None, self.pos + 1))
                old_no, old_left = old_no + 1, old_left - 1
            elif marker == "+" and new_left > 0:
                out.append(Line(ADDED, line[1:], None, new_no, self.pos + 1))
                new_no, new_left = new_no + 1, new_left - 1
            else:
                break
            self.pos += 1
        while (line := self.at()) is not None and line.startswith("\\"):
            self.pos += 1
        return Hunk(
            source_start=src_start, source_length=src_len, target_start=tgt_start,
            target_length=tgt_len, section=m.group(5).strip(), lines=tuple(out),
            diff_line=hunk_line, truncated=old_left > 0 or new_left > 0,
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
    lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    return _Parser(lines, origin).run()
