"""A plain directed graph: string node ids, one attribute dict a node and one an edge.

Its methods carry networkx's names and meanings (``g.nodes[n]``, ``g.edges[u, v]``,
``g.out_edges(n, data=True)``, ``g.successors(n)``...), so a networkx user reads the queries in
``reviewbot.c.graph`` as they are, and ``to_networkx()`` hands the graph to networkx for export
and analysis. It is not networkx itself because ``import networkx`` costs about 0.1 s, as much as
checkpatch.pl needs for a whole small patch, and ``check`` runs on every patch a contributor
sends (issue 8); ``check`` only ever builds, walks and looks up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import networkx as nx

Attrs = dict[str, Any]


class _OfNodes:
    """``n in x``, ``iter(x)`` and ``len(x)`` over the nodes, for the graph and its view."""

    __slots__ = ()
    _node: Mapping[str, Attrs]

    def __contains__(self, n: object) -> bool:
        return n in self._node

    def __iter__(self) -> Iterator[str]:
        return iter(self._node)

    def __len__(self) -> int:
        return len(self._node)

    def __bool__(self) -> bool:
        # not len(): a graph read lazily from the index tells whether it has a node
        # without reading every node in (``if g`` is common in the rules)
        return bool(self._node)


class NodeView(_OfNodes):
    """``g.nodes``: ``g.nodes[n]`` is n's attributes; ``g.nodes(data=True)`` yields
    ``(n, attrs)``."""

    __slots__ = ("_node",)

    def __init__(self, node: Mapping[str, Attrs]) -> None:
        self._node = node

    def __getitem__(self, n: str) -> Attrs:
        return self._node[n]

    @overload
    def __call__(self, data: bool = False) -> Iterable[Any]: ...
    @overload
    def __call__(self, data: str, default: Any = None) -> Iterable[tuple[str, Any]]: ...

    def __call__(self, data: bool | str = False, default: Any = None) -> Iterable[Any]:
        if data is True:
            return self._node.items()
        if data is False:
            return iter(self._node)
        return ((n, d.get(data, default)) for n, d in self._node.items())

    def items(self) -> Iterable[tuple[str, Attrs]]:
        return self._node.items()


class EdgeView:
    """``g.edges``: ``g.edges[u, v]`` is the edge's attributes; iterating yields ``(u, v)``;
    ``g.edges(data=True)`` yields ``(u, v, attrs)``."""

    __slots__ = ("_succ",)

    def __init__(self, succ: Mapping[str, dict[str, Attrs]]) -> None:
        self._succ = succ

    def __getitem__(self, edge: tuple[str, str]) -> Attrs:
        u, v = edge
        return self._succ[u][v]

    def __contains__(self, edge: object) -> bool:
        if not isinstance(edge, tuple) or len(edge) != 2:
            return False
        nbrs = self._succ.get(edge[0])
        return nbrs is not None and edge[1] in nbrs

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((u, v) for u, nbrs in self._succ.items() for v in nbrs)

    def __len__(self) -> int:
        return sum(len(nbrs) for nbrs in self._succ.values())

    def __call__(self, data: bool = False) -> Iterable[Any]:
        if data:
            return ((u, v, d) for u, nbrs in self._succ.items() for v, d in nbrs.items())
        return iter(self)


class DiGraph(_OfNodes):
    """Adjacency dicts: ``succ[u][v]`` and ``pred[v][u]`` are the same edge attribute dict.

    The three tables are dicts here; ``reviewbot.c.graphdb.StoredDiGraph`` makes them mappings
    that fetch an entry from the tree index on first look-up."""

    __slots__ = ("_node", "_pred", "_succ")

    def __init__(self) -> None:
        self._node: MutableMapping[str, Attrs] = {}
        self._succ: MutableMapping[str, dict[str, Attrs]] = {}
        self._pred: MutableMapping[str, dict[str, Attrs]] = {}

    # -- reading
    @property
    def nodes(self) -> NodeView:
        return NodeView(self._node)

    @property
    def edges(self) -> EdgeView:
        return EdgeView(self._succ)

    @property
    def succ(self) -> Mapping[str, dict[str, Attrs]]:
        """``succ[u]``: v -> attributes of u -> v.  Read it; change the graph through methods."""
        return self._succ

    @property
    def pred(self) -> Mapping[str, dict[str, Attrs]]:
        return self._pred

    def has_node(self, n: str) -> bool:
        return n in self._node

    def has_edge(self, u: str, v: str) -> bool:
        nbrs = self._succ.get(u)
        return nbrs is not None and v in nbrs

    def successors(self, n: str) -> Iterator[str]:
        return iter(self._succ[n])

    def predecessors(self, n: str) -> Iterator[str]:
        return iter(self._pred[n])

    def out_edges(self, n: str, data: bool = False) -> Iterator[Any]:
        if data:
            return ((n, v, d) for v, d in self._succ[n].items())
        return ((n, v) for v in self._succ[n])

    def in_edges(self, n: str, data: bool = False) -> Iterator[Any]:
        if data:
            return ((u, n, d) for u, d in self._pred[n].items())
        return ((u, n) for u in self._pred[n])

    def number_of_nodes(self) -> int:
        return len(self._node)

    def number_of_edges(self) -> int:
        return len(self.edges)

    # -- changing
    def add_node(self, n: str, **attrs: Any) -> None:
        if n in self._node:
            self._node[n].update(attrs)
        else:
            self._node[n] = attrs
            self._succ[n] = {}
            self._pred[n] = {}

    def add_nodes_from(self, nodes: Iterable[str | tuple[str, Attrs]]) -> None:
        for item in nodes:
            if isinstance(item, tuple):
                self.add_node(item[0], **item[1])
            else:
                self.add_node(item)

    def add_edge(self, u: str, v: str, **attrs: Any) -> None:
        for n in (u, v):
            if n not in self._node:
                self.add_node(n)
        data = self._succ[u].get(v)
        if data is None:
            self._succ[u][v] = self._pred[v][u] = attrs
        else:
            data.update(attrs)

    def add_edges_from(self, edges: Iterable[tuple[str, str] | tuple[str, str, Attrs]]) -> None:
        for edge in edges:
            if len(edge) == 3:
                self.add_edge(edge[0], edge[1], **edge[2])
            else:
                self.add_edge(edge[0], edge[1])

    def remove_node(self, n: str) -> None:
        """Removes ``n`` and its edges; KeyError when there is no such node."""
        del self._node[n]
        for v in self._succ.pop(n):
            del self._pred[v][n]
        for u in self._pred.pop(n):
            del self._succ[u][n]

    def remove_edge(self, u: str, v: str) -> None:
        del self._succ[u][v]
        del self._pred[v][u]

    def remove_edges_from(self, edges: Iterable[tuple[Any, ...]]) -> None:
        """Removes the edges there are; ``(u, v, ...)`` tuples, extra items ignored."""
        for edge in edges:
            if self.has_edge(edge[0], edge[1]):
                self.remove_edge(edge[0], edge[1])

    # -- new graphs
    def subgraph(self, nodes: Iterable[str]) -> DiGraph:
        """A new graph of the nodes given that are in this one and the edges between them;
        the attribute dicts are copies (one level deep)."""
        keep = {n for n in nodes if n in self._node}
        out = DiGraph()
        for n in self._node:
            if n in keep:
                out.add_node(n, **self._node[n])
        for u in out._node:
            for v, d in self._succ[u].items():
                if v in keep:
                    out.add_edge(u, v, **d)
        return out

    def copy(self) -> DiGraph:
        return self.subgraph(self._node)

    def to_networkx(self) -> nx.DiGraph:
        """The same nodes, edges and attributes as a ``networkx.DiGraph``."""
        import networkx as nx

        g = nx.DiGraph()
        g.add_nodes_from((n, dict(d)) for n, d in self._node.items())
        g.add_edges_from((u, v, dict(d)) for u, nbrs in self._succ.items()
                         for v, d in nbrs.items())
        return g
