"""A patch mail's body -> in-body headers, commit message, ``---`` notes, diff.

The layout is the one ``git format-patch`` writes and ``git am`` reads::

    From: Real Author <a@b>        (optional in-body headers, then a blank line)

    commit message ... trailers
    ---
    notes, changelog, diffstat
    diff --git a/x b/x
    ...
    --
    2.47.0
"""

from __future__ import annotations

import re

from reviewbot.util.frozen import frozen

_IN_BODY = re.compile(r"^(From|Date|Subject):\s*(.*)$")
_SIGNATURE_VERSION = re.compile(r"^\d+(\.\d+)+\S*$")
_HUNK_COUNTS = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@")


@frozen
class PatchBody:
    in_body: tuple[tuple[str, str], ...]  # ("From", "Name <addr>") lines that open the body
    message: str
    notes: str
    diff: str
    diff_index: int  # 0-based line index within the body where the diff starts; -1: no diff


def find_diff_start(lines: list[str]) -> int:
    """Index of the first line of the diff, or -1."""
    for i, line in enumerate(lines):
        if line.startswith("diff --git "):
            return i
        if (line.startswith("--- ") and i + 2 < len(lines) and lines[i + 1].startswith("+++ ")
                and lines[i + 2].startswith("@@ ")):
            # an "Index:"/"=====" pair just above belongs to the diff (quilt, svn)
            if i >= 2 and lines[i - 2].startswith("Index: ") and lines[i - 1].startswith("==="):
                return i - 2
            return i
    return -1


def _last_hunk_end(lines: list[str], before: int) -> int:
    """Index just past the lines that the last ``@@`` header above ``before`` counts as its
    own, a blank line standing for a context line whose single space mail stripped; or
    ``before`` if the hunk is not complete even so (a mail cut short, whose blank lines at
    the end are then more likely padding than context)."""
    header = next((i for i in range(before - 1, -1, -1) if lines[i].startswith("@@ ")), -1)
    m = _HUNK_COUNTS.match(lines[header]) if header >= 0 else None
    if m is None:
        return before
    old_left = int(m.group(1)) if m.group(1) is not None else 1
    new_left = int(m.group(2)) if m.group(2) is not None else 1
    i = header + 1
    while (old_left > 0 or new_left > 0) and i < len(lines):
        marker = lines[i][:1]
        if marker in (" ", "") and old_left > 0 and new_left > 0:
            old_left, new_left = old_left - 1, new_left - 1
        elif marker == "-" and old_left > 0:
            old_left -= 1
        elif marker == "+" and new_left > 0:
            new_left -= 1
        elif marker != "\\":
            break
        i += 1
    return i if old_left <= 0 and new_left <= 0 else before


def strip_signature(lines: list[str]) -> list[str]:
    """Drop git's trailing ``-- `` / version signature after the last hunk, and the blank
    lines that end the mail, but not those the last hunk's counts claim: a diff ending on
    an empty context line (``" "``, often stripped to ``""`` in transit) keeps it."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    if end >= 2 and lines[end - 2] == "-- " and _SIGNATURE_VERSION.match(lines[end - 1]):
        return lines[:end - 2]
    if end >= 1 and lines[end - 1] == "-- ":
        return lines[:end - 1]
    return lines[:max(end, _last_hunk_end(lines, end))]


def split_body(body: str) -> PatchBody:
    lines = body.split("\n")
    in_body: list[tuple[str, str]] = []
    first = 0
    while first < len(lines) and (m := _IN_BODY.match(lines[first])):
        in_body.append((m.group(1), m.group(2).strip()))
        first += 1
    if in_body and first < len(lines) and not lines[first].strip():
        first += 1
    elif in_body:
        in_body, first = [], 0  # "From: ..." as the first words of a paragraph, not headers
    start = find_diff_start(lines)
    head = lines[first:start] if start >= 0 else lines[first:]
    separator = next((i for i, ln in enumerate(head) if ln.rstrip() == "---"), -1)
    if separator >= 0:
        message, notes = head[:separator], head[separator + 1:]
    else:
        message, notes = head, []
    diff = strip_signature(lines[start:]) if start >= 0 else []
    return PatchBody(
        in_body=tuple(in_body),
        message="\n".join(message).strip("\n"),
        notes="\n".join(notes).strip("\n"),
        diff="\n".join(diff) + "\n" if diff else "",
        diff_index=start,
    )
