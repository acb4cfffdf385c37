"""Device-model (QOM) primitives over C facts and the call graph.

Each primitive is generic; the rule's params say which roles, functions, globals or casts it
looks for, so a new rule of the same shape is a YAML file. Rules that are a syntax match plus
conditions (file-global state, machine-done notifiers, whole-tree walks) are written in the
rule language instead (reviewbot/checks/lang.py); ``machine_file`` here is part of what its
``where: code:`` reads. "Device code" means a file that
registers a realize/unrealize callback and defines no machine type; machine code (board files,
machine class_init and hotplug handlers) is never reported by these primitives.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from reviewbot.finding import Finding
from reviewbot.rules.registry import primitive
from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from reviewbot.c.digraph import DiGraph
    from reviewbot.c.facts import FileFacts
    from reviewbot.context import PatchContext
    from reviewbot.rules.model import Rule

C_FILES = (".c",)
# Base types every device has: sharing them says nothing about two devices being alike.
GENERIC_TYPES = frozenset({"TYPE_DEVICE", "TYPE_OBJECT", "TYPE_SYS_BUS_DEVICE", "TYPE_INTERFACE"})
DEVICE_ROLES = ("realize", "unrealize")


# --------------------------------------------------------------------------- helpers


def _strip_comments(text: str) -> str:
    """Blank C comments and string literals, keeping line breaks (so line numbers hold)."""
    def blank(m: re.Match[str]) -> str:
        s = m.group(0)
        if s.startswith(("/*", "//")):
            return re.sub(r"[^\n]", " ", s)
        return '"' + " " * (len(s) - 2) + '"' if s.startswith('"') else s

    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"', blank, text, flags=re.S)


def _is_machine_type_name(name: str | None) -> bool:
    return bool(name) and "MACHINE" in str(name).upper().replace("-", "_")


def machine_file(facts: FileFacts, g: DiGraph | None = None) -> bool:
    """Does the file define a machine type (a board file)?"""
    from reviewbot.c.graph import is_machine_type, type_id

    for ti in facts.typeinfos:
        if _is_machine_type_name(ti.name) or _is_machine_type_name(ti.parent):
            return True
        if g is not None:
            tid = type_id(ti.name)
            if tid in g and is_machine_type(g, tid):
                return True
    return False


def _c_paths(ctx: PatchContext, suffixes: Sequence[str] = C_FILES) -> list[str]:
    return [p for p in ctx.touched if p.endswith(tuple(suffixes))]


def _rule_files(ctx: PatchContext, rule: Rule) -> Iterator[tuple[str, FileFacts]]:
    """The C files this patch touches that ``rule``'s paths allow, with their facts."""
    for path in _c_paths(ctx):
        if _path_allowed(path, rule):
            facts = ctx.facts(path)
            if facts is not None:
                yield path, facts


def _param_list(rule: Rule, name: str, default: Sequence[str] = ()) -> list[str]:
    value = rule.params.get(name, default)
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _code_line(ctx: PatchContext, path: str, line: int) -> str:
    src = ctx.source(path)
    if src is None or not 1 <= line <= len(src.lines):
        return ""
    return str(src.lines[line - 1])


def _path_allowed(path: str, rule: Rule) -> bool:
    prefixes = _param_list(rule, "paths", ("hw/",))
    excluded = _param_list(rule, "exclude_paths")
    return path.startswith(tuple(prefixes)) and not any(re.search(p, path) for p in excluded)


# --------------------------------------------------------------------------- reaches-call


@frozen
class Step:
    path: str  # file of the caller
    line: int  # line of the call (or of the use, for the last step of a use chain)


@frozen
class Reach:
    names: tuple[str, ...]  # start, ..., target ("qdev_get_machine()", "current_machine")
    steps: tuple[Step, ...]

    def describe(self) -> str:
        return " -> ".join(self.names)

    def places(self) -> str:
        return ", ".join(f"{s.path}:{s.line}" for s in self.steps)


