"""A poisoned cache directory cannot make reviewbot run code: the facts index, its entries and
the saved tree graph are read back with reviewbot.util.cachefile, and a check still gives the same
findings from a fresh build."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.c.facts import extract
from reviewbot.util import cachefile

WIDGET = """\
#include "qemu/osdep.h"

static void widget_realize(DeviceState *dev, Error **errp)
{
}

static void widget_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = widget_realize;
}

static const TypeInfo widget_info = {
    .name = "widget",
    .parent = TYPE_DEVICE,
    .class_init = widget_class_init,
};
"""

PATCH = """\
From: A U Thor <author@example.org>
Subject: [PATCH] hw/misc/widget: look at the machine

---
 hw/misc/widget.c | 1 +
 1 file changed, 1 insertion(+)

diff --git a/hw/misc/widget.c b/hw/misc/widget.c
--- a/hw/misc/widget.c
+++ b/hw/misc/widget.c
@@ -3,3 +3,4 @@
 static void widget_realize(DeviceState *dev, Error **errp)
 {
+    MachineState *ms = MACHINE(qdev_get_machine());
 }
"""


class _Exploit:
    """Unpickling this with plain pickle runs ``touch MARKER``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_naming_anything_else_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = pickle.dumps(_Exploit(marker))
    with pytest.raises(pickle.UnpicklingError, match=r"(posix|os)\.system"):
        cachefile.loads(evil)
    assert not marker.exists()
    facts = extract("hw/misc/widget.c", WIDGET)
    assert cachefile.loads(pickle.dumps(facts)) == facts


def _check(tmp_path: Path, cache: Path) -> list[dict[str, object]]:
    tree = tmp_path / "tree"
    (tree / "hw/misc").mkdir(parents=True, exist_ok=True)
    (tree / "hw/misc/widget.c").write_text(WIDGET)
    patch = tmp_path / "widget.patch"
    patch.write_text(PATCH)
    env = {**os.environ, "REVIEWBOT_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "reviewbot", "check", str(patch), "--tree", str(tree),
         "--format", "json"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stderr
    findings: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return findings


def _poison(cache: Path, marker: Path) -> list[str]:
    """Every cache file rewritten to run ``touch MARKER`` when unpickled, keeping what an
    attacker can copy from the real file (the facts index shape, the graph's code key)."""
    evil = pickle.dumps(_Exploit(marker))
    poisoned = []
    for file in sorted(cache.glob("*.pickle")):
        with file.open("rb") as fh:
            first = pickle.load(fh)
        if file.name.startswith("facts-"):
            first.facts = dict.fromkeys(first.facts, evil)
            file.write_bytes(pickle.dumps(first))
            poisoned.append("facts entries")
            continue
        file.write_bytes(pickle.dumps(first) + evil)  # the graph: its code key, then evil
        poisoned.append("graph")
    return poisoned


def test_a_poisoned_cache_runs_nothing_and_changes_no_finding(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    marker = tmp_path / "ran"
    clean = _check(tmp_path, cache)
    assert ("qom-realize-reaches-machine", "hw/misc/widget.c", 5) in [
        (f["rule"], f["path"], f["line"]) for f in clean]

    assert _poison(cache, marker) == ["facts entries", "graph"]
    assert _check(tmp_path, cache) == clean
    assert not marker.exists()

    evil = pickle.dumps(_Exploit(marker))
    for file in cache.glob("*.pickle"):  # whole files replaced too
        file.write_bytes(evil)
    assert _check(tmp_path, cache) == clean
    assert not marker.exists()
