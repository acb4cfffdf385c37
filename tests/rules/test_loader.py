"""Rule files: the built-in packs load, and every schema mistake names the file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.finding import Severity
from reviewbot.rules import registry
from reviewbot.rules.loader import builtin_rules_dir, load_rule_file, load_rules

GOOD = """\
id: my-rule
severity: warning
check: qapi-option-member-doc
params:
  structs: {NumaNodeOptions: "-numa node"}
  hx: qemu-options.hx
message: "{member} of {struct} is not documented"
rationale: because
fix: do it in the machine
origin: "review feedback; qemu-devel"
examples:
  - examples/my-rule.c
"""


def _pack(tmp_path: Path, text: str, name: str = "my-rule") -> Path:
    pack = tmp_path / "mypack"
    (pack / "examples").mkdir(parents=True, exist_ok=True)
    (pack / "examples" / "my-rule.c").write_text("/* ok: my-rule */\nint x;\n")
    rule = pack / f"{name}.yaml"
    rule.write_text(text)
    return rule


def test_builtin_dir_is_the_repository_rules() -> None:
    assert builtin_rules_dir() == Path(__file__).resolve().parents[2] / "rules"


def test_builtin_packs_load_with_unique_ids() -> None:
    rules = load_rules()
    ids = [r.id for r in rules]
    assert len(ids) == len(set(ids))
    by_id = {r.id: r for r in rules}
    rule = by_id["qom-realize-reaches-machine"]
    assert rule.pack == "qemu-qom"
    assert rule.severity == Severity.WARNING
    assert rule.check == "language"  # a rule written in the rule language
    assert list(rule.params["where"]["reachable-from"]["roles"]) == ["realize", "unrealize"]
    assert rule.path.endswith("rules/qemu-qom/qom-realize-reaches-machine.yaml")
    assert all(Path(e).is_file() for e in rule.examples)
    assert by_id["comments-deleted-comment"].pack == "comments"
    assert by_id["input-problem"].pack == "core"
    # rules/data holds tables for primitives, not rules
    assert not any(r.pack == "data" for r in rules)


def test_good_rule_file(tmp_path: Path) -> None:
    rule = load_rule_file(_pack(tmp_path, GOOD), "mypack")
    assert rule.id == "my-rule"
    assert rule.title == "{member} of {struct} is not documented"
    assert rule.line == 1
    assert rule.examples == (str((tmp_path / "mypack/examples/my-rule.c").resolve()),)


def test_extra_pack_directory_is_loaded(tmp_path: Path) -> None:
    _pack(tmp_path, GOOD)
    rules = load_rules([str(tmp_path / "mypack")])
    assert "my-rule" in {r.id for r in rules}
    rules = load_rules([str(tmp_path)])  # a directory of packs works too
    assert {r.pack for r in rules if r.id == "my-rule"} == {"mypack"}


@pytest.mark.parametrize(("edit", "line", "problem"), [
    (lambda t: t.replace("severity: warning", "severity: fatal"), 2, "unknown severity 'fatal'"),
    (lambda t: t.replace("id: my-rule", "id: other-rule"), 1, "differs from the file name"),
    (lambda t: t.replace("id: my-rule", "id: My_Rule"), 1, "kebab-case"),
    (lambda t: t.replace("check: qapi-option-member-doc", "check: no-such-check"), 3,
     "unknown check primitive 'no-such-check'"),
    (lambda t: t.replace("  hx:", "  colour: red\n  hx:"), 4,
     "does not accept param(s) colour"),
    (lambda t: t.replace("  structs: {NumaNodeOptions: \"-numa node\"}\n", ""), 4,
     "needs param(s) structs"),
    (lambda t: t.replace("fix: do it in the machine\n", ""), 1, "missing required key(s): fix"),
    (lambda t: t + "colour: red\n", 13, "unknown key 'colour'"),
    (lambda t: t.replace("examples/my-rule.c", "examples/absent.c"), 12,
     "example file 'examples/absent.c' not found"),
    (lambda t: t.replace("rationale: because", "rationale: ''"), 8, "rationale must be non-empty"),
    # the parser notices the unclosed list where the next key starts
    (lambda t: t.replace("origin:", "origin: [\n"), 12, "invalid YAML"),
    (lambda t: t + "id: again\n", 13, "key 'id' given twice"),
])
def test_schema_errors_name_file_and_line(tmp_path: Path, edit: Callable[[str], str],
                                          line: int, problem: str) -> None:
    path = _pack(tmp_path, edit(GOOD))
    with pytest.raises(InputError) as err:
        load_rule_file(path, "mypack")
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert problem in message
    assert "\n" not in message


def test_not_a_mapping(tmp_path: Path) -> None:
    path = _pack(tmp_path, "- just\n- a list\n")
    with pytest.raises(InputError, match=r"my-rule.yaml:1: a rule file is a mapping"):
        load_rule_file(path, "mypack")


def test_duplicate_id_across_packs(tmp_path: Path) -> None:
    _pack(tmp_path, GOOD)
    other = tmp_path / "otherpack"
    (other / "examples").mkdir(parents=True)
    (other / "examples" / "my-rule.c").write_text("int x;\n")
    (other / "my-rule.yaml").write_text(GOOD)
    with pytest.raises(InputError, match="rule id 'my-rule' already defined in"):
        load_rules([str(tmp_path)])


def test_missing_rules_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="rules directory not found"):
        load_rules([str(tmp_path / "nope")])


def test_registry_knows_the_primitives_the_packs_use() -> None:
    prims = registry.all_primitives()
    for name in ("misplaced-sign-off", "copied-statements", "deleted-comment", "language"):
        assert name in prims, name
        assert prims[name].scope == "patch"
        assert prims[name].doc
    assert prims["qapi-option-member-doc"].required == frozenset({"structs"})
    assert "hx" in prims["qapi-option-member-doc"].params
    for rule in load_rules():
        prim = registry.get(rule.check)
        assert prim is not None, rule.check
        assert set(rule.params) <= prim.params
