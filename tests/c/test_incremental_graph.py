"""The fast path of ``check`` (one tree graph, each patch laid over it) against the slow
reference (each patch's graph built from scratch): same graphs, same findings."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reviewbot.c.digraph import DiGraph
from reviewbot.c.facts import FileFacts, extract
from reviewbot.c.graph import GraphState, build_graph
from reviewbot.context import Options, SeriesContext
from reviewbot.engine import run_check
from reviewbot.ingest import load
from reviewbot.rules.loader import load_rules

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "c"

HELPER = """\
#include "qemu/osdep.h"

void gadget_pick_node(DeviceState *dev)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    (void)ms;
}
"""

GADGET = """\
#include "qemu/osdep.h"

#define TYPE_GADGET "gadget"

static void gadget_realize(DeviceState *dev, Error **errp)
{
    gadget_pick_node(dev);
}

static void gadget_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = gadget_realize;
}

static const TypeInfo gadget_info = {
    .name = TYPE_GADGET,
    .parent = TYPE_DEVICE,
    .class_init = gadget_class_init,
};
"""


def fixture_facts() -> dict[str, FileFacts]:
    out = {}
    for p in sorted(FIXTURES.rglob("*.c")):
        rel = p.relative_to(FIXTURES).as_posix()
        out[rel] = extract(rel, p.read_text(encoding="utf-8"))
    return out


def graph_signature(g: DiGraph) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Nodes with attributes, and each node's out-edges in order (queries depend on the
    order of a type's parents)."""
    return (dict(g.nodes(data=True)),
            {n: [(v, d) for v, d in g.succ[n].items()] for n in g})


def assert_same_graph(fast: DiGraph, slow: DiGraph) -> None:
    f_nodes, f_succ = graph_signature(fast)
    s_nodes, s_succ = graph_signature(slow)
    assert set(f_nodes) == set(s_nodes)
    assert [n for n in f_nodes if f_nodes[n] != s_nodes[n]] == []
    assert [n for n in f_succ if f_succ[n] != s_succ[n]] == []


def test_overlays_match_a_rebuild_step_by_step() -> None:
    tree = fixture_facts()
    tree["hw/misc/gadget-helper.c"] = extract("hw/misc/gadget-helper.c", HELPER)
    state = GraphState(tree.values())
    assert_same_graph(state.graph, build_graph(tree.values()))

    gadget = extract("hw/misc/gadget.c", GADGET)
    steps: list[dict[str, FileFacts | None]] = [
        {"hw/misc/gadget.c": gadget},  # a new device: its realize reaches the helper
        # the helper made static: the call no longer resolves across files
        {"hw/misc/gadget.c": gadget, "hw/misc/gadget-helper.c": extract(
            "hw/misc/gadget-helper.c",
            HELPER.replace("void gadget_pick", "static void gadget_pick"))},
        # the helper moved into the device's file, its old file deleted
        {"hw/misc/gadget.c": extract("hw/misc/gadget.c", HELPER + GADGET),
         "hw/misc/gadget-helper.c": None},
        # the machine file gone: its roles and dispatch edges go with it
        {"hw/toy/toy-machine.c": None},
        # TYPE_GADGET's value given twice: the first file in path order names it
        {"hw/misc/gadget.c": gadget, "hw/misc/a-alias.c": extract(
            "hw/misc/a-alias.c", '#define TYPE_GADGET_ALIAS "gadget"\n'
            '#define TYPE_GADGET "gadget-old"\n')},
        {},  # back to the tree
    ]
    for changes in steps:
        fast = state.overlay(changes)
        merged = dict(tree)
        for path, ff in changes.items():
            if ff is None:
                merged.pop(path, None)
            else:
                merged[path] = ff
        assert_same_graph(fast, build_graph(merged.values()))

    # what the steps changed really shows: first the call crosses files, then it cannot
    g = state.overlay(steps[0])
    assert ("hw/misc/gadget.c::gadget_realize", "hw/misc/gadget-helper.c::gadget_pick_node") in \
        g.edges
    assert "realize" in g.nodes["hw/misc/gadget.c::gadget_realize"]["roles"]
    g = state.overlay(steps[1])
    assert ("hw/misc/gadget.c::gadget_realize", "fn::gadget_pick_node") in g.edges
    g = state.overlay(steps[3])
    assert "hw/toy/toy-machine.c::toy_machine_plug" not in g
    g = state.overlay(steps[4])
    assert g.nodes["type::TYPE_GADGET"]["value"] == "gadget-old"


