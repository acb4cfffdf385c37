"""``reviewbot rules`` lists every rule; ``rules show ID`` explains one."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.rules.loader import load_rules

MBOX = str(Path(__file__).resolve().parents[2] / "corpus" / "memdev" / "v1.mbox")


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    out = capsys.readouterr().out.splitlines()
    # every rule of the packs, and the two built into reviewbot
    assert len(out) == len(load_rules()) + 2
    line = next(x for x in out if x.startswith("qom-realize-reaches-machine "))
    assert line.split()[1:3] == ["warning", "qemu-qom"]
    assert line.endswith("A device's realize/unrealize reaches the machine")


def test_list_one_pack(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list", "--pack", "comments"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [x.split()[0] for x in out] == ["comments-deleted-comment"]


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "show", "qom-realize-phase-check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("qom-realize-phase-check (warning, pack qemu-qom, "
                          "rule language)\n")
    assert "Rationale:\n  With dc->hotpluggable = false" in out
    assert "Fix:\n  Drop the phase_check() from realize" in out
    assert "Examples:\n  --- examples/qom-realize-phase-check.c\n" in out
    assert "  /* ruleid: qom-realize-phase-check */" in out
    assert "Rule:\n  match:\n    pattern: phase_check($PHASE)\n" in out
    assert '  PHASE: {regex: "^PHASE_MACHINE_(READY|INITIALIZED)$"}' in out
    # a rule of a Python primitive shows its parameters instead
    assert main(["rules", "show", "qapi-option-member-undocumented"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("qapi-option-member-undocumented (warning, pack qapi, "
                          "check qapi-option-member-doc)\n")
    assert "\n  hx: qemu-options.hx\n" in out


def test_builtin_rules_are_listed_shown_and_selectable(
        capsys: pytest.CaptureFixture[str]) -> None:
    """could-not-analyse and followup-open-point have no YAML file, but users meet their
    findings, so `rules` explains them and --disable/--enable accept their ids."""
    assert main(["rules", "list", "--pack", "core"]) == 0
    listed = [x.split()[0] for x in capsys.readouterr().out.splitlines()]
    assert {"could-not-analyse", "followup-open-point"} <= set(listed)
    assert main(["rules", "show", "followup-open-point"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("followup-open-point (warning, pack core, built into reviewbot)\n")
    assert "Defined in" not in out
    assert main(["check", MBOX, "--format", "json",
                 "--disable", "followup-open-point"]) == 1
    assert main(["check", MBOX, "--enable", "followup-open-point"]) == 0


@pytest.mark.parametrize(("args", "message"), [
    (["rules", "show", "nope"], "unknown rule id 'nope'"),
    (["rules", "show"], "'rules show' needs a rule ID"),
    (["rules", "list", "--pack", "nope"], "no rule pack 'nope'"),
])
def test_errors(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("reviewbot: error: ") and message in err
