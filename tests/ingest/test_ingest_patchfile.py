"""A .patch/.diff file or standard input: what it is comes from the content."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.ingest import load
from reviewbot.ingest.patchfile import classify

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
BARE = ("Some words a tool put before the diff.\n\n"
        "diff --git a/hw/x.c b/hw/x.c\nindex 1..2 100644\n--- a/hw/x.c\n+++ b/hw/x.c\n"
        "@@ -3,2 +3,3 @@ void f(void)\n a\n+b\n c\n")


def test_classify_by_content() -> None:
    assert classify(b"From abc Mon Sep 17 00:00:00 2001\nFrom: a@b\n\nx\n", "i")[0] == "mbox"
    assert classify(b"Return-Path: <a@b>\nFrom: a@b\nSubject: s\n\nx\n", "i")[0] == "mail"
    assert classify(b"diff --git a/x b/x\n", "i")[0] == "diff"
    assert classify(b"Index: x\n====\n--- x\n+++ x\n", "i")[0] == "diff"


def test_bare_diff_file(tmp_path: Path) -> None:
    f = tmp_path / "fix.diff"
    f.write_text(BARE)
    (patch,) = load(str(f)).patches
    assert patch.commit_message == "Some words a tool put before the diff."
    assert patch.mail_diff_line == 3
    (fd,) = patch.files
    assert (fd.path, fd.added_lines) == ("hw/x.c", frozenset({4}))


@pytest.mark.parametrize("name", ["two-versions.mbox", "via-list.eml"])
def test_stdin_is_detected_like_the_file(name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    a = load("-", stdin=io.BytesIO(data))
    b = load(str(FIXTURES / name))
    assert [p.mail.message_id for p in a.patches] == [p.mail.message_id for p in b.patches]
    assert a.source == "-" and a.patches[0].mail.origin.startswith("<stdin>")


def test_stdin_bare_diff() -> None:
    (patch,) = load("-", stdin=io.BytesIO(BARE.encode())).patches
    assert patch.files[0].path == "hw/x.c"


def test_git_format_patch_file_numbering() -> None:
    text = ("From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\n"
            "From: A <a@example.org>\nDate: Mon, 6 Jan 2025 10:00:00 +0000\n"
            "Subject: [PATCH] hw/x: b\n\nAdd b.\n\nSigned-off-by: A <a@example.org>\n---\n"
            " hw/x.c | 1 +\n 1 file changed, 1 insertion(+)\n\n" + BARE.split("\n\n", 1)[1]
            + "-- \n2.47.1\n\n")
    (patch,) = load("-", stdin=io.BytesIO(text.encode())).patches
    assert text.split("\n")[patch.mail_diff_line - 1] == "diff --git a/hw/x.c b/hw/x.c"
    assert patch.notes == " hw/x.c | 1 +\n 1 file changed, 1 insertion(+)"
    assert patch.diff_text.endswith(" c\n")  # the "-- " signature is not part of the diff


def test_neither_mail_nor_diff() -> None:
    with pytest.raises(InputError, match=r"^<stdin>: neither a mail, an mbox nor a unified diff"):
        load("-", stdin=io.BytesIO(b"hello\nworld\n"))
