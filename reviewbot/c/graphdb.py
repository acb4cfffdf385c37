"""The tree's graph (``GraphState``) in the index database, read back a row at a time.

``dump_state`` writes a state built in memory (a cold index) into the database;
``load_state`` gives a ``GraphState`` whose graph and bookkeeping tables fetch what they are
asked for from the database (``StoredDiGraph``, ``store.LazyMap``), so that laying one patch's
files over the tree reads the rows of those files, the names they resolve and the nodes a rule
walks, never the whole graph. ``write_back`` stores what a change of base (``GraphState``'s
``_apply`` with the new base's files) changed: every row it has in memory.

Every primitive in ``reviewbot.c.graph`` sees the same graph either way: ``StoredDiGraph`` is a
``DiGraph`` whose node and adjacency tables are lazy mappings; iterating over all nodes or
edges reads the whole graph (``reviewbot graph`` does); ``find_functions``,
``functions_with_role`` and ``dispatch_handlers`` go through its indexes (``candidates``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from reviewbot.c.digraph import Attrs, DiGraph
from reviewbot.c.facts import FileFacts
from reviewbot.c.graph import GraphState, _Record, fn_id, type_id
from reviewbot.c.store import _ABSENT, LazyMap, Store
from reviewbot.errors import IndexDamaged

# one encoder: json.dumps with options makes a new one a call (a graph has 300,000 rows)
_dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def _attrs(text: Any) -> Attrs:
    """A node's or an edge's attributes; IndexDamaged for anything else."""
    try:
        value = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise IndexDamaged(f"an unreadable row ({exc})") from None
    if not isinstance(value, dict):
        raise IndexDamaged("an unreadable row (not attributes)")
    return value


def _value(text: Any, decode: Callable[[Any], Any]) -> Any:
    try:
        return decode(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise IndexDamaged(f"an unreadable row ({exc})") from None


def _rows(db: sqlite3.Connection, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
    try:
        return db.execute(sql, args).fetchall()
    except sqlite3.DatabaseError as exc:
        raise IndexDamaged(str(exc)) from None


# --------------------------------------------------------------------------- the graph


class LazyAdj(dict[str, Attrs]):
    """One node's in-edges, a dict that fetches an entry when it is looked up and all of them
    when it is walked. Setting and deleting entries needs none fetched: what a walk then
    gives is what a dict given the same changes would hold, in the same order."""

    __slots__ = ("_every", "_full", "_gone", "_one", "_set")

    def __init__(self, one: Callable[[str], Attrs | None],
                 every: Callable[[], list[tuple[str, Attrs]]]) -> None:
        super().__init__()
        self._one = one
        self._every = every
        self._full = False
        self._gone: set[str] = set()  # deleted here (not set again since)
        self._set: dict[str, bool] = {}  # set here, in order -> whether it goes last

    def _has(self, u: str) -> bool:
        if dict.__contains__(self, u):
            return True
        if self._full or u in self._gone:
            return False
        found = self._one(u)
        if found is None:
            return False
        dict.__setitem__(self, u, found)
        return True

    def __contains__(self, u: object) -> bool:
        return isinstance(u, str) and self._has(u)

    def __getitem__(self, u: str) -> Attrs:
        if not self._has(u):
            raise KeyError(u)
        return dict.__getitem__(self, u)

    def get(self, u: str, default: Any = None) -> Any:
        return dict.__getitem__(self, u) if self._has(u) else default

    def __setitem__(self, u: str, attrs: Attrs) -> None:
        if not self._full:
            # A dict keeps a key's place when it is set again and puts a new one last: one
            # set after being deleted goes last; one the database does not have goes last
            # when walked (``_load``) without being looked up here.
            last = u in self._gone
            self._gone.discard(u)
            self._set[u] = self._set.get(u, False) or last
        dict.__setitem__(self, u, attrs)

    def __delitem__(self, u: str) -> None:
        if not self._has(u):
            raise KeyError(u)
        dict.__delitem__(self, u)
        if not self._full:
            self._gone.add(u)
            self._set.pop(u, None)

    def pop(self, u: str, *default: Any) -> Any:
        if self._has(u):
            value = dict.__getitem__(self, u)
            del self[u]
            return value
        if default:
            return default[0]
        raise KeyError(u)

    def _load(self) -> None:
        if self._full:
            return
        stored = self._every()
        mem = dict(dict.items(self))
        out: dict[str, Attrs] = {}
        for u, attrs in stored:
            if u in self._gone or self._set.get(u):
                continue
            out[u] = mem.get(u, attrs)
        for u, last in self._set.items():
            if last or u not in out:
                out[u] = mem[u]
        dict.clear(self)
        dict.update(self, out)
        self._full = True

    def __iter__(self) -> Iterator[str]:
        self._load()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._load()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._load()
        return dict.keys(self)

    def values(self) -> Any:
        self._load()
        return dict.values(self)

    def items(self) -> Any:
        self._load()
        return dict.items(self)

    def __eq__(self, other: object) -> bool:
        self._load()
        return dict.__eq__(self, other)

    __hash__ = None

    def __repr__(self) -> str:
        self._load()
        return dict.__repr__(self)

    def copy(self) -> dict[str, Attrs]:
        self._load()
        return dict(dict.items(self))

    def changed(self) -> bool:
        return self._full or bool(self._gone or self._set)


class StoredDiGraph(DiGraph):
    """A DiGraph whose nodes and adjacency come from the index database on first look-up."""

    __slots__ = ("_db", "_edge_attrs", "_store")

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store
        self._db = store.db
        # (u, v) -> the one attribute dict of that edge, shared by succ[u][v] and pred[v][u]
        self._edge_attrs: dict[tuple[str, str], Attrs] = {}
        self._node = LazyMap(self._one_node, self._every_node, self._some_node)
        self._succ = LazyMap(self._one_succ, self._every_succ)
        self._pred = LazyMap(self._one_pred, self._every_pred)

    def _edge(self, u: str, v: str, attrs: str) -> Attrs:
        found = self._edge_attrs.get((u, v))
        if found is None:
            found = self._edge_attrs[u, v] = _attrs(attrs)
        return found

    def _one_node(self, n: str) -> Any:
        rows = _rows(self._db, "SELECT attrs FROM nodes WHERE id = ?", (n,))
        return _attrs(rows[0][0]) if rows else _ABSENT

    def _every_node(self) -> Iterator[tuple[str, Attrs]]:
        for n, attrs in _rows(self._db, "SELECT id, attrs FROM nodes ORDER BY seq"):
            yield n, _attrs(attrs)

    def _some_node(self, gone: set[str]) -> bool:
        try:
            return any(n not in gone for (n,) in self._db.execute("SELECT id FROM nodes"))
        except sqlite3.DatabaseError as exc:
            raise IndexDamaged(str(exc)) from None

    def _one_succ(self, u: str) -> Any:
        rows = _rows(self._db, "SELECT v, attrs FROM out_edges WHERE u = ? ORDER BY seq",
                     (u,))
        if not rows and not self._exists(u):
            return _ABSENT
        return {v: self._edge(u, v, a) for v, a in rows}

    def _exists(self, n: str) -> bool:
        """Is ``n`` a node, or one removed here (whose edges are being removed)?"""
        node = self._node
        assert isinstance(node, LazyMap)
        return n in node or n in node.removed()

    def _one_pred(self, v: str) -> Any:
        # A called function's callers can be thousands (error_setg): its in-edges are
        # fetched one at a time until someone walks them all.
        if not self._exists(v):
            return _ABSENT

        def one(u: str) -> Attrs | None:
            found = self._edge_attrs.get((u, v))
            if found is not None:
                return found
            rows = _rows(self._db, "SELECT attrs FROM out_edges WHERE u = ? AND v = ?", (u, v))
            return self._edge(u, v, rows[0][0]) if rows else None

        def every() -> list[tuple[str, Attrs]]:
            return [(u, self._edge(u, v, a)) for u, a in _rows(
                self._db,
                "SELECT i.u, o.attrs FROM in_edges i JOIN out_edges o "
                "ON o.u = i.u AND o.v = i.v WHERE i.v = ? ORDER BY i.seq", (v,))]

        return LazyAdj(one, every)

    def _every_succ(self) -> Iterator[tuple[str, dict[str, Attrs]]]:
        out: dict[str, dict[str, Attrs]] = {n: {} for n in self._node}
        for u, v, a in _rows(self._db, "SELECT u, v, attrs FROM out_edges ORDER BY u, seq"):
            out.setdefault(u, {})[v] = self._edge(u, v, a)
        return iter(out.items())

    def _every_pred(self) -> Iterator[tuple[str, dict[str, Attrs]]]:
        out: dict[str, dict[str, Attrs]] = {n: {} for n in self._node}
        for v, u, a in _rows(self._db,
                             "SELECT i.v, i.u, o.attrs FROM in_edges i JOIN out_edges o "
                             "ON o.u = i.u AND o.v = i.v ORDER BY i.v, i.seq"):
            out.setdefault(v, {})[u] = self._edge(u, v, a)
        return iter(out.items())

    def prefetch(self, ids: Iterable[str]) -> None:
        """Nodes and out-edges of ``ids`` in a few queries (before an overlay walks them)."""
        node, succ = self._node, self._succ
        assert isinstance(node, LazyMap) and isinstance(succ, LazyMap)
        node.prefetch(ids, self._many_nodes)
        succ.prefetch(ids, self._many_succ)

    def prefetch_nodes(self, ids: Iterable[str]) -> None:
        """Nodes of ``ids`` (not their edges) in a few queries."""
        node = self._node
        assert isinstance(node, LazyMap)
        node.prefetch(ids, self._many_nodes)

    def _many_nodes(self, ids: list[str]) -> Iterator[tuple[str, Attrs]]:
        for chunk in _chunks(ids):
            for n, attrs in _rows(self._db, "SELECT id, attrs FROM nodes WHERE id IN "
                                  f"({','.join('?' * len(chunk))})", tuple(chunk)):
                yield n, _attrs(attrs)

    def _many_succ(self, ids: list[str]) -> Iterator[tuple[str, dict[str, Attrs]]]:
        node = self._node
        assert isinstance(node, LazyMap)
        out: dict[str, dict[str, Attrs]] = {n: {} for n in ids if node.in_memory(n)}
        for chunk in _chunks(ids):
            for u, v, a in _rows(self._db, "SELECT u, v, attrs FROM out_edges WHERE u IN "
                                 f"({','.join('?' * len(chunk))}) ORDER BY u, seq",
                                 tuple(chunk)):
                out.setdefault(u, {})[v] = self._edge(u, v, a)
        return iter(out.items())

    def candidates(self, hint: str, text: str) -> list[str]:
        """A superset of the nodes that may match a query (see ``graph._candidates``):
        ``name`` (nodes called ``text``), ``text`` (whose attributes mention ``text``),
        ``dispatch`` (with a dispatch out-edge). Nodes changed in memory are always in."""
        node = self._node
        succ = self._succ
        assert isinstance(node, LazyMap) and isinstance(succ, LazyMap)
        if hint == "name":
            rows = _rows(self._db, "SELECT id FROM nodes WHERE name = ?", (text,))
            mem: Iterable[str] = node.loaded()
        elif hint == "text":
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace(
                "_", "\\_") + "%"
            rows = _rows(self._db, "SELECT id FROM nodes WHERE attrs LIKE ? ESCAPE '\\'",
                         (pattern,))
            mem = node.loaded()
        elif hint == "dispatch":
            rows = _rows(self._db, "SELECT DISTINCT u FROM out_edges WHERE dispatch")
            mem = succ.loaded()
        else:
            raise ValueError(hint)
        found = dict.fromkeys(str(r[0]) for r in rows)
        found.update(dict.fromkeys(mem))
        return list(found)


# --------------------------------------------------------------------------- the tables

# GraphState attribute -> (encode, decode) of one value of that table
_Codec = tuple[Callable[[Any], Any], Callable[[Any], Any]]


def _enc_record(r: _Record) -> Any:
    return [sorted(r.own), [list(x) for x in r.roles], sorted(r.external), sorted(r.type_refs),
            sorted(r.type_decls), sorted(r.names), sorted(r.texts), [list(m) for m in r.machine]]


def _dec_record(v: Any) -> _Record:
    own, roles, external, type_refs, type_decls, names, texts, machine = v
    return _Record(own=set(own), roles=[(a, b) for a, b in roles], external=set(external),
                   type_refs=set(type_refs), type_decls=set(type_decls), names=set(names),
                   texts=set(texts), machine=[(a, b, c, d) for a, b, c, d in machine])


def _same(v: Any) -> Any:
    return v


_SET: _Codec = (sorted, set)
KEYED: dict[str, _Codec] = {
    "_records": (_enc_record, _dec_record),
    "_defs": (lambda d: {p: sorted(s) for p, s in d.items()},
              lambda d: {p: set(s) for p, s in d.items()}),
    "_defines": (lambda pairs: [list(x) for x in pairs], lambda v: [(a, b) for a, b in v]),
    "_define_paths": _SET,
    "_type_values": (_same, _same),
    "_type_names": (_same, _same),
    "_name_refs": _SET,
    "_text_refs": _SET,
    "_type_decl_paths": _SET,
    "_counts": (_same, _same),
    "_role_src": (_same, _same),
}
WHOLE: dict[str, _Codec] = {
    "_machine_roles": (lambda s: sorted(list(x) for x in s), lambda v: {(a, b) for a, b in v}),
    "_parent": (_same, _same),
    "_class_inits": (_same, _same),
    "_machine_recs": (lambda d: {p: [list(m) for m in ms] for p, ms in d.items()},
                      lambda d: {p: [(a, b, c, e) for a, b, c, e in ms] for p, ms in d.items()}),
}


def _chunks(keys: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(keys), size):
        yield keys[i:i + size]


def _many(store: Store, tab: str, decode: Callable[[Any], Any],
          ) -> Callable[[list[str]], Iterator[tuple[str, Any]]]:
    def many(keys: list[str]) -> Iterator[tuple[str, Any]]:
        for chunk in _chunks(keys):
            for key, value in _rows(store.db, "SELECT key, value FROM state WHERE tab = ? AND "
                                    f"key IN ({','.join('?' * len(chunk))})", (tab, *chunk)):
                yield key, _value(value, decode)
    return many


class StoredGraphState(GraphState):
    """A GraphState read from the database: before laying files over it, what they will look
    up is fetched in a few batched queries rather than a row at a time."""

    _store: Store | None = None

    def _apply(self, want: dict[str, FileFacts | None]) -> None:
        store = self._store
        if store is not None:
            self._prefetch(store, want)
        super()._apply(want)

    def _prefetch(self, store: Store, want: dict[str, FileFacts | None]) -> None:
        records = self._records
        assert isinstance(records, LazyMap)
        records.prefetch(want, _many(store, "_records", KEYED["_records"][1]))
        names: set[str] = set()
        own: set[str] = set()  # the files' own nodes: their out-edges are redone
        ids: set[str] = set()  # nodes they refer to: only whether they are there is read
        texts: set[str] = set()
        for path, new in want.items():
            rec = records.get(path)
            if rec is not None:
                names |= rec.names
                texts |= rec.texts
                own |= rec.own
                ids |= rec.external | rec.type_refs
            for ff in (self.files.get(path), new):
                if ff is None:
                    continue
                names.update(fn.name for fn in ff.functions)
                names.update(c.callee for c in ff.calls)
                names.update(a.target for a in ff.assignments if a.target)
                names.update(n.notify for n in ff.notifiers if n.notify)
                names.update(c.callee for d in ff.dispatches for c in d.calls)
                own.update(fn_id(path, fn.name) for fn in ff.functions)
                own.update(fn_id(path, c.caller) for c in ff.calls if c.caller)
                texts.update(t.name.strip() for t in ff.typeinfos)
                texts.update(t.parent.strip() for t in ff.typeinfos if t.parent)
                texts.update(d.type.strip() for d in ff.dispatches)
        self._fetch(store, names, texts, own, ids)

    def _fetch(self, store: Store, names: set[str], texts: set[str], own: set[str],
               ids: set[str]) -> None:
        """The rows of names resolved, type names looked up, nodes whose out-edges are
        redone (``own``) and nodes referred to (``ids``; the nodes of ``names`` and ``texts``
        are added), in a few batched queries."""
        for tab in ("_defs", "_name_refs"):
            table = getattr(self, tab)
            assert isinstance(table, LazyMap)
            table.prefetch(names, _many(store, tab, KEYED[tab][1]))
        type_names = self._type_names
        assert isinstance(type_names, LazyMap)
        type_names.prefetch(texts, _many(store, "_type_names", KEYED["_type_names"][1]))
        for name in names:
            ids.update(self._resolve_global(name))
            ids.add(f"fn::{name}")
        ids.update(type_id(type_names.get(t, t)) for t in texts)
        graph = self.graph
        assert isinstance(graph, StoredDiGraph)
        graph.prefetch(own)
        graph.prefetch_nodes(ids - own)
        for tab in ("_role_src", "_counts"):
            table = getattr(self, tab)
            assert isinstance(table, LazyMap)
            table.prefetch(own | ids, _many(store, tab, KEYED[tab][1]))

    def _before_redo(self, paths: list[str]) -> None:
        # A file redone for a name it uses is taken out and put in again unchanged but for
        # that name: what it reads is named in its record (its own nodes, the names it
        # resolved, the nodes it refers to), without decoding its facts as ``_prefetch``
        # does for a changed file.
        store = self._store
        if store is None or not paths:
            return
        records = self._records
        assert isinstance(records, LazyMap)
        records.prefetch(paths, _many(store, "_records", KEYED["_records"][1]))
        names: set[str] = set()
        own: set[str] = set()
        refs: set[str] = set()
        texts: set[str] = set()
        for path in paths:
            rec = records.get(path)
            if rec is not None:
                names |= rec.names
                own |= rec.own
                refs |= rec.external | rec.type_refs
                refs.update(nid for nid, _ in rec.roles)
                texts |= rec.texts
        self._fetch(store, names, texts, own, refs)


def _keyed(store: Store, tab: str, decode: Callable[[Any], Any]) -> LazyMap[str, Any]:
    db = store.db

    def one(key: str) -> Any:
        rows = _rows(db, "SELECT value FROM state WHERE tab = ? AND key = ?", (tab, key))
        return _value(rows[0][0], decode) if rows else _ABSENT

    def every() -> Iterator[tuple[str, Any]]:
        for key, value in _rows(db, "SELECT key, value FROM state WHERE tab = ?", (tab,)):
            yield key, _value(value, decode)

    return LazyMap(one, every)


def _facts_map(keys: dict[str, bytes], facts: Callable[[str, bytes], FileFacts | None],
               ) -> LazyMap[str, FileFacts]:
    """path -> facts of the base files ``keys`` names (by content key). ``facts`` gives the
    same object for a key every time (an overlay compares ``files`` and ``base`` by identity)."""

    def one(path: str) -> Any:
        key = keys.get(path)
        if key is None:
            return _ABSENT
        ff = facts(path, key)
        if ff is None:
            raise IndexDamaged(f"the index has no facts for {path}")
        return ff

    def every() -> Iterator[tuple[str, FileFacts]]:
        for path in keys:
            yield path, one(path)

    return LazyMap(one, every)


def load_state(store: Store, facts: Callable[[str, bytes], FileFacts | None]) -> GraphState:
    """The state the database holds, fetched as it is used; ``facts(path, content key)``
    gives a base file's facts."""
    state = StoredGraphState.__new__(StoredGraphState)
    state._store = store
    state.graph = StoredDiGraph(store)
    keys = store.base()
    state.files = _facts_map(keys, facts)
    state.base = _facts_map(keys, facts)
    state.overlaid = {}
    state._resolved = {}
    for name, (_, decode) in KEYED.items():
        setattr(state, name, _keyed(store, name, decode))
    for name, (_, decode) in WHOLE.items():
        rows = _rows(store.db, "SELECT value FROM state WHERE tab = '' AND key = ?", (name,))
        if not rows:
            raise IndexDamaged(f"the index has no {name}")
        setattr(state, name, _value(rows[0][0], decode))
    return state