def _function_text(ctx: PatchContext, g: DiGraph, node: str,
                   cache: dict[str, list[str] | None]) -> tuple[list[str], int] | None:
    """The (comment-blanked) lines of a defined function and the line number of the first."""
    data = g.nodes[node]
    if not data.get("defined") or not data.get("path"):
        return None
    path = str(data["path"])
    if path not in cache:
        text: str | None = None
        src = ctx.source(path)
        if src is not None:
            text = src.text
        elif ctx.tree is not None:
            text = ctx.tree.read_text(path)
        cache[path] = _strip_comments(text).splitlines() if text is not None else None
    lines = cache[path]
    if lines is None:
        return None
    first, last = int(data["line"]), int(data["end_line"])
    return lines[first - 1:last], first


def reaches(ctx: PatchContext, g: DiGraph, start: str, targets: Sequence[str], *,
            uses: Sequence[str], casts: Sequence[str], max_depth: int,
            follow: str) -> list[Reach]:
    """Every way ``start`` reaches a target call, a global use or a cast, shortest first.

    Calls are followed into functions defined in the start's file (``follow: file``), its
    directory (``dir``) or anywhere (``tree``); targets are matched wherever they are.
    """
    from reviewbot.c.graph import CALL_KINDS

    base = g.nodes[start]
    base_path = str(base["path"])
    base_dir = base_path.rsplit("/", 1)[0] + "/"
    wanted = set(targets)
    use_re = re.compile(r"\b(" + "|".join(map(re.escape, uses)) + r")\b") if uses else None
    cast_re = (re.compile(r"\b(" + "|".join(map(re.escape, casts)) + r")\s*\(")
               if casts else None)

    def followable(node: str) -> bool:
        d = g.nodes[node]
        if d["kind"] != "function" or not d.get("defined"):
            return False
        path = str(d["path"])
        if follow == "file":
            return path == base_path
        if follow == "dir":
            return path.startswith(base_dir)
        return True

    parent: dict[str, tuple[str, int] | None] = {start: None}
    depth = {start: 0}
    queue = deque([start])
    found: list[Reach] = []
    text_cache: dict[str, list[str] | None] = {}

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
        if (use_re or cast_re) and (node == start or followable(node)):
            body = _function_text(ctx, g, node, text_cache)
            if body is not None:
                lines, first = body
                call_lines = {int(ln) for _, v, e in g.out_edges(node, data=True)
                              if g.nodes[v]["name"] in wanted for ln in e.get("lines", ())}
                for k, text in enumerate(lines):
                    no = first + k
                    if no in call_lines:
                        continue
                    hit = (use_re.search(text) if use_re else None) or (
                        cast_re.search(text) if cast_re else None)
                    if hit is None:
                        continue
                    names, steps = chain_to(node)
                    label = hit.group(1) + ("()" if cast_re and hit.re is cast_re else "")
                    found.append(Reach((*names, label),
                                       (*steps, Step(str(g.nodes[node]["path"]), no))))
                    break
        if depth[node] >= max_depth:
            continue
        for nxt in sorted(g.successors(node)):
            e = g.edges[node, nxt]
            if e["kind"] not in CALL_KINDS and not (set(e.get("kinds", ())) & CALL_KINDS):
                continue
            name = str(g.nodes[nxt]["name"])
            for line in sorted(int(x) for x in e.get("lines", [e.get("line", 0)])):
                if name in wanted:
                    names, steps = chain_to(node)
                    found.append(Reach((*names, f"{name}()"),
                                       (*steps, Step(str(g.nodes[node]["path"]), line))))
            if name in wanted or nxt in parent or not followable(nxt):
                continue
            parent[nxt] = (node, int(e["line"]))
            depth[nxt] = depth[node] + 1
            queue.append(nxt)
    return found


def _registering_types(g: DiGraph, node: str) -> list[str]:
    from reviewbot.c.graph import types_registering

    return types_registering(g, node)


