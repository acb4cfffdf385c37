"""Every rule's annotated examples, from every pack: ``ruleid:`` fires on the next line,
``ok:`` does not, and the rule fires nowhere else in its examples. Then the runner itself:
a misplaced mark must make an example fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.review.examples import check_example, marks_of
from reviewbot.rules.loader import load_rules
from reviewbot.rules.model import Rule

RULES = load_rules()
BY_ID = {r.id: r for r in RULES}
# Rules whose positive case needs a QEMU tree; their firing is tested with a tree elsewhere
# (tests/checks/test_qom.py), their examples show where they stay quiet.
TREE_ONLY_CHECKS = {"interface-without-handler", "tree-mismatch"}
# Input problems are not tied to one mail's Message-Id, so a mail-level ok: mark cannot be
# told apart from the broken mail: their examples only show where they fire.
POSITIVE_ONLY_CHECKS = {"input-problem"}

CASES = [(r.id, ex) for r in RULES for ex in r.examples]
EXAMPLES = Path(__file__).resolve().parents[2] / "rules"


@pytest.mark.parametrize(("rule_id", "example"), CASES,
                         ids=[f"{r}:{Path(e).name}" for r, e in CASES])
def test_example(rule_id: str, example: str) -> None:
    problems = check_example(BY_ID[rule_id], Path(example), BY_ID)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_has_positive_and_negative_examples(rule: Rule) -> None:
    assert rule.examples, f"{rule.id} has no examples"
    kinds = {m.kind for ex in rule.examples for m in marks_of(Path(ex)) if m.rule == rule.id}
    if rule.check not in POSITIVE_ONLY_CHECKS:
        assert "ok" in kinds, f"{rule.id}: no ok: example"
    if rule.check not in TREE_ONLY_CHECKS:
        assert "ruleid" in kinds, f"{rule.id}: no ruleid: example"


LOG_RULES = sorted(r.id for r in RULES if r.check == "boot-log")


@pytest.mark.parametrize("rule_id", LOG_RULES)
def test_each_log_rule_has_log_examples_both_ways(rule_id: str) -> None:
    logs = [Path(ex) for ex in BY_ID[rule_id].examples if ex.endswith(".log")]
    kinds = {m.kind for ex in logs for m in marks_of(ex) if m.rule == rule_id}
    assert kinds == {"ruleid", "ok"}, f"{rule_id}: .log examples with marks {kinds}"


# --- the runner on examples with deliberate mistakes -----------------------------------------

def _copy(src: Path, dst: Path, edit: tuple[str, str] | None = None) -> Path:
    text = src.read_text(encoding="utf-8")
    if edit is not None:
        assert edit[0] in text, f"{src}: {edit[0]!r} not found"
        text = text.replace(edit[0], edit[1], 1)
    dst.write_text(text, encoding="utf-8")
    return dst


def test_log_mark_must_be_on_the_reported_line(tmp_path: Path) -> None:
    # overlap.log reports the overlap on line 10; moved one line down, the mark misses it
    # and the finding on line 10 is unmarked.
    src = EXAMPLES / "spec-acpi" / "examples" / "overlap.log"
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[8] == "# ruleid: spec-e820-overlap\n"
    lines[8], lines[9] = lines[9], lines[8]
    bad = tmp_path / "overlap.log"
    bad.write_text("".join(lines), encoding="utf-8")
    problems = check_example(BY_ID["spec-e820-overlap"], bad, BY_ID)
    assert problems == [
        "overlap.log:10: spec-e820-overlap should fire at "
        f"{bad}:11 but did not",
        "overlap.log: spec-e820-overlap fired at an unmarked place "
        f"{bad}:9: the pasted E820 map has overlapping ranges "
        "(0x7ff00000-0x7ffdffff is described twice)",
    ]


def test_log_ok_mark_on_a_reported_line_fails(tmp_path: Path) -> None:
    mark = "# ruleid: spec-soft-reserved-without-srat"
    bad = _copy(EXAMPLES / "spec-acpi" / "examples" / "overlap.log", tmp_path / "o.log",
                (mark, mark.replace("ruleid:", "ok:")))
    problems = check_example(BY_ID["spec-soft-reserved-without-srat"], bad, BY_ID)
    assert problems == [
        f"o.log:13: spec-soft-reserved-without-srat should not fire at {bad}:14: "
        "soft-reserved range 0x140000000-0x17fffffff has no SRAT memory-affinity entry",
        f"o.log: spec-soft-reserved-without-srat fired at an unmarked place {bad}:14: "
        "soft-reserved range 0x140000000-0x17fffffff has no SRAT memory-affinity entry",
    ]


def test_log_without_boot_lines_is_reported_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "empty.log"
    bad.write_text("# ok: spec-e820-overlap\nnothing here\n", encoding="utf-8")
    problems = check_example(BY_ID["spec-e820-overlap"], bad, BY_ID)
    assert problems == [f"empty.log: {bad}: no 'BIOS-e820:' or 'ACPI: SRAT:' lines found"]


def test_mail_mark_meets_an_anchored_finding_only_on_its_line(tmp_path: Path) -> None:
    # In the cover letter of e820-log.mbox the overlap is anchored to the 0x7ff00000 line;
    # a ruleid: one line higher (on the 0x100000 line) misses it.
    line = "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007ffdffff] usable\n"
    mark = "# ruleid: spec-e820-overlap\n"
    bad = _copy(EXAMPLES / "spec-acpi" / "examples" / "e820-log.mbox", tmp_path / "log.mbox",
                (line + mark, mark + line))
    problems = check_example(BY_ID["spec-e820-overlap"], bad, BY_ID)
    assert len(problems) == 2, problems
    assert problems[0].startswith("log.mbox:19: spec-e820-overlap should fire at mail "
                                  "<log-0@example.org> line '[ 0.000000] BIOS-e820: "
                                  "[mem 0x0000000000100000-0x000000007ffdffff] usable'")
    assert problems[1].startswith("log.mbox: spec-e820-overlap fired at an unmarked place "
                                  "mail anchor '[    0.000000] BIOS-e820: "
                                  "[mem 0x000000007ff00000-0x000000007fffffff] reserved'")


def test_mail_ok_mark_beside_a_ruleid_of_the_same_rule() -> None:
    # The cover letter of e820-log.mbox holds both an ok: and a ruleid: for the overlap rule;
    # the finding meets the ruleid: only.
    ex = EXAMPLES / "spec-acpi" / "examples" / "e820-log.mbox"
    cover = [m for m in marks_of(ex) if m.rule == "spec-e820-overlap"
             and m.place.message_id == "log-0@example.org"]
    assert sorted(m.kind for m in cover) == ["ok", "ruleid"]
    assert check_example(BY_ID["spec-e820-overlap"], ex, BY_ID) == []


def test_mail_finding_anchored_outside_the_body_meets_any_mark_of_its_mail(
        tmp_path: Path) -> None:
    # series-cover-letter-missing is anchored to the subject, a header: any mark in the
    # mail's body meets it, so an ok: there fails.
    src = EXAMPLES / "series" / "examples" / "no-cover-letter.mbox"
    bad = _copy(src, tmp_path / "nc.mbox",
                ("# ruleid: series-cover-letter-missing", "# ok: series-cover-letter-missing"))
    problems = check_example(BY_ID["series-cover-letter-missing"], bad, BY_ID)
    assert problems and problems[0].startswith(
        "nc.mbox:13: series-cover-letter-missing should not fire at mail "
        "<nocover-1@example.org>")
