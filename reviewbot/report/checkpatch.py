"""Lines in the shape of ``checkpatch.pl --terse --mailback``: ``-:N: ERROR: message [rule-id]``.

N counts lines of the patch mail as given (headers included), which is what b4's per-patch
check commands feed on standard input and what they read the numbers against. Clean input
prints nothing (``--mailback``), so tools that treat any output as a result stay quiet.
"""

from __future__ import annotations

from typing import TextIO

from reviewbot.finding import Finding, Severity
from reviewbot.model import Series
from reviewbot.report.mailpos import ResultLike, finding_mail_line, patch_for

LEVELS = {Severity.ERROR: "ERROR", Severity.WARNING: "WARNING", Severity.INFO: "CHECK"}


def format_line(series: Series, finding: Finding) -> str:
    patch = patch_for(series, finding.patch)
    line: int | None = None
    name = "-"
    if patch is not None:
        line = finding_mail_line(patch, finding)
        if line is None:
            # a mail-level finding: point at the first line of the commit message
            line = max(patch.mail.body_offset, 1)
        if len(series.patches) > 1 and patch.mail.origin:
            name = patch.mail.origin
    elif finding.patch is not None and finding.patch.index == 0 and series.cover is not None:
        line = max(series.cover.body_offset, 1)
        if len(series.patches) > 0 and series.cover.origin:
            name = series.cover.origin
    message = " ".join(finding.message.split())
    where = f"{finding.path}:{finding.line}: " if finding.path and patch is None else ""
    return f"{name}:{line or 0}: {LEVELS[finding.severity]}: {where}{message} [{finding.rule}]"


def write(result: ResultLike, out: TextIO) -> None:
    for finding in result.findings:
        out.write(format_line(result.series, finding) + "\n")
