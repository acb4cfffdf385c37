"""The input pseudo-rules: a series read against a tree it was not written for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.cli import main

PATCH = Path(__file__).resolve().parents[2] / "rules" / "core" / "examples" / "tree-mismatch.mbox"


Findings = list[dict[str, object]]


def _check(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Findings]:
    code = main(["check", "--format", "json", *argv])
    return code, json.loads(capsys.readouterr().out)["findings"]


def test_hunk_that_does_not_apply_to_the_tree(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "hw" / "misc").mkdir(parents=True)
    (tmp_path / "hw" / "misc" / "lamp.c").write_text("/* another revision */\nint lamp;\n")
    code, findings = _check(["--tree", str(tmp_path), str(PATCH)], capsys)
    assert code == 0  # info: a mismatch says nothing about the patch
    assert [(f["rule"], f["severity"], f["path"]) for f in findings] == [
        ("tree-mismatch", "info", None)]
    assert "hw/misc/lamp.c: hunk at line 1 does not apply" in str(findings[0]["message"])


def test_file_missing_from_the_tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, findings = _check(["--fail-on", "info", "--tree", str(tmp_path), str(PATCH)], capsys)
    assert code == 1
    assert [f["rule"] for f in findings] == ["tree-mismatch"]
    assert "hw/misc/lamp.c: not in the tree" in str(findings[0]["message"])


def test_series_that_applies_is_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "hw" / "misc").mkdir(parents=True)
    (tmp_path / "hw" / "misc" / "lamp.c").write_text('#include "qemu/osdep.h"\n\n')
    code, findings = _check(["--fail-on", "info", "--tree", str(tmp_path), str(PATCH)], capsys)
    assert (code, findings) == (0, [])
