"""How reviewbot.c.astgrep reads patterns: expressions as expressions, a parameter as a
parameter, one word left to ast-grep, and what does not parse refused."""

from __future__ import annotations

import pytest

from reviewbot.c import astgrep
from reviewbot.c.facts import blank_macros


@pytest.mark.parametrize(("pattern", "selector"), [
    ("foo($X)", "call_expression"),  # ast-grep alone reads this as a declaration of foo
    ("error_report($$$ARGS)", "call_expression"),
    ("$S->field = $V", "assignment_expression"),
    ("Error **$ERRP", "parameter_declaration"),
    ("$FN", None),  # a lone metavariable: ast-grep's own "any node"
    ("foo", None),
    ("static GSList *$N;", None),  # C already
    ("if ($C) { $$$BODY }", None),
])
def test_patterns_are_read_as_the_c_they_are(pattern: str, selector: str | None) -> None:
    got = astgrep.prepare({"pattern": pattern})["pattern"]
    if selector is None:
        assert got == pattern
    else:
        assert got["selector"] == selector and pattern in got["context"]


@pytest.mark.parametrize(("rule", "problem"), [
    ({"pattern": "f($X"}, "pattern 'f($X' does not parse as C"),
    ({"patern": "f($X)"}, "unknown key 'patern'"),
    ({"any": {"pattern": "f()"}}, "match.any: a list of rule objects"),
])
def test_bad_rules(rule: dict[str, object], problem: str) -> None:
    with pytest.raises(astgrep.PatternError, match=problem.replace("(", r"\(").replace(
            ")", r"\)").replace("$", r"\$")):
        astgrep.prepare(rule)


def test_metavariables_come_back_as_written_not_blanked() -> None:
    text = ("static QLIST_HEAD(, Foo) foos = QLIST_HEAD_INITIALIZER(foos);\n"
            "void f(void)\n{\n    poke(&foos, 1);\n}\n")
    blanked = blank_macros(text.encode())[0].decode()
    assert "QLIST_HEAD(" not in blanked.splitlines()[0]
    root = astgrep.parse(blanked)
    cfg = astgrep.config(astgrep.prepare({"pattern": "static $T $N = $I;"}), None)
    [m] = astgrep.matches(root, text, blanked, cfg, names=[("T", False), ("N", False)])
    assert (m.line, m.captures["T"], m.captures["N"], m.function) == (
        1, "QLIST_HEAD(, Foo)", "foos", None)
    call = astgrep.config(astgrep.prepare({"pattern": "poke($$$A)"}), None)
    [c] = astgrep.matches(root, text, blanked, call, names=[("A", True)])
    assert (c.line, c.captures["A"], c.capture_lines["A"], c.function) == (4, "&foos, 1", 4, "f")


def test_regions_are_the_top_level_nodes_spanning_the_lines() -> None:
    text = "int a;\n\nvoid f(void)\n{\n    g();\n}\n\nint b;\n"
    root = astgrep.parse(text)
    assert [n.kind() for n in astgrep.regions(root, {5})] == ["function_definition"]
    assert [n.text() for n in astgrep.regions(root, {2, 8})] == ["int b;"]
    assert astgrep.regions(root, {7}) == []
    assert [n.kind() for n in astgrep.regions(root, {1})] == ["translation_unit"]
    cfg = astgrep.config(astgrep.prepare({"pattern": "g()"}), None)
    found = astgrep.matches(root, text, text, cfg, names=[],
                            among=astgrep.regions(root, {4}))
    assert [(m.line, m.function) for m in found] == [(5, "f")]
    whole = astgrep.config(astgrep.prepare({"kind": "function_definition"}), None)
    assert [m.function for m in astgrep.matches(root, text, text, whole, names=[])] == ["f"]
