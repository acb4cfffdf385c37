"""Post-images per patch: rebuilt from hunks, applied in memory on a tree, read from git."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reviewbot.ingest import load
from reviewbot.model import Mail, Patch, Person, Series, Subject
from reviewbot.patch.diff import parse_diff
from reviewbot.patch.source import PostImages, SourceFile, apply_sparse, apply_whole
from reviewbot.patch.tree import DirTree, open_tree

ME = Person("Ada Author", "ada@example.org")


def series_of(*diffs: str) -> Series:
    """A series built by hand: one patch per diff text."""
    patches = []
    for i, text in enumerate(diffs, start=1):
        subject = Subject(raw=f"[PATCH {i}/{len(diffs)}] step {i}", title=f"step {i}",
                          is_patch=True, counter=i, total=len(diffs))
        mail = Mail(message_id=f"m{i}@test", subject=subject, sender=ME, author=ME, date=None,
                    in_reply_to=None, references=(), to=(), cc=(), body=text,
                    origin=f"test#{i}")
        patches.append(Patch(mail=mail, commit_message="", notes="", trailers=(),
                             diff_text=text, files=parse_diff(text, f"test#{i}")))
    return Series(patches=tuple(patches))


BASE = "".join(f"line {n}\n" for n in range(1, 21))

# Patch 1: insert two lines after line 3, change line 10.
P1 = """\
--- a/hw/x.c
+++ b/hw/x.c
@@ -2,3 +2,5 @@
 line 2
 line 3
+added A
+added B
 line 4
@@ -9,3 +11,3 @@
 line 9
-line 10
+line ten
 line 11
"""

# Patch 2 (on top of patch 1): delete line 15 (post-image line 17 after patch 1).
P2 = """\
--- a/hw/x.c
+++ b/hw/x.c
@@ -16,3 +16,2 @@
 line 14
-line 15
 line 16
