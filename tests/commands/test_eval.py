"""`reviewbot eval`: the per-rule table, thresholds and exit status, and `--reviews`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reviewbot.cli import main

REPO = Path(__file__).resolve().parents[2]
MEMDEV = REPO / "corpus" / "memdev"


def _row(out: str, rule: str) -> list[str]:
    return next(line.split() for line in out.splitlines() if line.split()[:1] == [rule])


def _copy(tmp_path: Path, version: str, expect: str | None = None) -> Path:
    shutil.copy(MEMDEV / f"{version}.mbox", tmp_path / f"{version}.mbox")
    text = expect if expect is not None else \
        (MEMDEV / f"{version}.expect.yaml").read_text(encoding="utf-8")
    (tmp_path / f"{version}.expect.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_matching_expectations_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _copy(tmp_path, "v3")
    assert main(["eval", str(corpus), "--min-precision", "1", "--min-recall", "1"]) == 0
    out = capsys.readouterr().out
    assert _row(out, "qom-realize-reaches-machine") == [
        "qom-realize-reaches-machine", "1", "0", "0", "1.00", "1.00"]
    assert _row(out, "qom-walk-whole-tree") == [
        "qom-walk-whole-tree", "1", "0", "0", "1.00", "1.00"]
    assert _row(out, "qemu-type-register-static") == [
        "qemu-type-register-static", "1", "0", "0", "1.00", "1.00"]
    assert _row(out, "all") == ["all", "3", "0", "0", "1.00", "1.00"]
    assert "1 annotated series; thresholds: precision >= 1.00, recall >= 1.00" in out
    assert not [line for line in out.splitlines() if line.startswith(("FP ", "FN "))]


def test_missed_and_extra_findings_fail_the_thresholds(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # expects a finding that v3 does not have, and not the one it does have in patch 1
    # (patch 3's SRAT walk is expected, so that it is not a second false positive)
    corpus = _copy(tmp_path, "v3", """
options: {disable: [qemu-type-register-static]}
findings:
  - {rule: qom-realize-phase-check, patch: 1, path: hw/mem/memdev-window.c, line: 30}
  - {rule: qom-walk-whole-tree, patch: 3, path: hw/i386/acpi-build.c, line: 30}
silent:
  - {rule: "*", patch: 1, path: hw/mem/memdev-window.c}
