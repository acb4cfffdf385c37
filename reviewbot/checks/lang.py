"""The ``language`` primitive: runs the rules written as data (docs/writing-rules.md).

A language rule's params are what reviewbot/rules/language.py made of its ``match:`` /
``lines:``, ``where:``, ``series:``, ``fix:`` cases and ``evidence:``. C is matched with
ast-grep (reviewbot/c/astgrep.py, imported only when a C file is there to match); the
conditions reviewbot adds read the C facts and the call graph through ``ctx.facts`` and
``ctx.graph`` and the query functions of reviewbot/c/graph.py, never the graph's storage.
"""

from __future__ import annotations

import re
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any

from reviewbot.finding import Finding
from reviewbot.rules.registry import primitive
from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from reviewbot.c.astgrep import Match
    from reviewbot.c.digraph import DiGraph
    from reviewbot.c.facts import FileFacts
    from reviewbot.context import PatchContext
    from reviewbot.model import Patch, Person, Series, Trailer
    from reviewbot.patch.diff import FileDiff
    from reviewbot.patch.source import SourceFile
    from reviewbot.rules.model import Rule

C_SUFFIXES = (".c", ".h")
_META = re.compile(r"\$\$\$([A-Z_][A-Z0-9_]*)|\$([A-Z_][A-Z0-9_]*)(?:\.(line|function)\b)?")
_QAPI = ("qapi/*.json", "qapi/**/*.json", "qga/qapi-schema.json", "storage-daemon/qapi/*.json")
_OBJECT_MACROS = frozenset({"DEFINE_TYPES", "OBJECT_DEFINE_TYPE", "OBJECT_DEFINE_SIMPLE_TYPE",
                            "OBJECT_DEFINE_ABSTRACT_TYPE", "OBJECT_DEFINE_TYPE_WITH_INTERFACES",
                            "OBJECT_DEFINE_SIMPLE_TYPE_WITH_INTERFACES",
                            "OBJECT_DEFINE_TYPE_EXTENDED"})
_ACPI_BUILDERS = frozenset({"acpi_table_begin", "acpi_build_tables_init",
                            "build_append_int_noprefix"})
# Roles only board code gives (a device may register a machine-init-done notifier: that is
# what qom-device-machine-done-notifier reports, not what makes a file board code).
_MACHINE_ROLES = ("machine_pre_plug", "machine_plug", "machine_unplug_request",
                  "machine_unplug")


# --------------------------------------------------------------------------- paths


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """``**`` any number of directories, ``*`` within one, ``?`` one character."""
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:[^/]+/)*"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def path_matches(path: str, globs: Iterable[str]) -> bool:
    """Does ``path`` match the globs (``!glob`` excludes; only exclusions: all but those)?"""
    globs = list(globs)
    include = [g for g in globs if not g.startswith("!")]
    if include and not any(_glob(g).match(path) for g in include):
        return False
    return not any(_glob(g[1:]).match(path) for g in globs if g.startswith("!"))


# --------------------------------------------------------------------------- file kinds


def file_kinds(ctx: PatchContext, path: str, facts: FileFacts | None) -> set[str]:
    """Which of device / qom-object / machine / qapi the file is (docs/writing-rules.md);
    worked out once per patch and file, whichever rules ask."""
    known = _files(ctx).kinds
    key = (path, id(facts))
    if key not in known:
        known[key] = (facts, _file_kinds(ctx, path, facts))  # facts kept: the id stays theirs
    return set(known[key][1])


def _file_kinds(ctx: PatchContext, path: str, facts: FileFacts | None) -> frozenset[str]:
    """Which of device / qom-object / machine / qapi the file is (docs/writing-rules.md).

    Under hw/ the call graph settles QOM ancestry (a board whose machine type derives from
    another file's, a device three types below TYPE_DEVICE), as the QOM primitives always
    did there. Elsewhere the file's own facts decide: with a tree, the graph is the whole
    tree's index, and a patch to net/ or ui/ should not pay for indexing hw/."""
    kinds = {"any"}
    if any(_glob(p).match(path) for p in _QAPI):
        kinds.add("qapi")
    if facts is None:
        return frozenset(kinds)
    from reviewbot.checks.qom import DEVICE_ROLES, machine_file

    g = ctx.graph if path.startswith(("hw/", "include/hw/")) else None
    board = machine_file(facts, g)
    machine = board or path.endswith("acpi-build.c") or any(
        c.callee in _ACPI_BUILDERS for c in facts.calls)
    if not machine and g is not None:
        from reviewbot.c.graph import fn_id

        for fn in facts.functions:
            node = fn_id(path, fn.name)
            if node in g and set(g.nodes[node]["roles"]) & set(_MACHINE_ROLES):
                machine = True
                break
    if machine:
        kinds.add("machine")
    if board:
        kinds.add("machine-type")
    if not board and (any(a.field in DEVICE_ROLES and a.target for a in facts.assignments)
                      or _device_type(g, facts)):
        kinds.add("device")
    if facts.typeinfos or "device" in kinds or any(
            u.name in _OBJECT_MACROS for u in facts.macro_uses):
        kinds.add("qom-object")
    return frozenset(kinds)


def _device_type(g: DiGraph | None, facts: FileFacts) -> bool:
    from reviewbot.c.graph import type_ancestors

    return any("TYPE_DEVICE" in (ti.parent, *(type_ancestors(g, ti.name) if g else ()))
               for ti in facts.typeinfos)


def code_holds(wanted: Iterable[str], kinds: set[str]) -> bool:
    """One of the kinds ``wanted`` and none of the ``!kind`` ones."""
    wanted = list(wanted)
    plain = [k for k in wanted if not k.startswith("!")]
    if plain and not set(plain) & kinds:
        return False
    return not any(k[1:] in kinds for k in wanted if k.startswith("!"))


# --------------------------------------------------------------------------- the call graph


def reached_from(g: DiGraph, node: str, roles: set[str], depth: int, follow: str) -> Any:
    """A graph.Chain from a function with one of ``roles`` down to ``node`` (callers
    followed ``depth`` calls up, in the same file, directory or anywhere), or None."""
    from reviewbot.c.graph import CALL_KINDS, Chain

    if node not in g:
        return None
    base = str(g.nodes[node].get("path") or "")
    base_dir = base.rsplit("/", 1)[0] + "/"
    parent: dict[str, tuple[str, int] | None] = {node: None}
    queue = deque([(node, 0)])
    while queue:
        cur, d = queue.popleft()
        if roles & set(g.nodes[cur].get("roles", ())):
            nodes, lines = [cur], []
            step = parent[cur]
            while step is not None:
                nxt, line = step
                nodes.append(nxt)
                lines.append(line)
                step = parent[nxt]
            return Chain(tuple(nodes), tuple(lines))
        if d >= depth:
            continue
        for caller, _, e in sorted(g.in_edges(cur, data=True), key=lambda t: t[0]):
            kinds = {e.get("kind"), *e.get("kinds", ())}
            if caller in parent or not kinds & CALL_KINDS:
                continue
            data = g.nodes[caller]
            if data.get("kind") != "function" or not data.get("defined"):
                continue
            path = str(data.get("path") or "")
            if (follow == "file" and path != base) or (
                    follow == "dir" and not path.startswith(base_dir)):
                continue
            parent[caller] = (cur, int(e.get("line", 0)))
            queue.append((caller, d + 1))
    return None


# --------------------------------------------------------------------------- templates


def fill(template: str, captures: Mapping[str, str], builtins: Mapping[str, Any]) -> str:
    """``{name}`` from ``builtins``, then ``$NAME`` / ``$$$NAME`` from ``captures`` and
    ``$NAME.line`` from ``captures["NAME.line"]``."""
    from reviewbot.rules.model import _SafeDict

    text = template.format_map(_SafeDict(builtins))

    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if m.group(3):
            got = captures.get(f"{name}.{m.group(3)}")
            return got if got is not None else m.group(0)
        return captures.get(name, m.group(0))

    return _META.sub(one, text)


def implements(g: DiGraph, type_name: str, interface: str) -> bool:
    """Is QOM type ``type_name`` ``interface``, a subtype of it, or does it (or an ancestor)
    implement it, as far as the graph knows?"""
    from reviewbot.c.graph import type_ancestors, type_id

    for t in (type_name, *type_ancestors(g, type_name)):
        if t == interface:
            return True
        tid = type_id(t)
        if tid in g and any(e["kind"] == "interface" and g.nodes[v]["name"] == interface
                            for _, v, e in g.out_edges(tid, data=True)):
            return True
    return False