"""

NEW = """\
--- /dev/null
+++ b/hw/new.c
@@ -0,0 +1,3 @@
+int a;
+int b;
+int c;
"""


def expected_after_p1() -> list[str]:
    lines = BASE.splitlines()
    lines[9] = "line ten"
    lines[3:3] = ["added A", "added B"]
    return lines


def test_new_file_is_whole_without_tree() -> None:
    images = PostImages(series_of(NEW), None)
    src = images.after(0, "hw/new.c")
    assert src == SourceFile("hw/new.c", "int a;\nint b;\nint c;\n", False)
    assert src.lines == ("int a;", "int b;", "int c;")
    assert images.before(0, "hw/new.c") is None


def test_modified_file_without_tree_is_partial_with_true_line_numbers() -> None:
    images = PostImages(series_of(P1), None)
    src = images.after(0, "hw/x.c")
    assert src is not None
    assert src.partial
    assert src.line(4) == "added A"
    assert src.line(5) == "added B"
    assert src.line(12) == "line ten"
    assert src.line(13) == "line 11"
    assert src.line(1) == ""  # not shown by the hunks
    assert src.line(8) == ""
    assert len(src.lines) == 13
    pre = images.before(0, "hw/x.c")
    assert pre is not None
    assert (pre.partial, pre.line(10), pre.line(4)) == (True, "line 10", "line 4")


def test_two_patches_without_tree_keep_shifting_known_lines() -> None:
    images = PostImages(series_of(P1, P2), None)
    src = images.after(1, "hw/x.c")
    assert src is not None
    assert src.partial
    assert src.line(4) == "added A"  # from patch 1, before patch 2's hunk: unmoved
    assert src.line(12) == "line ten"
    assert src.line(16) == "line 14"
    assert src.line(17) == "line 16"  # line 15 is gone
    assert images.before(1, "hw/x.c") == images.after(0, "hw/x.c")


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
            h.update(str(p.stat().st_mtime_ns).encode())
    return h.hexdigest()


def test_tree_post_images_are_whole_and_the_tree_is_untouched(tmp_path: Path) -> None:
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "x.c").write_text(BASE, encoding="utf-8")
    before = _digest(tmp_path)
    images = PostImages(series_of(P1, P2, NEW), DirTree(tmp_path))
    after0 = images.after(0, "hw/x.c")
    assert after0 is not None
    assert not after0.partial
    assert list(after0.lines) == expected_after_p1()
    after1 = images.after(1, "hw/x.c")
    assert after1 is not None
    want = expected_after_p1()
    want.remove("line 15")
    assert list(after1.lines) == want
    # untouched by patch 3: still patch 2's image; the new file appears only at patch 3
    assert images.after(2, "hw/x.c") == after1
    assert images.after(1, "hw/new.c") is None
    new = images.after(2, "hw/new.c")
    assert new is not None
    assert new.text == "int a;\nint b;\nint c;\n"
    assert images.before(0, "hw/x.c") == SourceFile("hw/x.c", BASE, False)
    assert images.problems == []
    assert _digest(tmp_path) == before


def test_tree_with_shifted_text_applies_with_an_offset(tmp_path: Path) -> None:
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "x.c").write_text("/* new header */\n\n" + BASE, encoding="utf-8")
    src = PostImages(series_of(P1), DirTree(tmp_path)).after(0, "hw/x.c")
    assert src is not None
    assert not src.partial
    assert src.line(6) == "added A"
    assert src.line(14) == "line ten"


def test_tree_that_does_not_match_falls_back_to_hunks_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "x.c").write_text("something else entirely\n", encoding="utf-8")
    images = PostImages(series_of(P1), DirTree(tmp_path))
    src = images.after(0, "hw/x.c")
    assert src is not None
    assert src.partial
    assert src.line(12) == "line ten"
    assert [(p.origin, p.message) for p in images.problems] == [
        ("test#1", "hw/x.c: hunk at line 2 does not apply on the tree's file; "
                   "using the hunks only")]


def test_deleted_file_has_no_post_image(tmp_path: Path) -> None:
    deletion = "--- a/hw/x.c\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-line 1\n-line 2\n"
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "x.c").write_text("line 1\nline 2\n", encoding="utf-8")
    images = PostImages(series_of(deletion), DirTree(tmp_path))
    assert images.after(0, "hw/x.c") is None
    assert images.before(0, "hw/x.c") == SourceFile("hw/x.c", "line 1\nline 2\n", False)


def test_apply_helpers_directly() -> None:
    (fd,) = parse_diff(P1)
    assert apply_whole(BASE.splitlines(), fd) == expected_after_p1()
    assert apply_sparse({1: "line 1", 10: "line 10", 20: "line 20"}, fd) == {
        **dict(enumerate(["line 2", "line 3", "added A", "added B", "line 4"], 2)),
        1: "line 1", 11: "line 9", 12: "line ten", 13: "line 11", 22: "line 20"}


def test_git_range_reads_each_commit(git_repo: Callable[..., Any], tmp_path: Path) -> None:
    repo = git_repo()
    base = repo.commit("base", {"hw/x.c": BASE})
    step1 = BASE.replace("line 10\n", "line ten\n")
    repo.commit("hw/x: rename ten", {"hw/x.c": step1})
    step2 = step1.replace("line 15\n", "")
    repo.commit("hw/x: drop fifteen", {"hw/x.c": step2})
    path = repo.path
    series = load(f"{base}..HEAD", cwd=str(path))
    tree = open_tree(series, None)
    assert tree is not None
    assert tree.read_text("hw/x.c") == step2
    images = PostImages(series, tree)
    assert images.after(0, "hw/x.c") == SourceFile("hw/x.c", step1, False)
    assert images.after(1, "hw/x.c") == SourceFile("hw/x.c", step2, False)
    assert images.before(0, "hw/x.c") == SourceFile("hw/x.c", BASE, False)
    assert images.before(1, "hw/x.c") == SourceFile("hw/x.c", step1, False)
    # the work tree was never consulted: change it and the images stay the commits'
    (path / "hw" / "x.c").write_text("dirty\n", encoding="utf-8")
    assert PostImages(series, tree).after(1, "hw/x.c") == SourceFile("hw/x.c", step2, False)


def test_git_range_reads_every_image_with_one_git_process(
        git_repo: Callable[..., Any], monkeypatch: Any) -> None:
    """The files each commit touches, before and after it, come from one `git cat-file
    --batch` (rules ask for them one at a time); a file a commit creates is not asked for
    before it."""
    from reviewbot.patch import tree as tree_module

    repo = git_repo()
    base = repo.commit("base", {"hw/x.c": BASE})
    step1 = BASE.replace("line 10\n", "line ten\n")
    repo.commit("hw/x: rename ten, add y", {"hw/x.c": step1, "hw/y.c": "int y;\n"})
    repo.commit("hw/y: more", {"hw/y.c": "int y;\nint z;\n"})
    series = load(f"{base}..HEAD", cwd=str(repo.path))
    calls: list[tuple[str, ...]] = []
    real = tree_module._git

    def counting(root: Path, *args: str, input_: bytes | None = None) -> bytes:
        calls.append(args)
        return real(root, *args, input_=input_)

    monkeypatch.setattr(tree_module, "_git", counting)
    images = PostImages(series, None)
    assert images.after(0, "hw/y.c") == SourceFile("hw/y.c", "int y;\n", False)
    assert images.before(0, "hw/y.c") is None
    assert images.before(1, "hw/y.c") == SourceFile("hw/y.c", "int y;\n", False)
    assert images.after(1, "hw/y.c") == SourceFile("hw/y.c", "int y;\nint z;\n", False)
    assert images.before(0, "hw/x.c") == SourceFile("hw/x.c", BASE, False)
    assert images.after(0, "hw/x.c") == SourceFile("hw/x.c", step1, False)
    assert [c[0] for c in calls] == ["cat-file"]


def test_staged_reads_the_index(git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    repo.commit("base", {"hw/x.c": BASE})
    path = repo.path
    staged = BASE.replace("line 3\n", "line three\n")
    (path / "hw" / "x.c").write_text(staged, encoding="utf-8")
    repo.git("add", "hw/x.c")
    (path / "hw" / "x.c").write_text("work tree only\n", encoding="utf-8")
    series = load(None, cwd=str(path), staged=True)
    images = PostImages(series, open_tree(series, None))
    assert images.after(0, "hw/x.c") == SourceFile("hw/x.c", staged, False)
    assert images.before(0, "hw/x.c") == SourceFile("hw/x.c", BASE, False)


def test_lines_break_only_at_line_feeds() -> None:
    src = SourceFile("hw/x.c", "/* one */\n\x0c\nint b;\r\nint c;\n")
    assert src.lines == ("/* one */", "\x0c", "int b;", "int c;")
    assert src.line(3) == "int b;"


MID_FUNCTION = (
    "--- a/hw/misc/foo.c\n+++ b/hw/misc/foo.c\n"
    "@@ -40,6 +40,7 @@ static void foo_realize(DeviceState *dev, Error **errp)\n"
    "     FooState *s = FOO(dev);\n"
    " \n"
    "     foo_setup(s);\n"
    "+    s->ms = MACHINE(qdev_get_machine());\n"
    "     foo_start(s);\n"
    " }\n"
    " \n"
    "@@ -90,3 +91,3 @@ static const TypeInfo foo_info = {\n"
    "     .name = TYPE_FOO,\n"
    "-    .parent = TYPE_SYS_BUS_DEVICE,\n"
    "+    .parent = TYPE_DEVICE,\n"
    "     .class_init = foo_class_init,\n"
)


def test_sections_name_the_function_around_each_hunk() -> None:
    images = PostImages(series_of(MID_FUNCTION), None)
    sections = images.sections(0, "hw/misc/foo.c")
    assert {line: sections[line] for line in (40, 43, 46)} == {
        40: "foo_realize", 43: "foo_realize", 46: "foo_realize"}
    assert 91 not in sections  # a TypeInfo initialiser is not a function
    src = images.after(0, "hw/misc/foo.c")
    assert src is not None
    assert src.line(43) == "    s->ms = MACHINE(qdev_get_machine());"


def test_sections_are_empty_for_whole_images(tmp_path: Path) -> None:
    assert PostImages(series_of(NEW), None).sections(0, "hw/new.c") == {}


def test_function_in_section() -> None:
    from reviewbot.patch.source import function_in_section

    assert function_in_section("static void f(int a,") == "f"
    assert function_in_section("void *g (void)") == "g"
    assert function_in_section("struct s {") is None
    assert function_in_section("static const TypeInfo t = {") is None
    assert function_in_section("") is None
