"""parse_diff on the shapes real patches take."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.patch.diff import ADDED, CONTEXT, REMOVED, FileDiff, parse_diff

TWO_FILES = """\
diff --git a/docs/a.txt b/docs/a.txt
index 1111111..2222222 100644
--- a/docs/a.txt
+++ b/docs/a.txt
@@ -1,3 +1,3 @@ section one
 keep
--- removed text that starts with two dashes
+++ added text that starts with two pluses
 tail
diff --git a/b.c b/b.c
index 3333333..4444444 100644
--- a/b.c
+++ b/b.c
@@ -10,2 +10,3 @@ int f(void)
 {
+    return 0;
 }
"""


def test_lines_that_look_like_headers_are_hunk_lines() -> None:
    a, b = parse_diff(TWO_FILES)
    assert (a.path, a.diff_line, b.path, b.diff_line) == ("docs/a.txt", 1, "b.c", 10)
    (hunk,) = a.hunks
    assert hunk.section == "section one" and hunk.diff_line == 5
    assert [(ln.kind, ln.text, ln.source_line, ln.target_line, ln.diff_line)
            for ln in hunk.lines] == [
        (CONTEXT, "keep", 1, 1, 6),
        (REMOVED, "-- removed text that starts with two dashes", 2, None, 7),
        (ADDED, "++ added text that starts with two pluses", None, 2, 8),
        (CONTEXT, "tail", 3, 3, 9),
    ]
    assert b.added_lines == frozenset({11}) and b.removed_lines == frozenset()
    assert b.line_at(11) is not None and b.line_at(11).text == "    return 0;"  # type: ignore[union-attr]


def test_crlf_parses_like_lf() -> None:
    crlf = parse_diff(TWO_FILES.replace("\n", "\r\n"))
    assert crlf == parse_diff(TWO_FILES)


def test_git_binary_patch_and_binary_files_differ() -> None:
    text = """\