def _evidence(rule: Rule, captures: Mapping[str, str],
              builtins: Mapping[str, Any]) -> list[str]:
    """The rule's evidence lines, leaving out those naming a metavariable this match did not
    bind (a branch of ``any:`` that did not match)."""
    out: list[str] = []
    for template in rule.params.get("evidence", ()):
        if template.strip() == "{lines}":
            out.extend(builtins.get("lines", ()))
            continue
        names = [a or b for a, b, _ in _META.findall(template)]
        if all(n in captures for n in names):
            out.append(fill(template, captures, builtins))
    return out


def _fix(ctx: PatchContext, rule: Rule, captures: Mapping[str, str],
         builtins: Mapping[str, Any]) -> str:
    for case in rule.params.get("fix_cases", ()):
        if all(re.search(rx, captures.get(name, "")) for name, rx in case["when"].items()) \
                and all(implements(ctx.graph, captures.get(name, ""), iface)
                        for name, iface in case["implements"].items()):
            return fill(case["text"], captures, builtins)
    return fill(rule.fix, captures, builtins)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


# --------------------------------------------------------------------------- series


def _changed_text(fd: FileDiff) -> str:
    return "\n".join(ln.text for h in fd.hunks for ln in h.lines if ln.kind in "+-")


def _series_holds(ctx: PatchContext, spec: Mapping[str, Any]) -> bool:
    patches = [ctx.patch] if spec["scope"] == "patch" else list(ctx.series.patches)

    def changes(cond: Mapping[str, Any]) -> bool:
        rx = re.compile(cond["regex"]) if cond["regex"] else None
        for patch in patches:
            for fd in patch.files:
                if not path_matches(fd.path, cond["files"]):
                    continue
                if rx is None or rx.search(_changed_text(fd)):
                    return True
        return False

    if "changes" in spec and not changes(spec["changes"]):
        return False
    if "unless-changed" in spec and changes(spec["unless-changed"]):
        return False
    return _shape_holds(ctx, spec)


_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, "<": lambda a, b: a < b}


def series_total(series: Series) -> int:
    """The N of the subjects' n/N (the most common one), else the number of patches."""
    totals = [p.subject.total for p in series.patches if p.subject.total]
    if not totals:
        return len(series.patches)
    return max(sorted(set(totals)), key=totals.count)


def series_head(series: Series) -> Patch | None:
    """The series' first patch: the one numbered 1, or the only patch."""
    first = next((p for p in series.patches if p.subject.counter == 1), None)
    if first is None and len(series.patches) == 1:
        first = series.patches[0]
    return first


def from_git(series: Series) -> bool:
    return series.repo is not None or any(p.commit for p in series.patches)


def thread_whole(series: Series) -> bool:
    """The input holds the head of the thread: the first patch replies to no mail and no
    patch replies to a mail the input lacks (a cover letter we were not given)."""
    head = series_head(series)
    if head is None or head.mail.in_reply_to:
        return False
    known = {p.mail.message_id for p in series.patches}
    if series.cover is not None:
        known.add(series.cover.message_id)
    return not any(p.mail.in_reply_to and p.mail.in_reply_to not in known
                   for p in series.patches)


def _shape_holds(ctx: PatchContext, spec: Mapping[str, Any]) -> bool:
    """The series-shape conditions (docs/writing-rules.md, ``series:``)."""
    series = ctx.series
    if "cover" in spec and (series.cover is not None) != (spec["cover"] == "present"):
        return False
    if "source" in spec and from_git(series) != (spec["source"] == "git"):
        return False
    for key, value in (("patches", len(series.patches)), ("total", series_total(series)),
                       ("version", series.version)):
        if key in spec and not _OPS[spec[key][0]](value, spec[key][1]):
            return False
    if "thread" in spec and not thread_whole(series):
        return False
    if "at" in spec and ctx.patch is not series_head(series):
        return False
    return not ("any" in spec and not any(_shape_holds(ctx, case) for case in spec["any"]))


# --------------------------------------------------------------------------- the primitive


def _prepare_own(rule: Rule) -> None:
    """A rule loaded from ``--rules DIR``: its pattern checked as it is loaded."""
    if "match" in rule.params:
        compile_rule(rule)


@primitive("language", scope="patch",
           params=("match", "constraints", "lines", "where", "series", "fix_cases",
                   "evidence", "anchor"),
           prepare=_prepare_own)
