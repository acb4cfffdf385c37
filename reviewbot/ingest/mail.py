"""Raw input -> decoded mails.

Containers: mbox (mboxrd and mboxo, as mail clients, ``git format-patch --stdout`` and
``b4 mbox`` write them), gzip of any of these, maildir, a single message. Each message is
decoded into a ``Mail``: headers unfolded and RFC 2047 decoded by hand (so an encoded-word
inside a quoted string, which the standard library leaves alone, still decodes), the first
text/plain part of the body transfer-decoded and charset-decoded, LF line ends.
"""

from __future__ import annotations

import email
import re
import zlib
from collections.abc import Iterable
from datetime import datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from reviewbot.errors import InputError
from reviewbot.ingest.subject import parse_subject, unfold
from reviewbot.model import InputProblem, Mail, Person
from reviewbot.util.frozen import frozen

# "From <sender> <asctime date>": an mbox separator. The date check keeps a body line that
# happens to start with "From " (format-patch does not escape those) from splitting a mail.
_FROM_LINE = re.compile(
    rb"^From \S+\s+(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+)?"
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{1,2}\s+\d{1,2}:\d{2}"
)
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_HEADER_NAME = re.compile(rb"^[!-9;-~]+:")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_MSGID = re.compile(r"<([^<>\s]+)>")
_VIA = re.compile(r"^(?P<name>.*?)\s+via\s+\S.*$", re.IGNORECASE)


@frozen
class RawMail:
    """One message's bytes, with the mbox separator line it came after (if any)."""

    origin: str
    data: bytes
    from_line: str | None = None


def is_mbox(data: bytes) -> bool:
    return bool(_FROM_LINE.match(data.lstrip(b"\r\n")[:200]))


def maybe_gunzip(data: bytes, origin: str) -> bytes:
    """Inflate gzip data (public-inbox t.mbox.gz), refusing to go past the size limit."""
    if data[:2] != b"\x1f\x8b":
        return data
    from reviewbot.util import limits

    limit = limits.MAX_INFLATED_BYTES
    out: list[bytes] = []
    size = 0
    rest = data
    try:
        while rest:  # a .gz may hold several members one after the other
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            chunk = inflater.decompress(rest, limit + 1 - size)
            size += len(chunk)
            out.append(chunk)
            if size > limit:
                raise limits.LimitExceeded(
                    f"{origin}: could not analyse: inflates past the limit of "
                    f"{limit // limits.MiB} MiB")
            if not inflater.eof:
                raise InputError(f"{origin}: broken gzip data: the stream is cut short")
            rest = inflater.unused_data.lstrip(b"\0")
    except zlib.error as exc:
        raise InputError(f"{origin}: broken gzip data: {exc}") from None
    return b"".join(out)


def split_mbox(data: bytes, origin: str) -> list[RawMail]:
    """Split an mbox into messages; ``>From `` escapes (mboxrd and mboxo) lose one ``>``."""
    mails: list[RawMail] = []
    current: list[bytes] = []
    from_line: str | None = None
    prev_blank = True
    for line in data.splitlines(keepends=True):
        if prev_blank and _FROM_LINE.match(line):
            if from_line is not None or current:
                mails.append(_raw(origin, len(mails) + 1, current, from_line))
            current = []
            from_line = line.rstrip(b"\r\n").decode("utf-8", "replace")
            prev_blank = True
            continue
        current.append(line)
        prev_blank = not line.strip()
    if from_line is not None or any(x.strip() for x in current):
        mails.append(_raw(origin, len(mails) + 1, current, from_line))
    return mails


def _raw(origin: str, number: int, lines: list[bytes], from_line: str | None) -> RawMail:
    data = b"".join(lines)
    # the blank line that ends every message in an mbox belongs to the separator
    if data.endswith(b"\n\n"):
        data = data[:-1]
    elif data.endswith(b"\r\n\r\n"):
        data = data[:-2]
    return RawMail(origin=f"{origin}#{number}", data=_ESCAPED_FROM.sub(rb"\1", data),
                   from_line=from_line)


def read_maildir(path: Path) -> list[RawMail]:
    files: list[Path] = []
    for sub in ("cur", "new"):
        d = path / sub
        if d.is_dir():
            files.extend(p for p in d.iterdir() if p.is_file() and not p.name.startswith("."))
    mails = []
    for f in sorted(files, key=lambda p: p.name):
        mails.append(RawMail(origin=str(f), data=read_bytes(f)))
    return mails


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def read_bytes(path: Path, shown: str | None = None) -> bytes:
    """The file's bytes; errors name it as ``shown`` (the argument as the user gave it)."""
    from reviewbot.util import limits

    name = shown if shown is not None else str(path)
    try:
        return limits.read_input(path, name)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file or directory") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory (and not a maildir)") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror or exc}") from None


