"""A GraphState read back lazily from the index database: the same graph as one built in
memory, and what a change makes it redo is fetched in batches."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from reviewbot.c import graphdb
from reviewbot.c.facts import FileFacts, extract
from reviewbot.c.graph import GraphState, build_graph
from reviewbot.c.store import Store
from tests.c.test_incremental_graph import GADGET, HELPER, assert_same_graph, fixture_facts


def _stored(tmp_path: Path, files: dict[str, FileFacts]) -> GraphState:
    keys = {p: hashlib.blake2b(p.encode(), digest_size=8).digest() for p in files}
    by_key = {keys[p]: ff for p, ff in files.items()}
    store = Store(tmp_path / "index.db")
    with store.write():
        graphdb.dump_state(store, GraphState(files.values()), keys)
    store.begin_read()
    return graphdb.load_state(store, lambda path, key: by_key.get(key))


def test_a_file_redone_for_a_name_is_fetched_in_batches(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = fixture_facts()
    base["hw/misc/gadget-helper.c"] = extract("hw/misc/gadget-helper.c", HELPER)
    base["hw/misc/gadget.c"] = extract("hw/misc/gadget.c", GADGET)
    state = _stored(tmp_path, base)
    queries: list[tuple[str, tuple[Any, ...]]] = []
    rows = graphdb._rows

    def counting(db: Any, sql: str, args: tuple[Any, ...] = ()) -> list[Any]:
        queries.append((sql, args))
        return rows(db, sql, args)

    monkeypatch.setattr(graphdb, "_rows", counting)
    # the helper made static: gadget.c, which the patch does not touch, calls it and is redone
    private = extract("hw/misc/gadget-helper.c",
                      HELPER.replace("void gadget_pick", "static void gadget_pick"))
    g = state.overlay({"hw/misc/gadget-helper.c": private})
    assert_same_graph(g, build_graph({**base, "hw/misc/gadget-helper.c": private}.values()))
    assert ("hw/misc/gadget.c::gadget_realize", "fn::gadget_pick_node") in g.edges
    # gadget.c's record, own nodes and their out-edges came in batched queries, none alone
    one_by_one = [args for sql, args in queries if sql.endswith("key = ?")
                  and args[0] == "_records"]
    assert one_by_one == []
    alone = [args for sql, args in queries
             if sql.startswith(("SELECT attrs FROM nodes WHERE id = ?",
                                "SELECT v, attrs FROM out_edges WHERE u = ?"))]
    assert ("hw/misc/gadget.c::gadget_realize",) not in alone
    assert any(sql.startswith("SELECT key, value FROM state WHERE tab = ? AND key IN")
               and args[0] == "_records" and "hw/misc/gadget.c" in args
               for sql, args in queries)

    # and back: the tree's own graph again
    assert_same_graph(state.overlay({}), build_graph(base.values()))
