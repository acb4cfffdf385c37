"""The diff front end (reviewbot.patch.diff.parse_diff, and post-images rebuilt from hunks) on
generated and broken diffs."""

from __future__ import annotations

import difflib
import io

from fuzzkit import mutated, no_hang
from hypothesis import assume, given
from hypothesis import strategies as st

from reviewbot.errors import InputError
from reviewbot.patch.diff import ADDED, REMOVED, FileDiff, parse_diff

# Lines of C-ish text, including characters str.splitlines() treats as line breaks.
_LINE = st.one_of(
    st.sampled_from(["", "{", "}", "int x;", "    return 0;", "/* c */", "\tfoo(1);"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r"),
            max_size=20),
    st.sampled_from(["a\x0cb", "\x0b", "x\x1cy", "\x85", "p\u2028q", "--- x", "+++ y", "@@ z",
                     "\\ not a marker", "diff --git a/q b/q"]),
)
_LINES = st.lists(_LINE, max_size=30)


def unified(pre: list[str], post: list[str], path: str = "hw/misc/x.c",
            context: int = 3) -> str:
    src = "/dev/null" if not pre else f"a/{path}"
    body = difflib.unified_diff([ln + "\n" for ln in pre], [ln + "\n" for ln in post],
                                src, f"b/{path}", n=context)
    return f"diff --git a/{path} b/{path}\n" + "".join(body)


def parse(text: str) -> tuple[FileDiff, ...] | InputError:
    with no_hang():
        try:
            return parse_diff(text, "test.diff")
        except InputError as exc:
            return exc


@given(_LINES, _LINES, st.integers(0, 3))
def test_generated_diff_round_trips(pre: list[str], post: list[str], context: int) -> None:
    assume(pre != post)
    files = parse(unified(pre, post, context=context))
    assert not isinstance(files, InputError), files
    assert len(files) == 1
    fd = files[0]
    assert fd.path == "hw/misc/x.c"
    expected_added: set[int] = set()
    expected_removed: set[int] = set()
    matcher = difflib.SequenceMatcher(a=pre, b=post, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            expected_removed.update(range(i1 + 1, i2 + 1))
        if tag in ("replace", "insert"):
            expected_added.update(range(j1 + 1, j2 + 1))
    assert fd.added_lines == expected_added
    assert fd.removed_lines == expected_removed
    for hunk in fd.hunks:
        assert not hunk.truncated
        for ln in hunk.lines:
            if ln.kind == ADDED:
                assert post[ln.target_line - 1] == ln.text
            elif ln.kind == REMOVED:
                assert pre[ln.source_line - 1] == ln.text


@given(_LINES, _LINES)
def test_crlf_diff_parses_like_lf(pre: list[str], post: list[str]) -> None:
    assume(pre != post and not any("\r" in ln for ln in pre + post))
    text = unified(pre, post)
    lf, crlf = parse(text), parse(text.replace("\n", "\r\n"))
    assert not isinstance(lf, InputError) and not isinstance(crlf, InputError)
    assert [(f.path, f.added_lines, f.removed_lines) for f in crlf] == [
        (f.path, f.added_lines, f.removed_lines) for f in lf]
    assert [ln.text for f in crlf for h in f.hunks for ln in h.lines] == [
        ln.text for f in lf for h in f.hunks for ln in h.lines]


_SEED_DIFFS = [
    unified(["int a;", "int b;", "int c;"], ["int a;", "int B;", "int c;", "int d;"]).encode(),
    unified([], ["#include \"qemu/osdep.h\"", "", "static void f(void)", "{", "}"]).encode(),
    (b"diff --git a/pic.png b/pic.png\nnew file mode 100644\nindex 0000000..e69de29\n"
     b"GIT binary patch\nliteral 4\nLcmZQzU|;|M00aO5\n\nliteral 0\nHcmV?d00001\n\n"),
    b"diff --git a/x b/x\ndeleted file mode 100644\n--- a/x\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n",
    b"--- a/y.c\n+++ b/y.c\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n",
]


@given(mutated(_SEED_DIFFS))
def test_mutated_diffs(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    got = parse(text)
    if isinstance(got, InputError):
        assert "\n" not in str(got) and str(got).startswith("test.diff: ")
        return
    for fd in got:
        for hunk in fd.hunks:
            for ln in hunk.lines:
                assert ln.kind != ADDED or ln.target_line is not None
                assert ln.kind != REMOVED or ln.source_line is not None


@given(st.integers(2, 50), st.integers(0, 10))
def test_hunk_count_larger_than_the_hunk_is_truncated(claimed: int, present: int) -> None:
    assume(claimed > present)
    lines = "".join(f"+line {i}\n" for i in range(present))
    got = parse(f"--- /dev/null\n+++ b/n.c\n@@ -0,0 +1,{claimed} @@\n{lines}")
    assert not isinstance(got, InputError), got
    (fd,) = got
    assert fd.hunks[0].truncated
    assert fd.added_lines == frozenset(range(1, present + 1))


def test_hunk_count_smaller_than_the_hunk_stops_there() -> None:
    text = "--- a/s.c\n+++ b/s.c\n@@ -1,1 +1,2 @@\n a\n+b\n+c\n+d\n"
    got = parse(text)
    assert not isinstance(got, InputError), got
    (fd,) = got
    assert fd.added_lines == frozenset({2})
    assert not fd.hunks[0].truncated


def test_huge_counts_in_the_header_do_not_allocate() -> None:
    got = parse("--- a/s.c\n+++ b/s.c\n@@ -1,99999999999999999999 +1,99999999999999999999 @@\n"
                " a\n+b\n")
    assert not isinstance(got, InputError), got
    assert got[0].hunks[0].truncated


def test_malformed_hunk_header_is_one_line_error() -> None:
    got = parse("--- a/s.c\n+++ b/s.c\n@@ -x +y @@\n a\n")
    assert isinstance(got, InputError)
    assert str(got).startswith("test.diff: ") and "\n" not in str(got)


def test_huge_line() -> None:
    line = "+" + "x" * 20_000_000
    got = parse(f"--- /dev/null\n+++ b/h.c\n@@ -0,0 +1,2 @@\n{line}\n+end\n")
    assert not isinstance(got, InputError), got
    assert got[0].added_lines == frozenset({1, 2})


def test_git_binary_patch_is_marked_binary() -> None:
    got = parse(_SEED_DIFFS[2].decode())
    assert not isinstance(got, InputError), got
    (fd,) = got
    assert fd.is_binary and fd.path == "pic.png" and not fd.hunks


def test_headers_without_hunks_and_hunks_without_headers() -> None:
    got = parse("--- a/only-headers.c\n+++ b/only-headers.c\n\n@@ -1 +1 @@\n-a\n+b\n")
    assert not isinstance(got, InputError)
    assert all(not fd.added_lines for fd in got)


# ---------------------------------------------------------------- post-images from hunks


def _post_image_of_new_file(lines: list[str]) -> tuple[str, ...]:
    from reviewbot.ingest import load
    from reviewbot.patch.source import PostImages

    diff = unified([], lines, path="hw/misc/new.c")
    mail = ("From: A <a@example.org>\nSubject: [PATCH] hw/misc: add new.c\n\n"
            "Add it.\n\nSigned-off-by: A <a@example.org>\n---\n" + diff)
    with no_hang():
        series = load("-", stdin=io.BytesIO(mail.encode("utf-8", "surrogateescape")))
        image = PostImages(series, None).after(0, "hw/misc/new.c")
    assert image is not None
    return image.lines


@given(st.lists(_LINE, min_size=1, max_size=20))
def test_post_image_lines_are_the_added_lines(lines: list[str]) -> None:
    """Line N of a rebuilt post-image is line N of the file the patch adds, whatever
    characters the lines hold (a form feed is not a line break in a diff)."""
    assert list(_post_image_of_new_file(lines)) == lines


def test_form_feed_does_not_shift_post_image_lines() -> None:
    lines = ["/* page one */", "\x0c", "static int after_form_feed;"]
    assert _post_image_of_new_file(lines)[2] == "static int after_form_feed;"