diff --git a/pic.png b/pic.png
new file mode 100644
index 0000000000000000000000000000000000000000..e69de29bb2d1d6434b8b29ae775ad8c2e48c5391
GIT binary patch
literal 12
TcmeAS@N?(olHy`uVBq!ia0vp^

literal 0
HcmV?d00001

diff --git a/old.bin b/old.bin
index 5555555..6666666 100644
Binary files a/old.bin and b/old.bin differ
diff --git a/c.c b/c.c
--- a/c.c
+++ b/c.c
@@ -1 +1 @@
-int a;
+int b;
"""
    png, old, c = parse_diff(text)
    assert (png.path, png.is_binary, png.is_new, png.hunks) == ("pic.png", True, True, ())
    assert (old.path, old.is_binary, old.is_new, old.is_deleted) == ("old.bin", True, False, False)
    assert (c.is_binary, c.added_lines, c.removed_lines) == (False, frozenset({1}),
                                                             frozenset({1}))


def test_hunk_that_ends_early_is_kept_and_marked() -> None:
    text = "--- a/s.c\n+++ b/s.c\n@@ -1,5 +1,6 @@\n a\n+b\n c\n"
    (fd,) = parse_diff(text)
    (hunk,) = fd.hunks
    assert hunk.truncated and fd.truncated
    assert fd.added_lines == frozenset({2})
    assert [ln.target_line for ln in hunk.lines] == [1, 2, 3]


def test_hunk_shorter_than_the_text_stops_at_its_count() -> None:
    text = "--- a/s.c\n+++ b/s.c\n@@ -1 +1,2 @@\n a\n+b\n+not part of it\n-- \n2.47.0\n"
    (fd,) = parse_diff(text)
    assert fd.added_lines == frozenset({2}) and not fd.truncated


def test_blank_line_stands_for_a_stripped_context_line() -> None:
    text = "--- a/s.c\n+++ b/s.c\n@@ -1,3 +1,4 @@\n a\n\n+c\n d\n"
    (fd,) = parse_diff(text)
    assert [(ln.kind, ln.text) for ln in fd.hunks[0].lines] == [
        (CONTEXT, "a"), (CONTEXT, ""), (ADDED, "c"), (CONTEXT, "d")]
    assert fd.added_lines == frozenset({3})


def test_no_newline_markers_are_skipped() -> None:
    text = ("--- a/s.c\n+++ b/s.c\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+b\n"
            "\\ No newline at end of file\n")
    (fd,) = parse_diff(text)
    assert [(ln.kind, ln.text, ln.diff_line) for ln in fd.hunks[0].lines] == [
        (REMOVED, "a", 4), (ADDED, "b", 6)]


def test_foreign_no_newline_marker_between_hunks() -> None:
    text = ("--- a/s.c\n+++ b/s.c\n@@ -1 +1 @@\n-a\n+b\n"
            "\\ Kein Zeilenumbruch am Dateiende.\n@@ -9 +9 @@\n-y\n+Y\n")
    (fd,) = parse_diff(text)
    assert [(h.diff_line, [(ln.kind, ln.text, ln.diff_line) for ln in h.lines])
            for h in fd.hunks] == [(3, [(REMOVED, "a", 4), (ADDED, "b", 5)]),
                                   (7, [(REMOVED, "y", 8), (ADDED, "Y", 9)])]


def test_hunk_cut_short_before_the_next_hunk() -> None:
    text = ("--- a/s.c\n+++ b/s.c\n@@ -1,4 +1,4 @@ f\n a\n-b\n+B\n"
            "@@ -10,2 +10,2 @@ g\n x\n-y\n+Y\n")
    (fd,) = parse_diff(text)
    first, second = fd.hunks
    assert (first.truncated, first.source_length, first.target_length, first.section) == (
        True, 4, 4, "f")
    assert [(ln.text, ln.source_line, ln.target_line) for ln in first.lines] == [
        ("a", 1, 1), ("b", 2, None), ("B", None, 2)]
    assert (second.truncated, second.diff_line, second.section) == (False, 7, "g")
    assert fd.added_lines == frozenset({2, 11}) and fd.removed_lines == frozenset({2, 11})


def test_hunk_with_no_lines_at_all_keeps_the_next_hunks() -> None:
    text = "--- a/s.c\n+++ b/s.c\n@@ -1,3 +1,3 @@\n\\ x\n@@ -10 +10 @@\n-y\n+Y\n"
    (fd,) = parse_diff(text)
    empty, second = fd.hunks
    assert (empty.truncated, empty.lines, empty.diff_line) == (True, (), 3)
    assert [(ln.kind, ln.source_line, ln.target_line, ln.diff_line) for ln in second.lines] == [
        (REMOVED, 10, None, 6), (ADDED, None, 10, 7)]
    (fd,) = parse_diff("--- a/s.c\n+++ b/s.c\n@@ -0,0 +0,0 @@\n@@ -3 +3 @@\n-x\n+y\n")
    nothing, after = fd.hunks
    assert (nothing.truncated, nothing.lines) == (False, ())
    assert [(ln.text, ln.target_line) for ln in after.added] == [("y", 3)]


def test_repaired_lines_keep_their_diff_line_numbers() -> None:
    """CR, a stripped context space and a cut-off hunk are repaired without moving a line."""
    text = ("Index: s.c\r\n===\r\n--- a/s.c\r\n+++ b/s.c\r\n@@ -1,3 +1,3 @@\r\n a\r\n\r\n"
            "-c\r\n+C\r\n@@ -20,5 +20,6 @@\r\n x\r\n+y\r\n")
    (fd,) = parse_diff(text)
    assert fd.diff_line == 3
    raw = text.split("\r\n")
    got = [(ln.kind, ln.text, ln.diff_line) for h in fd.hunks for ln in h.lines]
    assert got == [(CONTEXT, "a", 6), (CONTEXT, "", 7), (REMOVED, "c", 8), (ADDED, "C", 9),
                   (CONTEXT, "x", 11), (ADDED, "y", 12)]
    assert all(raw[n - 1] in (kind + body, "") for kind, body, n in got)
    assert [(h.diff_line, h.truncated) for h in fd.hunks] == [(5, False), (10, True)]


def test_text_after_a_hunk_that_looks_like_diff_is_not_a_file() -> None:
    text = ("--- a/s.c\n+++ b/s.c\n@@ -1 +1 @@\n-a\n+b\n"
            "Binary files a/x and b/x differ\n--- y\n+++ z\n\\ No newline at end of file\n"
            "@@ -1 +1 @@\n-q\n+r\nnew file mode 100644\n")
    (fd,) = parse_diff(text)
    assert (fd.path, fd.is_binary, fd.added_lines) == ("s.c", False, frozenset({1}))


def test_renames_copies_and_modes() -> None:
    text = """\
diff --git a/hw/old.c b/hw/new.c
similarity index 90%
rename from hw/old.c
rename to hw/new.c
index 1111111..2222222 100644
--- a/hw/old.c
+++ b/hw/new.c
@@ -1 +1 @@
-old
+new
diff --git a/a.h b/b.h
similarity index 100%
rename from a.h
rename to b.h
diff --git a/run.sh b/run.sh
old mode 100644
new mode 100755
diff --git a/gone.c b/gone.c
deleted file mode 100644
index 3333333..0000000
--- a/gone.c
+++ /dev/null
@@ -1 +0,0 @@
-bye
"""
    moved, pure, mode, gone = parse_diff(text)
    assert (moved.source_path, moved.target_path, moved.is_rename) == ("hw/old.c", "hw/new.c",
                                                                       True)
    assert moved.added_lines == frozenset({1})
    assert (pure.source_path, pure.target_path, pure.is_rename, pure.hunks) == (
        "a.h", "b.h", True, ())
    assert (mode.path, mode.old_mode, mode.new_mode, mode.hunks) == ("run.sh", "100644",
                                                                     "100755", ())
    assert (gone.path, gone.is_deleted, gone.removed_lines) == ("gone.c", True, frozenset({1}))


def test_plain_diff_with_timestamps_and_quoted_git_paths() -> None:
    plain = ("--- hw/x.c.orig\t2025-01-01 00:00:00.000000000 +0000\n"
             "+++ hw/x.c\t2025-01-02 00:00:00.000000000 +0000\n@@ -1 +1 @@\n-a\n+b\n")
    (fd,) = parse_diff(plain)
    assert (fd.source_path, fd.target_path) == ("hw/x.c.orig", "hw/x.c")
    quoted = ('diff --git "a/caf\\303\\251.c" "b/caf\\303\\251.c"\nnew file mode 100644\n'
              '--- /dev/null\n+++ "b/caf\\303\\251.c"\n@@ -0,0 +1 @@\n+x\n')
    (fd,) = parse_diff(quoted)
    assert (fd.path, fd.is_new) == ("café.c", True)


def test_malformed_hunk_header_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^p.diff: malformed hunk header at line 3"):
        parse_diff("--- a/s.c\n+++ b/s.c\n@@ -x +y @@\n a\n", "p.diff")


def test_text_without_a_diff_has_no_files() -> None:
    assert parse_diff("just words\n--- not a header\n") == ()
    assert parse_diff("") == ()


def _pre_image(fd: FileDiff) -> str:
    """A pre-image in which every hunk of ``fd`` applies exactly where its line numbers say:
    the context and removed lines at their source lines, unique filler everywhere else."""
    size = max((h.source_start + h.source_length - 1 for h in fd.hunks), default=0)
    pre = [f"filler {i} of {fd.source_path}" for i in range(1, size + 1)]
    for h in fd.hunks:
        for ln in h.lines:
            if ln.kind != ADDED:
                assert ln.source_line is not None
                pre[ln.source_line - 1] = ln.text
    return "".join(f"{ln}\n" for ln in pre)


def _git_apply(workdir: Path, diff_text: str, *args: str) -> str:
    done = subprocess.run(["git", "apply", *args, "-"], cwd=workdir, input=diff_text,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_line_numbers_agree_with_git_apply_on_every_real_patch(corpus_real: Path,
                                                               tmp_path: Path) -> None:
    """git itself as the oracle: the files and counts ``git apply --numstat`` reads, and the
    post-image ``git apply`` writes from pre-images built on our source line numbers has our
    added and context lines at our target line numbers."""
    from reviewbot.ingest import load

    checked = 0
    for mbox in sorted(corpus_real.glob("*.mbox")):
        for n, patch in enumerate(load(str(mbox)).patches):
            numstat = _git_apply(tmp_path, patch.diff_text, "--numstat").splitlines()
            assert numstat == [f"{fd.added_count}\t{fd.removed_count}\t{fd.path}"
                               for fd in patch.files], (mbox.name, n)
            work = tmp_path / f"{mbox.stem}-{n}"
            for fd in patch.files:
                if fd.source_path is not None:
                    (work / fd.source_path).parent.mkdir(parents=True, exist_ok=True)
                    (work / fd.source_path).write_text(_pre_image(fd), encoding="utf-8")
            work.mkdir(exist_ok=True)
            _git_apply(work, patch.diff_text)
            diff_lines = patch.diff_text.split("\n")
            for fd in patch.files:
                if fd.is_deleted:
                    assert not (work / fd.path).exists()
                    continue
                post = (work / fd.path).read_text(encoding="utf-8").split("\n")
                for h in fd.hunks:
                    for ln in h.lines:
                        assert diff_lines[ln.diff_line - 1] == ln.kind + ln.text
                        if ln.kind != REMOVED:
                            assert ln.target_line is not None
                            assert post[ln.target_line - 1] == ln.text, (fd.path, ln)
                checked += 1
    assert checked == 23  # files, over the 11 patches in corpus-real