def _similarity(g: DiGraph, type_names: Sequence[str]) -> Any:
    """A function scoring how alike a type is to ``type_names``: (shared interfaces and
    ancestors, same direct parent); (0, 0) for unrelated types."""
    from reviewbot.c.graph import type_ancestors, type_id

    def related(name: str) -> set[str]:
        out = {name, *type_ancestors(g, name)}
        for t in list(out):
            tid = type_id(t)
            if tid in g:
                out.update(str(g.nodes[v]["name"]) for _, v, e in g.out_edges(tid, data=True)
                           if e["kind"] == "interface")
        return out - GENERIC_TYPES

    mine: set[str] = set()
    parents: set[str] = set()
    for name in type_names:
        mine |= related(name)
        parents.update(type_ancestors(g, name)[:1])

    def score(other: str) -> tuple[int, int]:
        if other in type_names:
            return (0, 0)
        shared = len(related(other) & mine)
        same_parent = int(bool(parents & set(type_ancestors(g, other)[:1])))
        return (shared, same_parent if shared else 0)

    return score


def _plug_dispatches(g: DiGraph, roles: Sequence[str] = ("machine_pre_plug", "machine_plug"),
                     ) -> list[Any]:
    from reviewbot.c.graph import machine_handlers

    return [d for d in machine_handlers(g)
            if g.nodes[d.target].get("defined") and set(roles) & set(d.roles)]


def _similar_machine_handler(g: DiGraph, type_names: Sequence[str]) -> str | None:
    """A machine hotplug handler that dispatches a type like ``type_names``."""
    score = _similarity(g, type_names)
    candidates: list[tuple[int, int, int, str]] = []
    for d in _plug_dispatches(g):
        shared, same_parent = score(d.type)
        if not shared:
            continue
        handler, target = g.nodes[d.handler], g.nodes[d.target]
        candidates.append((-shared, -same_parent, -int("plug" in str(target["name"])),
                           f"{handler['name']}() in {handler['path']} hands {d.type} to "
                           f"{target['name']}() (line {d.line})"))
    return min(candidates)[3] if candidates else None


def _machine_chain_to(g: DiGraph, targets: Sequence[str], roles: Sequence[str],
                      type_names: Sequence[str]) -> str | None:
    """How a machine handler reaches one of ``targets`` for a type like ``type_names``."""
    from reviewbot.c.graph import chains_to

    score = _similarity(g, type_names)
    candidates: list[tuple[int, int, int, str]] = []
    for d in _plug_dispatches(g, roles):
        shared, same_parent = score(d.type)
        for chain in chains_to(g, d.target, targets, max_depth=3):
            handler = g.nodes[d.handler]
            text = (f"{handler['name']}() ({handler['path']}, for {d.type}) -> "
                    f"{chain.describe(g)}")
            candidates.append((-shared, -same_parent, chain.depth, text))
    return min(candidates)[3] if candidates else None


@primitive("reaches-call", scope="patch",
           params=("roles", "targets", "globals", "casts", "max_depth", "follow", "paths",
                   "exclude_paths", "exemplar", "exemplar_roles", "max_chains"),
           required=("roles",))
