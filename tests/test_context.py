"""What primitives see: patch refs, post-/pre-images, cached facts, the graph, the tree."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from reviewbot.c.graph import fn_id
from reviewbot.context import Options, SeriesContext
from reviewbot.ingest import load

ROOT = Path(__file__).resolve().parents[1]

BASE = """\
#include "qemu/osdep.h"

static void widget_realize(DeviceState *dev, Error **errp)
{
}

static void widget_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = widget_realize;
}
"""


def _two_patch_repo(git_repo: Callable[..., Any]) -> Any:
    repo = git_repo()
    repo.commit("base", {"hw/misc/widget.c": BASE, "VERSION": "10.0.50\n"})
    repo.commit("widget: add a helper", {"hw/misc/widget.c": BASE.replace(
        "static void widget_realize",
        "static void widget_helper(void)\n{\n}\n\nstatic void widget_realize")})
    repo.commit("widget: call it", {"hw/misc/widget.c": BASE.replace(
        "static void widget_realize",
        "static void widget_helper(void)\n{\n}\n\nstatic void widget_realize").replace(
        "Error **errp)\n{\n}", "Error **errp)\n{\n    widget_helper();\n}")})
    return repo


def test_patch_contexts_over_a_git_range(git_repo: Callable[..., Any]) -> None:
    repo = _two_patch_repo(git_repo)
    series = load("HEAD~2..HEAD", cwd=str(repo.path))
    sctx = SeriesContext(series, Options())
    first, second = sctx.patch_contexts
    assert (first.ref.index, second.ref.index) == (1, 2)
    assert second.ref.message_id == series.patches[1].mail.message_id
    assert "widget: call it" in second.ref.subject

    # post-images are whole (from git), one patch after the other
    after1 = first.source("hw/misc/widget.c")
    after2 = second.source("hw/misc/widget.c")
    assert after1 is not None and after2 is not None and not after2.partial
    assert "widget_helper();" not in after1.text
    assert "    widget_helper();" in after2.lines
    before2 = second.pre_source("hw/misc/widget.c")
    assert before2 is not None and before2.text == after1.text

    # changed(): only the lines that patch adds
    line = after2.lines.index("    widget_helper();") + 1
    assert second.changed("hw/misc/widget.c", line)
    assert not first.changed("hw/misc/widget.c", line)
    assert not second.changed("hw/misc/widget.c", 1)

    # facts are cached per patch and path, and differ between patches
    facts = second.facts("hw/misc/widget.c")
    assert facts is not None and facts is second.facts("hw/misc/widget.c")
    assert [c.callee for c in facts.calls if c.caller == "widget_realize"] == ["widget_helper"]
    other = first.facts("hw/misc/widget.c")
    assert other is not None and not [c for c in other.calls if c.caller == "widget_realize"]
    assert second.facts("VERSION") is None

    # the graph holds the touched C files, with roles from registration
    g = second.graph
    realize = fn_id("hw/misc/widget.c", "widget_realize")
    assert "realize" in g.nodes[realize]["roles"]
    assert g.has_edge(realize, fn_id("hw/misc/widget.c", "widget_helper"))
    assert second.graph is g

    # git input: the tree is the repository at the range's start (before the helper), and
    # VERSION is read where the range ends
    assert second.tree is not None and second.tree.version() == "10.0.50"
    base_text = second.tree.read_text("hw/misc/widget.c")
    assert base_text is not None and "widget_helper" not in base_text
    assert sctx.qemu_version == "10.0.50"
    assert SeriesContext(series, Options(qemu_version="11.0.0")).qemu_version == "11.0.0"


def test_mbox_without_tree_rebuilds_from_hunks() -> None:
    series = load(str(ROOT / "corpus" / "memdev" / "v1.mbox"))
    sctx = SeriesContext(series, Options())
    [pctx] = sctx.patch_contexts
    assert pctx.tree is None and sctx.qemu_version is None
    assert pctx.ref.index == 1
    assert pctx.ref.message_id == "20260303101500.4242-1-jo.contributor@example.org"
    new = pctx.source("hw/mem/memdev-window.c")
    assert new is not None and not new.partial  # a new file is whole
    acpi = pctx.source("hw/i386/acpi-build.c")
    assert acpi is not None and acpi.partial  # only what the hunks show
    assert pctx.pre_source("hw/mem/memdev-window.c") is None
    assert set(pctx.touched) == {"hw/i386/acpi-build.c", "hw/i386/pc.c",
                                 "hw/mem/memdev-window.c", "hw/mem/meson.build",
                                 "include/hw/mem/memdev-window.h"}


def test_tree_option_opens_the_directory(tmp_path: Path) -> None:
    (tmp_path / "VERSION").write_text("9.2.0\n")
    series = load(str(ROOT / "corpus" / "memdev" / "v1.mbox"))
    sctx = SeriesContext(series, Options(tree=str(tmp_path)))
    assert sctx.tree is not None and sctx.tree.root == tmp_path
    assert sctx.qemu_version == "9.2.0"
