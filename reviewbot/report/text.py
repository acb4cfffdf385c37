"""Compiler-style text: ``path:line: severity: message [rule-id]``, the code, evidence, fix.

Findings without a place in a file are headed by the patch they are about. Colour is used only
when writing to a terminal and NO_COLOR is unset.
"""

from __future__ import annotations

import os
import textwrap
from collections import Counter
from typing import TYPE_CHECKING, TextIO

from reviewbot.finding import Finding, Severity

if TYPE_CHECKING:
    from reviewbot.engine import CheckResult

_COLOURS = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[1;35m",
            Severity.INFO: "\033[1;36m"}
_BOLD = "\033[1m"
_DIM = "\033[2m"
_RESET = "\033[0m"
_WIDTH = 100


def _use_colour(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def location(finding: Finding) -> str:
    """``path:line``, ``path``, or the patch the finding is about."""
    if finding.path is not None:
        return f"{finding.path}:{finding.line}" if finding.line is not None else finding.path
    if finding.patch is not None:
        label = "cover letter" if finding.patch.index == 0 else f"patch {finding.patch.index}"
        return f"{label} ({finding.patch.subject})" if finding.patch.subject else label
    return "series"


def format_finding(finding: Finding, *, colour: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if colour else text

    head = (f"{paint(_BOLD, location(finding))}: "
            f"{paint(_COLOURS[finding.severity], str(finding.severity))}: "
            f"{finding.message} [{finding.rule}]")
    lines = [head]
    if finding.path is not None and finding.patch is not None:
        lines.append(f"    in patch {finding.patch.index}: {finding.patch.subject}")
    if finding.code:
        number = f"{finding.line}" if finding.line is not None else ""
        marker = "-" if finding.side == "old" else "|"
        lines.append(paint(_DIM, f" {number:>5} {marker} ") + finding.code.rstrip())
    for item in finding.evidence:
        for i, part in enumerate(item.splitlines() or [""]):
            lines.append(("    = " if i == 0 else "      ") + part)
    if finding.fix:
        wrapped = textwrap.wrap(" ".join(finding.fix.split()), _WIDTH - 11)
        for i, part in enumerate(wrapped):
            lines.append(("    fix: " if i == 0 else "         ") + part)
    return "\n".join(lines)


def summary(result: CheckResult) -> str:
    counts = Counter(f.severity for f in result.findings)
    if not counts:
        return "no findings" + _counts(result)
    parts = []
    for sev in sorted(counts, reverse=True):
        n = counts[sev]
        parts.append(f"{n} {sev}{'s' if n != 1 and sev != Severity.INFO else ''}")
    return ", ".join(parts) + _counts(result)


def write(result: CheckResult, out: TextIO) -> None:
    colour = _use_colour(out)
    for finding in result.findings:
        out.write(format_finding(finding, colour=colour) + "\n\n")
    out.write(summary(result) + "\n")


def _counts(result: CheckResult) -> str:
    rules, patches = len(result.rules), len(result.series.patches)
    return (f" ({rules} rule{'s' if rules != 1 else ''}, "
            f"{patches} patch{'es' if patches != 1 else ''})")