def move_base(state: GraphState, want: dict[str, FileFacts | None]) -> None:
    """Make ``want`` (path -> the new base's facts, None: gone) part of a lazily read state's
    base, as if it had been built from the new base's files."""
    state.overlay(want)
    assert isinstance(state.files, LazyMap)
    state.base = state.files.copy()
    state.overlaid = {}


def dump_state(store: Store, state: GraphState, keys: dict[str, bytes]) -> None:
    """Write a state built in memory (no overlay) as the database's graph, in the current
    write transaction. ``keys``: content key of each of its files."""
    db = store.db
    g = state.graph
    store.clear_graph()
    db.executemany("INSERT INTO base VALUES (?, ?)", sorted(keys.items()))
    db.executemany("INSERT INTO nodes VALUES (?, ?, ?, ?)",
                   ((n, i, str(d.get("name", "")), _dumps(d))
                    for i, (n, d) in enumerate(g.nodes(data=True))))
    db.executemany("INSERT INTO out_edges VALUES (?, ?, ?, ?, ?)",
                   ((u, i, v, int("dispatch" in d.get("kinds", ())), _dumps(d))
                    for u, nbrs in g.succ.items() for i, (v, d) in enumerate(nbrs.items())))
    db.executemany("INSERT INTO in_edges VALUES (?, ?, ?)",
                   ((v, i, u) for v, nbrs in g.pred.items() for i, u in enumerate(nbrs)))
    for name, (encode, _) in KEYED.items():
        table = getattr(state, name)
        db.executemany("INSERT INTO state VALUES (?, ?, ?)",
                       ((name, k, _dumps(encode(v))) for k, v in table.items()))
    for name, (encode, _) in WHOLE.items():
        db.execute("INSERT INTO state VALUES ('', ?, ?)",
                   (name, _dumps(encode(getattr(state, name)))))


