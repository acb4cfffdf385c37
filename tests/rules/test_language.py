"""The rule language as a rule author meets it: the loader's one-line errors, a pattern that
ast-grep rejects, `reviewbot rules new` and `rules show`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.errors import InputError
from reviewbot.review.examples import check_example
from reviewbot.rules.loader import load_rules

ROOT = Path(__file__).resolve().parents[2]
MBOX = ROOT / "corpus" / "memdev" / "v1.mbox"

BASE = """id: {id}
severity: warning
message: "no $X here"
rationale: house rule
fix: do not
origin: local
examples: [examples/{id}.c]
"""


def _pack(tmp_path: Path, rule_id: str, body: str, example: str = "int x;\n") -> Path:
    pack = tmp_path / "local"
    (pack / "examples").mkdir(parents=True, exist_ok=True)
    (pack / "examples" / f"{rule_id}.c").write_text(example, encoding="utf-8")
    (pack / f"{rule_id}.yaml").write_text(BASE.format(id=rule_id) + body, encoding="utf-8")
    return pack


@pytest.mark.parametrize(("body", "line", "problem"), [
    ("match: {pattern: 'f($X)'}\nlines: {regex: x}\n", 8, "match: or lines:, not both"),
    ("match: {pattern: 'f($X)'}\ncheck: file-global-state\n", 9, "check: (a Python primitive)"),
    ("match: {pattern: 'f($X)'}\nwhere: {colour: red}\n", 9, "unknown key 'colour'"),
    ("match: {pattern: 'f($X)'}\nwhere: {code: board}\n", 9, "'board' is not one of device"),
    ("match: {pattern: 'f($X)'}\nwhere: {change: edited}\n", 9, "where.change must be one of"),
    ("match: {pattern: 'f($X)'}\nwhere: {reachable-from: {depth: 2}}\n", 9, "needs roles"),
    ("match: {pattern: 'f($Y)'}\n", 3, "message names $X, which the match does not bind"),
    ("lines: {regex: '(x'}\n", 8, "bad regular expression"),
    ("match: {pattern: 'f($X, $OFF)'}\nconstraints: {OFF: {regex: x}}\n", 9,
     "False is not a metavariable name (YAML reads ON/OFF"),
    ("lines: {regex: '(?P<X>x)', in: body}\n", 8, "lines.in must be one of"),
    ("match: {pattern: 'f($X)'}\nseries: {unless-changed: {regex: '['}}\n", 9,
     "bad regular expression"),
    ("match: {pattern: 'f($X)'}\nwhere: {function-has: {function: $Z, match: {kind: x}}}\n", 9,
     "$Z is not a metavariable of the match"),
])
def test_a_bad_language_rule_is_one_line_naming_file_line_and_rule(
        tmp_path: Path, body: str, line: int, problem: str) -> None:
    pack = _pack(tmp_path, "local-rule", body)
    with pytest.raises(InputError) as exc:
        load_rules([str(pack)])
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(f"{pack / 'local-rule.yaml'}:{line}: rule local-rule: "), message
    assert problem in message


@pytest.mark.parametrize(("match", "problem"), [
    ("{pattern: 'f($X'}", "pattern 'f($X' does not parse as C"),
    ("{kind: call_expresion, pattern: 'f($X)'}", "Kind 'call_expresion' is invalid"),
    ("{patern: 'f($X)'}", "unknown key 'patern'"),
])
def test_a_pattern_ast_grep_rejects_is_a_one_line_error_of_the_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], match: str, problem: str) -> None:
    pack = _pack(tmp_path, "local-rule", f"match: {match}\n")
    status = main(["check", str(MBOX), "--rules", str(pack), "--enable", "local-rule"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith(f"reviewbot: error: {pack / 'local-rule.yaml'}: rule local-rule: ")
    assert problem in err
    # `rules show` checks the pattern too, and so does a check of a patch without C: a rule
    # of one's own is checked when it is loaded
    assert main(["rules", "show", "local-rule", "--rules", str(pack)]) == 2
    assert problem in capsys.readouterr().err
    no_c = ROOT / "rules" / "qapi" / "examples" / "option-member.mbox"
    assert main(["check", str(no_c), "--rules", str(pack)]) == 2
    assert problem in capsys.readouterr().err


def test_every_builtin_language_rule_compiles() -> None:
    from reviewbot.checks.lang import compile_rule

    language = [r for r in load_rules() if r.check == "language"]
    assert len(language) >= 3
    for rule in language:
        if "match" in rule.params:
            compile_rule(rule)


def test_rules_new_scaffolds_a_rule_whose_examples_pass_and_never_overwrites(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules_dir = tmp_path / "rules"
    assert main(["rules", "new", "no-foo-calls", "--pack", "house",
                 "--dir", str(rules_dir)]) == 0
    written = capsys.readouterr().out.splitlines()
    assert written == [f"wrote {rules_dir}/house/no-foo-calls.yaml",
                       f"wrote {rules_dir}/house/examples/no-foo-calls.c",
                       f"wrote {rules_dir}/house/examples/no-foo-calls-ok.c"]
    rules = {r.id: r for r in load_rules([str(rules_dir)])}
    rule = rules["no-foo-calls"]
    assert rule.check == "language" and rule.pack == "house"
    for example in rule.examples:
        assert check_example(rule, Path(example), rules) == []
    # the scaffold is a real test: break its example and it fails
    fires = rules_dir / "house" / "examples" / "no-foo-calls.c"
    fires.write_text(fires.read_text().replace("replace_me_no_foo_calls(dev)", "other(dev)"))
    assert check_example(rule, fires, rules)
    # and it never overwrites
    assert main(["rules", "new", "no-foo-calls", "--pack", "house",
                 "--dir", str(rules_dir)]) == 2
    assert "no-foo-calls.yaml: already exists (not overwritten)" in capsys.readouterr().err
    assert main(["rules", "new", "Bad_Id", "--dir", str(rules_dir)]) == 2


def test_rules_show_prints_the_language_rule() -> None:
    done = subprocess.run([sys.executable, "-m", "reviewbot", "rules", "show",
                           "qom-walk-whole-tree"], capture_output=True, text=True, cwd=ROOT,
                          check=False)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "qom-walk-whole-tree (info, pack qemu-qom, rule language)" in out
    assert "  match:\n    pattern: object_child_foreach_recursive($ROOT, $CB, $$$REST)" in out
    assert "    function: $CB" in out
    assert "message:" not in out.split("Rule:")[1].split("Examples:")[0]


@pytest.mark.parametrize(("body", "line", "problem"), [
    ("lines: {regex: x, when: sometimes}\n", 8, "lines.when must be each or absent"),
    ("lines: {regex: x, in: [commit-message, added-lines]}\n", 8,
     "lists several sources only of"),
    ("lines: {regex: x, when: absent, in: added-lines}\n", 8, "when: absent reads"),
    ("lines: {regex: x, scope: series}\n", 8, "lines.scope is patch, or series with when: absent"),
    ("lines: {regex: x, in: subject, person: [author]}\n", 8, "go with in: trailers"),
    ("lines: {regex: x, in: trailers, person: [maintainer]}\n", 8, "'maintainer' is not one of"),
    ("lines: {regex: '(?P<N>x)', table: {data: spec, name: N, value: N}}\n", 8,
     "lines.table.data must be one of"),
    ("lines: {regex: '(?P<N>x)', table: {data: firmware-spec, name: N, value: V}}\n", 8,
     "lines.table.value must name a group"),
    ("lines: {regex: [x, '(y']}\n", 8, "bad regular expression"),
    ("match: {pattern: 'f($X)'}\nseries: {cover: maybe}\n", 9,
     "series.cover must be one of present, missing"),
    ("match: {pattern: 'f($X)'}\nseries: {version: 'about 2'}\n", 9,
     "series.version must be a number or a comparison"),
    ("match: {pattern: 'f($X)'}\nseries: {any: [{colour: red}]}\n", 9, "unknown key 'colour'"),
    ("match: {pattern: 'f($X)'}\nwhere: {reachable-from: {roles: [realize], hint: x}}\n", 9,
     "where.reachable-from.hint goes with report: root"),
    ("match: {pattern: 'f($X)'}\n"
     "where: {reachable-from: {roles: [realize], report: root, hint: x}}\n", 9,
     "where.reachable-from.hint must be one of"),
    ("match: {pattern: 'f($X)'}\nanchor: 'at $Y'\n", 9, "anchor names $Y"),
    ("match: {pattern: 'f($X)'}\nwhere: {qom-type: {type: $Y}}\n", 9,
     "where.qom-type.type must be a metavariable"),
    ("match: {pattern: 'f($X)'}\nwhere: {qom-type: {type: $X, machine-handler: all}}\n", 9,
     "machine-handler must be none or some"),
    ("match: {pattern: 'f($X)'}\nwhere: {qom-type: {type: $X, roles: [plug]}}\n", 9,
     "roles goes with machine-handler"),
])
def test_a_bad_use_of_the_mail_series_and_root_conditions_is_one_line(
        tmp_path: Path, body: str, line: int, problem: str) -> None:
    pack = _pack(tmp_path, "local-rule", body)
    with pytest.raises(InputError) as exc:
        load_rules([str(pack)])
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(f"{pack / 'local-rule.yaml'}:{line}: rule local-rule: "), message
    assert problem in message
