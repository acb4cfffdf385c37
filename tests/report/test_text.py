"""Text output: compiler-style head line, code, evidence, fix; colour only on a terminal."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from reviewbot.context import Options
from reviewbot.engine import CheckResult, run_check
from reviewbot.finding import Finding, PatchRef, Severity
from reviewbot.ingest import load
from reviewbot.report.text import format_finding, location, write

MBOX = Path(__file__).resolve().parents[2] / "corpus" / "memdev" / "v1.mbox"


@pytest.fixture(scope="module")
def result() -> CheckResult:
    return run_check(load(str(MBOX)), Options())


def test_blocks_for_the_example(result: CheckResult) -> None:
    out = io.StringIO()
    write(result, out)
    text = out.getvalue()
    assert "\033[" not in text  # StringIO is not a terminal
    block = next(b for b in text.split("\n\n") if "[qom-realize-reaches-machine]" in b)
    lines = block.splitlines()
    assert lines[0] == ("hw/mem/memdev-window.c:72: warning: memdev_window_realize() reaches "
                        "the machine: memdev_window_realize -> memdev_window_check_node -> "
                        "qdev_get_machine() [qom-realize-reaches-machine]")
    assert lines[1] == ("    in patch 1: [PATCH] hw/mem: add memdev-window, a host memory "
                        "window device")
    assert lines[2] == "    72 |     if (!memdev_window_check_node(s, errp)) {"
    assert lines[3].startswith("    = memdev_window_realize -> memdev_window_check_node -> "
                               "qdev_get_machine()  [hw/mem/memdev-window.c:72, ")
    assert lines[5].startswith("    fix: Do machine-level work")
    assert re.fullmatch(r"7 warnings, 3 info \(\d+ rules, 1 patch\)",
                        text.rstrip().splitlines()[-1])


def test_deleted_text_is_marked_as_such(result: CheckResult) -> None:
    f = next(f for f in result.findings if f.rule == "comments-deleted-comment")
    block = format_finding(f).splitlines()
    assert block[0].startswith("hw/i386/acpi-build.c:32: warning: comment deleted")
    assert block[2] == "    32 -     /*"
    assert block[3] == "    = deleted comment:"
    assert block[4] == "      -     /*"


def test_series_level_finding_is_headed_by_its_patch() -> None:
    ref = PatchRef(index=0, subject="[PATCH 0/3] hw/mem: windows", message_id="c@x")
    f = Finding(rule="series-x", severity=Severity.ERROR, message="something", patch=ref)
    assert location(f) == "cover letter ([PATCH 0/3] hw/mem: windows)"
    assert format_finding(f) == ("cover letter ([PATCH 0/3] hw/mem: windows): error: "
                                 "something [series-x]")
    assert location(Finding(rule="r", severity=Severity.INFO, message="m")) == "series"


def test_colour_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    f = Finding(rule="r", severity=Severity.WARNING, message="m", path="a.c", line=3)
    out = Tty()
    monkeypatch.delenv("NO_COLOR", raising=False)
    write(CheckResult(series=load(str(MBOX)), findings=(f,), rules=(), options=Options()), out)
    assert "\033[1;35mwarning\033[0m" in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    out = Tty()
    write(CheckResult(series=load(str(MBOX)), findings=(f,), rules=(), options=Options()), out)
    assert "\033[" not in out.getvalue()
    assert out.getvalue().splitlines()[0] == "a.c:3: warning: m [r]"
