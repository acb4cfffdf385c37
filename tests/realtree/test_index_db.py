"""The bundled corpus checked against a real QEMU tree: the tree's graph read lazily from the
index database gives the findings the same graph built whole in memory gives.

Run: REVIEWBOT_QEMU_TREE=/work/qemu-src/qemu-10.0.13 .venv/bin/python -m pytest tests/realtree
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reviewbot import context
from reviewbot.c import index
from reviewbot.c.graph import GraphState
from reviewbot.c.graphdb import StoredDiGraph
from reviewbot.c.store import LazyMap
from reviewbot.context import Options, SeriesContext
from reviewbot.engine import run_check
from reviewbot.ingest import load
from reviewbot.rules.loader import load_rules

pytestmark = pytest.mark.realtree

ROOT = Path(__file__).resolve().parents[2]


def test_corpus_findings_are_the_same_read_lazily_and_built_whole(
        qemu_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    context._TREE_STATES.clear()
    index.forget()
    rules = load_rules(())
    options = Options(tree=str(qemu_tree))
    mboxes = sorted((ROOT / "corpus").rglob("*.mbox"))
    assert len(mboxes) >= 10

    lazy: dict[str, Any] = {}
    read: dict[str, tuple[int, int]] = {}
    for mbox in mboxes:
        series = load(str(mbox))
        ctx = SeriesContext(series, options)
        lazy[mbox.name + str(mbox.parent)] = run_check(series, options, rules,
                                                       context=ctx).findings
        indexed = ctx.indexed_tree()
        assert indexed is not None
        if ctx._graphs == {} and context._TREE_STATES:
            g = next(iter(context._TREE_STATES.values()))[0].graph
            assert isinstance(g, StoredDiGraph) and isinstance(g._node, LazyMap)
            total = indexed.store.db.execute("SELECT count(*) FROM nodes").fetchone()[0]
            read[mbox.name + str(mbox.parent)] = (len(g._node.loaded()), total)

    # the reference: one GraphState built in memory from every file's facts, each patch laid
    # over it the same way, no database behind the graph
    whole: list[GraphState] = []

    def in_memory(indexed: Any) -> GraphState:
        if not whole:
            whole.append(GraphState(indexed.all_facts()))
        return whole[0]

    monkeypatch.setattr(context, "tree_graph_state", in_memory)
    for mbox in mboxes:
        series = load(str(mbox))
        ctx = SeriesContext(series, options)
        built = run_check(series, options, rules, context=ctx).findings
        assert built == lazy[mbox.name + str(mbox.parent)], mbox
    assert whole, "no series needed the tree's graph"

    v1 = lazy["v1.mbox" + str(ROOT / "corpus" / "memdev")]
    assert ("hw/mem/memdev-window.c", 72) in [
        (f.path, f.line) for f in v1 if f.rule == "qom-realize-reaches-machine"]
    # each check read a small part of the stored graph
    assert read and all(0 < loaded < total / 4 for loaded, total in read.values()), read
