"""Diff paths with ``..``, absolute paths and symlinks never make reviewbot read or write
outside the tree it was given (``--tree DIR``), and it never writes inside that tree.

Every file reviewbot opens during a run is seen through a Python audit hook, resolved with
symlinks followed, and compared with the directories of the test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fuzzkit import assert_orderly, run_cli
from hypothesis import given
from hypothesis import strategies as st

from reviewbot.patch.tree import DirTree

SECRET = """\
/* SECRET_MARKER: nothing outside the tree may be read */
static void outside_realize(DeviceState *dev, Error **errp)
{
    MachineState *ms = MACHINE(qdev_get_machine());
}
"""

GOOD = """\
#include "qemu/osdep.h"

static void good_realize(DeviceState *dev, Error **errp)
{
}
"""


class _Watch:
    """What the process opened and wrote while active (paths resolved, symlinks followed)."""

    active = False
    reads: list[str] = []  # noqa: RUF012 - one process-wide recorder
    writes: list[str] = []  # noqa: RUF012


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _resolve(path: Any) -> str | None:
    if isinstance(path, int):
        return None
    if isinstance(path, bytes):
        path = path.decode("utf-8", "surrogateescape")
    if not isinstance(path, (str, os.PathLike)):
        return None
    # os.path, not pathlib: this runs inside an audit hook and must stay minimal
    return os.path.realpath(os.path.join(os.getcwd(), os.fspath(path)))  # noqa: PTH109, PTH118


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _Watch.active:
        return
    if event == "open" and args:
        resolved = _resolve(args[0])
        if resolved is None:
            return
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        if any(c in mode for c in "wax+") or flags & _WRITE_FLAGS:
            _Watch.writes.append(resolved)
        else:
            _Watch.reads.append(resolved)
    elif event in ("os.remove", "os.rename", "os.replace", "os.mkdir", "os.symlink",
                   "os.rmdir", "os.truncate", "os.chmod", "os.utime", "shutil.rmtree"):
        for arg in args:
            resolved = _resolve(arg)
            if resolved is not None:
                _Watch.writes.append(resolved)
    elif event in ("os.listdir", "os.scandir") and args:
        resolved = _resolve(args[0])
        if resolved is not None:
            _Watch.reads.append(resolved)


sys.addaudithook(_hook)


@contextmanager
def watching() -> Iterator[_Watch]:
    _Watch.reads, _Watch.writes = [], []
    _Watch.active = True
    try:
        yield _Watch
    finally:
        _Watch.active = False


def _inside(path: str, top: Path) -> bool:
    return path == str(top) or path.startswith(str(top) + os.sep)


@pytest.fixture
def layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """tree/ (with symlinks pointing out), outside/secret.c, and a cache dir for the index."""
    tmp_path = tmp_path.resolve()
    tree, outside, cache = tmp_path / "tree", tmp_path / "outside", tmp_path / "cache"
    (tree / "hw" / "misc").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.c").write_text(SECRET, encoding="utf-8")
    (tree / "VERSION").write_text("10.0.13\n", encoding="utf-8")
    (tree / "hw" / "misc" / "good.c").write_text(GOOD, encoding="utf-8")
    (tree / "hw" / "misc" / "link.c").symlink_to(outside / "secret.c")
    (tree / "hw" / "linkdir").symlink_to(outside, target_is_directory=True)
    (tree / "hw" / "misc" / "relative-link.c").symlink_to(Path("../../../outside/secret.c"))
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(cache))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return {"tmp": tmp_path, "tree": tree, "outside": outside, "cache": cache}


def _patch_to(path: str) -> str:
    """A patch that changes line 3 of the secret file, as seen at ``path``."""
    return (
        "From: A <a@example.org>\nSubject: [PATCH] hw/misc: touch a file\n\n"
        "Touch it.\n\nSigned-off-by: A <a@example.org>\n---\n"
        f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        "@@ -1,5 +1,6 @@\n"
        " /* SECRET_MARKER: nothing outside the tree may be read */\n"
        " static void outside_realize(DeviceState *dev, Error **errp)\n"
        " {\n"
        "     MachineState *ms = MACHINE(qdev_get_machine());\n"
        "+    MachineState *again = MACHINE(qdev_get_machine());\n"
        " }\n"
    )


def _escapes(layout: dict[str, Path]) -> list[str]:
    secret = layout["outside"] / "secret.c"
    return [
        "../outside/secret.c",
        "hw/../../outside/secret.c",
        str(secret),  # absolute: a/ + /tmp/... in the header
        "hw/misc/link.c",
        "hw/misc/relative-link.c",
        "hw/linkdir/secret.c",
    ]


def _check_run(layout: dict[str, Path], patch_text: str, *extra: str) -> None:
    patch = layout["tmp"] / "input.patch"
    patch.write_text(patch_text, encoding="utf-8")
    before = sorted(p.name for p in layout["outside"].iterdir())
    with watching() as seen:
        outcome = run_cli(["check", "--tree", str(layout["tree"]), *extra, str(patch)])
    assert_orderly(outcome, patch_text.splitlines()[-8])
    read_out = [p for p in seen.reads if _inside(p, layout["outside"])]
    assert not read_out, f"read outside the tree: {read_out}"
    wrote = [p for p in seen.writes
             if _inside(p, layout["tree"]) or _inside(p, layout["outside"])]
    assert not wrote, f"wrote into the tree or beside it: {wrote}"
    assert sorted(p.name for p in layout["outside"].iterdir()) == before
    assert (layout["outside"] / "secret.c").read_text(encoding="utf-8") == SECRET
    assert "SECRET_MARKER" not in outcome.out
    assert "outside_realize" not in outcome.out


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("whole", [False, True], ids=["diff-only", "all"])
def test_escaping_diff_path_is_not_followed(layout: dict[str, Path], index: int,
                                            whole: bool) -> None:
    path = _escapes(layout)[index]
    _check_run(layout, _patch_to(path), *(["--all"] if whole else []))


def test_tree_reader_refuses_paths_that_leave_the_tree(layout: dict[str, Path]) -> None:
    tree = DirTree(layout["tree"])
    assert tree.read_text("hw/misc/good.c") == GOOD
    for path in _escapes(layout):
        assert tree.read_text(path) is None, f"{path} read through the tree"
        assert not tree.exists(path), f"{path} exists in the tree"


def test_tree_listing_leaves_out_links_that_leave_the_tree(layout: dict[str, Path]) -> None:
    listed = DirTree(layout["tree"]).list_files(("hw/",), (".c",))
    assert "hw/misc/good.c" in listed
    assert not {"hw/misc/link.c", "hw/misc/relative-link.c", "hw/linkdir/secret.c"} & set(listed)


_SEGMENT = st.sampled_from(["..", ".", "", "hw", "misc", "link.c", "linkdir", "secret.c",
                            "outside", "~", "/", "\\..", "..\\..", "%2e%2e", "good.c"])


@given(st.lists(_SEGMENT, min_size=1, max_size=6).map("/".join))
def test_generated_paths_never_read_outside(path: str) -> None:
    layout = _LAYOUT_FOR_HYPOTHESIS
    tree = DirTree(layout["tree"])
    with watching() as seen:
        tree.read_text(path)
        tree.exists(path)
    read_out = [p for p in seen.reads if _inside(p, layout["outside"])]
    assert not read_out, f"{path!r} read {read_out}"


_LAYOUT_FOR_HYPOTHESIS: dict[str, Path] = {}


@pytest.fixture(autouse=True, scope="module")
def _hypothesis_layout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The layout for the @given test, built once (hypothesis cannot take a per-test fixture)."""
    top = tmp_path_factory.mktemp("paths").resolve()
    tree, outside = top / "tree", top / "outside"
    (tree / "hw" / "misc").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.c").write_text(SECRET, encoding="utf-8")
    (tree / "hw" / "misc" / "good.c").write_text(GOOD, encoding="utf-8")
    (tree / "hw" / "misc" / "link.c").symlink_to(outside / "secret.c")
    (tree / "hw" / "linkdir").symlink_to(outside, target_is_directory=True)
    _LAYOUT_FOR_HYPOTHESIS.update({"tree": tree, "outside": outside})
    yield
    _LAYOUT_FOR_HYPOTHESIS.clear()
