"""evaluate: reading annotated series, scoring findings, thresholds, review-comment hits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.finding import Finding, PatchRef, Severity
from reviewbot.review.evaluate import (
    Expected,
    RuleScore,
    Silent,
    Thresholds,
    below,
    case_options,
    check_case,
    find_cases,
    format_table,
    hits,
    load_case,
    load_thresholds,
    rule_scores,
    score_case,
    total,
)
from reviewbot.review.mine import MinedComment

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"


def _f(rule: str, patch: int | None, path: str | None, line: int | None, *,
       mid: str = "m1", side: str = "new", end: int | None = None) -> Finding:
    ref = None if patch is None else PatchRef(index=patch, subject="s", message_id=mid)
    return Finding(rule=rule, severity=Severity.WARNING, message="m", path=path, line=line,
                   end_line=end, patch=ref, side=side)


def _case(tmp_path: Path, expect: str, name: str = "s") -> Path:
    shutil.copy(CORPUS / "memdev" / "v3.mbox", tmp_path / f"{name}.mbox")
    target = tmp_path / f"{name}.expect.yaml"
    target.write_text(expect, encoding="utf-8")
    return target


def test_find_cases_pairs_every_corpus_mbox_with_its_expect_file() -> None:
    cases = find_cases([CORPUS])
    mails = sorted(p for p in CORPUS.rglob("*.mbox"))
    assert sorted(c.mail for c in cases) == mails  # every mbox is annotated
    names = {c.mail.name for c in cases}
    assert {"ledbank.mbox", "rtc-century.mbox", "v1.mbox", "v2.mbox", "v3.mbox",
            "v4.mbox"} <= names
    v3 = next(c for c in cases if c.mail.name == "v3.mbox")
    assert v3.findings == (Expected("qom-realize-reaches-machine", 1,
                                    "hw/mem/memdev-window.c", 24),
                           Expected("qom-walk-whole-tree", 3, "hw/i386/acpi-build.c", 30),
                           Expected("qemu-type-register-static", 1,
                                    "hw/mem/memdev-window.c", 122))
    assert Silent("*", 2, "hw/i386/pc.c") in v3.silent


def test_find_cases_accepts_a_mail_file_and_rejects_one_without_expect(tmp_path: Path) -> None:
    [case] = find_cases([CORPUS / "memdev" / "v4.mbox"])
    assert case.findings == (Expected("qom-walk-whole-tree", 3, "hw/i386/acpi-build.c", 30),
                             Expected("qemu-type-register-static", 1,
                                      "hw/mem/memdev-window.c", 121))
    lone = tmp_path / "lone.mbox"
    lone.write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"lone\.mbox: no lone\.expect\.yaml beside it"):
        find_cases([lone])
    with pytest.raises(InputError, match="no such file or directory"):
        find_cases([tmp_path / "missing"])


@pytest.mark.parametrize(("text", "problem"), [
    ("findings: [", "not valid YAML"),
    ("- 1\n", "expected a mapping"),
    ("findings: {}\n", "'findings' must be a list"),
    ("wanted: []\n", "unknown key(s): wanted"),
    ("findings:\n  - {patch: 1}\n", "findings[0]: expected a mapping with 'rule'"),
    ("findings:\n  - {rule: x, patch: one}\n", "findings[0]: 'patch' must be a number"),
    ("findings:\n  - {rule: x, col: 3}\n", "findings[0]: unknown key(s): col"),
    ("silent:\n  - {rule: x, path: 3}\n", "silent[0]: 'path' must be a string"),
    ("options: [1]\n", "'options' must be a mapping"),
])
def test_bad_expect_files_name_file_and_problem(tmp_path: Path, text: str,
                                                problem: str) -> None:
    expect = _case(tmp_path, text)
    with pytest.raises(InputError) as exc:
        load_case(expect)
    assert str(exc.value).startswith(f"{expect}: ")
    assert problem in str(exc.value)


def test_expect_without_mail_beside_it(tmp_path: Path) -> None:
    expect = tmp_path / "x.expect.yaml"
    expect.write_text("findings: []\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"no x\.mbox"):
        load_case(expect)


def test_options_become_check_options(tmp_path: Path) -> None:
    case = load_case(_case(tmp_path, "options: {qemu_version: 10.1.50, tree: sub, "
                                     "disable: [a-rule]}\nfindings: []\n"))
    options = case_options(case)
    assert options.qemu_version == "10.1.50"
    assert options.tree == str((tmp_path / "sub").resolve())
    assert options.disabled == frozenset({"a-rule"})
    bad = load_case(_case(tmp_path, "options: {colour: red}\n", name="t"))
    with pytest.raises(InputError, match=r"unknown option\(s\): colour"):
        case_options(bad)


def test_score_case_counts_each_expected_finding_once(tmp_path: Path) -> None:
    case = load_case(_case(tmp_path, """
