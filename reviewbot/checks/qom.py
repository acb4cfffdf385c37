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
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from reviewbot.finding import Finding
from reviewbot.rules.registry import primitive

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


# --------------------------------------------------------------------------- machine hints
# The qom-realize-* rules are language rules (``reachable-from: {report: root}``); these
# graph searches are their named ``hint`` hooks (reviewbot/checks/lang.py).


def registering_types(g: DiGraph, node: str) -> list[str]:
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


def similar_machine_handler(g: DiGraph, type_names: Sequence[str]) -> str | None:
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


def machine_chain_to(g: DiGraph, targets: Sequence[str], roles: Sequence[str],
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
