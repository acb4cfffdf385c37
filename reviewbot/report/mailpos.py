"""Where a finding sits in the reviewed mails: its patch, its diff line, its line in the mail.

Shared by the formatters that speak in terms of the mail rather than the file (checkpatch
lines, reply emails, SARIF locations of mail-level findings).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from reviewbot.finding import Finding, PatchRef
from reviewbot.model import Mail, Patch, Series
from reviewbot.patch.diff import Line
from reviewbot.rules.model import Rule


class ResultLike(Protocol):
    """What a formatter reads from ``reviewbot.engine.CheckResult``."""

    @property
    def series(self) -> Series: ...

    @property
    def findings(self) -> Sequence[Finding]: ...

    @property
    def rules(self) -> Sequence[Rule]: ...

    @property
    def options(self) -> Any: ...


def patch_for(series: Series, ref: PatchRef | None) -> Patch | None:
    """The patch a finding is about: by message-id, else by its n/N counter; None for the
    cover letter and for series-level findings."""
    if ref is None or ref.index == 0:
        return None
    for patch in series.patches:
        if ref.message_id and patch.mail.message_id == ref.message_id:
            return patch
    for patch in series.patches:
        if patch.index == ref.index:
            return patch
    if 1 <= ref.index <= len(series.patches):
        return series.patches[ref.index - 1]
    return None


def mail_for(series: Series, ref: PatchRef | None) -> Mail | None:
    """The mail a finding is about: its patch's mail, or the cover letter."""
    patch = patch_for(series, ref)
    if patch is not None:
        return patch.mail
    if ref is not None and ref.index == 0:
        return series.cover
    return None


def diff_line_of(patch: Patch, finding: Finding) -> Line | None:
    """The diff line showing the line a finding points at, when this patch's diff shows it."""
    if finding.path is None or finding.line is None:
        return None
    for fd in patch.files:
        if finding.side == "old":
            if fd.source_path != finding.path:
                continue
            for hunk in fd.hunks:
                for ln in hunk.lines:
                    if ln.source_line == finding.line and ln.kind != "+":
                        return ln
        elif fd.target_path == finding.path:
            found = fd.line_at(finding.line)
            if found is not None:
                return found
    return None


def new_line_for_removed(patch: Patch, finding: Finding) -> int | None:
    """Where removed text was, in the post-image: the first surviving line after it (or,
    at the end of a hunk, the last one before it)."""
    shown = diff_line_of(patch, finding)
    if shown is None or finding.side != "old":
        return None
    for fd in patch.files:
        for hunk in fd.hunks:
            if shown not in hunk.lines:
                continue
            at = hunk.lines.index(shown)
            after = [ln.target_line for ln in hunk.lines[at:] if ln.target_line is not None]
            before = [ln.target_line for ln in hunk.lines[:at] if ln.target_line is not None]
            if after:
                return after[0]
            if before:
                return before[-1]
            return max(hunk.target_start, 1)
    return None


def file_header_line(patch: Patch, path: str) -> int | None:
    """Line (within the diff text) of the header of ``path``'s diff in this patch."""
    for fd in patch.files:
        if path in (fd.target_path, fd.source_path):
            return fd.diff_line
    return None


def mail_line(patch: Patch, diff_line: int) -> int:
    """Line number in the raw patch mail (headers included) of a line of the patch's diff."""
    body_start = patch.mail.body_offset if patch.mail.body_offset > 0 else 1
    return body_start + max(patch.diff_line, 1) - 1 + diff_line - 1


def finding_mail_line(patch: Patch, finding: Finding) -> int | None:
    """Where in the patch mail a finding points: its diff line, else its file's header."""
    shown = diff_line_of(patch, finding)
    if shown is not None:
        return mail_line(patch, shown.diff_line)
    if finding.path is not None:
        header = file_header_line(patch, finding.path)
        if header is not None:
            return mail_line(patch, header)
    return None


def rule_index(rules: Sequence[Rule]) -> dict[str, Rule]:
    return {rule.id: rule for rule in rules}