findings:
  - {rule: r1, patch: 1, path: a.c, line: 3}
  - {rule: r2, patch: 0, path: null, line: null}
silent:
  - {rule: "*", patch: 2, path: b.c}
"""))
    got = [_f("r1", 1, "a.c", 3), _f("r1", 1, "a.c", 3), _f("r1", 1, "a.c", 4),
           _f("r3", 2, "b.c", 9)]
    result = score_case(case, got)
    assert [(f.rule, f.line) for f in result.true_positives] == [("r1", 3)]
    # the duplicate, the wrong line and the finding in a silent place are all FPs
    assert [(f.rule, f.line) for f in result.false_positives] == [
        ("r1", 3), ("r1", 4), ("r3", 9)]
    assert result.false_negatives == (Expected("r2", 0, None, None),)
    [(silent, finding)] = result.silent_broken
    assert silent == Silent("*", 2, "b.c") and finding.rule == "r3"
    assert result.silent_broken_by(finding) == [silent]

    scores = {s.rule: s for s in rule_scores([result], ["r4"])}
    assert (scores["r1"].tp, scores["r1"].fp, scores["r1"].fn) == (1, 2, 0)
    assert scores["r1"].precision == pytest.approx(1 / 3)
    assert scores["r1"].recall == 1.0
    assert scores["r2"].recall == 0.0 and scores["r2"].precision is None
    assert scores["r4"].precision is None and scores["r4"].recall is None  # ran, never seen
    all_ = total(scores.values())
    assert (all_.tp, all_.fp, all_.fn) == (1, 3, 1)


def test_thresholds_and_table() -> None:
    scores = [RuleScore("good", tp=2), RuleScore("noisy", tp=1, fp=1),
              RuleScore("blind", fn=1), RuleScore("idle")]
    assert below(scores, Thresholds(1.0, 1.0)) == [
        "noisy: precision 0.50 < 1.00", "blind: recall 0.00 < 1.00"]
    assert below(scores, Thresholds(0.5, 0.0)) == []
    table = format_table(scores).splitlines()
    assert table[0].split() == ["rule", "TP", "FP", "FN", "precision", "recall"]
    assert table[2].split() == ["noisy", "1", "1", "0", "0.50", "1.00"]
    assert table[4].split() == ["idle", "0", "0", "0", "-", "-"]
    assert table[-1].split() == ["all", "3", "1", "1", "0.75", "0.75"]


def test_threshold_file(tmp_path: Path) -> None:
    path = tmp_path / "eval.yaml"
    path.write_text("min_precision: 0.9\n", encoding="utf-8")
    assert load_thresholds(path) == Thresholds(0.9, 0.0)
    assert load_thresholds(CORPUS / "eval.yaml") == Thresholds(1.0, 1.0)
    path.write_text("min_precision: 2\n", encoding="utf-8")
    with pytest.raises(InputError, match="min_precision: expected a number between 0 and 1"):
        load_thresholds(path)
    path.write_text("min_recal: 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown key"):
        load_thresholds(path)


def test_check_case_on_the_corpus() -> None:
    [v2] = find_cases([CORPUS / "memdev" / "v2.mbox"])
    result = check_case(v2)
    assert result.false_negatives == ()
    assert result.false_positives == ()
    assert sorted((f.rule, f.patch.index if f.patch else None, f.line)
                  for f in result.true_positives) == [
        ("comments-deleted-comment", 2, 32),
        ("qemu-errp-deref-without-guard", 1, 52),
        ("qemu-type-register-static", 1, 144),
        ("qom-realize-memory-device-plug", 1, 51),
        ("qom-realize-phase-check", 1, 38),
        ("qom-realize-reaches-machine", 1, 46),
        ("qom-walk-whole-tree", 2, 30),
    ]


def _comment(path: str | None, side: str, lo: int | None, hi: int | None) -> MinedComment:
    return MinedComment(reviewer="r", reply_id="r1", patch_id="m1", patch_index=1, path=path,
                        side=side, line_start=lo, line_end=hi, quoted="", comment="c")


def test_hits_same_patch_same_file_overlapping_lines() -> None:
    c = _comment("a.c", "new", 10, 14)
    assert hits(c, _f("x", 1, "a.c", 12))
    assert hits(c, _f("x", 1, "a.c", 8, end=10))  # a range that reaches into the comment's
    assert not hits(c, _f("x", 1, "a.c", 15))
    assert not hits(c, _f("x", 1, "b.c", 12))
    assert not hits(c, _f("x", 1, "a.c", 12, mid="other"))
    assert not hits(c, _f("x", 1, "a.c", 12, side="old"))  # pre-image line numbers
    assert hits(_comment("a.c", "old", 12, 12), _f("x", 1, "a.c", 12, side="old"))
    message = _comment(None, "message", 1, 5)
    assert hits(message, _f("series-x", 1, None, None))
    assert not hits(message, _f("x", 1, "a.c", 3))
