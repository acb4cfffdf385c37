"""``reviewbot graph`` on the bundled example series: json content, dot, graphml, svg/png."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from reviewbot.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = str(REPO / "corpus" / "memdev" / "v1.mbox")
WIN = "hw/mem/memdev-window.c"
REALIZE = f"{WIN}::memdev_window_realize"


def run_graph(tmp_path: Path, *args: str) -> tuple[int, bytes]:
    out = tmp_path / "out"
    code = main(["graph", EXAMPLE, "-o", str(out), "--cache-dir", str(tmp_path / "cache"),
                 *args])
    return code, out.read_bytes() if out.exists() else b""


def as_json(data: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(data)
    return loaded


def test_json_shows_the_realize_reaching_the_machine(tmp_path: Path) -> None:
    code, data = run_graph(tmp_path, "--format", "json")
    assert code == 0
    doc = as_json(data)
    assert doc["version"] == 1
    nodes = {n["id"]: n for n in doc["nodes"]}
    edges = {(e["source"], e["target"]): e for e in doc["edges"]}
    realize = nodes[REALIZE]
    assert (realize["roles"], realize["path"], realize["partial"]) == (
        ["DeviceClass.realize", "realize"], WIN, False)
    highlighted = sorted((e["target"], e["line"]) for e in doc["edges"] if e.get("highlight"))
    assert highlighted == [
        ("fn::memory_device_plug", 81), ("fn::memory_device_pre_plug", 77),
        ("fn::qdev_get_machine", 76), ("fn::qemu_add_machine_init_done_notifier", 86)]
    reg = edges[(f"{WIN}::memdev_window_class_init", REALIZE)]
    assert (reg["kind"], reg["role"], reg["cls"]) == ("register", "realize", "DeviceClass")
    assert edges[("type::TYPE_MEMDEV_WINDOW", f"{WIN}::memdev_window_class_init")]["kind"] \
        == "typeinfo"
    assert nodes[f"global::{WIN}::memdev_windows"]["gkind"] == "qlist_head"
    assert "machine_done_notifier" in nodes[f"{WIN}::memdev_window_machine_done"]["roles"]
    # the modified pc.c is rebuilt from its hunks: its functions are marked partial
    assert nodes["hw/i386/pc.c::pc_memory_init"]["partial"] is True


def test_focus_keeps_the_neighbourhood(tmp_path: Path) -> None:
    code, data = run_graph(tmp_path, "--format", "json", "--focus", "memdev_window_realize",
                           "--depth", "1")
    assert code == 0
    ids = {n["id"] for n in as_json(data)["nodes"]}
    assert REALIZE in ids
    assert "fn::qdev_get_machine" in ids
    assert f"{WIN}::memdev_window_class_init" in ids
    assert "hw/i386/pc.c::pc_memory_init" not in ids


def test_focus_on_an_unknown_function_is_a_one_line_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run_graph(tmp_path, "--focus", "no_such_function")
    assert code == 2
    err = capsys.readouterr().err
    assert err == "reviewbot: error: --focus no_such_function: no such function in the graph\n"


def test_dot_draws_the_chain_in_red(tmp_path: Path) -> None:
    code, data = run_graph(tmp_path)
    assert code == 0
    text = data.decode()
    assert text.startswith("digraph reviewbot {")
    assert (f'"{REALIZE}" -> "fn::qdev_get_machine" [color="red", penwidth="2"];') in text
    assert '"type::TYPE_MEMDEV_WINDOW" -> "type::TYPE_DEVICE" [label="parent"' in text


def test_graphml_reads_back(tmp_path: Path) -> None:
    code, data = run_graph(tmp_path, "--format", "graphml")
    assert code == 0
    (tmp_path / "g.graphml").write_bytes(data)
    g = nx.read_graphml(tmp_path / "g.graphml")
    assert g.nodes[REALIZE]["roles"] == "DeviceClass.realize,realize"
    assert g.edges[REALIZE, "fn::qdev_get_machine"]["line"] == 76


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<?xml"), ("png", b"\x89PNG")])
def test_svg_and_png_through_graphviz(tmp_path: Path, fmt: str, magic: bytes) -> None:
    code, data = run_graph(tmp_path, "--format", fmt, "--focus", "memdev_window_realize")
    assert code == 0
    assert data.startswith(magic)


def test_svg_without_graphviz_is_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    code, data = run_graph(tmp_path, "--format", "svg")
    assert (code, data) == (2, b"")
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "needs Graphviz's 'dot' program" in err


def test_tree_resolves_calls_into_other_files(tmp_path: Path) -> None:
    tree = tmp_path / "qemu"
    (tree / "hw" / "core").mkdir(parents=True)
    (tree / "hw" / "core" / "qdev.c").write_text(
        "Object *qdev_get_machine(void)\n{\n    return machine_root();\n}\n", encoding="utf-8")
    code, data = run_graph(tmp_path, "--format", "json", "--tree", str(tree))
    assert code == 0
    doc = as_json(data)
    edges = {(e["source"], e["target"]): e for e in doc["edges"]}
    assert edges[(REALIZE, "hw/core/qdev.c::qdev_get_machine")]["highlight"] is True
    assert (tree / "hw" / "core" / "qdev.c").read_text(encoding="utf-8").startswith("Object")
    assert sorted(p.name for p in (tree / "hw").iterdir()) == ["core"]  # nothing written


def test_git_range_reads_the_commits_and_indexes_the_repository(
        git_repo: Any, tmp_path: Path) -> None:
    fixtures = REPO / "tests" / "fixtures" / "c"
    repo = git_repo()
    base = repo.commit("base", {
        "hw/misc/foo-dev.c": (fixtures / "hw/misc/foo-dev.c").read_text(encoding="utf-8"),
        "hw/core/qdev.c": "Object *qdev_get_machine(void)\n{\n    return root;\n}\n",
    })
    toy = (fixtures / "hw/toy/toy-machine.c").read_text(encoding="utf-8")
    repo.commit("hw/toy: add a toy machine", {"hw/toy/toy-machine.c": toy})
    out = tmp_path / "g.json"
    code = main(["graph", "-C", str(repo.path), f"{base}..HEAD", "--format", "json",
                 "-o", str(out), "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    doc = as_json(out.read_bytes())
    nodes = {n["id"]: n for n in doc["nodes"]}
    assert nodes["hw/toy/toy-machine.c::toy_machine_plug"]["roles"] == [
        "HotplugHandlerClass.plug", "machine_plug", "plug"]
    assert nodes["hw/toy/toy-machine.c::toy_machine_plug"]["partial"] is False
    # foo-dev.c is not in the series: only what the toy machine reaches is drawn
    assert not any(n.startswith("hw/misc/foo-dev.c::") for n in nodes)
    assert repo.git("status", "--porcelain") == ""


def test_unwritable_output_is_a_one_line_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "no-such-dir" / "g.dot"
    assert main(["graph", EXAMPLE, "-o", str(target)]) == 2
    assert capsys.readouterr().err == (
        f"reviewbot: error: {target}: cannot write: No such file or directory\n")


def test_a_hunk_inside_a_function_is_drawn_under_that_function(tmp_path: Path) -> None:
    patch = tmp_path / "mid.patch"
    patch.write_text(
        "From: A <a@example.org>\nSubject: [PATCH] hw/misc/foo: find the machine\n\n"
        "Find it.\n\nSigned-off-by: A <a@example.org>\n---\n"
        "diff --git a/hw/misc/foo.c b/hw/misc/foo.c\n--- a/hw/misc/foo.c\n+++ b/hw/misc/foo.c\n"
        "@@ -40,5 +40,6 @@ static void foo_realize(DeviceState *dev, Error **errp)\n"
        "     FooState *s = FOO(dev);\n \n     foo_setup(s);\n"
        "+    s->ms = MACHINE(qdev_get_machine());\n     foo_start(s);\n }\n",
        encoding="utf-8")
    out = tmp_path / "g.json"
    assert main(["graph", str(patch), "--format", "json", "-o", str(out)]) == 0
    doc = as_json(out.read_bytes())
    nodes = {n["id"]: n for n in doc["nodes"]}
    realize = nodes["hw/misc/foo.c::foo_realize"]
    assert (realize["defined"], realize["partial"], realize["path"]) == (
        False, True, "hw/misc/foo.c")
    edges = {(e["source"], e["target"]): e for e in doc["edges"]}
    assert edges[("hw/misc/foo.c::foo_realize", "fn::qdev_get_machine")]["line"] == 43


def test_with_a_tree_a_file_known_from_its_hunks_is_completed_from_the_tree(
        tmp_path: Path) -> None:
    from tests.c.test_partial import MAIL  # a hunk of foo-dev.c that does not apply

    tree = tmp_path / "qemu"
    shutil.copytree(REPO / "tests" / "fixtures" / "c", tree)
    patch = tmp_path / "foo.mbox"
    patch.write_text(MAIL, encoding="utf-8")
    out = tmp_path / "g.json"
    code = main(["graph", str(patch), "--tree", str(tree), "--format", "json", "-o", str(out),
                 "--cache-dir", str(tmp_path / "cache"), "--focus", "foo_dev_realize"])
    assert code == 0
    doc = as_json(out.read_bytes())
    edges = {(e["source"], e["target"]) for e in doc["edges"]}
    realize = "hw/misc/foo-dev.c::foo_dev_realize"
    # as in a check: the class_init the hunk does not show still registers the realize, and
    # what the hunk shows of the realize is drawn from the hunk (the call it adds)
    assert ("hw/misc/foo-dev.c::foo_dev_class_init", realize) in edges
    assert (realize, "fn::qdev_get_machine") in edges
    assert (realize, "hw/misc/foo-dev.c::foo_dev_place") in edges
