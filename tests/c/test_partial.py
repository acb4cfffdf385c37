"""A file known only from its hunks is completed from the tree's facts for the graph: what the
hunks show comes from them, the rest from the tree."""

from __future__ import annotations

import shutil
from pathlib import Path

from reviewbot.c.facts import extract
from reviewbot.c.partial import complete
from reviewbot.context import Options, SeriesContext
from reviewbot.engine import run_check
from reviewbot.ingest import load
from reviewbot.rules.loader import load_rules

ROOT = Path(__file__).resolve().parents[2]
FOO = ROOT / "tests" / "fixtures" / "c" / "hw" / "misc" / "foo-dev.c"

BASE = """\
#define TYPE_GADGET "gadget"
#define GADGET_REGS 4
static int gadget_count;

static void gadget_old_helper(void)
{
    gadget_count = 0;
}

static void gadget_reset(DeviceState *dev)
{
    gadget_old_helper();
}

static void gadget_realize(DeviceState *dev, Error **errp)
{
    gadget_count++;
}

static void gadget_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = gadget_realize;
    dc->legacy_reset = gadget_reset;
}

static const TypeInfo gadget_info = {
    .name = TYPE_GADGET,
    .parent = TYPE_DEVICE,
    .class_init = gadget_class_init,
};
"""


def test_what_the_hunks_show_replaces_the_trees_facts() -> None:
    base = extract("hw/misc/gadget.c", BASE)
    # the hunks: gadget_old_helper deleted, gadget_reset's body changed (its start not
    # shown: its @@ header names it), GADGET_REGS changed, a new function added
    before = extract("hw/misc/gadget.c",
                     "\n" * 1 + "#define GADGET_REGS 4\n\n\n"
                     "static void gadget_old_helper(void)\n{\n    gadget_count = 0;\n}\n"
                     "\n\n\n    gadget_old_helper();\n", partial=True,
                     enclosing={12: "gadget_reset"})
    after = extract("hw/misc/gadget.c",
                    "\n#define GADGET_REGS 8\n\n\n"
                    "static void gadget_new_helper(void)\n{\n    gadget_count = 1;\n}\n"
                    "\n\n\n    gadget_new_helper();\n", partial=True,
                    enclosing={12: "gadget_reset"})
    merged = complete(base, before, after, named=["gadget_reset"])
    assert merged.partial and merged.path == "hw/misc/gadget.c"
    # gadget_reset: the hunks show part of its body, the tree its definition
    assert [f.name for f in merged.functions] == [
        "gadget_reset", "gadget_realize", "gadget_class_init", "gadget_new_helper"]
    # the tree's facts of functions the hunks do not show, the hunks' facts of the others
    assert [(c.caller, c.callee) for c in merged.calls if c.caller == "gadget_reset"] == [
        ("gadget_reset", "gadget_new_helper")]
    assert {(a.function, a.field, a.target) for a in merged.assignments} >= {
        ("gadget_class_init", "realize", "gadget_realize"),
        ("gadget_class_init", "legacy_reset", "gadget_reset")}
    assert [t.name for t in merged.typeinfos] == ["TYPE_GADGET"]


def test_a_typeinfo_array_the_hunks_show_replaces_the_trees() -> None:
    array = """\
static const TypeInfo pair_types[] = {
    {
        .name = TYPE_LEFT,
        .parent = TYPE_DEVICE,
    }, {
        .name = TYPE_RIGHT,
        .parent = TYPE_DEVICE,
    },
};
"""
    base = extract("hw/misc/pair.c", "static const TypeInfo solo_info = {\n"
                   "    .name = TYPE_SOLO,\n    .parent = TYPE_DEVICE,\n};\n\n" + array)
    # the hunks show the whole array: the right one's parent changes, the left one goes
    shown = "\n" * 5 + array
    changed = shown.replace("""    {
        .name = TYPE_LEFT,
        .parent = TYPE_DEVICE,
    }, {
""", "    {\n").replace("TYPE_DEVICE,\n    },\n}", "TYPE_SYS_BUS_DEVICE,\n    },\n}")
    merged = complete(base, extract("hw/misc/pair.c", shown, partial=True),
                      extract("hw/misc/pair.c", changed, partial=True))
    assert sorted((t.var, t.name, t.parent) for t in merged.typeinfos) == [
        ("pair_types", "TYPE_RIGHT", "TYPE_SYS_BUS_DEVICE"),
        ("solo_info", "TYPE_SOLO", "TYPE_DEVICE")]


# A hunk whose context is not in the tree's foo-dev.c (the mail is against another revision):
# it makes foo_dev_realize, registered by a class_init the hunk does not show, read the
# machine.
MAIL = """\
From: Jo Contributor <jo.contributor@example.org>
Subject: [PATCH] hw/misc/foo-dev: place the device again at realize
Date: Tue, 3 Mar 2026 10:15:00 +0100
Message-Id: <20260303101500.5151-1-jo.contributor@example.org>

Signed-off-by: Jo Contributor <jo.contributor@example.org>
---
diff --git a/hw/misc/foo-dev.c b/hw/misc/foo-dev.c
--- a/hw/misc/foo-dev.c
+++ b/hw/misc/foo-dev.c
@@ -53,11 +53,12 @@ static void foo_dev_helper_realize(FooDevState *s)
 static void foo_dev_realize(DeviceState *dev, Error **errp)
 {
     FooDevState *s = FOO_DEV(dev);
\x20
     if (phase_check(PHASE_MACHINE_READY)) {
         error_setg(errp, "foo-dev cannot be hotplugged");
         return;
     }
     foo_dev_place(s, true);
+    s->ram = MACHINE(qdev_get_machine())->ram_size;
     QLIST_INSERT_HEAD(&foo_devices, s, next);
"""


def test_a_hunk_that_does_not_apply_keeps_the_rest_of_the_file_in_the_graph(
        tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    tree = tmp_path / "qemu"
    shutil.copytree(ROOT / "tests" / "fixtures" / "c", tree)
    mbox = tmp_path / "foo.mbox"
    mbox.write_text(MAIL, encoding="utf-8")
    series = load(str(mbox))
    sctx = SeriesContext(series, Options(tree=str(tree)))
    [pctx] = sctx.patch_contexts
    src = pctx.source("hw/misc/foo-dev.c")
    assert src is not None and src.partial  # the hunk did not apply
    facts = pctx.facts("hw/misc/foo-dev.c")
    # what the rules read: the hunk's lines only
    assert facts is not None and [f.name for f in facts.functions] == ["foo_dev_realize"]
    g = pctx.graph
    realize = "hw/misc/foo-dev.c::foo_dev_realize"
    # the tree's class_init still registers the realize the hunk shows a part of
    assert "realize" in g.nodes[realize]["roles"]
    assert "hw/misc/foo-dev.c::foo_dev_class_init" in g
    assert (realize, "hw/misc/foo-dev.c::foo_dev_place") in g.edges
    assert ("hw/misc/foo-dev.c::foo_dev_place", "hw/misc/foo-dev.c::foo_machine_ram") in g.edges
    # so the rule knows the added line is in a realize, as it would on the whole file
    rules = [r for r in load_rules() if r.id == "qom-realize-reaches-machine"]
    found = run_check(series, Options(tree=str(tree)), rules).findings
    assert [(f.rule, f.path, f.line) for f in found] == [
        ("qom-realize-reaches-machine", "hw/misc/foo-dev.c", 62)]
    assert "foo_dev_realize -> qdev_get_machine()" in found[0].message