def reaches_call(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """A function with one of ``roles`` (or what it calls) calls ``targets``, reads
    ``globals`` or uses one of the ``casts`` macros. One finding per function, at the first
    step of the first chain, with every chain as evidence."""
    from reviewbot.c.graph import fn_id

    roles = _param_list(rule, "roles")
    targets = _param_list(rule, "targets")
    uses = _param_list(rule, "globals")
    casts = _param_list(rule, "casts")
    max_depth = int(rule.params.get("max_depth", 4))
    follow = str(rule.params.get("follow", "dir"))
    max_chains = int(rule.params.get("max_chains", 5))
    exemplar = str(rule.params.get("exemplar", ""))
    g = None
    for path, facts in _rule_files(ctx, rule):
        if g is None:
            g = ctx.graph
        if machine_file(facts, g):
            continue
        for fn in facts.functions:
            node = fn_id(path, fn.name)
            if node not in g or not set(roles) & set(g.nodes[node]["roles"]):
                continue
            found = reaches(ctx, g, node, targets, uses=uses, casts=casts,
                            max_depth=max_depth, follow=follow)
            if not found:
                continue
            found.sort(key=lambda r: (r.steps[0].line, len(r.steps), r.names))
            changed = [r for r in found
                       if any(ctx.changed(s.path, s.line) for s in r.steps)]
            lead = changed[0] if changed else found[0]
            at = next((s for s in lead.steps if ctx.changed(s.path, s.line)), lead.steps[0])
            evidence = [f"{r.describe()}  [{r.places()}]" for r in found[:max_chains]]
            if len(found) > max_chains:
                evidence.append(f"... and {len(found) - max_chains} more")
            if ctx.tree is not None and exemplar == "machine-handler":
                hint = _similar_machine_handler(g, _registering_types(g, node))
                if hint:
                    evidence.append(f"the machine does this for a similar device: {hint}")
            elif ctx.tree is not None and exemplar == "machine-chain":
                targets_hit = [r.names[-1].rstrip("()") for r in found]
                hint = _machine_chain_to(g, targets_hit, _param_list(
                    rule, "exemplar_roles", ("machine_pre_plug", "machine_plug")),
                    _registering_types(g, node))
                if hint:
                    evidence.append(f"the machine does this for other devices: {hint}")
            yield rule.finding(
                ctx, path=at.path, line=at.line, evidence=evidence,
                code=_code_line(ctx, at.path, at.line), anchor=f"{fn.name}: {lead.describe()}",
                function=fn.name, target=lead.names[-1], chain=lead.describe(),
            )


# --------------------------------------------------------------------------- dispatch


def _implements(g: DiGraph, type_name: str, interface: str) -> bool:
    from reviewbot.c.graph import type_ancestors, type_id

    for t in (type_name, *type_ancestors(g, type_name)):
        tid = type_id(t)
        if tid in g and any(e["kind"] == "interface" and g.nodes[v]["name"] == interface
                            for _, v, e in g.out_edges(tid, data=True)):
            return True
    return False


@primitive("interface-without-handler", scope="patch",
           params=("interface", "roles", "paths", "exclude_paths"), required=("interface",))
def interface_without_handler(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """A new type implementing ``interface`` that no machine hotplug handler dispatches
    (neither the type nor an ancestor). Needs the tree: silent without one."""
    from reviewbot.c.graph import machine_handlers, type_ancestors

    if ctx.tree is None:
        return
    interface = str(rule.params["interface"])
    roles = set(_param_list(rule, "roles", ("machine_pre_plug", "machine_plug")))
    g: Any = None
    for path, facts in _rule_files(ctx, rule):
        for ti in facts.typeinfos:
            if interface not in ti.interfaces or ti.abstract:
                continue
            if not ctx.changed(path, ti.line) and not ctx.options.all_files:
                continue
            if g is None:
                g = ctx.graph
            lineage = [t for t in (ti.name, *type_ancestors(g, ti.name))
                       if t not in GENERIC_TYPES]
            handled = [d for t in lineage for d in machine_handlers(g, t)
                       if roles & set(d.roles)]
            if handled:
                continue
            others = sorted({d.type for d in machine_handlers(g) if roles & set(d.roles)
                             and _implements(g, d.type, interface)})
            yield rule.finding(
                ctx, path=path, line=ti.line, code=_code_line(ctx, path, ti.line),
                anchor=ti.name,
                evidence=[f"{ti.name} implements {interface}",
                          "no machine hotplug handler tests for " + " or ".join(lineage),
                          f"{interface} types the machines do plug: "
                          + (", ".join(others[:8]) or "none found")],
                type=ti.name, interface=interface,
            )
