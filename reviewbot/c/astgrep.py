"""ast-grep over QEMU C: the structural matcher of language rules (docs/writing-rules.md).

``ast_grep_py`` is imported here only, and only when a language rule has a C file to look at
(tests/test_startup.py keeps a plain patch check from paying for it). Files are parsed after
the macro blanking of ``reviewbot.c.facts.blank_macros`` — the same text the fact extractor
parses, of the same length — so lines are the file's lines and metavariables can be read back
from the original text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from functools import cache
from typing import TYPE_CHECKING, Any

from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from ast_grep_py import SgNode, SgRoot

# The rule object keys of ast-grep (https://ast-grep.github.io/reference/rule.html).
ATOMIC_KEYS = frozenset({"pattern", "kind", "regex", "nthChild", "range"})
RELATIONAL_KEYS = frozenset({"inside", "has", "follows", "precedes"})
COMPOSITE_KEYS = frozenset({"all", "any", "not", "matches"})
RELATION_ONLY_KEYS = frozenset({"stopBy", "field"})
RULE_KEYS = ATOMIC_KEYS | RELATIONAL_KEYS | COMPOSITE_KEYS | RELATION_ONLY_KEYS

_SIGNATURE_KINDS = frozenset({"identifier", "primitive_type", "function_declarator",
                              "parameter_list", "parameter_declaration"})
_META = re.compile(r"\$\$\$([A-Z_][A-Z0-9_]*)?|\$([A-Z_][A-Z0-9_]*)")
_BACKTRACE = "Stack backtrace:"


class PatternError(ValueError):
    """A rule object ast-grep cannot use; the message is one line."""


@frozen
class Match:
    line: int  # 1-based, first line of the matched node
    end_line: int
    text: str  # the matched text as written (macros not blanked)
    captures: Mapping[str, str]  # metavariable name -> text ($$$NAME: the nodes' text joined)
    capture_lines: Mapping[str, int]  # metavariable name -> 1-based line of its first node
    capture_functions: Mapping[str, str]  # metavariable name -> the function it is in
    function: str | None  # name of the enclosing function definition


def metavariables(text: str) -> list[tuple[str, bool]]:
    """(name, multi) of each metavariable written in ``text``."""
    out: list[tuple[str, bool]] = []
    for m in _META.finditer(text):
        if m.group(1):
            out.append((m.group(1), True))
        elif m.group(2):
            out.append((m.group(2), False))
    return out


@cache
def _sg() -> Any:
    import ast_grep_py

    return ast_grep_py


def parse(text: str) -> SgRoot:
    """An ast-grep tree of C ``text`` (already blanked)."""
    root: SgRoot = _sg().SgRoot(text, "c")
    return root


@cache
def _ts_parser() -> Any:
    from tree_sitter import Parser

    from reviewbot.c.facts import c_language

    return Parser(c_language())


def _has_error(text: str) -> bool:
    """Does C ``text`` parse with errors or missing tokens (tree-sitter's own verdict)?"""
    return bool(_ts_parser().parse(text.encode()).root_node.has_error)


def _probe(pattern: str, multi: str | None = None) -> str:
    """``pattern`` with each metavariable made an identifier (``$$$X``: ``multi`` when
    given), for tree-sitter to judge."""
    def one(m: re.Match[str]) -> str:
        if m.group(0).startswith("$$$") and multi is not None:
            return multi
        return "x" + (m.group(1) or m.group(2) or "").lower() + "_"

    return _META.sub(one, pattern)


@cache
def _expression_pattern(pattern: str) -> tuple[str, str] | None:
    """(context, selector) that reads ``pattern`` as a C expression, when ast-grep alone
    would read it as something else (``foo($X)`` parses as a declaration of ``foo``)."""
    alone = parse(pattern).root()
    children = alone.children()
    if len(children) == 1 and children[0].kind() == "expression_statement" \
            and not _has_error(_probe(pattern)):
        return None
    if pattern.rstrip().endswith((";", "}")):
        return None
    context = f"void __reviewbot_pattern(void)\n{{\n{pattern};\n}}\n"
    if _has_error(_probe(context)):
        return None
    wrapped = parse(context).root()
    body = wrapped.find(kind="compound_statement")
    statements = body.children() if body is not None else []
    statements = [s for s in statements if s.kind() not in ("{", "}")]
    if len(statements) != 1 or statements[0].kind() != "expression_statement":
        return None
    inner = [c for c in statements[0].children() if c.kind() != ";"]
    # A selector names a node kind and ast-grep takes its first node in the context: kinds
    # that the wrapping function's own signature has first are left to ast-grep (a lone
    # metavariable, an identifier).
    if len(inner) != 1 or inner[0].kind() in _SIGNATURE_KINDS:
        return None
    return context, inner[0].kind()


def _parameter_pattern(pattern: str) -> tuple[str, str] | None:
    """(context, selector) reading ``pattern`` as a parameter (``Error **$ERRP``) when it is
    not C on its own but is a parameter declaration."""
    if not _has_error(_probe(pattern)) or re.fullmatch(r"\s*\$*[A-Za-z_]\w*\s*", pattern):
        return None  # C already, or one word (a metavariable, a name): not a parameter
    context = f"void __reviewbot_pattern({pattern});\n"
    if _has_error(_probe(context)) or "," in pattern:
        return None
    return context, "parameter_declaration"


def _pattern_problem(pattern: str) -> str | None:
    if "$" in _probe(pattern):
        return f"pattern {pattern!r}: a metavariable is $ and upper-case letters ($NAME)"
    for probe in (_probe(pattern), _probe(pattern, "")):
        for text in (probe, f"void f(void)\n{{\n{probe};\n}}\n",
                     f"void f(void)\n{{\n{probe}\n}}\n", f"void f({probe});\n"):
            if not _has_error(text):
                return None
    return f"pattern {pattern!r} does not parse as C"


def prepare(rule: Any, where: str = "match") -> Any:
    """The rule object with expression patterns made explicit; PatternError when a pattern
    does not parse. Checks the keys this module knows; ast-grep checks the rest."""
    if isinstance(rule, list):
        return [prepare(r, where) for r in rule]
    if not isinstance(rule, dict):
        return rule
    out: dict[str, Any] = {}
    for key, value in rule.items():
        if key not in RULE_KEYS:
            known = ", ".join(sorted(RULE_KEYS))
            raise PatternError(f"{where}: unknown key {key!r} (ast-grep rule keys: {known})")
        if key == "pattern" and isinstance(value, str):
            problem = _pattern_problem(value)
            if problem:
                raise PatternError(f"{where}: {problem}")
            explicit = _expression_pattern(value) or _parameter_pattern(value)
            out[key] = ({"context": explicit[0], "selector": explicit[1]}
                        if explicit is not None else value)
        elif key in RELATIONAL_KEYS or key in ("not", "matches"):
            out[key] = prepare(value, f"{where}.{key}")
        elif key in ("all", "any"):
            if not isinstance(value, list):
                raise PatternError(f"{where}.{key}: a list of rule objects")
            out[key] = [prepare(v, f"{where}.{key}") for v in value]
        else:
            out[key] = value
    return out


def _problem_text(exc: Exception) -> str:
    """ast-grep's error chain (``cannot get matcher / Caused by: 0: ... 3: Kind `x` is
    invalid.`` and a Rust backtrace) as its last cause, on one line."""
    text = str(exc).split(_BACKTRACE, 1)[0]
    causes = [re.sub(r"^\s*\d+:\s*", "", ln).strip() for ln in text.splitlines()
              if re.match(r"^\s*\d+:", ln)]
    last = causes[-1] if causes else " ".join(text.split())
    return last.replace("`", "'")


def config(rule: Any, constraints: Mapping[str, Any] | None) -> dict[str, Any]:
    cfg: dict[str, Any] = {"rule": rule}
    if constraints:
        cfg["constraints"] = dict(constraints)
    return cfg


def validate(rule: Any, constraints: Mapping[str, Any] | None, where: str = "match") -> None:
    """PatternError naming the problem when ast-grep cannot build a matcher from the rule."""
    try:
        parse("int x;\n").root().find(config(rule, constraints))  # type: ignore[call-overload]
    except PatternError:
        raise
    except Exception as exc:
        raise PatternError(f"{where}: {_problem_text(exc)}") from None


def _enclosing_function(node: SgNode) -> str | None:
    """The name of the function definition ``node`` is in; a definition is its own."""
    for anc in (node, *node.ancestors()):
        if anc.kind() == "function_definition":
            decl = anc.field("declarator")
            while decl is not None and decl.kind() != "function_declarator":
                decl = decl.field("declarator")
            name = decl.field("declarator") if decl is not None else None
            return name.text() if name is not None else None
    return None


def regions(root: SgRoot, lines: AbstractSet[int]) -> list[SgNode]:
    """The nodes to search for matches that start on one of ``lines`` (1-based): the whole
    tree when its root starts on one of them, else the top-level nodes that span one (a node
    starting on a line lies within the top-level node that spans it)."""
    top = root.root()
    r = top.range()
    if r.start.line + 1 in lines:
        return [top]
    wanted = sorted(lines)
    out = []
    for child in top.children():
        cr = child.range()
        i = bisect_left(wanted, cr.start.line + 1)
        if i < len(wanted) and wanted[i] <= cr.end.line + 1:
            out.append(child)
    return out


# Nodes that hold top-level code: the file and the preprocessor conditionals.
CONTAINERS = frozenset({"translation_unit", "preproc_if", "preproc_ifdef", "preproc_else",
                        "preproc_elif", "preproc_elifdef"})


def units(root: SgRoot) -> list[tuple[int, int, int, int, SgNode]]:
    """(start index, end index, first line, last line, node) of each unit of the file, in
    order; lines 1-based. The units are the top-level nodes, except that a preprocessor
    conditional at top level gives its children instead (recursively): every node but the
    file and those conditionals lies within exactly one unit."""
    out: list[tuple[int, int, int, int, SgNode]] = []

    def walk(node: SgNode) -> None:
        for child in node.children():
            if child.kind() in CONTAINERS:
                walk(child)
                continue
            r = child.range()
            out.append((r.start.index, r.end.index, r.start.line + 1, r.end.line + 1, child))

    walk(root.root())
    return out


def matches(root: SgRoot, original: str, blanked: str, cfg: Mapping[str, Any], *,
            names: list[tuple[str, bool]], within: SgNode | None = None,
            among: list[SgNode] | None = None) -> Iterator[Match]:
    """Every match of ``cfg``, with the metavariables in ``names`` read from ``original``:
    in the whole tree, in ``within``, or in each of the nodes ``among`` (in their order;
    see ``regions``). Relations (``inside``, ``follows``, ...) always see the whole tree."""
    same = len(original) == len(blanked)

    def text_of(n: SgNode) -> str:
        r = n.range()
        return original[r.start.index:r.end.index] if same else n.text()

    bases = among if among is not None else [within if within is not None else root.root()]
    found = (node for base in bases
             for node in base.find_all(dict(cfg)))  # type: ignore[call-overload]
    for node in found:
        caps: dict[str, str] = {}
        lines: dict[str, int] = {}
        functions: dict[str, str] = {}
        for name, multi in names:
            if name in caps or name == "_":
                continue
            if multi:
                nodes = [n for n in node.get_multiple_matches(name) if n.kind() != ","]
                if nodes:
                    first, last = nodes[0].range(), nodes[-1].range()
                    lines[name] = first.start.line + 1
                    caps[name] = (original[first.start.index:last.end.index] if same
                                  else ", ".join(n.text() for n in nodes))
                else:
                    caps[name] = ""
            else:
                got = node.get_match(name)
                if got is not None:
                    caps[name] = text_of(got)
                    lines[name] = got.range().start.line + 1
                    owner = _enclosing_function(got)
                    if owner is not None:
                        functions[name] = owner
        r = node.range()
        yield Match(line=r.start.line + 1, end_line=r.end.line + 1, text=text_of(node),
                    captures=caps, capture_lines=lines, capture_functions=functions,
                    function=_enclosing_function(node))


def function_nodes(root: SgRoot) -> dict[str, SgNode]:
    """The function definitions of the file by name (the first one of a name)."""
    out: dict[str, SgNode] = {}
    for fn in root.root().find_all(kind="function_definition"):
        decl = fn.field("declarator")
        while decl is not None and decl.kind() != "function_declarator":
            decl = decl.field("declarator")
        ident = decl.field("declarator") if decl is not None else None
        if ident is not None:
            out.setdefault(ident.text(), fn)
    return out


def function_node(root: SgRoot, name: str) -> SgNode | None:
    """The definition of function ``name`` in the file."""
    return function_nodes(root).get(name)
