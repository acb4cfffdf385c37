"""Machine-readable findings, schema version 1 (documented in docs/json-schema.md)."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any, TextIO

from reviewbot import __version__
from reviewbot.finding import Finding, Severity

if TYPE_CHECKING:
    from reviewbot.engine import CheckResult

SCHEMA_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "severity": str(f.severity),
        "path": f.path,
        "line": f.line,
        "end_line": f.end_line,
        "side": f.side,
        "patch": None if f.patch is None else {
            "index": f.patch.index, "subject": f.patch.subject, "message_id": f.patch.message_id,
        },
        "message": f.message,
        "code": f.code or None,
        "evidence": list(f.evidence),
        "fix": f.fix,
        "fingerprint": f.fingerprint(),
    }


def document(result: CheckResult) -> dict[str, Any]:
    series = result.series
    counts = Counter(str(f.severity) for f in result.findings)
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": "reviewbot", "version": __version__},
        "series": {
            "source": series.source,
            "title": series.title,
            "version": series.version,
            "patches": len(series.patches),
            "cover_letter": series.cover is not None,
        },
        "rules": [{"id": r.id, "pack": r.pack, "severity": str(r.severity)}
                  for r in result.rules],
        "summary": {str(s): counts.get(str(s), 0) for s in sorted(Severity, reverse=True)},
        "fail_on": str(result.options.fail_on),
        "failed": result.fails(),
        "findings": [finding_dict(f) for f in result.findings],
    }


def write(result: CheckResult, out: TextIO) -> None:
    json.dump(document(result), out, indent=2, ensure_ascii=False)
    out.write("\n")
