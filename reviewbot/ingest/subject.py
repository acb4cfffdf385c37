"""Subject lines: reply markers, bracketed prefixes, version, n/N counter, RFC/RESEND."""

from __future__ import annotations

import re

from reviewbot.model import Subject

_REPLY = re.compile(r"^\s*(?:re|aw|sv|antw)\s*(?:\[\d+\])?\s*:\s*", re.IGNORECASE)
_BRACKET = re.compile(r"^\s*\[([^\]]*)\]\s*")
_VERSION = re.compile(r"^v(\d+)$", re.IGNORECASE)
_GLUED_VERSION = re.compile(r"^(PATCH|PULL|RFC)v(\d+)$", re.IGNORECASE)
_COUNTER = re.compile(r"^(\d+)/(\d+)$")
_PATCH_WORDS = {"PATCH", "PULL", "PULL-REQUEST"}


def unfold(value: str) -> str:
    """Undo header folding: a line break followed by white space is that white space."""
    value = re.sub(r"\r?\n(?=[ \t])", "", value)
    value = value.replace("\r", "").replace("\n", " ")
    return re.sub(r"[ \t]+", " ", value).strip()


def parse_subject(raw: str) -> Subject:
    """``Re: [Qemu-devel] [RFC PATCH v2 03/12] hw/mem: add foo`` -> a Subject.

    Reply markers and bracket groups may be interleaved (``[Qemu-devel] Re: [PATCH]``); every
    bracketed word becomes a tag, and the first bare ``n/N`` after them is a counter too.
    """
    text = unfold(raw)
    rest = text
    is_reply = False
    tags: list[str] = []
    while True:
        m = _REPLY.match(rest)
        if m:
            is_reply = True
            rest = rest[m.end():]
            continue
        m = _BRACKET.match(rest)
        if m:
            tags.extend(w for w in re.split(r"[\s,]+", m.group(1)) if w)
            rest = rest[m.end():]
            continue
        break

    version = 1
    counter: int | None = None
    total: int | None = None
    rfc = resend = is_patch = False
    for tag in tags:
        upper = tag.upper()
        if upper in _PATCH_WORDS:
            is_patch = True
        elif upper == "RFC":
            rfc = True
        elif upper == "RESEND":
            resend = True
        elif (m := _VERSION.match(tag)) is not None:
            version = int(m.group(1))
        elif (m := _GLUED_VERSION.match(tag)) is not None:
            version = int(m.group(2))
            is_patch = is_patch or m.group(1).upper() != "RFC"
            rfc = rfc or m.group(1).upper() == "RFC"
        elif (m := _COUNTER.match(tag)) is not None and counter is None:
            counter, total = int(m.group(1)), int(m.group(2))
            is_patch = True
    return Subject(
        raw=text, title=rest.strip(), tags=tuple(tags), is_reply=is_reply, is_patch=is_patch,
        version=version, counter=counter, total=total, rfc=rfc, resend=resend,
    )
