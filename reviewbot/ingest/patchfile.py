"""A .patch/.diff file or standard input: an mbox, one mail, or a bare unified diff.

What the bytes are is decided from the content, not the name: an mbox starts with a
``From `` separator line, a mail with a header block, anything else must be a diff.
"""

from __future__ import annotations

import re

from reviewbot.errors import InputError
from reviewbot.ingest.body import find_diff_start
from reviewbot.ingest.mail import (
    RawMail,
    is_mbox,
    maybe_gunzip,
    split_mbox,
    synthetic_message_id,
)
from reviewbot.ingest.subject import parse_subject
from reviewbot.model import Mail, Person

_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_MAIL_HEADERS = (b"from:", b"subject:", b"message-id:", b"date:", b"to:", b"received:",
                 b"return-path:", b"mime-version:", b"delivered-to:", b"x-")


def looks_like_mail(data: bytes) -> bool:
    """A header block whose first line names a mail header (not ``diff --git``/``Index:``)."""
    first = data.lstrip(b"\r\n").split(b"\n", 1)[0]
    return bool(_HEADER_LINE.match(first)) and first.lower().startswith(_MAIL_HEADERS)


def classify(data: bytes, origin: str) -> tuple[str, bytes]:
    """-> ("mbox" | "mail" | "diff", bytes after gunzip)."""
    data = maybe_gunzip(data, origin)
    if not data.strip():
        raise InputError(f"{origin}: empty input")
    if is_mbox(data):
        return "mbox", data
    if looks_like_mail(data):
        return "mail", data
    if b"\x00" in data[:8192]:
        raise InputError(f"{origin}: binary data, not a mail, an mbox or a diff")
    return "diff", data


def raw_from_bytes(data: bytes, origin: str) -> tuple[list[RawMail], Mail | None]:
    """Messages in the input, or (for a bare diff) one synthetic mail carrying it."""
    kind, data = classify(data, origin)
    if kind == "mbox":
        return split_mbox(data.lstrip(b"\r\n"), origin), None
    if kind == "mail":
        return [RawMail(origin=origin, data=data)], None
    return [], bare_diff_mail(data, origin)


def bare_diff_mail(data: bytes, origin: str) -> Mail:
    """A diff with no mail around it becomes a mail whose body is the diff (plus whatever
    text came before it, taken as the commit message)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{origin}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                         f"{exc.start})") from None
    text = text.replace("\r\n", "\n")
    if find_diff_start(text.split("\n")) < 0:
        raise InputError(f"{origin}: neither a mail, an mbox nor a unified diff")
    name = origin.rsplit("/", 1)[-1]
    return Mail(
        message_id=synthetic_message_id(data),
        subject=parse_subject(name), sender=Person("", ""), author=Person("", ""),
        date=None, in_reply_to=None, references=(), to=(), cc=(), body=text,
        origin=origin, body_offset=1,
    )
