"""``reviewbot spec FILE``: check a saved guest boot log (E820 map, SRAT) on its own."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from reviewbot.finding import Finding

HELP = "check a guest boot log (dmesg): E820 map order, overlaps and types, SRAT coverage"

FORMATS = ("text", "json")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE",
                        help="a saved dmesg / console log, or - for standard input")
    parser.add_argument("--format", default="text", choices=FORMATS, metavar="FORMAT",
                        help="output format: text (default) or json")
    parser.add_argument("--fail-on", metavar="LEVEL", default="warning",
                        choices=("error", "warning", "info"),
                        help="exit 1 when a finding is at or above LEVEL (default: warning)")


def _read(name: str) -> str:
    from reviewbot.errors import InputError
    from reviewbot.util import limits

    if name == "-":
        data = limits.read_capped(sys.stdin.buffer, "<stdin>", "input")
    else:
        from pathlib import Path

        try:
            data = limits.read_input(Path(name), name)
        except FileNotFoundError:
            raise InputError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{name}: is a directory, not a log file") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if b"\0" in data:
        raise InputError(f"{name}: binary data, not a text log")
    # Console captures are not always clean UTF-8; the lines checked here are ASCII.
    return data.decode("utf-8", errors="replace")


def check_file(name: str) -> list[Finding]:
    """Findings for the log in ``name`` (``-``: standard input)."""
    from reviewbot.checks.spec import check_log_text

    return check_log_text(_read(name), "<stdin>" if name == "-" else name)


def _write_text(findings: list[Finding], out: TextIO) -> None:
    for f in findings:
        out.write(f"{f.path}:{f.line}: {f.severity}: {f.message} [{f.rule}]\n")
        for ev in f.evidence:
            out.write(f"    {ev}\n")
    if not findings:
        out.write("no problems found\n")


def _write_json(name: str, findings: list[Finding], out: TextIO) -> None:
    import json

    from reviewbot.report.json import SCHEMA_VERSION, finding_dict

    doc = {"version": SCHEMA_VERSION, "file": name,
           "findings": [finding_dict(f) for f in findings]}
    json.dump(doc, out, indent=2)
    out.write("\n")


def run(args: argparse.Namespace) -> int:
    from reviewbot.finding import Severity

    findings = check_file(args.file)
    if args.format == "json":
        _write_json(args.file, findings, sys.stdout)
    else:
        _write_text(findings, sys.stdout)
    fail_on = Severity.parse(args.fail_on)
    return 1 if any(f.severity >= fail_on for f in findings) else 0