# --- headers -----------------------------------------------------------------------------

def split_headers(data: bytes, origin: str) -> tuple[list[tuple[str, str]], bytes, int]:
    """Header block -> [(name, raw unfolded value)], the body bytes, and the number of
    lines before the body (headers plus the blank line)."""
    lines = data.splitlines(keepends=True)
    headers: list[tuple[str, list[bytes]]] = []
    for count, line in enumerate(lines):
        if not line.strip(b"\r\n"):
            return _finish(headers), b"".join(lines[count + 1:]), count + 1
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1][1].append(line)
        elif _HEADER_NAME.match(line):
            name, value = line.split(b":", 1)
            headers.append((name.decode("ascii", "replace").strip(), [value]))
        elif count == 0:
            raise InputError(f"{origin}: not a mail: first line is not a header "
                             f"({_show(line)})")
        else:
            raise InputError(f"{origin}: malformed mail: line {count + 1} of the header block "
                             f"is not a header ({_show(line)})")
    if not headers:
        raise InputError(f"{origin}: empty mail")
    raise InputError(f"{origin}: truncated mail: the header block never ends (no body)")


def _show(line: bytes) -> str:
    return repr(line.rstrip(b"\r\n")[:60].decode("utf-8", "replace"))


def _finish(headers: list[tuple[str, list[bytes]]]) -> list[tuple[str, str]]:
    out = []
    for name, parts in headers:
        raw = b"".join(parts)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")  # 8-bit header bytes without encoding: best guess
        out.append((name, unfold(text)))
    return out


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded-words anywhere in ``value`` (also inside quotes, which RFC
    2047 forbids and real mail does). White space between two encoded-words is dropped."""
    def one(m: re.Match[str]) -> str:
        charset, enc, text = m.group(1), m.group(2).upper(), m.group(3)
        charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
        try:
            if enc == "B":
                import base64
                raw = base64.b64decode(text + "=" * (-len(text) % 4))
            else:
                raw = re.sub(
                    rb"=([0-9A-Fa-f]{2})", lambda h: bytes([int(h.group(1), 16)]),
                    text.replace("_", " ").encode("ascii", "replace"),
                )
            return raw.decode(charset, "replace")
        except (LookupError, ValueError):
            return m.group(0)

    value = re.sub(r"(\?=)\s+(?==\?)", r"\1", value)
    return _ENCODED_WORD.sub(one, value)


def parse_people(value: str) -> tuple[Person, ...]:
    """Address list -> people. Split on the raw value so a comma inside an encoded name
    (``=?UTF-8?q?K=C5=91v=C3=A1g=C3=B3=2C=20Zolt=C3=A1n?=``) does not split it."""
    people = []
    for raw_name, addr in getaddresses([value]):
        name = decode_words(raw_name).strip().strip('"').strip()
        if not addr and not name:
            continue
        people.append(Person(name=name, email=addr))
    return tuple(people)


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    low = name.lower()
    for key, value in headers:
        if key.lower() == low:
            return value
    return None


def _person(value: str | None) -> Person | None:
    if not value:
        return None
    people = parse_people(value)
    return people[0] if people else None


def real_author(sender: Person, headers: list[tuple[str, str]]) -> Person:
    """Undo list rewriting ``"Name via List" <list@...>``: X-Original-From, else Reply-To."""
    m = _VIA.match(sender.name)
    if m is None:
        return sender
    for name in ("X-Original-From", "Reply-To"):
        person = _person(_first(headers, name))
        if person is not None and person.email:
            if not person.name:
                person = Person(name=m.group("name").strip(), email=person.email)
            return person
    return Person(name=m.group("name").strip(), email=sender.email)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None


# --- body --------------------------------------------------------------------------------

_PATCH_TYPES = ("text/x-patch", "text/x-diff", "text/x-csrc", "text/plain")


def _leaves(msg: Message) -> list[Message]:
    return [p for p in msg.walk() if not p.is_multipart()]


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
    return disposition == "attachment"


def _decode_part(part: Message, origin: str) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        payload = b""
    charset = part.get_content_charset()
    text: str
    if charset and charset not in ("us-ascii", "ascii", "utf-8", "utf8"):
        try:
            text = payload.decode(charset)
        except LookupError:
            raise InputError(f"{origin}: unknown charset {charset!r}") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{origin}: body is not valid {charset} "
                             f"(byte offset {exc.start})") from None
    else:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{origin}: body is not UTF-8 and declares no other charset "
                f"(byte 0x{payload[exc.start]:02x} at offset {exc.start})") from None
    return text.replace("\r\n", "\n")


def _has_diff(text: str) -> bool:
    text = f"\n{text}"
    return "\ndiff --git " in text or all(m in text for m in ("\n--- ", "\n+++ ", "\n@@ "))


def decode_body(data: bytes, origin: str) -> str:
    """The first inline text/plain part: transfer-decoded, charset-decoded, LF line ends.

    When that part holds no diff, a patch attached as text/x-patch, text/x-diff or a text
    attachment is appended to it (the way some mailers send patches)."""
    try:
        msg = email.message_from_bytes(data)  # compat32, the parser's default policy
        leaves = _leaves(msg)
    except RecursionError:
        raise InputError(f"{origin}: MIME parts nested too deeply") from None
    main = next((p for p in leaves
                 if p.get_content_type() == "text/plain" and not _is_attachment(p)), None)
    if main is None:
        types = ", ".join(sorted({p.get_content_type() for p in leaves}))
        raise InputError(f"{origin}: no text/plain part in the mail (has: {types or 'none'})")
    text = _decode_part(main, origin)
    if _has_diff(text):
        return text
    for part in leaves:
        if part is main or part.get_content_type() not in _PATCH_TYPES:
            continue
        attached = _decode_part(part, origin)
        if _has_diff(attached):
            return f"{text.rstrip(chr(10))}\n\n{attached}"
    return text


def synthetic_message_id(data: bytes) -> str:
    """The Message-ID given to a mail or patch file that has none: from its bytes' SHA-1.
    CPython's own ``_sha1`` gives the same digest as hashlib's without loading OpenSSL
    (3 ms of a check of a patch file)."""
    try:
        from _sha1 import sha1  # type: ignore[import-not-found]
    except ImportError:
        from hashlib import sha1
    return f"reviewbot-{sha1(data).hexdigest()[:16]}@synthetic"


def parse_mail(raw: RawMail) -> Mail:
    """Decode one message. Raises InputError naming ``raw.origin`` when it cannot be used."""
    headers_raw, _, header_count = split_headers(raw.data, raw.origin)
    headers = [(name, decode_words(value)) for name, value in headers_raw]
    body = decode_body(raw.data, raw.origin)

    def get(name: str) -> str | None:
        return _first(headers_raw, name)

    if get("From") is None and get("Subject") is None:
        raise InputError(f"{raw.origin}: malformed mail: neither From: nor Subject:")
    sender = _person(get("From")) or Person(name="", email="")
    msgid_m = _MSGID.search(get("Message-ID") or "")
    message_id = msgid_m.group(1) if msgid_m else synthetic_message_id(raw.data)
    irt = _MSGID.search(get("In-Reply-To") or "")
    refs = tuple(_MSGID.findall(get("References") or ""))
    subject = parse_subject(decode_words(get("Subject") or ""))
    # Line 1 is the mbox "From " line when there is one, as in `git format-patch` output.
    body_offset = header_count + 1 + (1 if raw.from_line is not None else 0)
    return Mail(
        message_id=message_id,
        subject=subject,
        sender=sender,
        author=real_author(sender, headers_raw),
        date=_date(get("Date")),
        in_reply_to=irt.group(1) if irt else (refs[-1] if refs else None),
        references=refs,
        to=parse_people(get("To") or ""),
        cc=parse_people(get("Cc") or ""),
        body=body,
        origin=raw.origin,
        headers=tuple(headers),
        body_offset=body_offset,
    )


def raw_mails(data: bytes, origin: str) -> list[RawMail]:
    """Bytes of an mbox or of a single message -> messages."""
    data = maybe_gunzip(data, origin)
    if is_mbox(data):
        return split_mbox(data.lstrip(b"\r\n"), origin)
    return [RawMail(origin=origin, data=data)]


def problem(origin: str, exc: InputError) -> InputProblem:
    """An InputProblem whose message does not repeat the origin it is filed under."""
    text = str(exc)
    return InputProblem(origin, text.removeprefix(f"{origin}: "))


def parse_all(raws: Iterable[RawMail]) -> tuple[list[Mail], list[InputProblem]]:
    """Decode every message; the ones that fail become problems."""
    mails: list[Mail] = []
    problems: list[InputProblem] = []
    for raw in raws:
        try:
            mails.append(parse_mail(raw))
        except InputError as exc:
            problems.append(problem(raw.origin, exc))
    return mails, problems