""")
    assert main(["eval", str(corpus), "--min-precision", "1", "--min-recall", "1"]) == 1
    out = capsys.readouterr().out
    mail = corpus / "v3.mbox"
    assert (f"FP {mail}: qom-realize-reaches-machine patch 1 hw/mem/memdev-window.c:24: "
            in out)
    assert "   a place that must stay silent: any rule patch 1 hw/mem/memdev-window.c" in out
    assert (f"FN {mail}: qom-realize-phase-check patch 1 hw/mem/memdev-window.c:30" in out)
    assert _row(out, "qom-realize-reaches-machine")[1:4] == ["0", "1", "0"]
    assert _row(out, "qom-realize-phase-check")[1:4] == ["0", "0", "1"]
    assert "below threshold: qom-realize-reaches-machine: precision 0.00 < 1.00" in out
    assert "below threshold: qom-realize-phase-check: recall 0.00 < 1.00" in out
    # the same scores pass when nothing is required
    assert main(["eval", str(corpus)]) == 0
    capsys.readouterr()

    # the JSON document carries the same verdicts, finding by finding
    assert main(["eval", str(corpus), "--min-recall", "1", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    (case,) = doc["cases"]
    assert case["name"] == str(mail)
    assert [(t["rule"], t["line"]) for t in case["true_positives"]] == [
        ("qom-walk-whole-tree", 30)]
    (fp,) = case["false_positives"]
    assert (fp["rule"], fp["patch"]["index"], fp["path"], fp["line"]) == (
        "qom-realize-reaches-machine", 1, "hw/mem/memdev-window.c", 24)
    assert fp["breaks_silent"] == ["any rule patch 1 hw/mem/memdev-window.c"]
    assert case["false_negatives"] == [
        "qom-realize-phase-check patch 1 hw/mem/memdev-window.c:30"]
    scores = {r["rule"]: r for r in doc["rules"]}
    assert scores["qom-realize-reaches-machine"] == {
        "rule": "qom-realize-reaches-machine", "tp": 0, "fp": 1, "fn": 0, "precision": 0.0,
        "recall": None}
    assert doc["below_threshold"] == ["qom-realize-phase-check: recall 0.00 < 1.00",
                                      "all: recall 0.50 < 1.00"]


def test_thresholds_from_config_file_and_flags_override(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _copy(tmp_path, "v3", "findings: []\n")  # the real finding becomes an FP
    (corpus / "eval.yaml").write_text("min_precision: 1.0\n", encoding="utf-8")
    assert main(["eval", str(corpus)]) == 1  # eval.yaml in the PATH directory is read
    assert "precision >= 1.00, recall >= 0.00" in capsys.readouterr().out
    assert main(["eval", str(corpus), "--min-precision", "0"]) == 0
    other = tmp_path / "other.yaml"
    other.write_text("min_recall: 0.5\n", encoding="utf-8")
    assert main(["eval", str(corpus), "--config", str(other)]) == 0
    assert "precision >= 0.00, recall >= 0.50" in capsys.readouterr().out


def test_usage_and_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(tmp_path)]) == 2
    assert "no annotated series (.expect.yaml) under" in capsys.readouterr().err
    assert main(["eval", str(MEMDEV), "--min-recall", "1.5"]) == 2
    assert "--min-recall: expected 0..1" in capsys.readouterr().err
    bad = _copy(tmp_path, "v3", "findings: 3\n")
    assert main(["eval", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'findings' must be a list" in err
    assert main(["eval", "--reviews"]) == 2


def test_reviews_reports_each_comment_and_a_coverage_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    qapi = REPO / "corpus" / "qapi" / "spm-nodes.mbox"
    rtc = REPO / "corpus" / "list-rewrite" / "rtc-century.mbox"
    assert main(["eval", "--reviews", "--qemu-version", "10.1.50", str(qapi), str(rtc)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8
    # Marta's two remarks and the author's two answers sit where the QAPI rules fire
    assert [line.split(f" {REPO}")[0] for line in lines[:4]] == [
        "HIT  [qapi-since]", "HIT  [qapi-option-member-undocumented]",
        "HIT  [qapi-since]", "HIT  [qapi-option-member-undocumented]"]
    assert "Marta Quill on patch 1 qapi/machine.json:28-30 (new): 9.2 is long out" in lines[0]
    # the RTC series is clean: no rule speaks to the reviewers' points there
    assert all(line.startswith("miss ") for line in lines[4:7])
    assert lines[7] == "coverage: 4 of 7 review comments hit by a finding (57.1%)"
    assert main(["eval", "--reviews", "--qemu-version", "10.1.50", "--format", "json",
                 str(qapi), str(rtc)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["coverage"] == {"hit": 4, "comments": 7}
    first = doc["threads"][0]["comments"][0]
    assert (first["reviewer"].split(" <")[0], first["path"], first["hit"]) == (
        "Marta Quill", "qapi/machine.json", True)
    assert [f["rule"] for f in first["findings"]] == ["qapi-since"]
    assert [c["hit"] for c in doc["threads"][1]["comments"]] == [False, False, False]
    assert main(["eval", "--reviews", "--qemu-version", "ten", str(qapi)]) == 2


def test_reviews_on_real_threads(corpus_real: Path, capsys: pytest.CaptureFixture[str]) -> None:
    threads = sorted(str(p) for p in corpus_real.glob("*.mbox"))
    assert main(["eval", "--reviews", *threads]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("coverage: ") and " of 14 review comments " in lines[-1]
    assert len(lines) == 15