def write_back(store: Store, state: GraphState, keys: dict[str, bytes]) -> None:
    """Store what a lazily read state holds in memory after a change of base (no overlay):
    every row it fetched or made, and the deletions, in the current write transaction."""
    db = store.db
    g = state.graph
    assert isinstance(g, StoredDiGraph)
    node, succ, pred = g._node, g._succ, g._pred
    assert isinstance(node, LazyMap) and isinstance(succ, LazyMap) and isinstance(pred, LazyMap)
    db.execute("DELETE FROM base")
    db.executemany("INSERT INTO base VALUES (?, ?)", sorted(keys.items()))
    db.executemany("DELETE FROM nodes WHERE id = ?", ((n,) for n in node.removed()))
    top = db.execute("SELECT coalesce(max(seq), -1) FROM nodes").fetchone()[0]
    rows = []
    for n, d in node.loaded().items():
        top += 1
        rows.append((n, top, str(d.get("name", "")), _dumps(d)))
    db.executemany("INSERT INTO nodes VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                   "name = excluded.name, attrs = excluded.attrs", rows)
    for u in succ.removed() | succ.loaded().keys():
        db.execute("DELETE FROM out_edges WHERE u = ?", (u,))
    db.executemany("INSERT INTO out_edges VALUES (?, ?, ?, ?, ?)",
                   ((u, i, v, int("dispatch" in d.get("kinds", ())), _dumps(d))
                    for u, nbrs in succ.loaded().items()
                    for i, (v, d) in enumerate(nbrs.items())))
    # in-edges fetched one by one and left as they were need no writing
    preds = {v: nbrs for v, nbrs in pred.loaded().items()
             if not isinstance(nbrs, LazyAdj) or nbrs.changed()}
    for v in pred.removed() | preds.keys():
        db.execute("DELETE FROM in_edges WHERE v = ?", (v,))
    db.executemany("INSERT INTO in_edges VALUES (?, ?, ?)",
                   ((v, i, u) for v, nbrs in preds.items() for i, u in enumerate(nbrs)))
    for name, (encode, _) in KEYED.items():
        table = getattr(state, name)
        assert isinstance(table, LazyMap)
        db.executemany("DELETE FROM state WHERE tab = ? AND key = ?",
                       ((name, k) for k in table.removed()))
        db.executemany("INSERT OR REPLACE INTO state VALUES (?, ?, ?)",
                       ((name, k, _dumps(encode(v))) for k, v in table.loaded().items()))
    for name, (encode, _) in WHOLE.items():
        db.execute("INSERT OR REPLACE INTO state VALUES ('', ?, ?)",
                   (name, _dumps(encode(getattr(state, name)))))
