"""``b4 review``'s check protocol: one JSON object ``{tool, status, summary, url, details}``.

b4 runs the command once per patch (``b4.review-perpatch-check-cmd``) or once on the cover
letter (``b4.review-series-check-cmd``) with that mail on standard input, and shows
``details`` as a list when it is a JSON list of ``{status, description, srcline}`` entries.
"""

from __future__ import annotations

import json
from typing import TextIO

from reviewbot.finding import Finding, Severity
from reviewbot.report.mailpos import ResultLike

TOOL = "reviewbot"
STATUS = {Severity.ERROR: "fail", Severity.WARNING: "warn", Severity.INFO: "pass"}
_ORDER = {"pass": 0, "warn": 1, "fail": 2}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _entry(finding: Finding) -> dict[str, str]:
    where = f"{finding.path}:{finding.line}: " if finding.path and finding.line else (
        f"{finding.path}: " if finding.path else "")
    text = f"{where}{finding.message} [{finding.rule}]"
    if finding.evidence:
        text += " (" + "; ".join(finding.evidence) + ")"
    entry = {"status": STATUS[finding.severity], "description": text}
    if finding.code.strip():
        entry["srcline"] = finding.code.strip()
    return entry


def report(result: ResultLike) -> dict[str, str]:
    findings = list(result.findings)
    entries = [_entry(f) for f in findings]
    status = max((e["status"] for e in entries), key=_ORDER.__getitem__, default="pass")
    counts = {sev: sum(1 for f in findings if f.severity is sev) for sev in Severity}
    parts = [
        _plural(counts[Severity.ERROR], "error") if counts[Severity.ERROR] else "",
        _plural(counts[Severity.WARNING], "warning") if counts[Severity.WARNING] else "",
        _plural(counts[Severity.INFO], "note") if counts[Severity.INFO] else "",
    ]
    summary = ", ".join(p for p in parts if p) or "no findings"
    return {
        "tool": TOOL,
        "status": status,
        "summary": summary,
        "url": "",
        "details": json.dumps(entries) if entries else "",
    }


def write(result: ResultLike, out: TextIO) -> None:
    out.write(json.dumps(report(result), indent=None) + "\n")
