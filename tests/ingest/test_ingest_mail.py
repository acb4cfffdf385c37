"""Mail decoding: containers (mbox, mboxrd/mboxo escapes, gzip, maildir, eml) and the quirks
of real mail (encodings, charsets, multipart, RFC 2047, folding, list rewriting)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.ingest import load
from reviewbot.ingest.mail import (
    RawMail,
    decode_words,
    parse_mail,
    parse_people,
    split_mbox,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"


def _mail(text: str) -> RawMail:
    return RawMail(origin="t.eml", data=text.encode("utf-8"))


def test_mboxrd_and_mboxo_from_escapes_lose_one_marker() -> None:
    s = load(str(FIXTURES / "two-versions.mbox"))
    msg = s.patches[0].commit_message
    assert "\nFrom the spec: a widget counts.\n" in msg
    assert "\n>From a quoted mail.\n" in msg


def test_body_line_starting_with_from_does_not_split_the_mbox() -> None:
    data = (b"From 0123abcd Mon Sep 17 00:00:00 2001\nFrom: A <a@example.org>\n"
            b"Subject: [PATCH] x\n\nFrom what I saw, this is fine.\n\n"
            b"From 4567 Mon Sep 17 00:00:00 2001\nFrom: B <b@example.org>\nSubject: y\n\nz\n")
    raws = split_mbox(data, "m")
    assert [r.origin for r in raws] == ["m#1", "m#2"]
    assert b"From what I saw" in raws[0].data
    assert raws[0].from_line == "From 0123abcd Mon Sep 17 00:00:00 2001"


def test_encoded_word_inside_quotes_with_a_comma() -> None:
    people = parse_people('"=?UTF-8?q?K=C5=91v=C3=A1g=C3=B3=2C=20Zolt=C3=A1n?=" <d@example.org>, '
                          "Other <o@example.org>")
    assert [(p.name, p.email) for p in people] == [
        ("Kővágó, Zoltán", "d@example.org"), ("Other", "o@example.org")]


def test_adjacent_encoded_words_join_and_lower_case_hex_decodes() -> None:
    assert decode_words("=?UTF-8?Q?Philippe_Mathieu-Daud=c3=a9?=") == "Philippe Mathieu-Daudé"
    assert decode_words("=?utf-8?B?S8WR?= =?utf-8?B?dsOhZ8Oz?= x") == "Kővágó x"
    assert decode_words("=?bogus-charset?Q?abc?=") == "=?bogus-charset?Q?abc?="


def test_quoted_printable_latin1_with_encoded_folded_subject() -> None:
    s = load(str(FIXTURES / "qp-latin1.eml"))
    p = s.patches[0]
    assert p.subject.title == "hw/misc: café widget"
    assert (p.subject.version, p.subject.counter, p.subject.total) == (2, 1, 1)
    assert str(p.mail.author) == "René François <rene@example.org>"
    assert p.commit_message.startswith("A café for the widget.")
    assert p.trailers[0].person is not None and p.trailers[0].person.name == "René François"
    assert [ln.text for ln in p.files[0].hunks[0].added] == ["/* café */"]


def test_base64_utf8_body() -> None:
    s = load(str(FIXTURES / "base64-utf8.eml"))
    p = s.patches[0]
    assert p.mail.author.name == "山田 Yuki"
    assert "こんにちは" in p.commit_message
    assert [ln.text for ln in p.files[0].hunks[0].added] == ["/* こんにちは */"]
    assert (s.rfc, s.version, p.subject.counter, p.subject.total) == (True, 2, 3, 12)


def test_multipart_takes_the_text_plain_part_and_joins_qp_soft_breaks() -> None:
    s = load(str(FIXTURES / "multipart.eml"))
    p = s.patches[0]
    assert p.subject.title == "hw/misc: widget reset on machine reset"  # tab-folded
    assert p.subject.version == 3  # [PATCHv3]
    assert "Not this part" not in p.mail.body and "PGP" not in p.mail.body
    hunk = p.files[0].hunks[0]
    assert [ln.text for ln in hunk.added] == [
        'static const char *widget_name = "a very long string that the mailer wrapped";']
    assert hunk.added[0].target_line == 5


def test_list_rewritten_from_takes_x_original_from_then_reply_to() -> None:
    s = load(str(FIXTURES / "via-list.eml"))
    mail = s.patches[0].mail
    assert mail.sender.name == "Jane Doe via Qemu-devel"
    assert str(mail.author) == "Jane Doe <jane@example.org>"
    assert s.resend
    text = (FIXTURES / "via-list.eml").read_text().replace(
        "X-Original-From: Jane Doe <jane@example.org>\n", "")
    only_reply_to = parse_mail(_mail(text))
    assert str(only_reply_to.author) == "Jane Doe <jane.reply@example.org>"


def test_folded_headers_with_vger_padding() -> None:
    mail = parse_mail(_mail(
        "From:   Gerd Hoffmann <kraxel@example.org>\nSubject: Re: [RFC PATCH v2 04/44] vl:"
        " Introduce\n        late notifier\nMessage-ID:   <x@y>\n\nbody\n"))
    assert mail.sender.name == "Gerd Hoffmann"
    assert mail.subject.title == "vl: Introduce late notifier"
    assert mail.message_id == "x@y"
    assert mail.body_offset == 6


def test_body_offset_counts_the_mbox_from_line() -> None:
    data = b"From x Mon Sep 17 00:00:00 2001\nFrom: A <a@b.org>\nSubject: s\n\nbody\n"
    (raw,) = split_mbox(data, "m")
    assert parse_mail(raw).body_offset == 5


def test_gzipped_mbox_loads_like_the_plain_one(tmp_path: Path) -> None:
    plain = (FIXTURES / "two-versions.mbox").read_bytes()
    packed = tmp_path / "t.mbox.gz"
    packed.write_bytes(gzip.compress(plain))
    a, b = load(str(packed)), load(str(FIXTURES / "two-versions.mbox"))
    assert [p.mail.message_id for p in a.patches] == [p.mail.message_id for p in b.patches]
    assert a.versions_available == (1, 2)


def test_maildir(tmp_path: Path) -> None:
    box = tmp_path / "md"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    raws = split_mbox((FIXTURES / "two-versions.mbox").read_bytes(), "x")
    for i, raw in enumerate(raws):
        (box / ("cur" if i % 2 else "new") / f"{i:03d}.host:2,S").write_bytes(raw.data)
    s = load(str(box))
    assert len(s.all_mails) == len(raws) == 10
    assert [p.mail.message_id for p in s.patches] == ["v2-1@example.org", "v2-2@example.org"]


def test_message_without_text_part_is_an_error() -> None:
    with pytest.raises(InputError, match=r"^t.eml: no text/plain part"):
        parse_mail(_mail("From: a@b.org\nSubject: x\nContent-Type: text/html\n\n<p>x</p>\n"))


def test_undeclared_non_utf8_body_is_an_error() -> None:
    raw = RawMail("t.eml", b"From: a@b.org\nSubject: x\n\ncaf\xe9\n")
    with pytest.raises(InputError, match=r"^t.eml: body is not UTF-8 .*0xe9"):
        parse_mail(raw)


def test_header_block_that_never_ends_is_truncated() -> None:
    with pytest.raises(InputError, match=r"^t.eml: truncated mail"):
        parse_mail(_mail("From: a@b.org\nSubject: [PATCH] x"))


def test_directory_of_format_patch_files(tmp_path: Path) -> None:
    raws = split_mbox((FIXTURES / "two-versions.mbox").read_bytes(), "x")
    out = tmp_path / "outgoing"
    out.mkdir()
    for i, raw in enumerate(raws[4:7]):  # v2 cover and both v2 patches
        (out / f"{i:04d}-x.patch").write_bytes(raw.data)
    (out / "notes.txt").write_text("not a mail, ignored\n")
    s = load("outgoing", cwd=str(tmp_path))  # relative to the -C directory
    assert s.cover is not None and s.cover.message_id == "v2-0@example.org"
    assert [p.mail.message_id for p in s.patches] == ["v2-1@example.org", "v2-2@example.org"]


def test_patch_attached_as_text_x_patch_is_read() -> None:
    mail = parse_mail(_mail(
        "From: A <a@example.org>\nSubject: [PATCH] hw/x: b\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
        "Add b, patch attached.\n\nSigned-off-by: A <a@example.org>\n--b\n"
        'Content-Type: text/x-patch; name="0001-b.patch"\n'
        'Content-Disposition: attachment; filename="0001-b.patch"\n'
        "Content-Transfer-Encoding: base64\n\n"
        "LS0tIGEvaHcveC5jCisrKyBiL2h3L3guYwpAQCAtMSArMSwyIEBACiBhCitiCg==\n--b\n"
        "Content-Type: application/octet-stream; name=core\n"
        "Content-Disposition: attachment\n\nnot text\n--b--\n"))
    assert mail.body == ("Add b, patch attached.\n\nSigned-off-by: A <a@example.org>\n\n"
                         "--- a/hw/x.c\n+++ b/hw/x.c\n@@ -1 +1,2 @@\n a\n+b\n")
