"""Putting mails together: versions, cover, order, replies and their trailers, broken mails."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.ingest import load

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
TWO = str(FIXTURES / "two-versions.mbox")


def _mbox(*mails: str) -> io.BytesIO:
    sep = "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
    return io.BytesIO("".join(sep + m + "\n" for m in mails).encode("utf-8"))


def _patch(n: int, total: int, mid: str, *, version: str = "", body_extra: str = "") -> str:
    return (f"From: A <a@example.org>\nSubject: [PATCH{version} {n}/{total}] f{n}: change\n"
            f"Date: Mon, 06 Jan 2025 10:00:0{n} +0000\nMessage-Id: <{mid}>\n\n"
            f"Change f{n}.{body_extra}\n\nSigned-off-by: A <a@example.org>\n---\n"
            f"diff --git a/f{n}.c b/f{n}.c\n--- a/f{n}.c\n+++ b/f{n}.c\n"
            f"@@ -1 +1 @@\n-old\n+new\n")


def test_newest_version_by_default() -> None:
    s = load(TWO)
    assert s.versions_available == (1, 2)
    assert s.version == 2
    assert s.cover is not None and s.cover.message_id == "v2-0@example.org"
    assert s.title == "hw/misc: add the widget device"  # folded cover subject
    assert [p.mail.message_id for p in s.patches] == ["v2-1@example.org", "v2-2@example.org"]
    assert [f.added_count for f in s.patches[0].files] == [4]
    assert "v2: comment added" in s.patches[0].notes


def test_series_version_picks_an_older_one() -> None:
    s = load(TWO, series_version=1)
    assert s.version == 1
    assert s.cover is not None and s.cover.message_id == "v1-0@example.org"
    assert [f.added_count for f in s.patches[0].files] == [3]
    # Oscar's review of v1 2/2 stays with v1
    assert [(t.key, t.value) for t in s.patches[1].trailers] == [
        ("Signed-off-by", "Wendy Writer <wendy@example.org>"),
        ("Reviewed-by", "Oscar Old <oscar@example.org>"),
    ]


def test_missing_version_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"no v3 of the series here \(has v1, v2\)"):
        load(TWO, series_version=3)


def test_replies_attach_through_reply_chains_and_cover_trailers_reach_every_patch() -> None:
    s = load(TWO)
    first, second = s.patches
    assert [r.message_id for r in first.replies] == ["r-v2-1@example.org", "r-r-v2-1@example.org"]
    assert [(t.key, t.value, t.from_reply) for t in first.trailers] == [
        ("Signed-off-by", "Wendy Writer <wendy@example.org>", None),
        ("Reviewed-by", "Rita Reviewer <rita@example.org>", "r-v2-1@example.org"),
        ("Tested-by", "Tom Tester with a Long Name <tom@example.org>", "r-r-v2-1@example.org"),
        ("Acked-by", "Ann Acker <ann@example.org>", "r-v2-0@example.org"),
    ]
    assert [(t.key, t.from_reply) for t in second.trailers] == [
        ("Signed-off-by", None), ("Acked-by", "r-v2-0@example.org")]
    # the Outlook "RE:" reply answers the cover; v1's reply is not part of v2 at all
    assert [r.message_id for r in s.replies] == ["r-v2-0@example.org"]
    assert second.replies == ()


def test_removed_line_that_looks_like_a_file_header() -> None:
    (fd,) = load(TWO).patches[1].files
    assert fd.path == "docs/widget.txt"
    assert [(ln.kind, ln.text, ln.source_line) for ln in fd.hunks[0].removed] == [
        ("-", "-- old comment", 2)]
    assert [(ln.text, ln.target_line) for ln in fd.hunks[0].added] == [("-- new comment", 2)]


def test_patches_are_ordered_by_counter_not_by_position() -> None:
    s = load("-", stdin=_mbox(_patch(2, 2, "p2"), _patch(1, 2, "p1")))
    assert [p.subject.counter for p in s.patches] == [1, 2]
    assert s.cover is None


def test_one_broken_mail_leaves_the_others_and_is_reported() -> None:
    broken = "From: B <b@example.org>\nSubject: [PATCH 2/3] broken\nthis is not a header\n\nx\n"
    s = load("-", stdin=_mbox(_patch(1, 3, "p1"), broken, _patch(3, 3, "p3")))
    assert [p.subject.counter for p in s.patches] == [1, 3]
    (problem,) = s.problems
    assert problem.origin == "<stdin>#2"
    assert "line 3 of the header block is not a header" in problem.message


def test_patch_without_diff_is_reported() -> None:
    nodiff = ("From: A <a@example.org>\nSubject: [PATCH 2/2] lost\nMessage-Id: <p2>\n"
              "In-Reply-To: <p1>\n\nThe diff went missing.\n")
    s = load("-", stdin=_mbox(_patch(1, 2, "p1"), nodiff))
    assert [p.subject.counter for p in s.patches] == [1]
    assert [p.message for p in s.problems] == ["patch 2/2 ('lost') has no diff"]
    assert s.cover is None and s.replies == () and s.patches[0].replies == ()


def test_duplicate_patch_keeps_the_later_mail() -> None:
    later = _patch(1, 1, "p1-resend").replace("10:00:01", "11:00:00")
    s = load("-", stdin=_mbox(_patch(1, 1, "p1"), later))
    assert [p.mail.message_id for p in s.patches] == ["p1-resend"]
    assert "appears twice" in s.problems[0].message


def test_mbox_without_patch_is_an_input_error() -> None:
    reply = ("From: R <r@example.org>\nSubject: Re: [PATCH] x\nIn-Reply-To: <gone>\n\n"
             "Looks fine.\n")
    with pytest.raises(InputError, match=r"^-: no patch found \(1 mail\(s\), none with a diff\)"):
        load("-", stdin=_mbox(reply))


def test_reply_whose_target_is_absent_attaches_by_subject() -> None:
    reply = ("From: R <r@example.org>\nSubject: Re: [PATCH 1/1] f1: change\n"
             "In-Reply-To: <not-here>\nMessage-Id: <r1>\n\nReviewed-by: R <r@example.org>\n")
    s = load("-", stdin=_mbox(_patch(1, 1, "p1"), reply))
    assert [r.message_id for r in s.patches[0].replies] == ["r1"]
    assert s.patches[0].trailers[-1].from_reply == "r1"


def test_cover_letter_with_an_interdiff_stays_the_cover() -> None:
    cover = ("From: A <a@example.org>\nSubject: [PATCH v2 0/1] f: all\nMessage-Id: <c>\n\n"
             "Changes.\n\nInterdiff against v1:\ndiff --git a/f1.c b/f1.c\n--- a/f1.c\n"
             "+++ b/f1.c\n@@ -1 +1 @@\n-new\n+newer\n")
    s = load("-", stdin=_mbox(cover, _patch(1, 1, "p1", version=" v2")))
    assert s.cover is not None and s.cover.message_id == "c"
    assert [p.mail.message_id for p in s.patches] == ["p1"]


def test_patch_cut_short_is_kept_with_a_problem() -> None:
    cut = _patch(1, 1, "p1").replace("@@ -1 +1 @@", "@@ -1,4 +1,5 @@")
    s = load("-", stdin=_mbox(cut))
    (fd,) = s.patches[0].files
    assert fd.truncated and fd.added_lines == frozenset({1})
    assert [(p.origin, p.message) for p in s.problems] == [
        ("<stdin>#1", "f1.c: hunk at diff line 4 ends early (mail truncated?); the rest of "
         "the file's change is unknown")]