def _series_repo(git_repo: Callable[..., Any]) -> Any:
    """A tree (the fixtures) and five patches that move what the graph resolves to."""
    repo = git_repo()
    files = {p.relative_to(FIXTURES).as_posix(): p.read_text(encoding="utf-8")
             for p in sorted(FIXTURES.rglob("*.c"))}
    repo.commit("base", {**files, "VERSION": "10.0.50\n"})
    repo.commit("hw/misc: add a node picking helper", {"hw/misc/gadget-helper.c": HELPER})
    repo.commit("hw/misc: add the gadget device", {"hw/misc/gadget.c": GADGET})
    repo.commit("hw/misc: keep the helper private", {"hw/misc/gadget-helper.c": HELPER.replace(
        "void gadget_pick", "static void gadget_pick")})
    (repo.path / "hw/misc/gadget-helper.c").unlink()
    repo.commit("hw/misc: fold the helper into the gadget", {"hw/misc/gadget.c": HELPER + GADGET})
    repo.git("mv", "hw/misc/foo-dev.c", "hw/misc/foo-device.c")
    repo.commit("hw/misc: rename foo-dev.c")
    return repo


def _run_both(series: Any, options: Options) -> tuple[Any, Any, SeriesContext, SeriesContext]:
    rules = load_rules(())
    fast_ctx = SeriesContext(series, options)
    slow_ctx = SeriesContext(series, options, rebuild_graphs=True)
    fast = run_check(series, options, rules, context=fast_ctx)
    slow = run_check(series, options, rules, context=slow_ctx)
    return fast, slow, fast_ctx, slow_ctx


def test_a_git_series_gives_the_same_findings_as_rebuilding_each_graph(
        git_repo: Callable[..., Any]) -> None:
    repo = _series_repo(git_repo)
    series = load("HEAD~5..HEAD", cwd=str(repo.path))
    fast, slow, fast_ctx, slow_ctx = _run_both(series, Options())
    assert fast_ctx.tree_facts()  # the repository itself is the tree: indexed
    assert fast.findings == slow.findings
    for i in range(len(series.patches)):
        assert_same_graph(fast_ctx.graph_for(i), slow_ctx.graph_for(i))
    reaches = [(f.patch.index if f.patch else None, f.path, f.line) for f in fast.findings
               if f.rule == "qom-realize-reaches-machine"]
    # The tree is the range's start and each patch sees the files of the patches before it
    # as they left them: patch 2's realize reaches the machine through the helper patch 1
    # added (at the call it adds, line 7); patch 3 makes the helper static, so the call no
    # longer resolves; patch 4 folds it into the device (at the helper's own call, line 5).
    assert reaches == [(2, "hw/misc/gadget.c", 7), (4, "hw/misc/gadget.c", 5)]
    assert ("hw/misc/gadget.c::gadget_realize",
            "hw/misc/gadget-helper.c::gadget_pick_node") in fast_ctx.graph_for(1).edges
    assert ("hw/misc/gadget.c::gadget_realize", "fn::gadget_pick_node") in \
        fast_ctx.graph_for(2).edges
    # patch 1 does not see the device patch 2 adds, nor the function patch 4 moves into it
    g = fast_ctx.graph_for(0)
    assert "hw/misc/gadget-helper.c::gadget_pick_node" in g
    assert not any(n.startswith("hw/misc/gadget.c::") for n in g)
    # the helper deleted by patch 4 is still there for patch 3, gone from patch 4 on
    assert "hw/misc/gadget-helper.c::gadget_pick_node" in fast_ctx.graph_for(2)
    assert "hw/misc/gadget-helper.c::gadget_pick_node" not in fast_ctx.graph_for(3)
    # the graph after patch 5 has the renamed file, not the old one
    g = fast_ctx.graph_for(4)
    assert "hw/misc/foo-device.c::foo_dev_realize" in g
    assert "hw/misc/gadget.c::gadget_pick_node" in g
    assert not any(n.startswith("hw/misc/foo-dev.c::") for n in g)
    # the tree is the base, read at the range's start; VERSION comes from the range's end
    tree = fast_ctx.tree
    assert tree is not None and tree.exists("hw/misc/foo-dev.c")
    assert not tree.exists("hw/misc/gadget.c")
    assert tree.version() == "10.0.50"


