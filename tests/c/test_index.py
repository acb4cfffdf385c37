"""The tree index: every file's facts, a content-hash cache, a process pool."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reviewbot.c.facts import extract
from reviewbot.c.index import IndexStats, index_tree
from reviewbot.patch.tree import DirTree, GitTree

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "c"


def make_tree(root: Path, copies: int = 3) -> Path:
    """A small tree: the fixtures, each copied ``copies`` times under hw/, plus a header."""
    for src in sorted(FIXTURES.rglob("*.c")):
        rel = src.relative_to(FIXTURES)
        for i in range(copies):
            dest = root / rel.parent / f"{rel.stem}-{i}.c"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
    (root / "include" / "hw").mkdir(parents=True)
    (root / "include" / "hw" / "foo.h").write_text('#define TYPE_FOO "foo"\n', encoding="utf-8")
    (root / "docs").mkdir()
    (root / "docs" / "skip.c").write_text("int skipped;\n", encoding="utf-8")
    return root


def test_index_parses_then_reuses_the_cache(tmp_path: Path) -> None:
    tree = DirTree(make_tree(tmp_path / "tree"))
    cache = tmp_path / "cache"
    first = IndexStats()
    facts = index_tree(tree, ("hw/", "include/"), jobs=2, cache_dir=cache, stats=first)
    paths = [f.path for f in facts]
    assert paths == sorted(paths)
    assert len(paths) == 13  # 4 fixtures x 3 copies + the header; docs/ is not indexed
    assert (first.files, first.parsed, first.cached, first.jobs) == (13, 13, 0, 2)
    dev = next(f for f in facts if f.path == "hw/misc/foo-dev-1.c")
    text = (FIXTURES / "hw/misc/foo-dev.c").read_text(encoding="utf-8")
    assert dev == extract("hw/misc/foo-dev-1.c", text)  # the pool gives what extract gives

    second = IndexStats()
    again = index_tree(tree, ("hw/", "include/"), jobs=2, cache_dir=cache, stats=second)
    assert (second.parsed, second.cached) == (0, 13)
    assert again == facts

    changed = tmp_path / "tree" / "hw" / "misc" / "foo-dev-1.c"
    changed.write_text(text.replace("foo_dev_place(s);\n    QLIST", "QLIST"), encoding="utf-8")
    third = IndexStats()
    updated = index_tree(tree, ("hw/", "include/"), jobs=2, cache_dir=cache, stats=third)
    assert (third.parsed, third.cached) == (1, 12)
    new_dev = next(f for f in updated if f.path == "hw/misc/foo-dev-1.c")
    assert [c.callee for c in new_dev.calls if c.caller == "foo_dev_realize"] == [
        "phase_check", "error_setg", "g_slist_append", "qemu_add_machine_init_done_notifier"]


def _damage(file: Path, how: str) -> None:
    import sqlite3

    if how == "truncated":
        data = file.read_bytes()
        file.write_bytes(data[:len(data) // 2])
    elif how == "garbage":
        file.write_bytes(b"not a database at all\n" * 200)
    elif how == "schema version":
        with sqlite3.connect(file) as db:
            db.execute("PRAGMA user_version = 999")
    elif how == "foreign":
        file.unlink()
        with sqlite3.connect(file) as db:
            db.execute("CREATE TABLE facts (key BLOB, path TEXT, data TEXT)")
            db.execute("INSERT INTO facts VALUES (x'00', 'hw/x.c', '[]')")
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["truncated", "garbage", "schema version", "foreign"])
def test_a_damaged_database_is_rebuilt_with_a_note(
        tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    from reviewbot.c import index
    from reviewbot.c.store import Store

    tree = DirTree(make_tree(tmp_path / "tree", copies=3))
    cache = tmp_path / "cache"
    clean = index_tree(tree, ("hw/",), jobs=1, cache_dir=cache)
    index.forget()
    (written,) = cache.glob("index-*.sqlite")
    Store(written).db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file
    index.forget()
    for extra in cache.glob("index-*.sqlite-*"):
        extra.unlink()
    _damage(written, how)
    capsys.readouterr()

    stats = IndexStats()
    facts = index_tree(tree, ("hw/",), jobs=1, cache_dir=cache, stats=stats)
    notes = capsys.readouterr().err.splitlines()
    assert len(notes) == 1 and notes[0].startswith("reviewbot: note: the tree index ")
    assert "building it again" in notes[0]
    assert (stats.parsed, facts) == (12, clean)  # parsed again: nothing of it trusted
    index.forget()
    again = IndexStats()
    index_tree(tree, ("hw/",), jobs=1, cache_dir=cache, stats=again)
    assert (again.cached, capsys.readouterr().err) == (12, "")
    assert Store(written).check_integrity()


def test_one_cache_file_per_tree_keeps_only_recent_entries(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree", copies=1)
    other = make_tree(tmp_path / "other", copies=1)
    cache = tmp_path / "cache"
    index_tree(DirTree(root), ("hw/",), jobs=1, cache_dir=cache)
    index_tree(DirTree(other), ("hw/",), jobs=1, cache_dir=cache)
    assert len(list(cache.glob("index-*.sqlite"))) == 2
    # rewrite every file a few times: old versions do not pile up in the cache
    target = root / "hw" / "toy" / "macro-heavy-0.c"
    for i in range(6):
        target.write_text(f"int version_{i};\n", encoding="utf-8")
        index_tree(DirTree(root), ("hw/",), jobs=1, cache_dir=cache)
    import sqlite3

    sizes = []
    for f in cache.glob("index-*.sqlite"):
        with sqlite3.connect(f) as db:
            sizes.append(db.execute("SELECT count(*) FROM facts").fetchone()[0])
    assert sorted(sizes) == [4, 4]  # only the current files: old versions are dropped


def test_cache_dir_from_the_environment(tmp_path: Path, monkeypatch: Any) -> None:
    tree = DirTree(make_tree(tmp_path / "tree", copies=1))
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "envcache"))
    index_tree(tree, ("include/",), jobs=1)
    assert [p.name for p in (tmp_path / "envcache").iterdir()] != []
    assert not any(p.name.startswith("index-") for p in (tmp_path / "tree").rglob("*"))


def test_index_of_a_git_revision(git_repo: Callable[..., Any], tmp_path: Path) -> None:
    repo = git_repo()
    text = (FIXTURES / "hw/toy/toy-machine.c").read_text(encoding="utf-8")
    rev = repo.commit("machine", {"hw/toy/toy-machine.c": text})
    repo.commit("later", {"hw/toy/toy-machine.c": "int gone;\n"})
    facts = index_tree(GitTree(repo.path, rev), ("hw/",), jobs=1, cache_dir=tmp_path / "c")
    assert [f.path for f in facts] == ["hw/toy/toy-machine.c"]
    assert facts[0].function("toy_machine_plug") is not None


OLD_NS = 1_600_000_000_000_000_000  # an mtime long before any stat table is written


def age(paths: Any) -> None:
    """Give ``paths`` an old mtime (the links themselves, not their targets)."""
    import os

    for p in paths:
        os.utime(p, ns=(OLD_NS, OLD_NS), follow_symlinks=False)


def spy_reads(monkeypatch: Any) -> list[str]:
    """The paths the index reads through ``DirTree.read_many``, in order."""
    read: list[str] = []
    original = DirTree.read_many

    def spy(self: DirTree, paths: Any) -> dict[str, bytes]:
        wanted = list(paths)
        read.extend(wanted)
        return original(self, wanted)

    monkeypatch.setattr(DirTree, "read_many", spy)
    return read


def count_comparisons(monkeypatch: Any) -> list[int]:
    """One entry per open_index that compared the listing with the stat table file by file."""
    from reviewbot.c import index

    compared: list[int] = []
    keys = index._keys

    def counting(*args: Any, **kwargs: Any) -> Any:
        compared.append(1)
        return keys(*args, **kwargs)

    monkeypatch.setattr(index, "_keys", counting)
    return compared


def test_unchanged_files_are_not_read_again(tmp_path: Path, monkeypatch: Any) -> None:
    root = make_tree(tmp_path / "tree", copies=1)
    age(p for p in root.rglob("*.c") if "docs" not in p.parts)
    tree = DirTree(root)
    cache = tmp_path / "cache"
    index_tree(tree, ("hw/",), jobs=1, cache_dir=cache)

    read = spy_reads(monkeypatch)
    stats = IndexStats()
    facts = index_tree(tree, ("hw/",), jobs=1, cache_dir=cache, stats=stats)
    assert (read, stats.cached, len(facts)) == ([], 4, 4)

    # an edit gives the file a new mtime: that one file is read, hashed and parsed again
    target = root / "hw" / "toy" / "macro-heavy-0.c"
    target.write_text(target.read_text(encoding="utf-8").replace("heavy_count", "heavy_tally"),
                      encoding="utf-8")
    stats = IndexStats()
    facts = index_tree(tree, ("hw/",), jobs=1, cache_dir=cache, stats=stats)
    assert read == ["hw/toy/macro-heavy-0.c"]
    assert stats.parsed == 1
    heavy = next(f for f in facts if f.path == "hw/toy/macro-heavy-0.c")
    assert heavy.function("heavy_tally") is not None


def test_a_file_over_the_limits_stays_in_the_index_without_facts(
        tmp_path: Path, monkeypatch: Any) -> None:
    from reviewbot.util import limits

    root = make_tree(tmp_path / "tree", copies=1)
    (root / "hw" / "huge.c").write_text("int x;\n" * 1000, encoding="utf-8")
    monkeypatch.setattr(limits, "MAX_C_FILE_BYTES", 4000)
    facts = index_tree(DirTree(root), ("hw/",), jobs=1, cache_dir=tmp_path / "cache")
    huge = next(f for f in facts if f.path == "hw/huge.c")
    assert (huge.globals, huge.error_lines) == ((), (1,))
    assert len(facts) == 5


def test_a_second_index_in_one_process_reuses_the_loaded_facts(tmp_path: Path) -> None:
    tree = DirTree(make_tree(tmp_path / "tree", copies=1))
    cache = tmp_path / "cache"
    first = index_tree(tree, ("hw/",), jobs=1, cache_dir=cache)
    stats = IndexStats()
    second = index_tree(tree, ("hw/",), jobs=1, cache_dir=cache, stats=stats)
    assert stats.cached == 4 and stats.fingerprint
    assert all(a is b for a, b in zip(first, second, strict=True))  # not decoded again

    edited = tmp_path / "tree" / "hw" / "misc" / "foo-dev-0.c"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nvoid foo_extra(void) {}\n",
                      encoding="utf-8")
    after = IndexStats()
    third = index_tree(tree, ("hw/",), jobs=1, cache_dir=cache, stats=after)
    assert after.parsed == 1 and after.fingerprint != stats.fingerprint
    by_path = {f.path: f for f in third}
    assert by_path["hw/misc/foo-dev-0.c"].function("foo_extra") is not None
    assert [f for f in second if f.path != "hw/misc/foo-dev-0.c"] == [
        f for f in third if f.path != "hw/misc/foo-dev-0.c"]
    # the database says the same to a fresh process
    from reviewbot.c import index

    index.forget()
    assert index_tree(tree, ("hw/",), jobs=1, cache_dir=cache) == third


def test_a_new_git_base_parses_only_the_files_it_changed(
        git_repo: Callable[..., Any], tmp_path: Path) -> None:
    repo = git_repo()
    files = {p.relative_to(FIXTURES).as_posix(): p.read_text(encoding="utf-8")
             for p in sorted(FIXTURES.rglob("*.c"))}
    first = repo.commit("base", files)
    machine = files["hw/toy/toy-machine.c"]
    second = repo.commit("edit", {"hw/toy/toy-machine.c": machine.replace(
        "toy_machine_plug", "toy_machine_plug_one"), "hw/toy/new.c": "int fresh;\n"})
    cache = tmp_path / "cache"
    stats = IndexStats()
    index_tree(GitTree(repo.path, first), ("hw/",), jobs=1, cache_dir=cache, stats=stats)
    assert (stats.parsed, stats.cached) == (len(files), 0)
    stats = IndexStats()
    facts = index_tree(GitTree(repo.path, second), ("hw/",), jobs=1, cache_dir=cache,
                       stats=stats)
    assert (stats.parsed, stats.cached) == (2, len(files) - 1)
    by_path = {f.path: f for f in facts}
    assert by_path["hw/toy/toy-machine.c"].function("toy_machine_plug_one") is not None
    assert [g.name for g in by_path["hw/toy/new.c"].globals] == ["fresh"]
    # and back: the one file that differs is parsed again (the database keeps the facts of
    # the files it indexed last, and of the base of the tree's graph when there is one)
    stats = IndexStats()
    index_tree(GitTree(repo.path, first), ("hw/",), jobs=1, cache_dir=cache, stats=stats)
    assert (stats.parsed, stats.cached) == (1, len(files) - 1)


def test_a_cold_index_keys_files_as_a_warm_one_does(tmp_path: Path) -> None:
    """A first index reads and hashes the files on its workers; a later one (the database
    has facts) reads and hashes them itself: the same keys, the same facts."""
    tree = DirTree(make_tree(tmp_path / "tree", copies=2))
    cold = IndexStats()
    facts = index_tree(tree, ("hw/", "include/"), jobs=2, cache_dir=tmp_path / "a", stats=cold)
    index_tree(tree, ("include/",), jobs=1, cache_dir=tmp_path / "b")  # not cold any more
    later = IndexStats()
    again = index_tree(tree, ("hw/", "include/"), jobs=2, cache_dir=tmp_path / "b",
                       stats=later)
    assert (cold.parsed, later.parsed) == (9, 8)
    assert cold.fingerprint == later.fingerprint and facts == again
    assert cold.bytes == later.bytes > 0


def _open_after_find(tree: DirTree, cache: Path, prefixes: tuple[str, ...] = ("hw/",)) -> Any:
    """open_index as a check with --tree runs it: a find started first lists the files."""
    from reviewbot.c.index import open_index
    from reviewbot.patch.tree import list_stats_soon

    list_stats_soon(tree.root, prefixes)
    return open_index(DirTree(tree.root), prefixes, jobs=1, cache_dir=cache)


def test_a_tree_find_lists_as_before_is_taken_from_the_stat_table(
        tmp_path: Path, monkeypatch: Any) -> None:
    from reviewbot.c import index

    root = make_tree(tmp_path / "tree", copies=1)
    age(root.rglob("*.c"))
    tree = DirTree(root)
    cache = tmp_path / "cache"
    first = _open_after_find(tree, cache)  # cold: parses, writes the table and the mark
    assert first.store.meta(f"listing:{first.tree.root}") is not None

    compared = count_comparisons(monkeypatch)
    warm = _open_after_find(tree, cache)
    assert compared == []  # nothing compared file by file
    assert (warm.keys, warm.fingerprint) == (first.keys, first.fingerprint)
    walked = index.open_index(DirTree(root), ("hw/",), jobs=1, cache_dir=cache)  # no find
    assert compared == [1] and walked.fingerprint == first.fingerprint

    # an edit changes the file's size and mtime: find prints something else, and that file
    # is read again
    target = root / "hw" / "misc" / "foo-dev-0.c"
    target.write_text(target.read_text(encoding="utf-8") + "int more;\n", encoding="utf-8")
    edited = _open_after_find(tree, cache)
    assert len(compared) == 2
    assert edited.keys["hw/misc/foo-dev-0.c"] != first.keys["hw/misc/foo-dev-0.c"]
    assert {p: k for p, k in edited.keys.items() if p != "hw/misc/foo-dev-0.c"} == {
        p: k for p, k in first.keys.items() if p != "hw/misc/foo-dev-0.c"}
    # written a moment ago, the file cannot be trusted by its stat: no mark, and the next
    # run compares file by file again
    assert edited.store.meta(f"listing:{edited.tree.root}") is None
    again = _open_after_find(tree, cache)
    assert len(compared) == 3 and again.fingerprint == edited.fingerprint
    # once it is old enough, the mark is written again
    age([target])
    _open_after_find(tree, cache)
    _open_after_find(tree, cache)
    assert len(compared) == 4


def test_a_listing_with_a_symbolic_link_is_always_compared(
        tmp_path: Path, monkeypatch: Any) -> None:
    import os

    root = make_tree(tmp_path / "tree", copies=1)
    # a link under hw/ to a file outside the listing (its target's changes do not show in it)
    (root / "docs" / "real.c").write_text("int real;\n", encoding="utf-8")
    (root / "hw" / "linked.c").symlink_to(root / "docs" / "real.c")
    age(root.rglob("*.c"))
    tree = DirTree(root)
    cache = tmp_path / "cache"
    first = _open_after_find(tree, cache)
    compared = count_comparisons(monkeypatch)
    # the link's own stat does not change when its target does: never taken on trust
    target = root / "docs" / "real.c"
    target.write_text("int real_and_longer;\n", encoding="utf-8")
    os.utime(target, ns=(OLD_NS + 10**9, OLD_NS + 10**9))
    warm = _open_after_find(tree, cache)
    assert compared == [1]
    assert warm.keys["hw/linked.c"] != first.keys["hw/linked.c"]  # the target's new text


def test_a_file_too_new_to_trust_is_trusted_once_it_is_old_enough(
        tmp_path: Path, monkeypatch: Any) -> None:
    import time

    root = make_tree(tmp_path / "tree", copies=1)
    age(root.rglob("*.c"))
    target = root / "hw" / "misc" / "foo-dev-0.c"
    target.write_text(target.read_text(encoding="utf-8") + "int more;\n", encoding="utf-8")
    tree = DirTree(root)
    cache = tmp_path / "cache"
    first = _open_after_find(tree, cache)  # the edit is too new: no mark
    assert first.store.meta(f"listing:{first.tree.root}") is None
    read = spy_reads(monkeypatch)
    _open_after_find(tree, cache)
    assert read == ["hw/misc/foo-dev-0.c"]  # read again: not trusted yet
    # three seconds later the table is written again, the file trusted and the listing marked
    now = time.time_ns() + 3_000_000_000
    monkeypatch.setattr(time, "time_ns", lambda: now)
    later = _open_after_find(tree, cache)
    assert later.store.meta(f"listing:{later.tree.root}") is not None
    compared = count_comparisons(monkeypatch)
    warm = _open_after_find(tree, cache)
    assert compared == [] and warm.fingerprint == first.fingerprint
    assert read == ["hw/misc/foo-dev-0.c", "hw/misc/foo-dev-0.c"]
