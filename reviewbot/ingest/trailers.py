"""Trailers: ``Key: value`` lines closing a commit message, or given in a reply."""

from __future__ import annotations

import re
from email.utils import parseaddr

from reviewbot.model import Person, Trailer

# Canonical spelling of the keys QEMU and the kernel use; other keys keep their own spelling.
KNOWN_KEYS = {
    k.lower(): k for k in (
        "Signed-off-by", "Reviewed-by", "Acked-by", "Tested-by", "Reported-by", "Suggested-by",
        "Co-developed-by", "Fixes", "Link", "Message-ID", "Based-on", "Cc", "Closes",
        "Resolves", "Buglink", "Nacked-by", "Requested-by", "Originally-by",
    )
}
# What a reviewer gives in a reply and b4-style tools collect into the patch.
REPLY_KEYS = frozenset({
    "Reviewed-by", "Acked-by", "Tested-by", "Reported-by", "Suggested-by", "Nacked-by",
})

_TRAILER = re.compile(r"^([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)[ \t]*:[ \t]*(\S.*)?$")
_ORIGINAL_MESSAGE = re.compile(r"^\s*-{3,}\s*Original Message\s*-{3,}\s*$", re.IGNORECASE)
_BARE_ADDR = re.compile(r"^\s*<[^<>\s]+@[^<>\s]+>\s*$")
_NAME_ADDR = re.compile(r"^(.*?)\s*<([^<>\s]+@[^<>\s]+)>$")
_BRACKET_NOTE = re.compile(r"^\[.*\]$")  # "[ maintainer: fixed typo ]" between trailers


def canonical_key(key: str) -> str:
    return KNOWN_KEYS.get(key.lower(), key)


def parse_person(value: str) -> Person | None:
    """``Name <addr>`` (or a bare address) -> Person; None when there is no address."""
    value = value.strip()
    # Drop a trailing "# comment" or "[tag]" that some trailers carry after the address.
    value = re.sub(r">\s*(#.*|\[.*\])$", ">", value)
    m = _NAME_ADDR.match(value)  # before parseaddr, which gives up on "Last, First <a@b>"
    if m:
        return Person(name=m.group(1).strip().strip('"').strip(), email=m.group(2))
    name, addr = parseaddr(value)
    if "@" not in addr:
        return None
    return Person(name=name.strip().strip('"'), email=addr)


def make_trailer(key: str, value: str, from_reply: str | None = None) -> Trailer:
    key = canonical_key(key)
    value = re.sub(r"\s+", " ", value).strip()
    person = parse_person(value) if key.endswith("-by") or key == "Cc" else None
    return Trailer(key=key, value=value, person=person, from_reply=from_reply)


def split_trailers(message: str) -> tuple[str, tuple[Trailer, ...]]:
    """Find the trailer block of a commit message: its last paragraph, when every line in it
    is a trailer, a continuation (leading white space) or a ``[...]`` note.

    Returns (message with trailing blank lines removed, trailers).
    """
    lines = message.rstrip("\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    start = len(lines)
    while start > 0 and lines[start - 1].strip():
        start -= 1
    block = lines[start:]
    trailers: list[tuple[str, str]] = []
    for line in block:
        wrapped_addr = (bool(trailers) and "@" not in trailers[-1][1]
                        and _BARE_ADDR.match(line) is not None)
        if (line[:1] in (" ", "\t") or wrapped_addr) and trailers:
            key, value = trailers[-1]
            trailers[-1] = (key, f"{value} {line.strip()}")
            continue
        if _BRACKET_NOTE.match(line.strip()):
            continue
        m = _TRAILER.match(line)
        if m is None or m.group(2) is None or "://" in m.group(1):
            return "\n".join(lines), ()
        trailers.append((m.group(1), m.group(2)))
    if not trailers:
        return "\n".join(lines), ()
    return "\n".join(lines), tuple(make_trailer(k, v) for k, v in trailers)


def reply_trailers(body: str, reply_id: str) -> tuple[Trailer, ...]:
    """Trailers a reviewer gives in a reply: unquoted lines with a reviewer key, anywhere
    above the signature. A value cut over two lines (``Reviewed-by: Long Name`` then
    ``<addr>`` or an indented rest) is joined."""
    lines = body.split("\n")
    found: list[Trailer] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip() == "--" or _ORIGINAL_MESSAGE.match(line):
            break  # a signature, or an Outlook-style original appended without '>' quotes
        m = _TRAILER.match(line.strip()) if not line.startswith(">") else None
        i += 1
        if m is None or canonical_key(m.group(1)) not in REPLY_KEYS:
            continue
        value = m.group(2) or ""
        while "@" not in value and i < len(lines):
            nxt = lines[i]
            if nxt.startswith(">") or not nxt.strip() or _TRAILER.match(nxt.strip()):
                break
            value = f"{value} {nxt.strip()}"
            i += 1
        if parse_person(value) is not None:
            found.append(make_trailer(m.group(1), value, from_reply=reply_id))
    return tuple(found)
