"""The few computed properties of the Series model."""

from __future__ import annotations

from reviewbot.ingest.subject import parse_subject
from reviewbot.model import Mail, Patch, Person, Series


def _mail(subject: str, body_offset: int = 0) -> Mail:
    return Mail(message_id="m", subject=parse_subject(subject), sender=Person("", "a@b"),
                author=Person("A", "a@b"), date=None, in_reply_to=None, references=(), to=(),
                cc=(), body="", body_offset=body_offset)


def _patch(subject: str, *, diff_line: int = 0, body_offset: int = 0) -> Patch:
    return Patch(mail=_mail(subject, body_offset), commit_message="", notes="", trailers=(),
                 diff_text="", files=(), diff_line=diff_line)


def test_mail_diff_line_is_body_offset_plus_diff_line() -> None:
    assert _patch("[PATCH] x", diff_line=12, body_offset=20).mail_diff_line == 31
    assert _patch("[PATCH] x", diff_line=0, body_offset=20).mail_diff_line == 0
    assert _patch("[PATCH] x", diff_line=3, body_offset=0).mail_diff_line == 3


def test_title_from_cover_else_first_patch_and_index_from_counter() -> None:
    p = _patch("[PATCH v2 3/5] hw: y")
    assert p.index == 3
    assert _patch("[PATCH] hw: z").index == 1
    assert Series(patches=(p,)).title == "hw: y"
    assert Series(patches=(p,), cover=_mail("[PATCH v2 0/5] all of it")).title == "all of it"
    assert Series(patches=()).title == ""
