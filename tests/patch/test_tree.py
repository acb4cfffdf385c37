"""Trees: a directory, a git revision, the git index; open_tree's choice; never writing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reviewbot.errors import InputError
from reviewbot.ingest import load
from reviewbot.model import Series
from reviewbot.patch.tree import DirTree, GitTree, open_tree

FILES = {
    "VERSION": "10.0.13\n",
    "MAINTAINERS": "Memory devices\nF: hw/mem/\n",
    "hw/mem/pc-dimm.c": "int dimm;\n",
    "hw/mem/notes.txt": "not C\n",
    "include/hw/mem/pc-dimm.h": "#define TYPE_PC_DIMM \"pc-dimm\"\n",
    "system/vl.c": "int main(void);\n",
    "tests/unit/x.c": "int t;\n",
}


def make_dir(root: Path) -> Path:
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_dir_tree_reads_lists_and_knows_version(tmp_path: Path) -> None:
    tree = DirTree(make_dir(tmp_path / "qemu"))
    assert tree.read_text("hw/mem/pc-dimm.c") == "int dimm;\n"
    assert tree.read_text("hw/mem/missing.c") is None
    assert tree.exists("include/hw/mem/pc-dimm.h")
    assert not tree.exists("hw/mem")  # a directory is not a file
    assert tree.version() == "10.0.13"
    assert tree.maintainers_text() == FILES["MAINTAINERS"]
    assert tree.list_files() == ["hw/mem/pc-dimm.c", "include/hw/mem/pc-dimm.h", "system/vl.c"]
    assert tree.list_files(("hw/",), (".txt",)) == ["hw/mem/notes.txt"]
    # paths outside the tree are not part of it
    (tmp_path / "secret.c").write_text("x\n", encoding="utf-8")
    assert tree.read_text("../secret.c") is None


def test_git_tree_at_a_revision_and_the_index(git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    first = repo.commit("base", FILES)
    repo.commit("change", {"hw/mem/pc-dimm.c": "int dimm2;\n"})
    repo.write("hw/mem/pc-dimm.c", "int staged;\n")
    repo.git("add", "hw/mem/pc-dimm.c")
    repo.write("hw/mem/pc-dimm.c", "int worktree;\n")
    status = repo.git("status", "--porcelain")

    old = GitTree(repo.path, first)
    assert old.read_text("hw/mem/pc-dimm.c") == "int dimm;\n"
    assert old.read_text("nope.c") is None
    assert old.read_text("hw/mem") is None  # a tree object, not a file
    assert old.version() == "10.0.13"
    assert old.list_files() == ["hw/mem/pc-dimm.c", "include/hw/mem/pc-dimm.h", "system/vl.c"]
    both = old.read_many(["hw/mem/pc-dimm.c", "missing.c", "system/vl.c"])
    assert both == {"hw/mem/pc-dimm.c": b"int dimm;\n", "system/vl.c": b"int main(void);\n"}
    assert GitTree(repo.path, "HEAD").read_text("hw/mem/pc-dimm.c") == "int dimm2;\n"
    index = GitTree(repo.path, None)
    assert index.read_text("hw/mem/pc-dimm.c") == "int staged;\n"
    assert "hw/mem/pc-dimm.c" in index.list_files()
    # reading changed nothing: same status, same index, same work tree file
    assert repo.git("status", "--porcelain") == status
    assert (repo.path / "hw/mem/pc-dimm.c").read_text(encoding="utf-8") == "int worktree;\n"


def test_bad_revision_is_an_input_error(git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    repo.commit("base", FILES)
    with pytest.raises(InputError, match="git ls-tree"):
        GitTree(repo.path, "no-such-rev").list_files()


def test_open_tree_choices(git_repo: Callable[..., Any], tmp_path: Path) -> None:
    assert open_tree(Series(patches=()), None) is None
    tree = open_tree(Series(patches=()), str(make_dir(tmp_path / "dir")))
    assert isinstance(tree, DirTree)
    assert tree.root == (tmp_path / "dir").resolve()
    with pytest.raises(InputError, match="--tree is not a directory"):
        open_tree(Series(patches=()), str(tmp_path / "absent"))

    repo = git_repo()
    base = repo.commit("base", FILES)
    tip = repo.commit("change", {"hw/mem/pc-dimm.c": "int dimm2;\n"})
    series = load(f"{base}..HEAD", cwd=str(repo.path))
    at_end = open_tree(series, None)
    assert isinstance(at_end, GitTree)
    assert at_end.rev == tip
    assert at_end.read_text("hw/mem/pc-dimm.c") == "int dimm2;\n"
    # --tree wins over the repository
    assert isinstance(open_tree(series, str(tmp_path / "dir")), DirTree)


def test_directories_are_those_of_the_tree_at_its_revision(
        git_repo: Callable[..., Any], tmp_path: Path) -> None:
    tree = DirTree(make_dir(tmp_path / "qemu"))
    assert tree.is_dir("hw/mem") and tree.is_dir("hw/mem/") and tree.is_dir("include/hw")
    assert not tree.is_dir("hw/mem/pc-dimm.c") and not tree.is_dir("hw/net")
    (tmp_path / "outside").mkdir()
    assert not tree.is_dir("../outside")

    repo = git_repo()
    first = repo.commit("base", FILES)
    repo.commit("move the tests", {"tests/qtest/y.c": "int y;\n"})
    repo.git("rm", "-q", "-r", "tests/unit")
    repo.git("commit", "-q", "-m", "drop unit tests")
    (repo.path / "hw/net").mkdir()  # only in the work tree
    old = GitTree(repo.path, first)
    assert old.is_dir("tests/unit") and old.is_dir("hw/mem") and old.is_dir("include/hw/mem")
    assert not old.is_dir("tests/qtest") and not old.is_dir("hw/net")
    assert not old.is_dir("hw/mem/pc-dimm.c")
    head = GitTree(repo.path, "HEAD")
    assert head.is_dir("tests/qtest") and not head.is_dir("tests/unit")
    assert not GitTree(repo.path, None).is_dir("hw/net")


def test_list_stats_is_list_files_with_each_stat(tmp_path: Path) -> None:
    from reviewbot.patch.tree import DirTree

    root = tmp_path / "tree"
    for rel in ("hw/a.c", "hw/sub/b.h", "hw/.hidden/c.c", "include/hw/d.h", "include/qemu/e.h",
                "docs/f.c", "hw/g.txt"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("int x;\n", encoding="utf-8")
    outside = tmp_path / "outside.c"
    outside.write_text("int secret;\n", encoding="utf-8")
    (root / "hw" / "leak.c").symlink_to(outside)
    (root / "hw" / "inside.c").symlink_to(root / "hw" / "a.c")
    (root / "hw" / "dirlink").symlink_to(root / "include")
    for prefixes in (("hw/", "include/hw/"), ("hw/", "include/"), ("hw/s", "include/hw/"), ()):
        tree = DirTree(root)
        listed = tree.list_stats(prefixes)
        assert list(listed) == DirTree(root).list_files(prefixes)
        assert list(listed.values()) == [tree.stat(p) for p in listed]
    assert list(DirTree(root).list_stats(("hw/", "include/hw/"))) == [
        "hw/a.c", "hw/inside.c", "hw/sub/b.h", "include/hw/d.h"]


def _odd_tree(tmp_path: Path) -> Path:
    """Hidden directories and files, links in and out of the tree and to directories, a
    broken link, a name that is not UTF-8, a start directory that is a link, files written
    just now (nanosecond mtimes)."""
    root = tmp_path / ".tree"  # a hidden directory holding the tree is still walked
    for rel in ("hw/a.c", "hw/sub/b.h", "hw/.hidden/c.c", "hw/.dot.c", "include/hw/d.h",
                "include/qemu/e.h", "docs/f.c", "hw/g.txt", "hw/tab\tname.c", "real/h.c",
                "hw/dir.c/inner.c"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("int x;\n", encoding="utf-8")
    (root / "hw" / "raw-\xff.c".encode("utf-8", "surrogateescape").decode(
        "utf-8", "surrogateescape")).write_text("int y;\n", encoding="utf-8")
    outside = tmp_path / "outside.c"
    outside.write_text("int secret;\n", encoding="utf-8")
    (root / "hw" / "leak.c").symlink_to(outside)
    (root / "hw" / "inside.c").symlink_to(root / "hw" / "a.c")
    (root / "hw" / "gone.c").symlink_to(root / "hw" / "nothing.c")
    (root / "hw" / "linked.c").symlink_to(root / "include")
    (root / "target").symlink_to(root / "real")
    return root


@pytest.mark.parametrize("prefixes", [("hw/", "include/hw/"), ("hw/", "include/", "target/"),
                                      ("hw/s", "include/hw/"), ()])
def test_list_stats_from_a_find_started_early_is_the_walk(
        tmp_path: Path, prefixes: tuple[str, ...]) -> None:
    from reviewbot.patch import tree as trees

    root = _odd_tree(tmp_path)
    walked = DirTree(root).list_stats(prefixes)
    trees.list_stats_soon(root, prefixes)
    assert (str(root.resolve()), prefixes, (".c", ".h")) in trees._SOON
    early = DirTree(root)

    def no_walk(*args: Any) -> None:
        raise AssertionError("walked, though find listed it")

    early._walk_stats = no_walk  # type: ignore[method-assign]
    assert early.list_stats(prefixes) == walked
    assert not trees._SOON  # taken
    assert early._vetted == set(walked)
    if "hw/" in prefixes:
        assert "hw/leak.c" not in walked and walked["hw/gone.c"] is None
        assert "hw/tab\tname.c" in walked and "hw/.dot.c" in walked
    if "target/" in prefixes:
        assert "target/h.c" in walked


def test_a_find_that_fails_leaves_the_walk_to_list_stats(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.patch import tree as trees

    root = _odd_tree(tmp_path)
    walked = DirTree(root).list_stats(("hw/",))
    # a find without GNU's -printf (it prints an error and exits non-zero)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "find").write_text("#!/bin/sh\necho 'find: unknown primary' >&2\nexit 1\n")
    (bin_dir / "find").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    trees.list_stats_soon(root, ("hw/",))
    assert trees._SOON
    assert DirTree(root).list_stats(("hw/",)) == walked
    # no find at all
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    trees.list_stats_soon(root, ("hw/",))
    assert not trees._SOON
    assert DirTree(root).list_stats(("hw/",)) == walked


def test_a_file_changed_after_the_early_listing_started_is_seen_next_time(
        tmp_path: Path) -> None:
    from reviewbot.patch import tree as trees

    root = _odd_tree(tmp_path)
    trees.list_stats_soon(root, ("hw/",))
    trees.list_stats_soon(root, ("hw/",))  # a second start replaces the first
    assert len(trees._SOON) == 1
    first = DirTree(root).list_stats(("hw/",))
    (root / "hw" / "a.c").write_text("int longer_now;\n", encoding="utf-8")
    again = DirTree(root).list_stats(("hw/",))  # nothing started: walked
    assert again["hw/a.c"] != first["hw/a.c"]
    assert {k: v for k, v in again.items() if k not in ("hw/a.c", "hw/inside.c")} == {
        k: v for k, v in first.items() if k not in ("hw/a.c", "hw/inside.c")}
