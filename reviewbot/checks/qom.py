"""Device-model (QOM) helpers of the rule language over C facts and the call graph.

Every QOM rule is written in the rule language (reviewbot/checks/lang.py). What stays here:
``machine_file`` (part of what ``where: code:`` reads) and the two named exemplar hooks of
``reachable-from: {report: root}`` (``hint: machine-handler`` / ``machine-chain``), graph
searches over the machines' hotplug handlers and the types they dispatch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewbot.c.digraph import DiGraph
    from reviewbot.c.facts import FileFacts

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