def test_a_saved_tree_graph_is_loaded_instead_of_rebuilt(
        git_repo: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot import context
    from reviewbot.c import index

    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    context._TREE_STATES.clear()  # another test may have built this same tree's graph
    repo = _series_repo(git_repo)
    series = load("HEAD~5..HEAD", cwd=str(repo.path))
    rules = load_rules(())
    first_ctx = SeriesContext(series, Options())
    first = run_check(series, Options(), rules, context=first_ctx)
    assert [p.name for p in (tmp_path / "cache").glob("index-*.sqlite")]
    graphs = [graph_signature(first_ctx.graph_for(i)) for i in range(len(series.patches))]

    # a new process: nothing in memory; building the tree's graph again would fail
    context._TREE_STATES.clear()
    index._OPEN.clear()

    def no_build(self: GraphState, facts: Any = ()) -> None:
        raise AssertionError("the tree's graph was built again")

    monkeypatch.setattr(GraphState, "__init__", no_build)
    again_ctx = SeriesContext(series, Options())
    again = run_check(series, Options(), rules, context=again_ctx)
    assert again.findings == first.findings
    assert [graph_signature(again_ctx.graph_for(i)) for i in range(len(series.patches))] == \
        graphs
    # only the files the overlays touched (and those resolving through them) were decoded
    indexed = again_ctx.indexed_tree()
    assert indexed is not None and 0 < len(indexed.loaded) < len(indexed.keys)


def test_a_check_reads_only_part_of_the_stored_graph(
        git_repo: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Laid over the stored graph, one patch reads the nodes and rows it walks, not all."""
    from reviewbot import context
    from reviewbot.c import index
    from reviewbot.c.graphdb import StoredDiGraph
    from reviewbot.c.store import LazyMap

    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    context._TREE_STATES.clear()
    repo = _series_repo(git_repo)
    series = load("HEAD~1..HEAD", cwd=str(repo.path))  # the rename: foo-dev.c goes away
    run_check(series, Options(), load_rules(()), context=SeriesContext(series, Options()))
    context._TREE_STATES.clear()
    index._OPEN.clear()
    ctx = SeriesContext(series, Options())
    run_check(series, Options(), load_rules(()), context=ctx)
    g = ctx.graph_for(0)
    assert isinstance(g, StoredDiGraph) and isinstance(g._node, LazyMap)
    indexed = ctx.indexed_tree()
    assert indexed is not None
    stored = indexed.store.db.execute("SELECT count(*) FROM nodes").fetchone()[0]
    assert g  # ``if g`` (the rules ask it) reads no more nodes in
    assert 0 < len(g._node.loaded()) < stored
    assert "hw/misc/foo-device.c::foo_dev_realize" in g
    assert "hw/misc/foo-dev.c::foo_dev_realize" not in g
    # asking for every node reads the rest in: the same graph a fresh build gives
    slow = SeriesContext(series, Options(), rebuild_graphs=True)
    assert_same_graph(g, slow.graph_for(0))


def test_a_saved_tree_graph_moves_to_another_base(
        git_repo: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot import context
    from reviewbot.c import index

    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    context._TREE_STATES.clear()
    repo = _series_repo(git_repo)
    rules = load_rules(())
    whole = load("HEAD~5..HEAD", cwd=str(repo.path))
    whole_ctx = SeriesContext(whole, Options())
    run_check(whole, Options(), rules, context=whole_ctx)
    first = whole_ctx.indexed_tree()
    assert first is not None
    stamp = (first.store.meta("graph-base"), first.store.base())
    assert stamp[0] == first.fingerprint

    # the last three patches: their base has the helper (made public) and the gadget
    context._TREE_STATES.clear()
    index._OPEN.clear()
    built: list[int] = []
    original = GraphState.__init__

    def counting(self: GraphState, facts: Any = ()) -> None:
        built.append(1)
        original(self, facts)

    monkeypatch.setattr(GraphState, "__init__", counting)
    tail = load("HEAD~3..HEAD", cwd=str(repo.path))
    fast, slow, fast_ctx, slow_ctx = _run_both(tail, Options())
    assert built == []  # the saved graph was moved to the new base, not rebuilt
    assert fast.findings == slow.findings
    for i in range(len(tail.patches)):
        assert_same_graph(fast_ctx.graph_for(i), slow_ctx.graph_for(i))
    # the gadget comes from the new base; its first patch makes the helper private
    g = fast_ctx.graph_for(0)
    assert "realize" in g.nodes["hw/misc/gadget.c::gadget_realize"]["roles"]
    assert ("hw/misc/gadget.c::gadget_realize", "fn::gadget_pick_node") in g.edges
    # a small move is not written back: the next run moves the same stored graph again
    moved = fast_ctx.indexed_tree()
    assert moved is not None and moved.fingerprint != stamp[0]
    assert (moved.store.meta("graph-base"), moved.store.base()) == stamp


def test_staged_changes_are_laid_over_head(git_repo: Callable[..., Any]) -> None:
    repo = _series_repo(git_repo)
    repo.write("hw/misc/gadget.c", HELPER + GADGET.replace(
        "gadget_pick_node(dev);", "gadget_pick_node(dev);\n    extra(dev);"))
    repo.git("add", "hw/misc/gadget.c")
    repo.write("hw/misc/gadget.c", GADGET.replace("gadget_pick_node(dev);", ""))  # not staged
    series = load(None, cwd=str(repo.path), staged=True)
    fast, slow, fast_ctx, slow_ctx = _run_both(series, Options())
    assert fast.findings == slow.findings
    assert_same_graph(fast_ctx.graph_for(0), slow_ctx.graph_for(0))
    g = fast_ctx.graph_for(0)
    realize = "hw/misc/gadget.c::gadget_realize"
    assert set(g.successors(realize)) == {"hw/misc/gadget.c::gadget_pick_node",
                                                   "fn::extra"}
    assert fast_ctx.tree is not None and fast_ctx.tree.read_text("hw/misc/gadget.c") == \
        HELPER + GADGET  # the base is HEAD


def test_an_mbox_against_a_tree_gives_the_same_findings(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for p in sorted(FIXTURES.rglob("*.c")):
        dst = tree / p.relative_to(FIXTURES)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    (tree / "VERSION").write_text("10.0.50\n", encoding="utf-8")
    os.environ["REVIEWBOT_CACHE_DIR"] = str(tmp_path / "cache")
    found = {}
    try:
        for version in ("v1", "v2", "v3", "v4"):
            series = load(str(ROOT / "corpus" / "memdev" / f"{version}.mbox"))
            fast, slow, fast_ctx, _ = _run_both(series, Options(tree=str(tree)))
            assert fast_ctx.tree_facts()
            assert fast.findings == slow.findings
            found[version] = fast.findings
    finally:
        del os.environ["REVIEWBOT_CACHE_DIR"]
    assert ("hw/mem/memdev-window.c", 72) in [
        (f.path, f.line) for f in found["v1"] if f.rule == "qom-realize-reaches-machine"]


@pytest.mark.realtree
def test_real_tree_series_gives_the_same_findings(tmp_path: Path) -> None:
    where = os.environ.get("REVIEWBOT_QEMU_TREE")
    if not where or not (Path(where) / "hw").is_dir():
        pytest.skip("REVIEWBOT_QEMU_TREE is not set to a QEMU source tree")
    os.environ["REVIEWBOT_CACHE_DIR"] = str(tmp_path / "cache")
    try:
        for version in ("v1", "v4"):
            series = load(str(ROOT / "corpus" / "memdev" / f"{version}.mbox"))
            fast, slow, fast_ctx, slow_ctx = _run_both(series, Options(tree=where))
            assert fast.findings == slow.findings
            for i in range(len(series.patches)):
                assert_same_graph(fast_ctx.graph_for(i), slow_ctx.graph_for(i))
    finally:
        del os.environ["REVIEWBOT_CACHE_DIR"]


def _new_file_mail(path: str, text: str) -> str:
    lines = text.splitlines()
    return (
        "From: A U Thor <author@example.org>\n"
        "Subject: [PATCH] hw/misc: add the gadget device\n"
        "Message-Id: <gadget@example.org>\n\n"
        "Add it.\n\nSigned-off-by: A U Thor <author@example.org>\n---\n"
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1234567\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n"
        + "".join(f"+{ln}\n" for ln in lines))


@pytest.mark.parametrize("same", [True, False])
def test_a_post_image_the_tree_has_takes_the_index_facts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same: bool) -> None:
    """A new-file patch of a file the tree has byte for byte: its facts are the index's own
    object (not parsed again, nothing laid over the graph), the findings those of a rebuild.
    One byte different: parsed as before."""
    from reviewbot import context

    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    context._TREE_STATES.clear()
    tree = tmp_path / "tree"
    (tree / "hw" / "misc").mkdir(parents=True)
    (tree / "hw/misc/gadget.c").write_text(GADGET, encoding="utf-8")
    (tree / "hw/misc/gadget-helper.c").write_text(HELPER, encoding="utf-8")
    (tree / "VERSION").write_text("10.0.50\n", encoding="utf-8")
    posted = GADGET if same else GADGET.replace('"gadget"', '"gadget2"')
    mail = tmp_path / "gadget.mbox"
    mail.write_text(_new_file_mail("hw/misc/gadget.c", posted), encoding="utf-8")
    series = load(str(mail))
    fast, slow, fast_ctx, slow_ctx = _run_both(series, Options(tree=str(tree)))
    assert fast.findings == slow.findings
    # the realize -> helper -> qdev_get_machine() chain crosses into the tree's other file
    assert [(f.path, f.line) for f in fast.findings
            if f.rule == "qom-realize-reaches-machine"] == [("hw/misc/gadget.c", 7)]
    indexed = fast_ctx.indexed_tree()
    assert indexed is not None
    facts = fast_ctx.facts_after(0, "hw/misc/gadget.c")
    assert facts == extract("hw/misc/gadget.c", posted)
    assert (facts is indexed.facts("hw/misc/gadget.c")) is same
    assert_same_graph(fast_ctx.graph_for(0), slow_ctx.graph_for(0))
