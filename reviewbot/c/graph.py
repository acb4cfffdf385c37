"""The QOM call/dependency graph: one plain ``reviewbot.c.digraph.DiGraph`` built from FileFacts
(networkx's vocabulary; ``DiGraph.to_networkx()`` for networkx itself).

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

Queries (free functions; on ``g.to_networkx()`` they give the same answers):
``find_functions``, ``functions_with_role``, ``chains_to``, ``shortest_chain``,
``all_shortest_chains``, ``realize_of``, ``types_registering``, ``machine_handlers``,
``dispatch_handlers``, ``type_ancestors``, ``is_machine_type``, ``focus``, ``to_json``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from reviewbot.c.digraph import DiGraph
from reviewbot.c.facts import FileFacts
from reviewbot.util.frozen import frozen
from reviewbot.util.nogc import collector_paused

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
        return _merge_edge(self.edges, u, v, kind, **attrs)

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

    def build(self) -> DiGraph:
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

    def _freeze(self) -> DiGraph:
        for data in self.nodes.values():
            for key in ("roles", "settings"):
                if key in data:
                    data[key] = sorted(data[key])
        for data in self.edges.values():
            for key in ("kinds", "lines", "types"):
                if key in data:
                    data[key] = sorted(data[key])
        g = DiGraph()
        g.add_nodes_from(self.nodes.items())
        g.add_edges_from((u, v, d) for (u, v), d in self.edges.items())
        return g


def build_graph(facts: Iterable[FileFacts]) -> DiGraph:
    """The graph of ``facts``; a later FileFacts for the same path replaces an earlier one
    (post-images given after a tree index win). Files are taken in path order, so where two
    files disagree (two TypeInfos of one type) the result does not depend on the order given."""
    by_path: dict[str, FileFacts] = {}
    for ff in facts:
        by_path[ff.path] = ff
    # Hundreds of thousands of small dicts and no cycles: the collector only costs time here.
    with collector_paused():
        return _Builder([by_path[p] for p in sorted(by_path)]).build()


# --------------------------------------------------------------------------- queries


@frozen
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

    def names(self, g: DiGraph) -> tuple[str, ...]:
        return tuple(str(g.nodes[n]["name"]) for n in self.nodes)

    def describe(self, g: DiGraph) -> str:
        """``a() -> b() (hw/x.c:12) -> c() (hw/x.c:40)``"""
        parts = [f"{g.nodes[self.nodes[0]]['name']}()"]
        for i, line in enumerate(self.lines):
            caller_path = g.nodes[self.nodes[i]]["path"]
            parts.append(f"{g.nodes[self.nodes[i + 1]]['name']}() ({caller_path}:{line})")
        return " -> ".join(parts)


def _candidates(g: DiGraph, hint: str, text: str) -> Iterable[str]:
    """Nodes that may match: all of them, or, on a graph read from the tree index
    (``graphdb.StoredDiGraph``), a superset found through its indexes (``hint`` names
    which), so that a query does not read the whole graph in."""
    narrow = getattr(g, "candidates", None)
    if narrow is None:
        return g.nodes
    found: Iterable[str] = narrow(hint, text)
    return found


def find_functions(g: DiGraph, name: str) -> list[str]:
    """Ids of the function nodes called ``name`` (defined ones first)."""
    found = [n for n in _candidates(g, "name", name) if n in g
             and g.nodes[n]["kind"] == "function" and g.nodes[n]["name"] == name]
    return sorted(found, key=lambda n: (not g.nodes[n]["defined"], n))


def functions_with_role(g: DiGraph, role: str) -> list[str]:
    return sorted(n for n in _candidates(g, "text", role) if n in g
                  and g.nodes[n]["kind"] == "function" and role in g.nodes[n]["roles"])


def chains_to(g: DiGraph, start: str, targets: Iterable[str], max_depth: int = 6,
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


def shortest_chain(g: DiGraph, start: str, targets: Iterable[str],
                   max_depth: int = 6) -> Chain | None:
    chains = chains_to(g, start, targets, max_depth)
    return chains[0] if chains else None


def all_shortest_chains(g: DiGraph, start: str, target: str, max_depth: int = 6,
                        limit: int = 50) -> list[Chain]:
    """Every shortest call chain (up to ``limit``) from ``start`` to the function named
    ``target``, not walking through other functions of that name."""
    best = shortest_chain(g, start, [target], max_depth)
    if best is None:
        return []
    end = best.target
    # breadth first over call edges: the callers of each node one step nearer to ``start``
    dist = {start: 0}
    nearer: dict[str, list[str]] = {start: []}
    frontier = [start]
    while frontier and end not in frontier:
        step: list[str] = []
        for u in frontier:
            for v, e in g.succ[u].items():
                if e["kind"] not in CALL_KINDS:
                    continue
                if v not in dist:
                    dist[v] = dist[u] + 1
                    nearer[v] = []
                    step.append(v)
                if dist[v] == dist[u] + 1:
                    nearer[v].append(u)
        frontier = step
    out: list[Chain] = []
    # walk back from ``end``, callers in order, so that ``limit`` keeps the first chains
    stack = [[end]]
    while stack and len(out) < limit:
        path = stack.pop()
        if path[-1] == start:
            nodes = tuple(reversed(path))
            lines = tuple(int(g.edges[u, v]["line"]) for u, v in pairwise(nodes))
            out.append(Chain(nodes, lines))
            continue
        stack.extend([*path, u] for u in sorted(nearer[path[-1]], reverse=True))
    return sorted(out, key=lambda c: c.nodes)


def realize_of(g: DiGraph, type_name: str, role: str = "realize",
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


def types_registering(g: DiGraph, function: str) -> list[str]:
    """Type names whose class_init registers ``function`` (a node id) as a callback."""
    out = set()
    for registrar, _, e in g.in_edges(function, data=True):
        if e["kind"] != "register":
            continue
        for tid, _, t in g.in_edges(registrar, data=True):
            if t["kind"] == "typeinfo" and t["field"] == "class_init":
                out.add(str(g.nodes[tid]["name"]))
    return sorted(out)


def type_ancestors(g: DiGraph, type_name: str) -> list[str]:
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


def is_machine_type(g: DiGraph, tid: str) -> bool:
    name = str(g.nodes[tid]["name"])
    return name == "TYPE_MACHINE" or "TYPE_MACHINE" in type_ancestors(g, name)


@frozen
class DispatchEdge:
    handler: str  # the function testing the type (e.g. a machine's plug handler)
    target: str  # the function it calls for that type
    type: str
    line: int
    roles: tuple[str, ...]  # the handler's roles


def dispatch_handlers(g: DiGraph, type_name: str | None = None) -> list[DispatchEdge]:
    """Every ``if (object_dynamic_cast(.., TYPE_X)) target(..)`` in the graph."""
    out = []
    # the adjacency dicts themselves: a tree's graph has some 130,000 edges, and walking them
    # through views costs several times more; on a graph read from the index, only the
    # nodes its index says have dispatch edges
    succ = g.succ
    sources = _candidates(g, "dispatch", "") if hasattr(g, "candidates") else succ
    for u in sources:
        nbrs = succ.get(u)
        if nbrs is None:
            continue
        for v, e in nbrs.items():
            if "dispatch" not in e["kinds"]:
                continue
            for t in e.get("types", ()):
                if type_name is None or t == type_name:
                    out.append(DispatchEdge(u, v, t, int(e["line"]),
                                            tuple(g.nodes[u]["roles"])))
    return sorted(out, key=lambda d: (d.handler, d.line, d.target, d.type))


def machine_handlers(g: DiGraph, type_name: str | None = None,
                     role: str | None = None) -> list[DispatchEdge]:
    """Dispatch edges whose handler is a machine hotplug handler (``machine_plug`` etc.),
    optionally only for one type and one role (e.g. ``machine_plug``)."""
    return [d for d in dispatch_handlers(g, type_name)
            if any(r.startswith("machine_") and r[8:] in HOTPLUG_FIELDS for r in d.roles)
            and (role is None or role in d.roles)]


def focus(g: DiGraph, function: str, depth: int = 3) -> DiGraph:
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


def to_json(g: DiGraph) -> dict[str, Any]:
    """A plain, stably ordered dict:
    ``{"nodes": [{"id", ...attrs}], "edges": [{"source", "target", ...attrs}]}``."""
    nodes = [{"id": n, **g.nodes[n]} for n in sorted(g.nodes)]
    edges = [{"source": u, "target": v, **g.edges[u, v]} for u, v in sorted(g.edges)]
    return {"nodes": nodes, "edges": edges}


# --------------------------------------------------------------------------- incremental


def _merge_edge(edges: dict[tuple[str, str], dict[str, Any]], u: str, v: str, kind: str,
                **attrs: Any) -> dict[str, Any]:
    """Add or merge edge u -> v in ``edges``: one edge a pair, the strongest kind wins."""
    data = edges.get((u, v))
    if data is None:
        data = {"kind": kind, "kinds": {kind}, **attrs}
        if kind in CALL_KINDS:
            data["lines"] = {attrs["line"]}
        edges[u, v] = data
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


def _frozen_edge(data: dict[str, Any]) -> dict[str, Any]:
    for key in ("kinds", "lines", "types"):
        if key in data:
            data[key] = sorted(data[key])
    return data


def _function_attrs(ff: FileFacts, name: str) -> dict[str, Any]:
    fn = ff.function(name)
    return {"kind": "function", "name": name, "path": ff.path, "line": fn.line if fn else 0,
            "end_line": fn.end_line if fn else 0, "static": fn.static if fn else False,
            "defined": fn is not None, "partial": ff.partial, "roles": [], "settings": set()}


def _external_attrs(name: str) -> dict[str, Any]:
    return {"kind": "function", "name": name, "path": "", "line": 0, "end_line": 0,
            "static": False, "defined": False, "partial": False, "roles": [], "settings": []}


@dataclass
class _Record:
    """What one file put into the graph, so that it can be taken out again."""

    own: set[str]  # nodes only this file makes: its functions and globals
    roles: list[tuple[str, str]]  # (node, role) it gave, possibly to other files' nodes
    external: set[str]  # fn::name nodes it made
    type_refs: set[str]  # type nodes it names
    type_decls: set[str]  # type nodes it has a TypeInfo for
    names: set[str]  # names it resolved outside the file
    texts: set[str]  # quoted type names it looked up
    machine: list[tuple[str, str, str, str]]  # register edges (u, v, field, cls) for machine roles


class GraphState:
    """The graph of a set of files that can be changed a few files at a time.

    ``graph`` equals ``build_graph`` of the current files (same ids, attributes, and the same
    order of each node's out-edges), but replacing the facts of a few files only redoes those
    files, the files whose calls resolve differently because of them, and the types they
    declare. Meant for a tree's graph with one patch's post-images laid over it at a time:
    ``overlay({path: facts, deleted_path: None})`` replaces the current overlay.
    """

    def __init__(self, facts: Iterable[FileFacts] = ()) -> None:
        self.graph = DiGraph()
        self.base: MutableMapping[str, FileFacts] = {}
        self.files: MutableMapping[str, FileFacts] = {}
        self.overlaid: dict[str, FileFacts | None] = {}
        # The tables below are plain dicts in a state built here; in a state read from the
        # tree index (reviewbot.c.graphdb) the keyed ones are fetched a key at a time, and
        # the last four (small, walked whole) are read whole.
        self._records: MutableMapping[str, _Record] = {}
        self._defs: MutableMapping[str, dict[str, set[bool]]] = {}  # name -> path -> statics
        self._resolved: dict[str, list[str]] = {}  # derived from _defs, never stored
        self._defines: MutableMapping[str, list[tuple[str, str]]] = {}  # path -> [(TYPE_X, v)]
        self._define_paths: MutableMapping[str, set[str]] = {}  # TYPE_X or '"value"' -> paths
        self._type_values: MutableMapping[str, str] = {}
        self._type_names: MutableMapping[str, str] = {}
        self._name_refs: MutableMapping[str, set[str]] = {}
        self._text_refs: MutableMapping[str, set[str]] = {}
        self._type_decl_paths: MutableMapping[str, set[str]] = {}
        self._counts: MutableMapping[str, int] = {}  # references of fn:: and type:: nodes
        self._role_src: MutableMapping[str, dict[str, int]] = {}
        self._machine_roles: set[tuple[str, str]] = set()
        self._parent: dict[str, str] = {}  # type -> parent (first parent edge)
        self._class_inits: dict[str, list[str]] = {}
        # path -> its register edges that can give machine roles (``_Record.machine``)
        self._machine_recs: dict[str, list[tuple[str, str, str, str]]] = {}
        with collector_paused():
            self._apply({ff.path: ff for ff in facts})
        self.base = dict(self.files)

    # -- public
    def overlay(self, changes: dict[str, FileFacts | None]) -> DiGraph:
        """The graph of the base files with ``changes`` laid over them (None: the file is
        gone), undoing the previous overlay first. Returns ``graph`` (changed in place)."""
        with collector_paused():
            want: dict[str, FileFacts | None] = {}
            for path in self.overlaid.keys() | changes.keys():
                new = changes[path] if path in changes else self.base.get(path)
                if new is not self.files.get(path):
                    want[path] = new
            self.overlaid = dict(changes)
            if want:
                self._apply(want)
        return self.graph

    # -- tables
    def _resolve_global(self, name: str) -> list[str]:
        found = self._resolved.get(name)
        if found is None:
            candidates = self._defs.get(name, {})
            visible = [p for p, statics in candidates.items()
                       if False in statics or p.endswith(".h")]
            real = [p for p in visible if not _is_stub(p)] or visible
            found = [fn_id(p, name) for p in sorted(real)]
            self._resolved[name] = found
        return found

    def _type_defines(self, ff: FileFacts) -> list[tuple[str, str]]:
        out = []
        for d in ff.defines:
            value = d.string_value
            if value is not None and d.params is None and d.name.startswith(
                    ("TYPE_", "INTERFACE_")):
                out.append((d.name, value))
        return out

    def _first_define(self, key: str) -> str | None:
        """type_values / type_names as build_graph fills them: first file in path order."""
        by_name = not key.startswith('"')
        for path in sorted(self._define_paths.get(key, ())):
            for name, value in self._defines[path]:
                if by_name and name == key:
                    return value
                if not by_name and f'"{value}"' == key:
                    return name
        return None

    # -- the update
    def _apply(self, want: dict[str, FileFacts | None]) -> None:
        g = self.graph
        names: set[str] = set()
        keys: set[str] = set()
        for path, new in want.items():
            old = self.files.get(path)
            for ff in (old, new):
                if ff is not None:
                    names.update(fn.name for fn in ff.functions)
        # the first build: nothing to compare with
        fresh = isinstance(self._records, dict) and not self._records
        before = {} if fresh else {n: self._resolve_global(n) for n in names}
        for path, new in want.items():
            old = self.files.pop(path, None)
            if old is not None:
                for fn in old.functions:
                    entry = self._defs[fn.name]
                    entry.pop(path, None)
                    if not entry:
                        del self._defs[fn.name]
                for name, value in self._defines.pop(path, []):
                    for key in (name, f'"{value}"'):
                        keys.add(key)
                        self._define_paths[key].discard(path)
            if new is not None:
                self.files[path] = new
                for fn in new.functions:
                    self._defs.setdefault(fn.name, {}).setdefault(path, set()).add(fn.static)
                found = self._type_defines(new)
                self._defines[path] = found
                for name, value in found:
                    for key in (name, f'"{value}"'):
                        keys.add(key)
                        self._define_paths.setdefault(key, set()).add(path)
        for n in names:
            self._resolved.pop(n, None)
        redo = set(want)
        for n in () if fresh else names:
            if self._resolve_global(n) != before[n]:
                redo |= self._name_refs.get(n, set())
        values_changed: list[str] = []
        for key in keys:
            now = self._first_define(key)
            table = self._type_names if key.startswith('"') else self._type_values
            if table.get(key) == now:
                continue
            if now is None:
                del table[key]
            else:
                table[key] = now
            if key.startswith('"'):
                redo |= self._text_refs.get(key, set())
            else:
                values_changed.append(key)

        dirty_types: set[str] = set()
        dirty_roles: set[str] = set()
        order = sorted(redo)
        self._before_redo([p for p in order if p not in want])
        gone_own: dict[str, set[str]] = {}
        for path in order:
            rec = self._records.pop(path, None)
            if rec is not None:
                self._take_out(path, rec, dirty_types, dirty_roles)
                gone_own[path] = rec.own
                self._machine_recs.pop(path, None)
        own: dict[str, set[str]] = {}
        added: list[tuple[str, dict[str, Any]]] = []
        for path in order:
            if path in want:
                ff = self.files.get(path)
                keep = self._own_nodes(ff) if ff is not None else {}
                own[path] = set(keep)
                for nid in gone_own.get(path, set()) - keep.keys():
                    if nid in g:
                        g.remove_node(nid)
                    self._role_src.pop(nid, None)
                for nid, attrs in keep.items():
                    if nid in g:
                        data = g.nodes[nid]
                        data.clear()
                        data.update(attrs)
                    else:
                        added.append((nid, attrs))
                    if attrs.get("kind") == "function":
                        dirty_roles.add(nid)
            else:
                own[path] = gone_own.get(path, set())
        g.add_nodes_from(added)
        for path in order:
            ff = self.files.get(path)
            if ff is not None:
                rec = self._records[path] = self._put_in(ff, own[path], dirty_types,
                                                         dirty_roles)
                if rec.machine:
                    self._machine_recs[path] = rec.machine
        for name in values_changed:
            tid = type_id(name)
            if tid in g:
                g.nodes[tid]["value"] = self._type_values.get(name, "")
        for tid in sorted(dirty_types):
            self._redo_type(tid)
        self._redo_machine_roles(dirty_roles)
        for nid in dirty_roles:
            if nid in g and g.nodes[nid].get("kind") == "function":
                counts = self._role_src.get(nid, {})
                g.nodes[nid]["roles"] = sorted(r for r, c in counts.items() if c > 0)

    def _before_redo(self, paths: list[str]) -> None:
        """Called with the files ``_apply`` redoes only because a name or a type they use
        resolves differently now (a state read from a database fetches their rows here)."""

    def _own_nodes(self, ff: FileFacts) -> dict[str, dict[str, Any]]:
        nodes: dict[str, dict[str, Any]] = {}
        names: dict[str | None, None] = dict.fromkeys(fn.name for fn in ff.functions)
        names.update(dict.fromkeys(c.caller for c in ff.calls))
        names.update(dict.fromkeys(a.function for a in ff.assignments))
        names.update(dict.fromkeys(n.function for n in ff.notifiers if n.notify is not None))
        names.update(dict.fromkeys(d.function for d in ff.dispatches))
        for name in names:
            if name is not None:
                nodes[fn_id(ff.path, name)] = _function_attrs(ff, name)
        for a in ff.assignments:
            if a.function is not None and (a.target is None or a.target == "NULL") and \
                    a.value in ("true", "false"):
                nodes[fn_id(ff.path, a.function)]["settings"].add(
                    f"{a.obj}->{a.field} = {a.value}")
        for data in nodes.values():
            data["settings"] = sorted(data["settings"])
        for use in ff.global_uses:
            nodes.setdefault(fn_id(ff.path, use.function), {})
            nodes.setdefault(global_id(ff.path, use.name), {})
        for gv in ff.globals:
            if not gv.extern:
                nodes[global_id(ff.path, gv.name)] = {
                    "kind": "global", "name": gv.name, "path": ff.path, "line": gv.line,
                    "type": gv.type, "gkind": gv.kind, "static": gv.static, "const": gv.const,
                    "partial": ff.partial}
        return nodes

    def _ref(self, nid: str, attrs: dict[str, Any]) -> None:
        count = self._counts.get(nid, 0)
        self._counts[nid] = count + 1
        if count == 0 and nid not in self.graph:
            self.graph.add_node(nid, **attrs)

    def _unref(self, nid: str) -> None:
        count = self._counts[nid] - 1
        if count:
            self._counts[nid] = count
            return
        del self._counts[nid]
        if nid in self.graph:
            self.graph.remove_node(nid)
        self._role_src.pop(nid, None)

    def _type_ref(self, rec: _Record, text: str) -> str:
        text = text.strip()
        if text.startswith('"'):
            rec.texts.add(text)
        name = self._type_names.get(text, text)
        nid = type_id(name)
        if nid not in rec.type_refs:
            rec.type_refs.add(nid)
            self._ref(nid, {"kind": "type", "name": name,
                            "value": self._type_values.get(name, ""), "path": "", "line": 0,
                            "abstract": False, "defined": False, "partial": False})
        return nid

    def _targets(self, ff: FileFacts, name: str, rec: _Record | None,
                 external: bool = True) -> list[str]:
        fn = ff.function(name)
        if fn is not None:
            return [fn_id(ff.path, name)]
        if rec is not None:
            rec.names.add(name)
        found = self._resolve_global(name)
        if found or not external:
            return found
        nid = f"fn::{name}"
        if rec is not None and nid not in rec.external:
            rec.external.add(nid)
            self._ref(nid, _external_attrs(name))
        return [nid]

    def _put_in(self, ff: FileFacts, own: set[str], dirty_types: set[str],
                dirty_roles: set[str]) -> _Record:
        rec = _Record(own=own, roles=[], external=set(), type_refs=set(),
                      type_decls=set(), names=set(), texts=set(), machine=[])
        edges: dict[tuple[str, str], dict[str, Any]] = {}
        path = ff.path
        for call in ff.calls:
            if call.caller is None:
                continue
            src = fn_id(path, call.caller)
            for dst in self._targets(ff, call.callee, rec):
                _merge_edge(edges, src, dst, "call", line=call.line)
        for ti in ff.typeinfos:
            tid = self._type_ref(rec, ti.name)
            rec.type_decls.add(tid)
            if ti.parent:
                self._type_ref(rec, ti.parent)
            for iface in ti.interfaces:
                self._type_ref(rec, iface)
            for fld in ("class_init", "instance_init", "instance_finalize"):
                name = getattr(ti, fld)
                if not name or not name.isidentifier():
                    continue
                for dst in self._targets(ff, name, rec):
                    rec.roles.append((dst, fld))
        for name in ff.type_inits:
            for dst in self._targets(ff, name, rec):
                rec.roles.append((dst, "type_init"))
        for use in ff.global_uses:
            _merge_edge(edges, fn_id(path, use.function), global_id(path, use.name), "uses",
                        line=use.line)
        for a in ff.assignments:
            if a.function is None or a.target is None or a.target == "NULL":
                continue
            src = fn_id(path, a.function)
            found = self._targets(ff, a.target, rec, external=a.field in CALLBACK_FIELDS)
            for dst in found:
                _merge_edge(edges, src, dst, "register", role=a.field, field=a.field,
                            cls=a.cls or "", line=a.line, via=a.via)
                rec.roles.append((dst, a.field))
                if a.cls:
                    rec.roles.append((dst, f"{a.cls}.{a.field}"))
        for n in ff.notifiers:
            if n.notify is None:
                continue
            for dst in self._targets(ff, n.notify, rec):
                rec.roles.append((dst, "machine_done_notifier"))
                if n.function is not None:
                    attrs = {"role": "machine_done_notifier", "field": "notify",
                             "cls": "Notifier", "line": n.line, "via": n.registrar}
                    data = _merge_edge(edges, fn_id(path, n.function), dst, "register", **attrs)
                    data.update(kind="register", **attrs)
        for d in ff.dispatches:
            if d.function is None:
                continue
            src = fn_id(path, d.function)
            type_name = self.graph.nodes[self._type_ref(rec, d.type)]["name"]
            for call in d.calls:
                for dst in self._targets(ff, call.callee, rec):
                    data = _merge_edge(edges, src, dst, "dispatch", line=call.line)
                    data.setdefault("types", set()).add(type_name)
        for (u, v), e in edges.items():
            if e["kind"] == "register" and (e.get("field") in HOTPLUG_FIELDS
                                            or e.get("cls") == "MachineClass"):
                rec.machine.append((u, v, str(e.get("field", "")), str(e.get("cls", ""))))
        self.graph.add_edges_from((u, v, _frozen_edge(d)) for (u, v), d in edges.items())
        for nid, role in rec.roles:
            counts = self._role_src.setdefault(nid, {})
            counts[role] = counts.get(role, 0) + 1
            dirty_roles.add(nid)
        for name in rec.names:
            self._name_refs.setdefault(name, set()).add(path)
        for t in rec.texts:
            self._text_refs.setdefault(t, set()).add(path)
        for tid in rec.type_decls:
            self._type_decl_paths.setdefault(tid, set()).add(path)
        dirty_types |= rec.type_decls
        return rec

    def _take_out(self, path: str, rec: _Record, dirty_types: set[str],
                  dirty_roles: set[str]) -> None:
        g = self.graph
        for nid in rec.own:
            if nid in g:
                g.remove_edges_from(list(g.out_edges(nid)))
        for nid, role in rec.roles:
            counts = self._role_src.get(nid)
            if counts is not None and role in counts:
                counts[role] -= 1
                if not counts[role]:
                    del counts[role]
            dirty_roles.add(nid)
        for n in rec.names:
            self._name_refs[n].discard(path)
        for t in rec.texts:
            self._text_refs[t].discard(path)
        for tid in rec.type_decls:
            self._type_decl_paths[tid].discard(path)
        dirty_types |= rec.type_decls
        for nid in rec.external:
            self._unref(nid)
        for nid in rec.type_refs:
            self._unref(nid)

    def _redo_type(self, tid: str) -> None:
        """A type's out-edges and 'defined' attributes from its TypeInfos, in path order."""
        g = self.graph
        self._parent.pop(tid, None)
        self._class_inits.pop(tid, None)
        if tid not in g:
            return
        g.remove_edges_from(list(g.out_edges(tid)))
        attrs = g.nodes[tid]
        attrs.update(path="", line=0, abstract=False, defined=False, partial=False)
        edges: dict[tuple[str, str], dict[str, Any]] = {}
        for path in sorted(self._type_decl_paths.get(tid, ())):
            ff = self.files[path]
            for ti in ff.typeinfos:
                if type_id(self._type_names.get(ti.name.strip(), ti.name.strip())) != tid:
                    continue
                if not attrs["defined"]:
                    attrs.update(path=path, line=ti.line, abstract=ti.abstract, defined=True,
                                 partial=ff.partial)
                if ti.parent:
                    parent = self._type_names.get(ti.parent.strip(), ti.parent.strip())
                    _merge_edge(edges, tid, type_id(parent), "parent", line=ti.line)
                for iface in ti.interfaces:
                    name = self._type_names.get(iface.strip(), iface.strip())
                    _merge_edge(edges, tid, type_id(name), "interface", line=ti.line)
                for fld in ("class_init", "instance_init", "instance_finalize"):
                    name = getattr(ti, fld)
                    if not name or not name.isidentifier():
                        continue
                    found = self._targets(ff, name, None, external=False) or [f"fn::{name}"]
                    for dst in found:
                        _merge_edge(edges, tid, dst, "typeinfo", field=fld, line=ti.line)
        g.add_edges_from((u, v, _frozen_edge(d)) for (u, v), d in edges.items())
        for (_, v), e in edges.items():
            if e["kind"] == "parent":
                self._parent.setdefault(tid, v)
            elif e["kind"] == "typeinfo" and e["field"] == "class_init":
                self._class_inits.setdefault(tid, []).append(v)

    def _redo_machine_roles(self, dirty_roles: set[str]) -> None:
        machine_inits: set[str] = set()
        is_machine: dict[str, bool] = {}

        def machine(t: str) -> bool:
            seen: list[str] = []
            cur: str | None = t
            result = False
            while cur is not None:
                if cur in is_machine:
                    result = is_machine[cur]
                    break
                if cur == "type::TYPE_MACHINE":
                    result = True
                    break
                if cur in seen:
                    break
                seen.append(cur)
                cur = self._parent.get(cur)
            for s in seen:
                is_machine[s] = result
            return result

        for tid, inits in self._class_inits.items():
            if machine(tid):
                machine_inits.update(inits)
        records = [m for machine in self._machine_recs.values() for m in machine]
        mc_users = {u for u, _, _, cls in records if cls == "MachineClass"}
        roles = {(v, f"machine_{fld}") for u, v, fld, _ in records
                 if fld in HOTPLUG_FIELDS and (u in machine_inits or u in mc_users)}
        for nid, role in self._machine_roles - roles:
            counts = self._role_src.get(nid)
            if counts is not None and counts.get(role):
                counts[role] -= 1
                if not counts[role]:
                    del counts[role]
            dirty_roles.add(nid)
        for nid, role in roles - self._machine_roles:
            counts = self._role_src.setdefault(nid, {})
            counts[role] = counts.get(role, 0) + 1
            dirty_roles.add(nid)
        self._machine_roles = roles
