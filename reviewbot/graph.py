"""The QOM call/dependency graph: one plain ``networkx.DiGraph`` built from FileFacts.

Node ids (stable strings):
  ``path::func``          a function defined in ``path``
  ``fn::name``            a function called or registered but not defined in the facts given
  ``type::TYPE_X``        a QOM type (a TypeInfo's .name, a parent, an interface, a dispatch
                          test); a string name ("pc-dimm") becomes its ``#define TYPE_...``
                          when one is known
  ``global::path::name``  a file-scope variable

Node attributes: ``kind`` ("function" | "type" | "global"), ``name``, ``path``, ``line``,
``partial`` (facts came from a post-image rebuilt from hunks), and per kind:
  function: ``end_line``, ``static``, ``defined``, ``roles`` (sorted list), ``settings`` (sorted
            list of constant class fields the function sets, e.g. "dc->hotpluggable = false");
            ``path::f`` with ``defined`` False is a function of a post-image rebuilt from hunks
            known only from a hunk header (``cfacts.extract(..., enclosing=...)``)
  type:     ``value`` (the string the TYPE_ macro stands for), ``abstract``, ``defined``
  global:   ``type``, ``gkind`` (cfacts.GLOBAL_KINDS), ``static``, ``const``

Roles come only from registration, never from a name: ``realize``/``unrealize``/``reset`` and
any other class field a function is assigned to (plus ``<Class>.<field>`` when the class is
known, e.g. ``DeviceClass.realize``); ``pre_plug``/``plug``/``unplug_request``/``unplug`` for
hotplug handlers and ``machine_pre_plug``/... when the registering class_init belongs to a
machine; ``class_init``/``instance_init``/``instance_finalize`` from TypeInfo;
``machine_done_notifier``; ``type_init``.

Edges (attribute ``kind``; a pair of nodes has one edge, so the strongest kind wins —
register > dispatch > call — and ``kinds`` lists all of them):
  call       caller -> callee; ``line`` (first call), ``lines``
  dispatch   a call made under ``if (object_dynamic_cast(OBJECT(dev), TYPE_X))``;
             ``types`` (sorted list), ``line``
  register   registering function -> callback; ``role``, ``field``, ``cls``, ``line``, ``via``
  typeinfo   type -> function; ``field`` (class_init, instance_init, instance_finalize), ``line``
  parent     type -> parent type
  interface  type -> interface type
  uses       function -> writable file-scope variable of its file it names; ``line`` (first)

Queries (free functions): ``find_functions``, ``functions_with_role``, ``chains_to``,
``shortest_chain``, ``all_shortest_chains``, ``realize_of``, ``types_registering``,
``machine_handlers``, ``dispatch_handlers``, ``type_ancestors``, ``is_machine_type``, ``focus``,
``to_json``.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import networkx as nx

from reviewbot.cfacts import FileFacts

CALL_KINDS = frozenset({"call", "dispatch"})
HOTPLUG_FIELDS = ("pre_plug", "plug", "unplug_request", "unplug")
# Fields whose assigned name is a callback even when the function is not in the facts given.
CALLBACK_FIELDS = frozenset({"realize", "unrealize", "reset", "notify", *HOTPLUG_FIELDS})
_STRENGTH = {"call": 0, "uses": 0, "dispatch": 1, "register": 2, "typeinfo": 2, "parent": 2,
             "interface": 2}


def fn_id(path: str, name: str) -> str:
    return f"{path}::{name}"


def type_id(name: str) -> str:
    return f"type::{name}"


def global_id(path: str, name: str) -> str:
    return f"global::{path}::{name}"


def _is_stub(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return path.startswith("stubs/") or "/stubs/" in path or base.endswith(
        ("-stub.c", "-stubs.c", "_stub.c", "_stubs.c"))


class _Builder:
    """Collects nodes and edges in plain dicts (fast), then makes one DiGraph."""

    def __init__(self, files: Sequence[FileFacts]) -> None:
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[tuple[str, str], dict[str, Any]] = {}
        self.files = files
        self.defs: dict[str, list[tuple[str, bool]]] = {}  # name -> [(path, static)]
        self.local: dict[str, set[str]] = {}  # path -> names defined there
        self.resolved: dict[str, list[str]] = {}  # name -> ids visible from other files
        self.type_names: dict[str, str] = {}  # '"pc-dimm"' -> 'TYPE_PC_DIMM'
        self.type_values: dict[str, str] = {}  # 'TYPE_PC_DIMM' -> 'pc-dimm'

    # -- nodes
    def function_node(self, ff: FileFacts, name: str) -> str:
        nid = fn_id(ff.path, name)
        if nid not in self.nodes:
            fn = ff.function(name)
            self.nodes[nid] = {
                "kind": "function", "name": name, "path": ff.path, "line": fn.line if fn else 0,
                "end_line": fn.end_line if fn else 0, "static": fn.static if fn else False,
                "defined": fn is not None, "partial": ff.partial, "roles": set(), "settings": set()}
        return nid

    def external_node(self, name: str) -> str:
        nid = f"fn::{name}"
        if nid not in self.nodes:
            self.nodes[nid] = {
                "kind": "function", "name": name, "path": "", "line": 0, "end_line": 0,
                "static": False, "defined": False, "partial": False, "roles": set(),
                "settings": set()}
        return nid

    def type_node(self, text: str) -> str:
        name = self.type_names.get(text.strip(), text.strip())
        nid = type_id(name)
        if nid not in self.nodes:
            self.nodes[nid] = {
                "kind": "type", "name": name, "value": self.type_values.get(name, ""),
                "path": "", "line": 0, "abstract": False, "defined": False, "partial": False}
        return nid

    def add_edge(self, u: str, v: str, kind: str, **attrs: Any) -> dict[str, Any]:
        data = self.edges.get((u, v))
        if data is None:
            data = {"kind": kind, "kinds": {kind}, **attrs}
            if kind in CALL_KINDS:
                data["lines"] = {attrs["line"]}
            self.edges[u, v] = data
            return data
        data["kinds"].add(kind)
        if "line" in attrs and kind in CALL_KINDS:
            data.setdefault("lines", set()).add(attrs["line"])
        if _STRENGTH[kind] > _STRENGTH[data["kind"]]:
            data["kind"] = kind
            data.update(attrs)
        elif kind == data["kind"] == "call" and attrs.get("line", 0) < data.get("line", 0):
            data["line"] = attrs["line"]
        return data

    # -- resolution
    def resolve(self, name: str, from_path: str) -> list[str]:
        """Definitions a call of ``name`` in ``from_path`` can reach."""
        if name in self.local.get(from_path, ()):
            return [fn_id(from_path, name)]
        found = self.resolved.get(name)
        if found is None:
            candidates = self.defs.get(name, [])
            visible = [p for p, static in candidates if not static or p.endswith(".h")]
            real = [p for p in visible if not _is_stub(p)] or visible
            found = [fn_id(p, name) for p in sorted(set(real))]
            self.resolved[name] = found
        return found

    def targets(self, ff: FileFacts, name: str) -> list[str]:
        found = self.resolve(name, ff.path)
        return found or [self.external_node(name)]

    def build(self) -> nx.DiGraph:
        for ff in self.files:
            names = self.local.setdefault(ff.path, set())
            for fn in ff.functions:
                names.add(fn.name)
                self.defs.setdefault(fn.name, [])
                if (ff.path, fn.static) not in self.defs[fn.name]:
                    self.defs[fn.name].append((ff.path, fn.static))
            for d in ff.defines:
                value = d.string_value
                if value is not None and d.params is None and d.name.startswith(
                        ("TYPE_", "INTERFACE_")):
                    self.type_values.setdefault(d.name, value)
                    self.type_names.setdefault(f'"{value}"', d.name)
        for ff in self.files:
            for fn in ff.functions:
                self.function_node(ff, fn.name)
        for ff in self.files:
            self._calls(ff)
            self._types(ff)
            self._globals(ff)
        for ff in self.files:
            self._registrations(ff)
            self._notifiers(ff)
            self._dispatch(ff)
        self._machine_roles()
        return self._freeze()

    def _calls(self, ff: FileFacts) -> None:
        for call in ff.calls:
            if call.caller is None:
                continue
            src = self.function_node(ff, call.caller)
            for dst in self.targets(ff, call.callee):
                self.add_edge(src, dst, "call", line=call.line)

    def _types(self, ff: FileFacts) -> None:
        for ti in ff.typeinfos:
            tid = self.type_node(ti.name)
            attrs = self.nodes[tid]
            if not attrs["defined"]:
                attrs.update(path=ff.path, line=ti.line, abstract=ti.abstract, defined=True,
                             partial=ff.partial)
            if ti.parent:
                self.add_edge(tid, self.type_node(ti.parent), "parent", line=ti.line)
            for iface in ti.interfaces:
                self.add_edge(tid, self.type_node(iface), "interface", line=ti.line)
            for field in ("class_init", "instance_init", "instance_finalize"):
                name = getattr(ti, field)
                if not name or not name.isidentifier():
                    continue
                for dst in self.targets(ff, name):
                    self.add_edge(tid, dst, "typeinfo", field=field, line=ti.line)
                    self.nodes[dst]["roles"].add(field)
        for name in ff.type_inits:
            for dst in self.targets(ff, name):
                self.nodes[dst]["roles"].add("type_init")

    def _globals(self, ff: FileFacts) -> None:
        for use in ff.global_uses:
            self.add_edge(fn_id(ff.path, use.function), global_id(ff.path, use.name), "uses",
                          line=use.line)
        for gv in ff.globals:
            if gv.extern:
                continue
            self.nodes[global_id(ff.path, gv.name)] = {
                "kind": "global", "name": gv.name, "path": ff.path, "line": gv.line,
                "type": gv.type, "gkind": gv.kind, "static": gv.static, "const": gv.const,
                "partial": ff.partial}

    def _registrations(self, ff: FileFacts) -> None:
        for a in ff.assignments:
            if a.function is None:
                continue
            src = self.function_node(ff, a.function)
            if a.target is None or a.target == "NULL":
                if a.value in ("true", "false") and src in self.nodes:
                    self.nodes[src]["settings"].add(f"{a.obj}->{a.field} = {a.value}")
                continue
            found = self.resolve(a.target, ff.path)
            if not found:
                if a.field not in CALLBACK_FIELDS:
                    continue
                found = [self.external_node(a.target)]
            for dst in found:
                self.add_edge(src, dst, "register", role=a.field, field=a.field,
                              cls=a.cls or "", line=a.line, via=a.via)
                roles = self.nodes[dst]["roles"]
                roles.add(a.field)
                if a.cls:
                    roles.add(f"{a.cls}.{a.field}")

    def _notifiers(self, ff: FileFacts) -> None:
        for n in ff.notifiers:
            if n.notify is None:
                continue
            for dst in self.targets(ff, n.notify):
                self.nodes[dst]["roles"].add("machine_done_notifier")
                if n.function is not None:
                    attrs = {"role": "machine_done_notifier", "field": "notify",
                             "cls": "Notifier", "line": n.line, "via": n.registrar}
                    data = self.add_edge(self.function_node(ff, n.function), dst, "register",
                                         **attrs)
                    # more telling than the plain ``x.notify = f`` registration it may meet
                    data.update(kind="register", **attrs)

    def _dispatch(self, ff: FileFacts) -> None:
        for d in ff.dispatches:
            if d.function is None:
                continue
            src = self.function_node(ff, d.function)
            type_name = self.nodes[self.type_node(d.type)]["name"]
            for call in d.calls:
                for dst in self.targets(ff, call.callee):
                    data = self.add_edge(src, dst, "dispatch", line=call.line)
                    data.setdefault("types", set()).add(type_name)

    def _machine_roles(self) -> None:
        parent: dict[str, str] = {}
        class_inits: dict[str, list[str]] = {}
        mc_users: set[str] = set()
        for (u, v), e in self.edges.items():
            if e["kind"] == "parent":
                parent.setdefault(u, v)
            elif e["kind"] == "typeinfo" and e["field"] == "class_init":
                class_inits.setdefault(u, []).append(v)
            elif e["kind"] == "register" and e.get("cls") == "MachineClass":
                mc_users.add(u)
        machine_inits = set()
        for tid, inits in class_inits.items():
            seen = {tid}
            t: str | None = tid
            while t is not None:
                if t == "type::TYPE_MACHINE":
                    machine_inits.update(inits)
                    break
                t = parent.get(t)
                if t in seen:
                    break
                if t is not None:
                    seen.add(t)
        for (u, v), e in self.edges.items():
            if e["kind"] == "register" and e.get("field") in HOTPLUG_FIELDS and (
                    u in machine_inits or u in mc_users):
                self.nodes[v]["roles"].add(f"machine_{e['field']}")

    def _freeze(self) -> nx.DiGraph:
        for data in self.nodes.values():
            for key in ("roles", "settings"):
                if key in data:
                    data[key] = sorted(data[key])
        for data in self.edges.values():
            for key in ("kinds", "lines", "types"):
                if key in data:
                    data[key] = sorted(data[key])
        g = nx.DiGraph()
        g.add_nodes_from(self.nodes.items())
        g.add_edges_from((u, v, d) for (u, v), d in self.edges.items())
        return g


def build_graph(facts: Iterable[FileFacts]) -> nx.DiGraph:
    """The graph of ``facts``; a later FileFacts for the same path replaces an earlier one
    (post-images given after a tree index win)."""
    by_path: dict[str, FileFacts] = {}
    for ff in facts:
        by_path[ff.path] = ff
    # Hundreds of thousands of small dicts and no cycles: the collector only costs time here.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Builder(list(by_path.values())).build()
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Chain:
    """A call chain: ``nodes[0]`` calls ``nodes[1]`` at ``lines[0]`` (in nodes[0]'s file)..."""

    nodes: tuple[str, ...]
    lines: tuple[int, ...]

    @property
    def target(self) -> str:
        return self.nodes[-1]

    @property
    def depth(self) -> int:
        return len(self.lines)

    def names(self, g: nx.DiGraph) -> tuple[str, ...]:
        return tuple(str(g.nodes[n]["name"]) for n in self.nodes)

    def describe(self, g: nx.DiGraph) -> str:
        """``a() -> b() (hw/x.c:12) -> c() (hw/x.c:40)``"""
        parts = [f"{g.nodes[self.nodes[0]]['name']}()"]
        for i, line in enumerate(self.lines):
            caller_path = g.nodes[self.nodes[i]]["path"]
            parts.append(f"{g.nodes[self.nodes[i + 1]]['name']}() ({caller_path}:{line})")
        return " -> ".join(parts)


def find_functions(g: nx.DiGraph, name: str) -> list[str]:
    """Ids of the function nodes called ``name`` (defined ones first)."""
    found = [n for n, d in g.nodes(data=True) if d["kind"] == "function" and d["name"] == name]
    return sorted(found, key=lambda n: (not g.nodes[n]["defined"], n))


def functions_with_role(g: nx.DiGraph, role: str) -> list[str]:
    return sorted(n for n, d in g.nodes(data=True)
                  if d["kind"] == "function" and role in d["roles"])


def chains_to(g: nx.DiGraph, start: str, targets: Iterable[str], max_depth: int = 6,
              stop_at: Iterable[str] = ()) -> list[Chain]:
    """The shortest call chain from ``start`` to each function named in ``targets``.

    Follows call and dispatch edges, at most ``max_depth`` calls deep, and does not walk
    through a target or through a function named in ``stop_at``. Sorted by depth, then name.
    """
    wanted = set(targets)
    stops = set(stop_at)
    if start not in g:
        return []
    parent: dict[str, tuple[str, int] | None] = {start: None}
    depth = {start: 0}
    found: dict[str, str] = {}  # target name -> first node reached
    queue = deque([start])
    while queue:
        node = queue.popleft()
        name = g.nodes[node]["name"]
        if node != start and name in wanted:
            found.setdefault(name, node)
            continue
        if depth[node] >= max_depth or (node != start and name in stops):
            continue
        for nxt in sorted(g.successors(node)):
            e = g.edges[node, nxt]
            if e["kind"] not in CALL_KINDS or nxt in parent:
                continue
            parent[nxt] = (node, int(e["line"]))
            depth[nxt] = depth[node] + 1
            queue.append(nxt)
    chains = []
    for node in found.values():
        nodes = [node]
        lines: list[int] = []
        step = parent[node]
        while step is not None:
            prev, line = step
            nodes.append(prev)
            lines.append(line)
            step = parent[prev]
        chains.append(Chain(tuple(reversed(nodes)), tuple(reversed(lines))))
    return sorted(chains, key=lambda c: (c.depth, c.nodes))


def shortest_chain(g: nx.DiGraph, start: str, targets: Iterable[str],
                   max_depth: int = 6) -> Chain | None:
    chains = chains_to(g, start, targets, max_depth)
    return chains[0] if chains else None


def all_shortest_chains(g: nx.DiGraph, start: str, target: str, max_depth: int = 6,
                        limit: int = 50) -> list[Chain]:
    """Every shortest call chain (up to ``limit``) from ``start`` to the function named
    ``target``, not walking through other functions of that name."""
    best = shortest_chain(g, start, [target], max_depth)
    if best is None:
        return []
    end = best.target
    calls = nx.subgraph_view(g, filter_edge=lambda u, v: g.edges[u, v]["kind"] in CALL_KINDS)
    out = []
    for path in nx.all_shortest_paths(calls, start, end):
        lines = tuple(int(g.edges[u, v]["line"]) for u, v in pairwise(path))
        out.append(Chain(tuple(path), lines))
        if len(out) >= limit:
            break
    return sorted(out, key=lambda c: c.nodes)


def realize_of(g: nx.DiGraph, type_name: str, role: str = "realize",
               inherited: bool = False) -> list[str]:
    """Functions registered as ``role`` by the class_init of ``type_name`` (or, with
    ``inherited``, of the nearest ancestor that registers one)."""
    tid = type_id(type_name)
    while tid in g:
        found = sorted(
            cb
            for _, ci, e in g.out_edges(tid, data=True)
            if e["kind"] == "typeinfo" and e["field"] == "class_init"
            for _, cb, r in g.out_edges(ci, data=True)
            if r["kind"] == "register" and r["role"] == role
        )
        if found or not inherited:
            return found
        parents = [p for _, p, e in g.out_edges(tid, data=True) if e["kind"] == "parent"]
        if not parents:
            return []
        tid = parents[0]
    return []


def types_registering(g: nx.DiGraph, function: str) -> list[str]:
    """Type names whose class_init registers ``function`` (a node id) as a callback."""
    out = set()
    for registrar, _, e in g.in_edges(function, data=True):
        if e["kind"] != "register":
            continue
        for tid, _, t in g.in_edges(registrar, data=True):
            if t["kind"] == "typeinfo" and t["field"] == "class_init":
                out.add(str(g.nodes[tid]["name"]))
    return sorted(out)


def type_ancestors(g: nx.DiGraph, type_name: str) -> list[str]:
    """Parent, grandparent, ... of a type by name (stops at a cycle or an unknown parent)."""
    out: list[str] = []
    tid = type_id(type_name)
    seen = {tid}
    while tid in g:
        parents = [p for _, p, e in g.out_edges(tid, data=True) if e["kind"] == "parent"]
        if not parents or parents[0] in seen:
            break
        tid = parents[0]
        seen.add(tid)
        out.append(str(g.nodes[tid]["name"]))
    return out


def is_machine_type(g: nx.DiGraph, tid: str) -> bool:
    name = str(g.nodes[tid]["name"])
    return name == "TYPE_MACHINE" or "TYPE_MACHINE" in type_ancestors(g, name)


@dataclass(frozen=True)
class DispatchEdge:
    handler: str  # the function testing the type (e.g. a machine's plug handler)
    target: str  # the function it calls for that type
    type: str
    line: int
    roles: tuple[str, ...]  # the handler's roles


def dispatch_handlers(g: nx.DiGraph, type_name: str | None = None) -> list[DispatchEdge]:
    """Every ``if (object_dynamic_cast(.., TYPE_X)) target(..)`` in the graph."""
    out = []
    for u, v, e in g.edges(data=True):
        if "dispatch" not in e["kinds"]:
            continue
        for t in e.get("types", ()):
            if type_name is None or t == type_name:
                out.append(DispatchEdge(u, v, t, int(e["line"]),
                                        tuple(g.nodes[u]["roles"])))
    return sorted(out, key=lambda d: (d.handler, d.line, d.target, d.type))


def machine_handlers(g: nx.DiGraph, type_name: str | None = None,
                     role: str | None = None) -> list[DispatchEdge]:
    """Dispatch edges whose handler is a machine hotplug handler (``machine_plug`` etc.),
    optionally only for one type and one role (e.g. ``machine_plug``)."""
    return [d for d in dispatch_handlers(g, type_name)
            if any(r.startswith("machine_") and r[8:] in HOTPLUG_FIELDS for r in d.roles)
            and (role is None or role in d.roles)]


def focus(g: nx.DiGraph, function: str, depth: int = 3) -> nx.DiGraph:
    """The part of ``g`` around one function (a name or a node id): what it reaches through
    calls up to ``depth`` deep, what calls or registers it, and the types registering it."""
    starts = [function] if function in g else find_functions(g, function)
    keep: set[str] = set()
    for start in starts:
        keep.add(start)
        frontier = {start}
        for _ in range(depth):
            nxt = {v for u in frontier for v in g.successors(u)} - keep
            keep |= nxt
            frontier = nxt
        for u in g.predecessors(start):
            keep.add(u)
            keep.update(t for t, _ in g.in_edges(u) if g.nodes[t]["kind"] == "type")
    return g.subgraph(keep).copy()


def to_json(g: nx.DiGraph) -> dict[str, Any]:
    """A plain, stably ordered dict:
    ``{"nodes": [{"id", ...attrs}], "edges": [{"source", "target", ...attrs}]}``."""
    nodes = [{"id": n, **g.nodes[n]} for n in sorted(g.nodes)]
    edges = [{"source": u, "target": v, **g.edges[u, v]} for u, v in sorted(g.edges)]
    return {"nodes": nodes, "edges": edges}
