"""Unified diffs as frozen values, parsed with unidiff.

unidiff's PatchSet/PatchedFile/Hunk are mutable list subclasses; they are read once here
and turned into FileDiff/Hunk/Line so the rest of reviewbot never sees them.
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
_PREFIX = re.compile(r"^[ab]/")


def _strip(path: str | None) -> str | None:
    if path is None:
        return None
    path = path.strip()
    if path == _DEV_NULL or not path:
        return None
    return _PREFIX.sub("", path, count=1)


def parse_diff(text: str, origin: str = "diff") -> tuple[FileDiff, ...]:
    """Parse a unified diff (git or plain). Raises InputError on a malformed diff."""
    from unidiff.patch import PatchSet
    from unidiff.errors import UnidiffParseError

    if not text.strip():
        return ()
    try:
        patchset = PatchSet(text.splitlines(keepends=True))
    except UnidiffParseError as exc:
        raise InputError(f"{origin}: malformed diff: {exc}") from None
    # unidiff numbers lines from the start of the text it was given (1-based).
    files: list[FileDiff] = []
    header_lines = _file_header_lines(text)
    for idx, pf in enumerate(patchset):
        hunks = []
        for h in pf:
            lines = tuple(
                Line(
                    kind=ln.line_type if ln.line_type in (ADDED, REMOVED) else CONTEXT,
                    text=ln.value.rstrip("\r\n"),
                    source_line=ln.source_line_no,
                    target_line=ln.target_line_no,
                    diff_line=ln.diff_line_no or 0,
                )
                for ln in h
                if ln.line_type in (ADDED, REMOVED, CONTEXT)
            )
            first = min((ln.diff_line for ln in lines), default=1)
            hunks.append(Hunk(
                source_start=h.source_start, source_length=h.source_length,
                target_start=h.target_start, target_length=h.target_length,
                section=(h.section_header or "").strip(), lines=lines, diff_line=max(first - 1, 1),
            ))
        source = None if pf.is_added_file else _strip(pf.source_file)
        target = None if pf.is_removed_file else _strip(pf.target_file)
        if source is None and target is None:
            # git binary diffs carry no ---/+++ lines; fall back to the "diff --git" paths
            source = target = _strip(pf.path)
        files.append(FileDiff(
            source_path=source, target_path=target, hunks=tuple(hunks),
            is_binary=bool(getattr(pf, "is_binary_file", False)),
            is_rename=bool(getattr(pf, "is_rename", False)),
            diff_line=header_lines[idx] if idx < len(header_lines) else 1,
        ))
    return tuple(files)


_FILE_HEADER = re.compile(r"^(diff --git |--- (?!-))")


def _file_header_lines(text: str) -> list[int]:
    """1-based line numbers where each file's header starts."""
    starts: list[int] = []
    prev_git = False
    for no, line in enumerate(text.splitlines(), start=1):
        if line.startswith("diff --git "):
            starts.append(no)
            prev_git = True
        elif line.startswith("--- ") and not prev_git:
            starts.append(no)
        elif line.startswith("@@"):
            prev_git = False
    return starts