def language(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """A rule written in the rule language (docs/writing-rules.md)."""
    params = rule.params
    if "series" in params and not _series_holds(ctx, params["series"]):
        return
    if "match" in params:
        yield from _match_c(ctx, rule)
    else:
        yield from _match_lines(ctx, rule)


_C_WORDS = frozenset({"if", "else", "for", "while", "do", "return", "static", "const", "void",
                      "int", "char", "bool", "unsigned", "struct", "sizeof", "switch", "case",
                      "break", "continue", "goto", "extern", "inline", "true", "false"})


def _words(pattern: str) -> set[str]:
    """Identifiers a pattern spells out (not its metavariables, strings or C keywords)."""
    bare = _META.sub(" ", pattern)
    bare = re.sub(r'"(?:\\.|[^"\\])*"', " ", bare)
    return {w for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", bare) if w not in _C_WORDS}


# Node kinds that cannot be without a word in the text.
_KIND_WORDS = {"preproc_function_def": "define", "preproc_def": "define"}


def _needed(obj: Any, *, unit: bool = False) -> list[frozenset[str]]:
    """Groups of words a text matching rule object ``obj`` has at least one word of each:
    from its patterns and kinds, those of its ``all`` and of its ``has`` / ``inside`` /
    ``follows`` / ``precedes`` (the related node is in the same file), and for ``any`` one
    group joining a group of each case. ``not``, ``regex`` and ``matches`` add none.

    With ``unit``, the words the *unit* holding a match has (``_PatchFiles.units``: a
    top-level declaration or definition): a sibling (``follows`` / ``precedes``) may be
    another unit, and an ancestor (``inside``) may be the file or a preprocessor
    conditional around the unit, unless its rule names a kind that cannot be either."""
    if not isinstance(obj, dict):
        return []
    groups: list[frozenset[str]] = []
    pattern = obj.get("pattern")
    if isinstance(pattern, str):
        groups.extend(frozenset({w}) for w in sorted(_words(pattern)))
    kind = obj.get("kind")
    if isinstance(kind, str) and kind in _KIND_WORDS:
        groups.append(frozenset({_KIND_WORDS[kind]}))
    regex = obj.get("regex")
    if isinstance(regex, str):
        found = regex_words(regex)
        if found:
            groups.append(found)
    for key in ("has", "inside") if unit else ("has", "inside", "follows", "precedes"):
        related = obj.get(key)
        if unit and key == "inside" and not _anchored_kind(related):
            continue
        groups.extend(_needed(related, unit=unit))
    if isinstance(obj.get("all"), list):
        for case in obj["all"]:
            groups.extend(_needed(case, unit=unit))
    if isinstance(obj.get("any"), list):
        cases = [_needed(case, unit=unit) for case in obj["any"]]
        if cases and all(cases):
            groups.append(frozenset().union(*(min(c, key=len) for c in cases)))
    return groups


def regex_words(regex: str) -> frozenset[str] | None:
    """Strings (3 characters or more, no white space) one of which is in every text
    ``regex`` finds; None when it cannot tell (case-insensitive, nothing required, a form it
    does not know). Read from the regex's own parse (the standard library's ``re`` parser):
    the longest literal run of a sequence, the runs of every branch of an alternation."""
    import importlib

    # the parser `re.compile` itself uses (not in the typeshed stubs: read through Any)
    _parser: Any = importlib.import_module("re._parser")
    try:
        parsed = _parser.parse(regex)
    except Exception:  # a regex ast-grep reads differently: no words
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    got = _required(list(parsed), _parser)
    if not got or any(len(w) < 3 for w in got):
        return None
    return frozenset(got)


def _required(items: list[tuple[Any, Any]], sre: Any) -> set[str] | None:
    best: set[str] | None = None
    run: list[str] = []

    def consider(found: set[str] | None) -> None:
        nonlocal best
        if found and (best is None or min(map(len, found)) > min(map(len, best))):
            best = found

    def flush() -> None:
        if run:
            consider({"".join(run)})
            run.clear()

    for op, av in items:
        if op is sre.LITERAL and not chr(av).isspace():
            run.append(chr(av))
            continue
        flush()
        if op is sre.SUBPATTERN and not av[1] & re.IGNORECASE:
            consider(_required(list(av[3]), sre))
        elif op is sre.BRANCH:
            alternatives = [_required(list(b), sre) for b in av[1]]
            if all(alternatives):
                consider(set().union(*alternatives))  # type: ignore[arg-type]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            consider(_required(list(av[2]), sre))
    flush()
    return best


def _bound(obj: Any) -> set[str]:
    """The single metavariables a node matching ``obj`` binds within itself (its pattern;
    every case of an ``all``, the ones common to the cases of an ``any``)."""
    if not isinstance(obj, dict):
        return set()
    out: set[str] = set()
    pattern = obj.get("pattern")
    if isinstance(pattern, str):  # (a context pattern's words are not all in the match)
        out |= {b for _, b, _ in _META.findall(pattern) if b}
    cases = obj.get("all")
    for case in cases if isinstance(cases, list) else []:
        out |= _bound(case)
    cases = obj.get("any")
    if isinstance(cases, list) and cases:
        out |= set.intersection(*(_bound(c) for c in cases))
    return out


def _constrained(rule: Rule) -> list[frozenset[str]]:
    """Word groups from the ``constraints`` on metavariables the match itself binds."""
    constraints = rule.params.get("constraints") or {}
    bound = _bound(rule.params.get("match", {}))
    return [g for name, obj in constraints.items() if name in bound
            for g in _needed(obj, unit=True)]


def _anchored_kind(obj: Any) -> bool:
    """Does rule object ``obj`` name a node kind that is neither the file nor a container?"""
    from reviewbot.c.astgrep import CONTAINERS

    return isinstance(obj, dict) and isinstance(obj.get("kind"), str) \
        and obj["kind"] not in CONTAINERS


def _anchored(obj: Any) -> bool:
    """Can a node matching ``obj`` be neither the file nor a preprocessor conditional (so it
    lies within one unit)? Its kind or pattern says so; ``all``: one case does; ``any``:
    every case does."""
    if not isinstance(obj, dict):
        return False
    if _anchored_kind(obj):
        return True
    pattern = obj.get("pattern")
    if isinstance(pattern, str) and pattern.strip() and not re.search(r"^\s*#", pattern, re.M):
        return True
    from reviewbot.c.astgrep import CONTAINERS

    if isinstance(pattern, dict) and isinstance(pattern.get("selector"), str) \
            and pattern["selector"] not in CONTAINERS:
        return True
    if isinstance(obj.get("all"), list) and any(_anchored(c) for c in obj["all"]):
        return True
    cases = obj.get("any")
    return isinstance(cases, list) and bool(cases) and all(_anchored(c) for c in cases)


Groups = tuple[tuple[str, ...], ...]


def unit_needles(rule: Rule) -> Groups | None:
    """Groups of words (as ``needles``) the unit holding a match of the rule has; None when
    a match may be the file or a preprocessor conditional (the whole file is searched)."""
    return _words_of(rule)[1]


def needles(rule: Rule) -> Groups:
    """Groups of words the rule's ``match`` spells out: a file without any word of one group
    has no match, and is not parsed for this rule."""
    return _words_of(rule)[0]


def _groups(found: Iterable[frozenset[str]]) -> Groups:
    return tuple(sorted(tuple(sorted(g)) for g in set(found)))


@cache
def _words_of(rule: Rule) -> tuple[Groups, Groups | None]:
    """(needles, unit needles) of the rule. Reading the regexes' parses costs more than
    matching an ordinary patch: kept in the rule cache beside the compiled configs."""
    from reviewbot.rules import cache as rule_cache

    match = rule.params.get("match", {})
    key = rule_cache.config_key(["words", match, rule.params.get("constraints")])
    cached = rule_cache.open_cache()
    if key is not None:
        known = _as_words(cached.config(key))
        if known is not None:
            return known
    constrained = _constrained(rule)
    words = (_groups([*_needed(match), *constrained]),
             _groups([*_needed(match, unit=True), *constrained]) if _anchored(match) else None)
    if key is not None:
        cached.remember_config(key, [[list(g) for g in words[0]],
                                     None if words[1] is None else [list(g) for g in words[1]]])
    return words


def _as_words(value: Any) -> tuple[Groups, Groups | None] | None:
    """A remembered (needles, unit needles) back; None when malformed."""
    def groups(v: Any) -> Groups:
        if not isinstance(v, list) or not all(
                isinstance(g, list) and all(isinstance(w, str) for w in g) for g in v):
            raise ValueError("groups")
        return tuple(tuple(g) for g in v)

    try:
        if not isinstance(value, list) or len(value) != 2:
            return None
        return groups(value[0]), None if value[1] is None else groups(value[1])
    except ValueError:
        return None


def holds_needles(rule: Rule, text: str) -> bool:
    return all(any(word in text for word in group) for group in needles(rule))


def compile_rule(rule: Rule) -> None:
    """RuleError (one line: file, rule, problem) when ast-grep cannot use the rule."""
    _compiled(rule)


@cache
def _compiled(rule: Rule) -> tuple[dict[str, Any], list[tuple[str, bool]],
                                   dict[str, Any] | None, list[tuple[str, bool]]]:
    """(ast-grep config, its metavariables, function-has config, its metavariables);
    RuleError naming the file and rule when ast-grep cannot use them."""
    from reviewbot.rules import cache as rule_cache

    # what ast-grep made of the same match: before (checking patterns takes longer than
    # matching them on an ordinary patch)
    where = rule.params.get("where", {})
    key = rule_cache.config_key([rule.params["match"], rule.params.get("constraints"),
                                 where.get("function-has", {}).get("match")])
    cached = rule_cache.open_cache()
    if key is not None:
        known = rule_cache.as_config(cached.config(key))
        if known is not None:
            return known
    compiled = _compile(rule, where)
    if key is not None:
        cached.remember_config(key, rule_cache.to_config(compiled))
    return compiled


def _compile(rule: Rule, where: Mapping[str, Any]) -> tuple[
        dict[str, Any], list[tuple[str, bool]], dict[str, Any] | None, list[tuple[str, bool]]]:
    from reviewbot.c import astgrep
    from reviewbot.errors import RuleError

    try:
        match = astgrep.prepare(rule.params["match"])
        constraints = rule.params.get("constraints")
        if constraints:
            constraints = {k: astgrep.prepare(v, f"constraints.{k}")
                           for k, v in constraints.items()}
        astgrep.validate(match, constraints)
        cfg = astgrep.config(match, constraints)
        inner = None
        inner_names: list[tuple[str, bool]] = []
        if "function-has" in where:
            inner_rule = astgrep.prepare(where["function-has"]["match"],
                                         "where.function-has.match")
            astgrep.validate(inner_rule, None, "where.function-has.match")
            inner = astgrep.config(inner_rule, None)
            inner_names = _names(where["function-has"]["match"])
    except astgrep.PatternError as exc:
        raise RuleError(f"{rule.path}: rule {rule.id}: {exc}") from None
    return cfg, _names(rule.params["match"]), inner, inner_names


def _names(obj: Any) -> list[tuple[str, bool]]:
    from reviewbot.c.astgrep import metavariables
    from reviewbot.rules.language import strings_in

    return list(dict.fromkeys(m for text in strings_in(obj) for m in metavariables(text)))


class _PatchFiles:
    """What the language rules read of files while one patch's rules run (the engine runs
    every rule on a patch before the next patch): the sources, and each text's blanked form
    and ast-grep tree, parsed once whichever rules look at it. Held for the current patch
    only (``_files``); past ``_BUDGET`` characters of parsed text the oldest trees go (a
    tree takes about 25 times its text's size)."""

    _BUDGET = 8 << 20

    def __init__(self, ctx: PatchContext) -> None:
        self.owner = weakref.ref(ctx)
        self.sources: dict[tuple[str, bool], SourceFile | None] = {}
        self.trees: dict[tuple[str, str], tuple[Any, str]] = {}
        self._regions: dict[tuple[str, str, str], list[Any] | None] = {}
        self._units: dict[tuple[str, str], tuple[list[tuple[int, int, int, int, Any]],
                                                 list[int]]] = {}
        self._holding: dict[tuple[str, str, str], set[int]] = {}
        self._changed: dict[tuple[str, bool], list[int]] = {}
        self.kinds: dict[tuple[str, int], tuple[FileFacts | None, frozenset[str]]] = {}
        self._joined: dict[tuple[int, bool], str] = {}
        self._functions: dict[tuple[str, str], dict[str, Any]] = {}
        self._split: dict[tuple[str, str], list[str]] = {}
        self._pre_functions: dict[str, set[str]] = {}
        # (rule id, path, change) -> (the text searched, its matches): ``presearch``
        self.found: dict[tuple[str, str, str], tuple[str, list[Match]]] = {}
        self.size = 0

    def source(self, ctx: PatchContext, path: str, *, before: bool = False) -> SourceFile | None:
        key = (path, before)
        if key not in self.sources:
            self.sources[key] = ctx.pre_source(path) if before else ctx.source(path)
        return self.sources[key]

    def tree(self, path: str, text: str) -> tuple[Any, str]:
        """(ast-grep tree, blanked text) of ``text``."""
        key = (path, text)
        got = self.trees.get(key)
        if got is None:
            from reviewbot.c import astgrep
            from reviewbot.c.facts import blank_macros

            blanked = blank_macros(text.encode("utf-8", "surrogateescape"))[0].decode(
                "utf-8", "replace")
            while self.trees and self.size + len(text) > self._BUDGET:
                (old_path, old_text), _ = next(iter(self.trees.items()))
                del self.trees[old_path, old_text]
                self._regions = {k: v for k, v in self._regions.items()
                                if k[:2] != (old_path, old_text)}
                self._holding = {k: v for k, v in self._holding.items()
                                 if k[:2] != (old_path, old_text)}
                self._units.pop((old_path, old_text), None)
                self._functions.pop((old_path, old_text), None)
                self.size -= len(old_text)
            got = self.trees[key] = (astgrep.parse(blanked), blanked)
            self.size += len(text)
        return got

    def lines(self, path: str, text: str) -> list[str]:
        """``text`` split into lines, once whichever rules quote a line of it."""
        key = (path, text)
        got = self._split.get(key)
        if got is None:
            got = self._split[key] = text.splitlines()
        return got

    def pre_functions(self, ctx: PatchContext, path: str) -> set[str]:
        """The functions the file defined before this patch (none for a new file)."""
        got = self._pre_functions.get(path)
        if got is None:
            pre = ctx.pre_source(path)
            got = set()
            if pre is not None:
                from reviewbot.c.facts import extract

                got = {f.name for f in extract(path, pre.text, pre.partial).functions}
            self._pre_functions[path] = got
        return got

    def function(self, path: str, text: str, name: str) -> Any:
        """The definition of function ``name`` in ``text`` (an ast-grep node), or None."""
        from reviewbot.c import astgrep

        key = (path, text)
        if key not in self._functions:
            self._functions[key] = astgrep.function_nodes(self.tree(path, text)[0])
        return self._functions[key].get(name)

    def regions(self, ctx: PatchContext, path: str, text: str,
                change: str) -> list[Any] | None:
        """The top-level nodes of ``path`` holding the lines this patch added (removed, for
        ``change: removed``): where a match that counts can be (astgrep.regions); None:
        search the whole file."""
        from reviewbot.c import astgrep

        key = (path, text, "removed" if change == "removed" else "added")
        if key not in self._regions:
            nodes = astgrep.regions(self.tree(path, text)[0],
                                    set(self._lines(ctx, path, change)))
            # Each find_all costs a fixed part too (ast-grep builds the matcher, compiles
            # the regexes): a few nodes holding under half the file, else the whole file once.
            span = sum(n.range().end.line - n.range().start.line + 1 for n in nodes)
            worth = len(nodes) <= _REGIONS and 2 * span <= text.count("\n") + 1
            self._regions[key] = nodes if worth else None
        return self._regions[key]

    def _lines(self, ctx: PatchContext, path: str, change: str) -> list[int]:
        """The lines (sorted) of ``path`` the patch adds (removes, for ``change: removed``)."""
        key = (path, change == "removed")
        got = self._changed.get(key)
        if got is None:
            if change == "removed":
                got = sorted({n for f in ctx.patch.files if f.source_path == path
                              for n in f.removed_lines})
            else:
                got = sorted({n for f in ctx.patch.files if f.target_path == path
                              for n in f.added_lines})
            self._changed[key] = got
        return got

    def lines_of(self, fd: FileDiff, kind: str) -> str:
        """The lines ``fd`` removes (``removed-lines``) or adds (else), joined by newlines."""
        removed = kind == "removed-lines"
        key = (id(fd), removed)
        got = self._joined.get(key)
        if got is None:
            got = "\n".join(ln.text for h in fd.hunks for ln in h.lines
                            if ln.kind == ("-" if removed else "+"))
            self._joined[key] = got
        return got

    def units(self, path: str, text: str) -> tuple[list[tuple[int, int, int, int, Any]],
                                                   list[int]]:
        """The file's units (astgrep.units) and their start indexes."""
        key = (path, text)
        got = self._units.get(key)
        if got is None:
            from reviewbot.c import astgrep

            found = astgrep.units(self.tree(path, text)[0])
            got = self._units[key] = (found, [u[0] for u in found])
        return got

    def holding(self, path: str, text: str, word: str) -> set[int]:
        """Indexes of the units whose (blanked) text has ``word``."""
        key = (path, text, word)
        got = self._holding.get(key)
        if got is None:
            blanked = self.tree(path, text)[1]
            found, starts = self.units(path, text)
            got = set()
            at = blanked.find(word)
            while at >= 0:
                k = bisect_right(starts, at) - 1
                if k >= 0 and at + len(word) <= found[k][1]:
                    got.add(k)
                    at = blanked.find(word, max(at + 1, found[k][1]))
                else:
                    at = blanked.find(word, at + 1)
            self._holding[key] = got
        return got

    def search_in(self, ctx: PatchContext, rule: Rule, path: str, text: str, *,
                  change: str, everywhere: bool) -> list[Any] | None:
        """Where to look for the rule's matches that count: the units holding a word of each
        of the rule's ``unit_needles`` groups (and, unless ``everywhere``, a line the patch
        changed); None: the whole file. A rule whose match may be the file or a
        preprocessor conditional gets ``regions``."""
        groups = unit_needles(rule)
        if groups is None:
            return None if everywhere else self.regions(ctx, path, text, change)
        found, _ = self.units(path, text)
        keep: set[int] | None = None
        for group in groups:
            holding: set[int] = set()
            for word in group:
                holding |= self.holding(path, text, word)
            keep = holding if keep is None else keep & holding
            if not keep:
                return []
        if not everywhere:
            wanted = self._lines(ctx, path, change)
            spans = set()
            for k in (keep if keep is not None else range(len(found))):
                i = bisect_left(wanted, found[k][2])
                if i < len(wanted) and wanted[i] <= found[k][3]:
                    spans.add(k)
            keep = spans
        if keep is None:
            return None if everywhere else self.regions(ctx, path, text, change)
        if keep:
            # a search costs ast-grep a fixed part (reading the patterns, compiling the
            # regexes) and a part per character searched: one search of the whole file
            # when that costs less than one of each unit
            fixed = search_cost(rule)
            span = sum(found[k][1] - found[k][0] for k in keep)
            if len(keep) * fixed + span * _PER_CHAR > fixed + len(text) * _PER_CHAR:
                return None if everywhere else self.regions(ctx, path, text, change)
        return [found[k][4] for k in sorted(keep)]


# What one ast-grep search costs, in microseconds (fitted on hw/nvme/ctrl.c with
# ast-grep-py 0.51, 2 cores, from eight rules searched whole and unit by unit; only their
# ratios matter): per character of the node searched, per call, per pattern in the rule,
# per regex and per character of a regex.
_PER_CHAR = 0.018
_PER_CALL = 5.0
_PER_PATTERN = 10.0
_PER_REGEX = 6.0
_PER_REGEX_CHAR = 0.8


@cache
def search_cost(rule: Rule) -> float:
    """The fixed part of one ast-grep search with the rule (see ``_PER_CALL``)."""
    cost = _PER_CALL

    def walk(obj: Any) -> None:
        nonlocal cost
        if isinstance(obj, list):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            for key, value in obj.items():
                if key == "pattern":
                    cost += _PER_PATTERN
                elif key == "regex" and isinstance(value, str):
                    cost += _PER_REGEX + _PER_REGEX_CHAR * len(value)
                else:
                    walk(value)

    walk(rule.params.get("match"))
    walk(rule.params.get("constraints"))
    return cost
_REGIONS = 4  # at most this many top-level nodes searched one by one
_CURRENT = threading.local()


def _files(ctx: PatchContext) -> _PatchFiles:
    """The file cache of patch ``ctx`` (a new one when the patch is not the last one asked)."""
    files: _PatchFiles | None = getattr(_CURRENT, "files", None)
    if files is None or files.owner() is not ctx:
        files = _CURRENT.files = _PatchFiles(ctx)
    return files


def _file_diff(ctx: PatchContext, path: str) -> FileDiff | None:
    return next((fd for fd in ctx.patch.files if fd.path == path), None)


def _change(rule: Rule) -> str:
    return str(rule.params.get("where", {}).get("change", "added"))


def _c_files(ctx: PatchContext, rule: Rule) -> Iterator[tuple[str, FileDiff]]:
    """The C files of the patch where a match of the rule could count, by what the patch
    did to them (``where: change``) and their path (``where: files``)."""
    where: Mapping[str, Any] = rule.params.get("where", {})
    change = _change(rule)
    for path in ctx.touched if change != "removed" else [
            fd.source_path for fd in ctx.patch.files if fd.source_path]:
        if not path.endswith(C_SUFFIXES) or not path_matches(path, where.get("files", ())):
            continue
        fd = _file_diff(ctx, path)
        if fd is None:
            continue
        if change == "new-file" and not fd.is_new:
            continue
        if not ctx.options.all_files and not (
                fd.removed_lines if change == "removed" else fd.added_lines):
            continue  # nothing this patch did in the file can match
        yield path, fd


def _searched_text(ctx: PatchContext, rule: Rule, path: str) -> str | None:
    """The text of ``path`` the rule searches, or None when a word its pattern spells out
    is not in it (nothing to parse then)."""
    src = _files(ctx).source(ctx, path, before=_change(rule) == "removed")
    return src.text if src is not None and holds_needles(rule, src.text) else None


def _matches(ctx: PatchContext, rule: Rule, path: str, text: str) -> list[Match]:
    """The rule's ast-grep matches in ``path`` where a match can count; what ``presearch``
    found when it ran for this patch."""
    from reviewbot.c import astgrep

    files = _files(ctx)
    change = _change(rule)
    done = files.found.pop((rule.id, path, change), None)
    if done is not None and done[0] is text:
        return done[1]
    cfg, names, _, _ = _compiled(rule)
    root, blanked = files.tree(path, text)
    among = files.search_in(ctx, rule, path, text, change=change,
                            everywhere=ctx.options.all_files)
    return list(astgrep.matches(root, text, blanked, cfg, names=names, among=among))


def presearch(ctx: PatchContext, rules: Sequence[Rule]) -> None:
    """The ast-grep side of the rules' work on this patch, done before the facts of its
    files are at hand: the searches (``_matches`` takes them from here) and, for ``change:
    new-function``, what the files defined before. A split check's child runs this while
    its parent extracts the facts (engine._run_split). The conditions that need the facts
    (``code``, ``role``, ...) are applied afterwards, as always; a file one of them will
    rule out is searched for nothing."""
    files = _files(ctx)
    for rule in rules:
        where: Mapping[str, Any] = rule.params.get("where", {})
        if "match" not in rule.params or where.get("reachable-from", {}).get("report") == "root":
            continue  # (such a rule starts from the call graph)
        if "series" in rule.params and not _series_holds(ctx, rule.params["series"]):
            continue
        for path, _ in _c_files(ctx, rule):
            text = _searched_text(ctx, rule, path)
            if text is None:
                continue
            files.found[rule.id, path, _change(rule)] = (text,
                                                         _matches(ctx, rule, path, text))
            if _change(rule) == "new-function":
                files.pre_functions(ctx, path)


def _match_c(ctx: PatchContext, rule: Rule) -> Iterator[Finding]:
    where: Mapping[str, Any] = rule.params.get("where", {})
    if where.get("reachable-from", {}).get("report") == "root":
        yield from _match_roots(ctx, rule)
        return
    for path, fd in _c_files(ctx, rule):
        facts = ctx.facts(path) if fd.target_path else None
        if "code" in where and not code_holds(where["code"], file_kinds(ctx, path, facts)):
            continue
        text = _searched_text(ctx, rule, path)
        if text is not None:
            yield from _match_file(ctx, rule, path, text, facts=facts)


def _match_file(ctx: PatchContext, rule: Rule, path: str, text: str, *,
                facts: FileFacts | None) -> Iterator[Finding]:
    where: Mapping[str, Any] = rule.params.get("where", {})
    _, _, inner_cfg, inner_names = _compiled(rule)
    files = _files(ctx)
    change = _change(rule)
    everywhere = ctx.options.all_files
    sections: dict[int, str] | None = None
    for found in _matches(ctx, rule, path, text):
        m = found
        if m.function is None and change != "removed":
            # a post-image rebuilt from hunks: the hunk header names the function
            if sections is None:
                sections = ctx.parent.post_images.sections(ctx.position, path)
            if m.line in sections:
                m = replace(m, function=sections[m.line])
        if not everywhere and not (ctx.removed(path, m.line) if change == "removed"
                                   else ctx.changed(path, m.line)):
            continue
        captures = dict(m.captures)
        captures.update((f"{k}.line", str(v)) for k, v in m.capture_lines.items())
        captures.update((f"{k}.function", v) for k, v in m.capture_functions.items())
        evidence: list[str] = []
        chain = ""
        if change == "new-function" and (m.function is None
                                          or m.function in files.pre_functions(ctx, path)):
            continue
        if "role" in where or "reachable-from" in where:
            from reviewbot.c.graph import fn_id

            if m.function is None:
                continue
            g = ctx.graph
            node = fn_id(path, m.function)
            if node not in g:
                continue
            if "role" in where and not set(where["role"]) & set(g.nodes[node]["roles"]):
                continue
            if "reachable-from" in where:
                reach = where["reachable-from"]
                via = reached_from(g, node, set(reach["roles"]), reach["depth"],
                                   reach["follow"])
                if via is None:
                    continue
                chain = via.describe(g)
                evidence.append(f"reached from a {'/'.join(reach['roles'])} function: {chain}")
        qom: dict[str, str] = {}
        if "qom-type" in where:
            got = qom_type(ctx, where["qom-type"], facts, m.line,
                           captures.get(where["qom-type"]["type"], ""))
            if got is None:
                continue
            qom = got
        if inner_cfg is not None:
            inner = _function_has(ctx, path, captures[where["function-has"]["function"]],
                                  inner_cfg, inner_names)
            if inner is None:
                continue
            inner_match, inner_path, fn_name = inner
            for k, v in inner_match.captures.items():
                captures.setdefault(k, v)
            for k, n in inner_match.capture_lines.items():
                captures.setdefault(f"{k}.line", str(n))
            for k, fn in inner_match.capture_functions.items():
                captures.setdefault(f"{k}.function", fn)
            evidence.append(f"{fn_name}() has {_first_line(inner_match.text)} "
                            f"({inner_path}:{inner_match.line})")
        builtins = {"function": m.function or "file scope", "path": path, "line": m.line,
                    "chain": chain, "match": _first_line(m.text),
                    "length": len(_first_line(m.text)), **qom}
        if "evidence" in rule.params:
            evidence = _evidence(rule, captures, builtins)
        elif not evidence or chain:
            evidence.insert(0, f"{builtins['function']}: {_first_line(m.text)}")
        lines = files.lines(path, text)
        code = lines[m.line - 1] if 1 <= m.line <= len(lines) else ""
        yield _finding(ctx, rule, captures, builtins, path=path, line=m.line,
                       evidence=evidence, code=code,
                       anchor=f"{builtins['function']}: {_first_line(m.text)}",
                       side="old" if change == "removed" else "new")


# --------------------------------------------------------------------------- qom-type

def lists_interface(g: DiGraph, type_name: str, interface: str) -> bool:
    """Does ``type_name`` or an ancestor list ``interface`` in its interfaces?"""
    from reviewbot.c.graph import type_ancestors, type_id

    for t in (type_name, *type_ancestors(g, type_name)):
        tid = type_id(t)
        if tid in g and any(e["kind"] == "interface" and g.nodes[v]["name"] == interface
                            for _, v, e in g.out_edges(tid, data=True)):
            return True
    return False


def qom_type(ctx: PatchContext, spec: Mapping[str, Any], facts: FileFacts | None, line: int,
             name: str) -> dict[str, str] | None:
    """``where.qom-type``: the TypeInfo matched at ``line`` (its ``.name`` is ``name``) is
    what the spec asks; the templates' ``{interface}``, ``{lineage}`` (the type and its
    non-generic ancestors) and ``{plugged}`` (the types with ``implements`` that machine
    handlers do dispatch). ``machine-handler`` needs the tree: None without one."""
    if facts is None:
        return None
    ti = next((t for t in facts.typeinfos if t.line == line and t.name == name), None)
    if ti is None:
        return None
    interface = spec.get("implements", "")
    if interface and interface not in ti.interfaces:
        return None
    if "abstract" in spec and ti.abstract != spec["abstract"]:
        return None
    out = {"interface": interface}
    if "machine-handler" not in spec:
        return out
    if ctx.tree is None:
        return None
    from reviewbot.c.graph import machine_handlers, type_ancestors
    from reviewbot.checks.qom import GENERIC_TYPES  # a handler testing for these is no match

    g = ctx.graph
    roles = set(spec["roles"])
    lineage = [t for t in (ti.name, *type_ancestors(g, ti.name)) if t not in GENERIC_TYPES]
    handled = any(roles & set(d.roles) for t in lineage for d in machine_handlers(g, t))
    if handled != (spec["machine-handler"] == "some"):
        return None
    plugged = sorted({d.type for d in machine_handlers(g) if roles & set(d.roles)
                      and (not interface or lists_interface(g, d.type, interface))})
    out.update(lineage=" or ".join(lineage), plugged=", ".join(plugged[:8]) or "none found")
    return out


# --------------------------------------------------------------------------- report: root


@frozen
class Step:
    path: str  # file of the caller
    line: int  # line of the call (or of the match, for the last step)


@frozen
class Reach:
    names: tuple[str, ...]  # root, ..., target ("qdev_get_machine()", "current_machine")
    steps: tuple[Step, ...]

    def describe(self) -> str:
        return " -> ".join(self.names)

    def places(self) -> str:
        return ", ".join(f"{s.path}:{s.line}" for s in self.steps)


_CALL_TEXT = re.compile(r"^[A-Za-z_]\w*\s*\(.*\)$", re.S)


def _hits_in(ctx: PatchContext, rule: Rule, g: DiGraph, node: str,
             texts: dict[str, tuple[Any, str, str] | None]) -> list[tuple[int, str, str]]:
    """(line, label, called name or "") of the matches in function ``node``: one per line,
    the innermost (``MACHINE(qdev_get_machine())`` is the call of qdev_get_machine)."""
    from reviewbot.c import astgrep

    data = g.nodes[node]
    path = str(data.get("path") or "")
    if path not in texts:
        src = _files(ctx).source(ctx, path)
        text = src.text if src is not None else (
            ctx.tree.read_text(path) if ctx.tree is not None else None)
        texts[path] = (*_files(ctx).tree(path, text), text) if text is not None else None
    got = texts[path]
    if got is None:
        return []
    root, blanked, text = got
    fn = _files(ctx).function(path, text, str(data["name"]))
    if fn is None:
        return []
    cfg, names, _, _ = _compiled(rule)
    template = rule.params["where"]["reachable-from"]["target"]
    by_line: dict[int, astgrep.Match] = {}
    for m in astgrep.matches(root, text, blanked, cfg, names=names, within=fn):
        old = by_line.get(m.line)
        if old is None or len(m.text) < len(old.text):
            by_line[m.line] = m
    out = []
    for line, m in sorted(by_line.items()):
        captures = dict(m.captures)
        label = fill(template, captures, {"match": _first_line(m.text)})
        if _META.search(label):
            label = _first_line(m.text)
        called = m.text.split("(", 1)[0].strip() if _CALL_TEXT.match(m.text.strip()) else ""
        out.append((line, label, called))
    return out


def _reach_forward(ctx: PatchContext, rule: Rule, g: DiGraph, start: str) -> list[Reach]:
    """Every way function ``start`` reaches a match of the rule, shortest first: calls are
    followed ``depth`` deep into functions defined in the start's file, directory or
    anywhere (``follow``); a match that is a call counts as one more call of the chain."""
    from reviewbot.c.graph import CALL_KINDS

    reach = rule.params["where"]["reachable-from"]
    max_depth, follow = int(reach["depth"]), str(reach["follow"])
    base_path = str(g.nodes[start]["path"])
    base_dir = base_path.rsplit("/", 1)[0] + "/"

    def followable(node: str) -> bool:
        d = g.nodes[node]
        if d["kind"] != "function" or not d.get("defined"):
            return False
        path = str(d["path"])
        return (path == base_path if follow == "file" else
                path.startswith(base_dir) if follow == "dir" else True)

    parent: dict[str, tuple[str, int] | None] = {start: None}
    depth = {start: 0}
    queue = deque([start])
    found: list[Reach] = []
    texts: dict[str, tuple[Any, str, str] | None] = {}

    def chain_to(node: str) -> tuple[list[str], list[Step]]:
        names: list[str] = []
        steps: list[Step] = []
        cur: str | None = node
        while cur is not None:
            names.append(str(g.nodes[cur]["name"]))
            step = parent[cur]
            if step is None:
                break
            prev, line = step
            steps.append(Step(str(g.nodes[prev]["path"]), line))
            cur = prev
        return names[::-1], steps[::-1]

    while queue:
        node = queue.popleft()
        called: set[str] = set()
        for line, label, callee in _hits_in(ctx, rule, g, node, texts):
            if callee:
                called.add(callee)
                if depth[node] >= max_depth:
                    continue
            names, steps = chain_to(node)
            found.append(Reach((*names, label), (*steps, Step(str(g.nodes[node]["path"]),
                                                                line))))
        if depth[node] >= max_depth:
            continue
        for nxt in sorted(g.successors(node)):
            e = g.edges[node, nxt]
            if e["kind"] not in CALL_KINDS and not (set(e.get("kinds", ())) & CALL_KINDS):
                continue
            if str(g.nodes[nxt]["name"]) in called or nxt in parent or not followable(nxt):
                continue
            parent[nxt] = (node, int(e["line"]))
            depth[nxt] = depth[node] + 1
            queue.append(nxt)
    return found


def _match_roots(ctx: PatchContext, rule: Rule) -> Iterator[Finding]:
    """``reachable-from: {report: root}``: from each function of the touched files with one
    of the roles, the matches it reaches; one finding per such function, at the first step
    of the first chain this patch changes, with every chain as evidence."""
    from reviewbot.c.graph import fn_id

    where: Mapping[str, Any] = rule.params["where"]
    reach = where["reachable-from"]
    roles = set(reach["roles"])
    g: DiGraph | None = None
    for path in ctx.touched:
        if not path.endswith(".c") or not path_matches(path, where.get("files", ())):
            continue
        facts = ctx.facts(path)
        if facts is None:
            continue
        if g is None:
            g = ctx.graph
        if "code" in where and not code_holds(where["code"], file_kinds(ctx, path, facts)):
            continue
        for fn in facts.functions:
            node = fn_id(path, fn.name)
            if node not in g or not roles & set(g.nodes[node]["roles"]):
                continue
            found = _reach_forward(ctx, rule, g, node)
            if not found:
                continue
            found.sort(key=lambda r: (r.steps[0].line, len(r.steps), r.names))
            changed = [r for r in found if any(ctx.changed(s.path, s.line) for s in r.steps)]
            lead = changed[0] if changed else found[0]
            at = next((s for s in lead.steps if ctx.changed(s.path, s.line)), lead.steps[0])
            limit = int(reach["chains"])
            evidence = [f"{r.describe()}  [{r.places()}]" for r in found[:limit]]
            if len(found) > limit:
                evidence.append(f"... and {len(found) - limit} more")
            hint = _root_hint(ctx, g, node, reach, found)
            if hint:
                evidence.append(hint)
            src = ctx.source(at.path)
            code = str(src.lines[at.line - 1]) if src is not None and \
                1 <= at.line <= len(src.lines) else ""
            builtins = {"function": fn.name, "path": at.path, "line": at.line,
                        "chain": lead.describe(), "target": lead.names[-1],
                        "match": lead.names[-1], "length": len(lead.names[-1])}
            yield _finding(ctx, rule, {}, builtins, path=at.path, line=at.line,
                           evidence=evidence, code=code,
                           anchor=f"{fn.name}: {lead.describe()}")


def _root_hint(ctx: PatchContext, g: DiGraph, node: str, reach: Mapping[str, Any],
               found: list[Reach]) -> str | None:
    """The named exemplar hooks (Python: they search the machines' hotplug handlers in the
    graph): ``machine-handler`` names a machine handler that dispatches a type like the
    device's, ``machine-chain`` how a machine handler reaches the same targets."""
    if ctx.tree is None or reach.get("hint") is None:
        return None
    from reviewbot.checks.qom import machine_chain_to, registering_types, similar_machine_handler

    types = registering_types(g, node)
    if reach["hint"] == "machine-handler":
        hint = similar_machine_handler(g, types)
        return f"the machine does this for a similar device: {hint}" if hint else None
    hint = machine_chain_to(g, [r.names[-1].rstrip("()") for r in found],
                            reach["hint_roles"], types)
    return f"the machine does this for other devices: {hint}" if hint else None


def _function_has(ctx: PatchContext, path: str, name: str, cfg: Mapping[str, Any],
                  names: list[tuple[str, bool]]) -> tuple[Match, str, str] | None:
    """The first match of ``cfg`` in function ``name``: defined in ``path`` or, through the
    call graph (asked only when ``path`` does not define it), in another file the series or
    the tree has."""
    from reviewbot.c import astgrep

    name = name.strip()
    if re.fullmatch(r"[A-Za-z_]\w*", name) is None:
        return None

    def look(where: str) -> tuple[bool, tuple[Match, str, str] | None]:
        """(is ``name`` defined there, its first match)"""
        src = _files(ctx).source(ctx, where)
        text = src.text if src is not None else (
            ctx.tree.read_text(where) if ctx.tree is not None else None)
        if text is None:
            return False, None
        root, blanked = _files(ctx).tree(where, text)
        fn = _files(ctx).function(where, text, name)
        if fn is None:
            return False, None
        for inner in astgrep.matches(root, text, blanked, cfg, names=names, within=fn):
            return True, (inner, where, name)
        return True, None

    defined, found = look(path)
    if defined:
        return found
    from reviewbot.c.graph import find_functions

    g = ctx.graph
    for node in find_functions(g, name):
        data = g.nodes[node]
        if data.get("defined") and data.get("path") and data["path"] != path:
            defined, found = look(str(data["path"]))
            if defined:
                return found
    return None


def _finding(ctx: PatchContext, rule: Rule, captures: Mapping[str, str],
             builtins: Mapping[str, Any], **where: Any) -> Finding:
    if "evidence" in where:
        where["evidence"] = tuple(where["evidence"])
    if "anchor" in rule.params:
        where["anchor"] = fill(rule.params["anchor"], captures, builtins)
    patch = where.pop("patch", None) or ctx.ref
    return Finding(rule=rule.id, severity=rule.severity,
                   message=fill(rule.message, captures, builtins),
                   patch=patch, fix=_fix(ctx, rule, captures, builtins), **where)


# --------------------------------------------------------------------------- lines


@cache
def _regexes(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


_MANY = 200  # lines of a file, past which one search of them all comes first


@cache
def _joined_regexes(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...] | None:
    """The regexes for a search of many lines joined by newlines that finds something
    whenever one line alone does (``^`` and ``$`` at each line); None when a regex may not
    (``\\A``, ``\\Z`` anchor a line alone)."""
    if any("\\A" in p or "\\Z" in p for p in patterns):
        return None
    return tuple(re.compile(p, re.M) for p in patterns)


def _search(regexes: Iterable[re.Pattern[str]], text: str) -> re.Match[str] | None:
    """The match of the first of ``regexes`` that matches ``text``."""
    for rx in regexes:
        m = rx.search(text)
        if m is not None:
            return m
    return None


def _series_builtins(ctx: PatchContext) -> dict[str, Any]:
    series = ctx.series
    return {"version": series.version, "previous": series.version - 1,
            "total": series_total(series), "patches": len(series.patches),
            "subject": ctx.patch.subject.raw}


def _is_patch_mail(ctx: PatchContext) -> bool:
    """A patch with a real commit message or mail (not a stray mail, not --staged)."""
    from reviewbot.checks.series import has_message

    patch = ctx.patch
    return bool(patch.files or patch.diff_text.strip()) and has_message(patch, ctx.series)


def _match_lines(ctx: PatchContext, rule: Rule) -> Iterator[Finding]:
    from reviewbot.rules.language import MAIL_SOURCES

    spec: Mapping[str, Any] = rule.params["lines"]
    where: Mapping[str, Any] = rule.params.get("where", {})
    globs = [*spec.get("files", ()), *where.get("files", ())]
    kind = spec["in"]
    sources = list(kind) if isinstance(kind, list) else [kind]
    patch = ctx.patch
    if spec.get("when") == "absent":
        yield from _match_absent(ctx, rule, _regexes(tuple(spec["regex"])), sources)
        return
    if kind == "file-names":
        yield from _match_file_names(ctx, rule, _regexes(tuple(spec["regex"])), globs)
        return
    if set(sources) <= set(MAIL_SOURCES):
        yield from _match_mail(ctx, rule, _regexes(tuple(spec["regex"])), sources)
        return
    regexes: tuple[re.Pattern[str], ...] | None = None  # compiled when a file is searched
    table = spec.get("table")
    for fd in patch.files:
        path = fd.path
        if globs and not path_matches(path, globs):
            continue
        if where.get("change") == "new-file" and not fd.is_new:
            continue
        if "code" in where and not code_holds(where["code"], file_kinds(
                ctx, path, ctx.facts(path) if path.endswith(C_SUFFIXES) else None)):
            continue
        # (comments: only the comment lines are searched, a few of the added lines)
        many = kind != "comments" and len(
            fd.removed_lines if kind == "removed-lines" else fd.added_lines) > _MANY
        joined = _joined_regexes(tuple(spec["regex"])) if many else None
        if joined is not None and not any(
                rx.search(_files(ctx).lines_of(fd, kind)) for rx in joined):
            continue  # no line of the file can match: not searched line by line
        if table is not None and not _names_table(_files(ctx).lines_of(fd, kind)):
            continue  # no name the table knows is in the lines
        comment_lines: set[int] | None = None
        if kind == "comments":
            facts = ctx.facts(path) if path.endswith(C_SUFFIXES) else None
            if facts is None:
                continue
            comment_lines = {n for c in facts.comments for n in range(c.line, c.end_line + 1)}
        if regexes is None:
            regexes = _regexes(tuple(spec["regex"]))
        for hunk in fd.hunks:
            for ln in hunk.lines:
                removed = kind == "removed-lines"
                if ln.kind != ("-" if removed else "+"):
                    continue
                no = ln.source_line if removed else ln.target_line
                if no is None or (comment_lines is not None and no not in comment_lines):
                    continue
                m = _search(regexes, ln.text)
                if m is None:
                    continue
                captures = {k: v or "" for k, v in m.groupdict().items()}
                builtins = {"function": "", "path": path, "line": no, "chain": "",
                            "match": m.group(0), "length": len(ln.text),
                            "text": ln.text.strip()}
                if table is not None:
                    looked = table_differs(table, captures)
                    if looked is None:
                        continue
                    builtins.update(looked)
                evidence = _evidence(rule, captures, builtins) or [ln.text.strip()]
                yield _finding(ctx, rule, captures, builtins, path=path, line=no,
                               evidence=evidence, code=ln.text, anchor=ln.text.strip(),
                               side="old" if removed else "new")
                if spec.get("first"):
                    return


def _names_table(text: str) -> bool:
    """Can ``text`` hold a name of the firmware-spec table (one of its names, or a word
    each of its name patterns requires)? True when some pattern requires none."""
    words = _table_words()
    return words is None or any(word in text for word in words)


@cache
def _table_words() -> frozenset[str] | None:
    from reviewbot.qemu.bootlog import firmware_spec

    words: set[str] = set()
    for _, entry in firmware_spec().all_entries():
        words.update(entry.names)
        for pattern in entry.patterns:
            required = regex_words(pattern.pattern)
            if required is None:
                return None
            words.update(required)
    return frozenset(words)


def table_differs(table: Mapping[str, str], captures: Mapping[str, str]) -> dict[str, Any] | None:
    """``lines.table``: the table's entry when it names ``$name`` with another value than
    ``$value`` (a C constant expression); None when it does not name it, the value is no
    simple constant, or the values agree."""
    from reviewbot.checks.spec import c_value
    from reviewbot.qemu.bootlog import firmware_spec

    found = firmware_spec().lookup(captures.get(table["name"], ""))
    if found is None:
        return None
    value = c_value(captures.get(table["value"], ""))
    label, entry = found
    if value is None or value == entry.value:
        return None
    return {"value": f"{value:#x}", "expected": f"{entry.value:#x}", "meaning": entry.meaning,
            "table": label, "names": ", ".join(entry.names)}


def _mail_lines(ctx: PatchContext, source: str) -> list[tuple[str, str, str, Trailer | None]]:
    """(text, anchor, default evidence, trailer) of each line of a mail source of this patch
    (the cover letter only in the first patch's run: its findings are about the cover)."""
    patch = ctx.patch
    if source == "subject":
        return [(" ".join(patch.subject.title.split()), patch.subject.raw,
                 f"Subject: {patch.subject.raw}", None)]
    if source == "trailers":
        return [(f"{t.key}: {t.value}", f"{t.key}: {t.value}", f"{t.key}: {t.value}", t)
                for t in patch.trailers if t.from_reply is None]
    if source == "cover-letter":
        cover = ctx.series.cover
        text = cover.body if cover is not None and ctx.position == 0 else ""
    else:
        text = patch.commit_message if source == "commit-message" else patch.notes
    return [(ln, ln.strip(), ln.strip(), None) for ln in text.splitlines()]


def person_holds(wanted: Iterable[str], author: Person, t: Trailer) -> bool:
    """``lines.person``: one of the plain relations and none of the ``!`` ones."""
    from reviewbot.checks import series as s

    def rel(name: str) -> bool:
        if name == "author":
            return s.author_signs(author, t)
        if name == "author-name-other-address":
            return s.same_name_other_address(author, t)
        person = s.trailer_person(t)  # author-other-name
        return (s.author_signs(author, t) and bool(author.name) and person is not None
                and bool(person.name) and not s.same_name(person.name, author.name))

    wanted = list(wanted)
    plain = [w for w in wanted if not w.startswith("!")]
    if plain and not any(rel(w) for w in plain):
        return False
    return not any(rel(w[1:]) for w in wanted if w.startswith("!"))


def _match_mail(ctx: PatchContext, rule: Rule, regexes: tuple[re.Pattern[str], ...],
                sources: list[str]) -> Iterator[Finding]:
    """``lines:`` over the subject, commit message, notes, trailers or cover letter."""
    spec: Mapping[str, Any] = rule.params["lines"]
    if not _is_patch_mail(ctx):
        return
    patch = ctx.patch
    author: Person | None = None
    if "trailers" in sources:
        from reviewbot.checks.series import real_author

        author = real_author(patch)
        if not author.email and not author.name:
            return  # nothing to compare the trailers with
    rows = [row for source in sources for row in _mail_lines(ctx, source)]
    unless = spec.get("unless")
    if unless is not None and author is not None:
        unless_rx = _regexes((unless["regex"],)) if unless["regex"] else regexes
        if any(t is not None and _search(unless_rx, text) is not None
               and person_holds(unless["person"], author, t) for text, _, _, t in rows):
            return
    matched = [(text, anchor, default, t, m) for text, anchor, default, t in rows
               if (m := _search(regexes, text)) is not None]
    extra = _series_builtins(ctx)
    extra["files_dir"] = files_dir(patch)
    if author is not None:
        extra.update(author=str(author), author_name=author.name)
    extra["lines"] = [text.strip() for text, *_ in matched]
    for text, anchor, default, t, m in matched:
        if t is not None and author is not None and "person" in spec \
                and not person_holds(spec["person"], author, t):
            continue
        captures = {k: v or "" for k, v in m.groupdict().items()}
        builtins = {**extra, "function": "", "path": "", "line": "", "chain": "",
                    "match": m.group(0), "length": len(text), "text": text.strip()}
        if t is not None:
            from reviewbot.checks.series import trailer_person

            person = trailer_person(t)
            builtins.update(name=person.name if person else "",
                            address=person.email if person else t.value)
        evidence = _evidence(rule, captures, builtins) or [default]
        cover = ctx.series.cover
        about_cover = t is None and cover is not None and ctx.position == 0 and \
            text in cover.body.splitlines() and "cover-letter" in sources
        yield _finding(ctx, rule, captures, builtins, evidence=evidence, anchor=anchor,
                       patch=cover_ref(ctx.series) if about_cover else None)
        if spec.get("first"):
            return


def cover_ref(series: Series) -> Any:
    from reviewbot.context import cover_ref as ref

    return ref(series)


def _match_absent(ctx: PatchContext, rule: Rule, regexes: tuple[re.Pattern[str], ...],
                  sources: list[str]) -> Iterator[Finding]:
    """``lines: {when: absent}``: one finding when no text of the sources matches. Each
    source is searched as a whole text (``(?m)`` for ``^``/``$`` at line ends). With
    ``scope: series`` every patch's texts and the cover letter's are read and the finding is
    about the series: on its cover letter, or on its first patch when it has none."""
    spec: Mapping[str, Any] = rule.params["lines"]
    series = ctx.series
    if spec["scope"] == "series":
        at = series.patches[0] if series.cover is not None else series_head(series)
        if ctx.patch is not at:
            return
        patches = list(series.patches)
    else:
        if not _is_patch_mail(ctx):
            return
        patches = [ctx.patch]
    texts: list[str] = []
    for patch in patches:
        for source in sources:
            if source == "subject":
                texts.append(patch.subject.title)
            elif source == "commit-message":
                texts.append(patch.commit_message)
            elif source == "notes":
                texts.append(patch.notes)
            elif source == "trailers":
                texts.append("\n".join(f"{t.key}: {t.value}" for t in patch.trailers
                                       if t.from_reply is None))
    if "cover-letter" in sources and series.cover is not None:
        texts.append(series.cover.body)
    if any(_search(regexes, t) is not None for t in texts if t):
        return
    about = series.cover if spec["scope"] == "series" and series.cover is not None else None
    raw = about.subject.raw if about is not None else ctx.patch.subject.raw
    builtins = {**_series_builtins(ctx), "function": "", "path": "", "line": "",
                "chain": "", "match": "", "length": len(raw), "text": raw, "subject": raw,
                "files_dir": files_dir(ctx.patch)}
    evidence = _evidence(rule, {}, builtins) or [f"Subject: {raw}"]
    yield _finding(ctx, rule, {}, builtins, evidence=evidence, anchor=raw,
                   patch=cover_ref(series) if about is not None else None)


def files_dir(patch: Patch) -> str:
    """The directory a patch's files share: the one directory, else their common parent,
    else "subsystem" (what a subject prefix would name)."""
    paths: list[str] = [fd.path for fd in patch.files]
    if not paths:
        return "subsystem"
    dirs = {p.rsplit("/", 1)[0] if "/" in p else p for p in paths}
    if len(dirs) == 1:
        return dirs.pop()
    common: list[str] = []
    for group in zip(*(p.split("/")[:-1] for p in paths), strict=False):
        if len(set(group)) != 1:
            break
        common.append(group[0])
    return "/".join(common) or "subsystem"


def _match_file_names(ctx: PatchContext, rule: Rule, regexes: tuple[re.Pattern[str], ...],
                      globs: list[str]) -> Iterator[Finding]:
    """A finding about the patch (no path) for each file it changes whose name matches."""
    patch = ctx.patch
    for fd in patch.files:
        if (globs and not path_matches(fd.path, globs)) or (
                m := _search(regexes, fd.path)) is None:
            continue
        others = [o.path for o in patch.files if o.path != fd.path]
        captures = {k: v or "" for k, v in m.groupdict().items()}
        builtins = {"function": "", "path": fd.path, "line": "", "chain": "",
                    "match": m.group(0), "length": len(fd.path), "subject": patch.subject.raw,
                    "files_dir": files_dir(patch), "other_files": ", ".join(others)}
        added = [ln.text for h in fd.hunks for ln in h.added]
        evidence = _evidence(rule, captures, builtins) or [
            *(f"{fd.path} +{t}" for t in added[:6]), *(f"also changes {o}" for o in others)]
        yield _finding(ctx, rule, captures, builtins, evidence=evidence, anchor=fd.path)
