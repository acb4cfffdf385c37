"""reviewbot.c.digraph.DiGraph against networkx.DiGraph: the same operations give the same graph."""

from __future__ import annotations

import pickle
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.c.digraph import DiGraph

NAMES = st.sampled_from([f"n{i}" for i in range(8)])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add_node"), NAMES, st.integers(0, 3)),
        st.tuples(st.just("add_edge"), NAMES, NAMES, st.integers(0, 3)),
        st.tuples(st.just("remove_node"), NAMES),
        st.tuples(st.just("remove_edges_from"), NAMES, NAMES),
    ),
    max_size=40,
)


def apply(g: Any, ops: list[tuple[Any, ...]]) -> None:
    for op in ops:
        if op[0] == "add_node":
            g.add_node(op[1], w=op[2])
        elif op[0] == "add_edge":
            g.add_edge(op[1], op[2], w=op[3])
        elif op[0] == "remove_node":
            if op[1] in g:
                g.remove_node(op[1])
        else:
            g.remove_edges_from([(op[1], op[2])])


def shape(g: Any) -> tuple[Any, ...]:
    return (sorted(g.nodes(data=True), key=lambda x: x[0]),
            sorted((u, v, d) for u, v, d in g.edges(data=True)),
            {n: sorted(g.successors(n)) for n in g},
            {n: sorted(g.predecessors(n)) for n in g},
            {n: sorted(g.in_edges(n, data=True)) for n in g},
            g.number_of_nodes(), g.number_of_edges())


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_same_operations_same_graph_as_networkx(ops: list[tuple[Any, ...]]) -> None:
    ours, theirs = DiGraph(), nx.DiGraph()
    apply(ours, ops)
    apply(theirs, ops)
    assert shape(ours) == shape(theirs)
    assert shape(ours.to_networkx()) == shape(theirs)
    keep = [n for i, n in enumerate(sorted(theirs)) if i % 2 == 0]
    assert shape(ours.subgraph(keep)) == shape(theirs.subgraph(keep))
    assert shape(pickle.loads(pickle.dumps(ours))) == shape(theirs)


def test_views_and_lookups() -> None:
    g = DiGraph()
    g.add_nodes_from([("a", {"kind": "function"}), "b"])
    g.add_edges_from([("a", "b", {"kind": "call", "line": 3}), ("b", "c")])
    assert "c" in g and "c" in g.nodes and "d" not in g
    assert g.nodes["a"] == {"kind": "function"} and g.nodes["c"] == {}
    assert g.edges["a", "b"] == {"kind": "call", "line": 3}
    assert ("a", "b") in g.edges and ("b", "a") not in g.edges
    assert sorted(g.edges) == [("a", "b"), ("b", "c")]
    assert list(g.nodes(data="kind")) == [("a", "function"), ("b", None), ("c", None)]
    assert list(g.out_edges("a", data=True)) == [("a", "b", {"kind": "call", "line": 3})]
    assert g.succ["a"]["b"] is g.pred["b"]["a"]
    g.add_edge("a", "b", line=5)  # an existing edge: its attributes are updated
    assert g.edges["a", "b"] == {"kind": "call", "line": 5}
    copy = g.copy()
    copy.nodes["a"]["kind"] = "type"
    assert g.nodes["a"]["kind"] == "function"
    g.remove_node("b")
    assert sorted(g) == ["a", "c"] and len(g.edges) == 0
    with pytest.raises(KeyError):
        g.remove_node("b")
