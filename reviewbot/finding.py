"""The one finding type. Check primitives create findings only through ``Finding``."""

from __future__ import annotations

import re
from dataclasses import field, replace
from enum import IntEnum

from reviewbot.util.frozen import frozen


class Severity(IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    def __str__(self) -> str:
        return self.name.lower()


@frozen
class PatchRef:
    """Which mail of the series a finding is about."""

    index: int  # 0 for the cover letter, n for patch n/N
    subject: str
    message_id: str


@frozen
class Finding:
    rule: str
    severity: Severity
    message: str
    path: str | None = None  # None for series- or mail-level findings
    line: int | None = None  # post-image line (or, for removed text, the pre-image line)
    end_line: int | None = None
    patch: PatchRef | None = None
    evidence: tuple[str, ...] = ()
    fix: str = ""
    code: str = ""  # the source line the finding points at, for display
    anchor: str = ""  # text that identifies the place independent of line numbers
    side: str = "new"  # "new": line is in the post-image; "old": in the pre-image (deleted text)
    extra: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def sort_key(self) -> tuple[int, str, int, str, str]:
        return (
            self.patch.index if self.patch else 10**6,
            self.path or "",
            self.line or 0,
            self.rule,
            self.message,
        )

    def fingerprint(self) -> str:
        """Stable identity across versions of a series: ignores line numbers and whitespace."""
        import hashlib

        basis = "\0".join((
            self.rule,
            self.path or "",
            _squash(self.anchor or self.code),
            _squash(self.message) if not (self.anchor or self.code) else "",
        ))
        return hashlib.sha256(basis.encode()).hexdigest()[:32]

    def with_patch(self, patch: PatchRef) -> Finding:
        return replace(self, patch=patch)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    """Deterministic order, duplicates (same rule, place, message, patch) dropped."""
    seen: set[tuple[object, ...]] = set()
    out: list[Finding] = []
    for f in sorted(findings, key=Finding.sort_key):
        key = (f.rule, f.path, f.line, f.message, f.patch)
        if key in seen:
            continue
        seen.add(key)
        out.append(f)
    return out
