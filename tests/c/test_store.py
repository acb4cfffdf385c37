"""The tree index database: facts as JSON, nothing run from a poisoned or damaged file, the
same findings after it is rebuilt, and two checks at once on one database."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reviewbot.c.facts import FileFacts, extract
from reviewbot.c.store import decode_facts, encode_facts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "c"

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

HELPER = """\
#include "qemu/osdep.h"

void widget_pick(DeviceState *dev)
{
    MachineState *ms = MACHINE(qdev_get_machine());
    (void)ms;
}
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
+    widget_pick(dev);
 }
"""


def test_facts_go_through_json_unchanged() -> None:
    for p in sorted(FIXTURES.rglob("*.c")):
        ff = extract(p.relative_to(FIXTURES).as_posix(), p.read_text(encoding="utf-8"))
        text = encode_facts(ff)
        again = decode_facts(text)
        assert again == ff and isinstance(again, FileFacts)
        assert again.function(ff.functions[0].name) == ff.functions[0] if ff.functions else True
    dispatching = next(extract(p.name, p.read_text(encoding="utf-8"))
                       for p in FIXTURES.rglob("toy-machine.c"))
    assert dispatching.dispatches and decode_facts(encode_facts(dispatching)) == dispatching


@pytest.mark.parametrize("junk", ["[]", "{}", "not json", '["hw/x.c", 1]', "null"])
def test_anything_but_facts_is_refused(junk: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        decode_facts(junk)


class _Exploit:
    """Unpickling this with plain pickle runs ``touch MARKER``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    (tree / "hw/misc").mkdir(parents=True, exist_ok=True)
    (tree / "hw/misc/widget.c").write_text(WIDGET, encoding="utf-8")
    (tree / "hw/misc/widget-pick.c").write_text(HELPER, encoding="utf-8")
    (tmp_path / "widget.patch").write_text(PATCH, encoding="utf-8")
    return tree


def _start(tmp_path: Path, cache: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "REVIEWBOT_CACHE_DIR": str(cache)}
    return subprocess.Popen(
        [sys.executable, "-m", "reviewbot", "check", str(tmp_path / "widget.patch"), "--tree",
         str(tmp_path / "tree"), "--format", "json"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def _check(tmp_path: Path, cache: Path) -> tuple[list[dict[str, object]], str]:
    proc = _start(tmp_path, cache)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    findings: list[dict[str, object]] = json.loads(out)["findings"]
    return findings, err


def _reaches(findings: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(f["rule"], f["path"], f["line"], tuple(f["evidence"]))  # type: ignore[arg-type]
            for f in findings if f["rule"] == "qom-realize-reaches-machine"]


def test_a_poisoned_database_runs_nothing_and_changes_no_finding(tmp_path: Path) -> None:
    """Every value the database holds replaced by a pickle that runs a command: the check
    notices, rebuilds, and says what a clean one says."""
    _tree(tmp_path)
    cache = tmp_path / "cache"
    marker = tmp_path / "ran"
    clean, err = _check(tmp_path, cache)
    assert err == ""
    # the chain crosses files: it comes from the tree's graph, not the patch alone
    assert _reaches(clean) and "hw/misc/widget-pick.c:5" in str(_reaches(clean)[0][3])

    evil = pickle.dumps(_Exploit(marker))
    (file,) = cache.glob("index-*.sqlite")
    with sqlite3.connect(file) as db:
        db.execute("UPDATE facts SET data = ?", (evil,))
        db.execute("UPDATE nodes SET attrs = ?", (evil,))
        db.execute("UPDATE out_edges SET attrs = ?", (evil,))
        db.execute("UPDATE state SET value = ?", (evil,))
    again, err = _check(tmp_path, cache)
    assert again == clean
    assert "reviewbot: note: the tree index" in err and "damaged" in err
    assert len(err.splitlines()) == 1
    assert not marker.exists()

    # the whole file replaced: not a database at all
    for extra in cache.glob("index-*.sqlite-*"):
        extra.unlink()
    file.write_bytes(evil)
    again, err = _check(tmp_path, cache)
    assert again == clean and len(err.splitlines()) == 1 and "not reviewbot's" in err
    assert not marker.exists()
    # and the rebuilt one is whole, and used quietly
    again, err = _check(tmp_path, cache)
    assert (again, err) == (clean, "")


@pytest.mark.parametrize("warm", [False, True])
def test_two_checks_at_once_share_one_database(tmp_path: Path, warm: bool) -> None:
    """Two processes checking against one tree at the same time, on an empty database (both
    index; one writer at a time) or a built one (readers only): both give the findings one
    check alone gives, and the database stays whole."""
    from reviewbot.c.store import Store

    _tree(tmp_path)
    alone, _ = _check(tmp_path, tmp_path / "alone")
    cache = tmp_path / "cache"
    if warm:
        _check(tmp_path, cache)
    procs = [_start(tmp_path, cache) for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        assert "damaged" not in err
        assert json.loads(out)["findings"] == alone
    (file,) = cache.glob("index-*.sqlite")
    store = Store(file)
    assert store.check_integrity()
    assert store.meta("graph-base")
    store.close()


def test_a_cache_directory_that_cannot_be_written_costs_only_time(tmp_path: Path) -> None:
    _tree(tmp_path)
    clean, _ = _check(tmp_path, tmp_path / "cache")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory\n", encoding="utf-8")
    found, err = _check(tmp_path, blocked / "cache")
    assert found == clean
    assert len(err.splitlines()) == 1 and "it lasts for this run only" in err


def test_a_lazy_map_is_true_without_reading_every_entry() -> None:
    """``if g`` on the stored graph: LazyMap.__bool__ asks for one stored entry (``some``),
    never ``every()``, and counts what was removed or added in memory."""
    from reviewbot.c.store import _ABSENT, LazyMap

    stored = {"a": 1, "b": 2}
    walked: list[int] = []

    def every() -> list[tuple[str, int]]:
        walked.append(1)
        return list(stored.items())

    def one(key: str) -> Any:
        return stored.get(key, _ABSENT)

    some_calls: list[set[str]] = []

    def some(gone: set[str]) -> bool:
        some_calls.append(set(gone))
        return any(k not in gone for k in stored)

    m: LazyMap[str, int] = LazyMap(one, lambda: iter(every()), some)
    assert m and walked == [] and some_calls == [set()]
    del m["a"]
    walked.clear()
    assert m  # b is still stored
    del m["b"]
    assert not m and walked == [] and some_calls[-1] == {"a", "b"}
    m["c"] = 3
    assert m and m.copy()
    # without ``some`` the stored entries are walked, only as far as the first one kept
    plain: LazyMap[str, int] = LazyMap(one, lambda: iter(every()))
    assert plain and len(plain) == 2
    empty: LazyMap[str, int] = LazyMap(one, lambda: iter(()))
    assert not empty
