"""SARIF 2.1.0 for code-scanning services.

One run; ``tool.driver.rules`` describes every rule that ran (and any rule id a finding
carries without a loaded rule, such as ``input-problem``). A finding with a file and line
gets a physical location relative to the repository root (``%SRCROOT%``); a mail-level
finding gets the input file when the series came from one, else no location.
``partialFingerprints`` carries ``Finding.fingerprint()``, which ignores line numbers and
whitespace, so a finding keeps its identity from one version of a series to the next.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TextIO

from reviewbot import __version__
from reviewbot.finding import Finding, Severity
from reviewbot.model import Series
from reviewbot.report.mailpos import ResultLike, mail_for, new_line_for_removed, patch_for
from reviewbot.rules.model import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "reviewbot/v1"
SRCROOT = "%SRCROOT%"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    return match.group(1) if match else text


def _descriptor(rule: Rule) -> dict[str, Any]:
    short = rule.title or _first_sentence(rule.message)
    full = " ".join(rule.rationale.split()) or short
    fix = " ".join(rule.fix.split())
    help_text = full + (f"\n\nHow to fix: {fix}" if fix else "")
    help_md = full + (f"\n\n**How to fix:** {fix}" if fix else "")
    if rule.origin:
        help_text += f"\n\nWhere this comes from: {rule.origin}"
        help_md += f"\n\n*Where this comes from:* {rule.origin}"
    props: dict[str, Any] = {"tags": [rule.pack] if rule.pack else []}
    if rule.origin:
        props["origin"] = rule.origin
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": help_text, "markdown": help_md},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": props,
    }


def _bare_descriptor(rule_id: str, severity: Severity) -> dict[str, Any]:
    text = f"reviewbot rule {rule_id}"
    return {
        "id": rule_id,
        "shortDescription": {"text": text},
        "defaultConfiguration": {"level": LEVELS[severity]},
    }


def _source_uri(series: Series) -> str | None:
    """The input file a mail-level finding can point at, relative to the cwd when inside it."""
    if not series.source or series.source == "-" or series.repo is not None:
        return None
    path = Path(series.source)
    if not path.is_file():
        return None
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


def _message(finding: Finding) -> str:
    text = finding.message
    if finding.evidence:
        text += "\n" + "\n".join(f"  {e}" for e in finding.evidence)
    if finding.fix:
        text += f"\nFix: {' '.join(finding.fix.split())}"
    return text


def _result(finding: Finding, rule_pos: dict[str, int], series: Series) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_pos[finding.rule],
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint()},
    }
    if finding.path:
        physical: dict[str, Any] = {
            "artifactLocation": {"uri": finding.path, "uriBaseId": SRCROOT},
        }
        if finding.line and finding.side == "old":
            # deleted text has no line in the file as it is now: point where it was
            patch = patch_for(series, finding.patch)
            where = new_line_for_removed(patch, finding) if patch is not None else None
            if where is not None:
                physical["region"] = {"startLine": where}
        elif finding.line:
            region: dict[str, Any] = {"startLine": finding.line}
            if finding.end_line and finding.end_line >= finding.line:
                region["endLine"] = finding.end_line
            if finding.code:
                region["snippet"] = {"text": finding.code}
            physical["region"] = region
        result["locations"] = [{"physicalLocation": physical}]
    else:
        uri = _source_uri(series)
        if uri is not None:
            result["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": uri}}}]
    props: dict[str, Any] = {}
    if finding.patch is not None:
        props["patch"] = finding.patch.index
        props["subject"] = finding.patch.subject
        props["messageId"] = finding.patch.message_id
        mail = mail_for(series, finding.patch)
        if mail is not None and "locations" in result:
            result["locations"][0]["message"] = {"text": mail.subject.raw}
    if finding.side == "old":
        props["side"] = "old"
        props["oldLine"] = finding.line
    if props:
        result["properties"] = props
    return result


def build(result: ResultLike) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    rule_pos: dict[str, int] = {}
    for rule in result.rules:
        if rule.id not in rule_pos:
            rule_pos[rule.id] = len(rules)
            rules.append(_descriptor(rule))
    for finding in result.findings:
        if finding.rule not in rule_pos:
            rule_pos[finding.rule] = len(rules)
            rules.append(_bare_descriptor(finding.rule, finding.severity))
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "reviewbot",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": rules,
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, rule_pos, result.series) for f in result.findings],
        "invocations": [{"executionSuccessful": True}],
    }
    if result.series.repo:
        root = Path(result.series.repo).resolve().as_uri().rstrip("/") + "/"
        run["originalUriBaseIds"] = {SRCROOT: {"uri": root}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def write(result: ResultLike, out: TextIO) -> None:
    json.dump(build(result), out, indent=2, ensure_ascii=False)
    out.write("\n")

