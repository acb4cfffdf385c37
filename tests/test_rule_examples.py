"""Every rule's annotated examples, from every pack: ``ruleid:`` fires on the next line,
``ok:`` does not, and the rule fires nowhere else in its examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.finding import Finding
from reviewbot.rules.examples import (
    MAIL_SUFFIXES,
    Mark,
    c_marks,
    hits,
    mail_marks,
    synthetic_series,
)
from reviewbot.rules.loader import load_rules
from reviewbot.rules.model import Rule

RULES = load_rules()
BY_ID = {r.id: r for r in RULES}
# Rules whose positive case needs a QEMU tree; their firing is tested with a tree elsewhere
# (tests/checks/test_qom.py), their examples show where they stay quiet.
TREE_ONLY_CHECKS = {"interface-without-handler"}
# Input problems are not tied to one mail's Message-Id, so a mail-level ok: mark cannot be
# told apart from the broken mail: their examples only show where they fire.
POSITIVE_ONLY_CHECKS = {"input-problem"}

CASES = [(r.id, ex) for r in RULES for ex in r.examples]


def _run(example: Path, marks: list[Mark], rule: Rule) -> list[Finding]:
    ids = {m.rule for m in marks} | {rule.id}
    unknown = sorted(ids - set(BY_ID))
    assert not unknown, f"{example}: marks name unknown rules {unknown}"
    chosen = [BY_ID[i] for i in sorted(ids)]
    if example.suffix in MAIL_SUFFIXES:
        from reviewbot.ingest import load

        series = load(str(example))
    else:
        path, text, _ = c_marks(example)
        series = synthetic_series([(path, text)], source=str(example))
    return list(run_check(series, Options(), chosen).findings)


def _marks(example: Path) -> list[Mark]:
    if example.suffix in MAIL_SUFFIXES:
        return mail_marks(example)
    return c_marks(example)[2]


@pytest.mark.parametrize(("rule_id", "example"), CASES,
                         ids=[f"{r}:{Path(e).name}" for r, e in CASES])
def test_example(rule_id: str, example: str) -> None:
    path = Path(example)
    rule = BY_ID[rule_id]
    marks = _marks(path)
    assert marks, f"{path}: no ruleid:/ok: marks"
    findings = _run(path, marks, rule)
    problems: list[str] = []
    for mark in marks:
        found = hits(mark, findings)
        where = f"{path.name}:{mark.example_line}"
        if mark.kind == "ruleid" and not found:
            problems.append(f"{where}: {mark.rule} should fire at {mark.place} but did not")
        if mark.kind == "ok" and found:
            problems.append(f"{where}: {mark.rule} should not fire at {mark.place}: "
                            f"{found[0].message}")
    marked = [m for m in marks if m.kind == "ruleid" and m.rule == rule_id]
    for f in findings:
        if f.rule != rule_id or f.rule == "could-not-analyse":
            continue
        if not any(f in hits(m, [f]) for m in marked):
            problems.append(f"{path.name}: {rule_id} fired at an unmarked place "
                            f"{f.path}:{f.line}: {f.message}")
    crashes = [f.message for f in findings if f.rule == "could-not-analyse"]
    assert not crashes, crashes
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_has_positive_and_negative_examples(rule: Rule) -> None:
    assert rule.examples, f"{rule.id} has no examples"
    kinds = {m.kind for ex in rule.examples for m in _marks(Path(ex)) if m.rule == rule.id}
    if rule.check not in POSITIVE_ONLY_CHECKS:
        assert "ok" in kinds, f"{rule.id}: no ok: example"
    if rule.check not in TREE_ONLY_CHECKS:
        assert "ruleid" in kinds, f"{rule.id}: no ruleid: example"
