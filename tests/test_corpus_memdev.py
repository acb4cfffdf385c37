"""The bundled example series: each of its problems is reported once, where and how expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reviewbot.cli import main
from reviewbot.context import Options
from reviewbot.engine import CheckResult, run_check
from reviewbot.finding import Finding
from reviewbot.ingest import load

ROOT = Path(__file__).resolve().parents[1]
MBOX = ROOT / "corpus" / "memdev" / "v1.mbox"
EXPECT: dict[str, Any] = yaml.safe_load(
    (ROOT / "corpus" / "memdev" / "v1.expect.yaml").read_text(encoding="utf-8"))
MY_PACKS = ("qom-", "comments-")


@pytest.fixture(scope="module")
def result() -> CheckResult:
    return run_check(load(str(MBOX)), Options())


def _key(f: Finding) -> tuple[str, int | None, str | None, int | None]:
    return (f.rule, f.patch.index if f.patch else None, f.path, f.line)


def test_every_expected_finding_is_reported_once(result: CheckResult) -> None:
    got = [_key(f) for f in result.findings]
    for want in EXPECT["findings"]:
        key = (want["rule"], want["patch"], want["path"], want["line"])
        assert got.count(key) == 1, f"{key} reported {got.count(key)} times; got {got}"


def test_nothing_else_from_the_qom_and_comments_packs(result: CheckResult) -> None:
    expected = {(w["rule"], w["patch"], w["path"], w["line"]) for w in EXPECT["findings"]}
    extra = [_key(f) for f in result.findings
             if f.rule.startswith(MY_PACKS) and _key(f) not in expected]
    assert not extra


def test_silent_places(result: CheckResult) -> None:
    for quiet in EXPECT["silent"]:
        for f in result.findings:
            same_place = f.path == quiet["path"] and (f.patch and f.patch.index) == quiet["patch"]
            assert not (same_place and quiet["rule"] in ("*", f.rule)), f


def _one(result: CheckResult, rule: str) -> Finding:
    found = [f for f in result.findings if f.rule == rule]
    assert len(found) == 1
    return found[0]


def test_evidence(result: CheckResult) -> None:
    reach = _one(result, "qom-realize-reaches-machine")
    assert reach.evidence[0].startswith(
        "memdev_window_realize -> memdev_window_check_node -> qdev_get_machine()")
    assert "hw/mem/memdev-window.c:72, hw/mem/memdev-window.c:27" in reach.evidence[0]
    assert reach.evidence[1].startswith("memdev_window_realize -> qdev_get_machine()")
    assert reach.code.strip() == "if (!memdev_window_check_node(s, errp)) {"

    plug = _one(result, "qom-realize-memory-device-plug")
    assert [e.split("  ")[0] for e in plug.evidence] == [
        "memdev_window_realize -> memory_device_pre_plug()",
        "memdev_window_realize -> memory_device_plug()",
    ]

    phase = _one(result, "qom-realize-phase-check")
    assert "memdev_window_class_init() sets dc->hotpluggable = false " \
           "(hw/mem/memdev-window.c:157)" in phase.evidence

    glob = _one(result, "qom-device-global-state")
    assert "memdev_windows" in glob.message and "QLIST_HEAD" in glob.message

    notifier = _one(result, "qom-device-machine-done-notifier")
    assert "memdev_window_machine_done" in notifier.message

    walk = _one(result, "qom-walk-whole-tree")
    assert "memdev_window_count() keeps only some objects (object_dynamic_cast)" in walk.evidence

    comment = _one(result, "comments-deleted-comment")
    assert comment.side == "old"
    assert comment.end_line == 38
    assert "Windows only" in comment.evidence[0]
    assert "SWIOTLB" in comment.evidence[0]
    assert comment.evidence[1] == "the code it explained stays: if (machine->device_memory) {"


def test_make_run_command_exits_1_with_the_findings_on_stdout(
        capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["check", str(MBOX)])
    out = capsys.readouterr().out
    assert status == 1
    assert "hw/mem/memdev-window.c:72: warning: memdev_window_realize() reaches the machine" in out
    assert "[qom-realize-reaches-machine]" in out
    assert "    = memdev_window_realize -> memdev_window_check_node -> qdev_get_machine()" in out
    assert "hw/i386/acpi-build.c:32: warning: comment deleted" in out
