"""Reviewers' inline comments, pulled out of a review thread and anchored to the patch.

A reply quotes parts of the patch (``> +line``, ``> -line``, context, commit message) and
writes its remarks under the quote. Each quoted line is matched back to the mail it answers
with all whitespace removed, so space-stuffing (format=flowed), ``>`` with or without a
space, and hard-wrapped long lines (Outlook) all match the same patch line. The remark under
a quote is anchored to the run of quoted lines just above it: file and line range in the
post-image (side ``new``), in the pre-image when only removed lines are quoted (side
``old``), or the commit message (side ``message``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from reviewbot.model import Mail, Patch, Series
from reviewbot.patch.diff import CONTEXT, REMOVED, Line

# Where a mined comment points.
SIDE_NEW = "new"  # post-image lines of ``path``
SIDE_OLD = "old"  # pre-image lines of ``path`` (only removed lines were quoted)
SIDE_MESSAGE = "message"  # lines of the commit message (1-based)
SIDE_COVER = "cover"  # the cover letter (lines of its body)
SIDE_NONE = "none"  # nothing quoted above it: about the mail as a whole (top-posting)

KIND_COMMENT = "comment"
KIND_TRAILERS = "trailers"  # only trailers (Reviewed-by: ...) and greetings under the quote


@dataclass(frozen=True)
class MinedComment:
    reviewer: str
    reply_id: str
    patch_id: str | None  # message-id of the mail the comment answers
    patch_index: int | None  # 0 for the cover letter, n for patch n/N
    path: str | None
    side: str
    line_start: int | None
    line_end: int | None
    quoted: str  # the quoted lines the comment answers, as the patch has them
    comment: str  # the reviewer's words (trailers, greetings and signatures removed)
    kind: str = KIND_COMMENT
    trailers: tuple[str, ...] = ()
    reply_line: int = 0  # 1-based line of the reply body where the comment starts

    def as_dict(self) -> dict[str, object]:
        return {
            "reviewer": self.reviewer,
            "reply_message_id": self.reply_id,
            "patch_message_id": self.patch_id,
            "patch": self.patch_index,
            "path": self.path,
            "side": self.side,
            "line_start": self.line_start,
            "line_end": self.line_end,
            "quoted": self.quoted,
            "comment": self.comment,
            "kind": self.kind,
            "trailers": list(self.trailers),
            "reply_line": self.reply_line,
        }


# --- the mail being answered, one entry per line ----------------------------------------

@dataclass(frozen=True)
class _Target:
    key: str  # the line with every whitespace character removed
    text: str  # the line as the patch has it
    region: str  # "message", "notes", "diffhdr", "diff", "cover"
    number: int  # commit-message / cover line number (1-based), 0 for the diff
    path: str | None = None
    line: Line | None = None


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _patch_targets(patch: Patch) -> list[_Target]:
    out: list[_Target] = []
    for no, text in enumerate(patch.commit_message.splitlines(), start=1):
        out.append(_Target(_squash(text), text, "message", no))
    for text in patch.notes.splitlines():
        out.append(_Target(_squash(text), text, "notes", 0))
    by_diff_line: dict[int, tuple[str, Line]] = {}
    header_path: dict[int, str] = {}
    for fd in patch.files:
        header_path[fd.diff_line] = fd.path
        for hunk in fd.hunks:
            for ln in hunk.lines:
                by_diff_line[ln.diff_line] = (fd.path, ln)
    current: str | None = None
    for no, text in enumerate(patch.diff_text.splitlines(), start=1):
        current = header_path.get(no, current)
        hit = by_diff_line.get(no)
        if hit is not None:
            out.append(_Target(_squash(text), text, "diff", 0, hit[0], hit[1]))
        else:
            out.append(_Target(_squash(text), text, "diffhdr", 0, current))
    return out


def _cover_targets(cover: Mail) -> list[_Target]:
    return [_Target(_squash(t), t, "cover", no) for no, t in enumerate(cover.body.splitlines(), 1)]


# --- the reply, split into quoted and own lines ------------------------------------------

@dataclass
class _ReplyLine:
    number: int  # 1-based in the reply body
    depth: int  # 0: the reviewer's own words
    text: str  # quote markers removed
    target: int | None = None  # index into the targets when aligned
    span: int = 1  # how many reply lines make up this (hard-wrapped) target line


_QUOTE = re.compile(r"^((?:[ \t]?>)+)")
_ORIGINAL_MESSAGE = re.compile(r"^-{3,}\s*Original Message\s*-{3,}\s*$", re.IGNORECASE)


def _is_flowed(mail: Mail) -> bool:
    for name, value in mail.headers:
        if name.lower() == "content-type" and re.search(r"format\s*=\s*\"?flowed", value, re.I):
            return True
    return False


def _split_reply(mail: Mail) -> list[_ReplyLine]:
    flowed = _is_flowed(mail)
    out: list[_ReplyLine] = []
    outlook_quote = False  # below an unquoted "-----Original Message-----" all is quoted
    for no, raw in enumerate(mail.body.replace("\r\n", "\n").split("\n"), start=1):
        line = raw.rstrip("\r")
        if line == "-- " or (line.startswith("-- ") and len(line.split()) == 2 and not outlook_quote
                             and len(line) < 16):
            break  # signature
        m = _QUOTE.match(line)
        if m:
            depth = m.group(1).count(">")
            text = line[m.end():]
            if flowed and text.startswith(" "):
                text = text[1:]  # RFC 3676 space-stuffing
            out.append(_ReplyLine(no, depth, text))
            continue
        if _ORIGINAL_MESSAGE.match(line.strip()):
            outlook_quote = True
            continue
        if outlook_quote:
            out.append(_ReplyLine(no, 1, line))
            continue
        if flowed and line.startswith(" "):
            line = line[1:]
        out.append(_ReplyLine(no, 0, line))
    return out


def _align(lines: list[_ReplyLine], targets: Sequence[_Target]) -> int:
    """Match quoted lines to target lines in order; returns how many matched."""
    index: dict[str, list[int]] = {}
    for i, t in enumerate(targets):
        index.setdefault(t.key, []).append(i)
    pos = 0
    matched = 0  # non-blank lines only: blank lines match anywhere
    quoted = [ln for ln in lines if ln.depth > 0]
    depth = quoted[0].depth if quoted else 0
    i = 0
    while i < len(quoted):
        q = quoted[i]
        key = _squash(q.text)
        if not key and q.depth != depth:
            i += 1  # a blank line of another quote level (an earlier reply's spacing)
            continue
        hit = _match_at(quoted, i, key, targets, pos)
        if hit is None and key:
            # Where the quote jumps to, the longest agreeing run wins (a line such as a
            # prototype can appear twice); among equals the first one after ``pos``.
            best = 0
            for cand in _candidates(index, targets, key, pos):
                run = _agreeing(quoted, i, targets, cand)
                if run > best:
                    best, pos = run, cand
            hit = _match_at(quoted, i, key, targets, pos) if best else None
        if hit is None:
            i += 1
            continue
        q.target = pos
        q.span = hit
        for extra in quoted[i + 1:i + hit]:
            extra.target = pos
        matched += 1 if key else 0
        depth = q.depth
        pos += 1
        i += hit
    return matched


def _agreeing(quoted: list[_ReplyLine], i: int, targets: Sequence[_Target], pos: int,
              limit: int = 8) -> int:
    """How many quoted lines from ``i`` on match the targets from ``pos`` on, in a row."""
    run = 0
    while run < limit and i < len(quoted):
        hit = _match_at(quoted, i, _squash(quoted[i].text), targets, pos)
        if hit is None:
            break
        run += 1
        i += hit
        pos += 1
    return run


def _candidates(index: dict[str, list[int]], targets: Sequence[_Target], key: str,
                pos: int) -> Iterator[int]:
    """Target positions where ``key`` could start: forward from ``pos`` first, then before."""
    exact = index.get(key, [])
    prefix = [] if exact or len(key) < 8 else [
        i for i, t in enumerate(targets) if t.key.startswith(key)
    ]
    found = sorted(set(exact) | set(prefix))
    yield from (c for c in found if c >= pos)
    yield from (c for c in found if c < pos)


def _match_at(quoted: list[_ReplyLine], i: int, key: str, targets: Sequence[_Target],
              pos: int) -> int | None:
    """How many quoted lines starting at ``i`` spell target ``pos`` (hard wraps joined)."""
    if pos >= len(targets):
        return None
    want = targets[pos].key
    if key == want:
        return 1
    if not key or not want.startswith(key):
        return None
    have = key
    for j in range(i + 1, min(i + 6, len(quoted))):
        if quoted[j].number != quoted[j - 1].number + 1:
            return None
        have += _squash(quoted[j].text)
        if have == want:
            return j - i + 1
        if not want.startswith(have):
            return None
    return None


# --- the reviewer's own words -------------------------------------------------------------

_TRAILER = re.compile(r"^\s*([A-Z][A-Za-z]*(?:-[A-Za-z]+)*-by|Fixes|Cc)\s*:\s*\S", re.IGNORECASE)
_ATTRIBUTION = re.compile(
    r"(wrote|writes|schrieb|a écrit|escribió)\s*:\s*$|^On .*(,|\d)\s*$|^Quoting ", re.IGNORECASE)
# The first line of an attribution a mail client folded in two: "On", a date or time, and
# neither a sentence's end nor a colon.
_FOLDED_ATTRIBUTION = re.compile(r"^On\b[^.?!:]*\d[^.?!]*$", re.IGNORECASE)
_GREETING = re.compile(r"^(hi|hello|hey|dear)\b[^.?!]{0,40}[,!]?$", re.IGNORECASE)
_CLOSING = re.compile(
    r"^(thanks?( you)?|many thanks|thx|regards|best( regards)?|br|cheers|take care|"
    r"kind regards|with regards)\b[\s,.!]*\S{0,20}[\s,.!]*$",
    re.IGNORECASE,
)


def _clean(block: list[_ReplyLine], reviewer_names: set[str], before_quote: bool
           ) -> tuple[str, tuple[str, ...], int]:
    """The reviewer's words of one block, its trailers, and the line where the words start."""
    lines = list(block)
    if before_quote:
        # "On <date>, <person> wrote:" may span two lines just above the quote.
        while lines and not lines[-1].text.strip():
            lines.pop()
        for _ in range(2):
            last = lines[-1].text.strip() if lines else ""
            first = lines[-2].text.strip() if len(lines) >= 2 else ""
            if _FOLDED_ATTRIBUTION.match(first) and _ATTRIBUTION.search(f"{first} {last}"):
                del lines[-2:]  # "On <date> ... <name>" folded before "<address> wrote:"
            elif lines and _ATTRIBUTION.search(last):
                lines.pop()
    trailers: list[str] = []
    kept: list[_ReplyLine] = []
    for ln in lines:
        text = ln.text.strip()
        if (_TRAILER.match(text) and "<" in text) or re.match(r"^Fixes:\s*[0-9a-f]{8,}", text):
            trailers.append(text)
            # A short qualifier right above a trailer ("QAPI schema") belongs to it.
            if kept and kept[-1].text.strip() and len(kept[-1].text.split()) <= 3 and \
                    not re.search(r"[.?!:]$", kept[-1].text.strip()) and \
                    (len(kept) < 2 or not kept[-2].text.strip()):
                trailers[-1] = kept.pop().text.strip() + ": " + trailers[-1]
            continue
        kept.append(ln)
    # greetings at the top, closings and the reviewer's name at the bottom
    while kept and (not kept[0].text.strip() or _GREETING.match(kept[0].text.strip())):
        kept.pop(0)
    while kept:
        text = kept[-1].text.strip()
        if not text or _CLOSING.match(text) or _is_name(text, reviewer_names):
            kept.pop()
            continue
        break
    if not kept:
        return "", tuple(trailers), 0
    body = "\n".join(ln.text.rstrip() for ln in kept)
    body = re.sub(r"\n{3,}", "\n\n", body).strip("\n")
    return body, tuple(trailers), kept[0].number


def _is_name(text: str, names: set[str]) -> bool:
    words = re.findall(r"[\w'-]+", text.lower())
    return bool(words) and len(words) <= 3 and all(w in names for w in words)


def _reviewer_names(mail: Mail) -> set[str]:
    names: set[str] = set()
    for person in (mail.author, mail.sender):
        names.update(re.findall(r"[\w'-]+", person.name.lower()))
        local = person.email.split("@", 1)[0].lower()
        names.update(re.findall(r"[a-z]+", local))
    return names


# --- anchoring ----------------------------------------------------------------------------

def _anchor(quote: list[_ReplyLine], targets: Sequence[_Target]
            ) -> tuple[str | None, str, int | None, int | None, str]:
    """The run of aligned lines at the end of ``quote``: path, side, range, text."""
    run: list[_Target] = []
    last: int | None = None
    prose_depth = 0  # deepest quote level of unaligned words below the run
    for ln in reversed(quote):
        if ln.target is None:
            if run and _squash(ln.text):
                break  # unaligned words (an earlier reviewer's) end the run
            if _squash(ln.text):
                prose_depth = max(prose_depth, ln.depth)
            continue
        if not run and prose_depth >= ln.depth:
            break  # the remark answers quoted words at the patch's own level, not the patch
        t = targets[ln.target]
        if t.region == "diffhdr" and t.text.startswith("@@"):
            if run:
                break  # a hunk header: the lines above it are elsewhere in the file
            continue
        if last is not None:
            if ln.target == last:
                continue  # another piece of a hard-wrapped line
            if ln.target != last - 1 or _region(t) != _region(targets[last]) or \
                    t.path != targets[last].path:
                break
        run.append(t)
        last = ln.target
    run.reverse()
    if not run:
        prose = [ln.text for ln in quote if ln.depth > 0]
        return None, SIDE_NONE, None, None, "\n".join(prose).strip("\n")
    text = "\n".join(t.text for t in run)
    region = _region(run[0])
    if region in ("message", "cover"):
        return None, SIDE_MESSAGE if region == "message" else SIDE_COVER, run[0].number, \
            run[-1].number, text
    lines = [t.line for t in run if t.line is not None]
    if any(ln.kind != CONTEXT for ln in lines):
        # leading context only shows where the change is; the remark is about the change
        while lines and lines[0].kind == CONTEXT:
            lines.pop(0)
            run.pop(0)
        text = "\n".join(t.text for t in run)
    path = run[-1].path
    if not lines:
        return path, SIDE_NEW, None, None, text
    if any(ln.kind != REMOVED for ln in lines):
        nums = [ln.target_line for ln in lines if ln.target_line is not None]
        return path, SIDE_NEW, min(nums), max(nums), text
    olds = [ln.source_line for ln in lines if ln.source_line is not None]
    return path, SIDE_OLD, min(olds), max(olds), text


def _region(t: _Target) -> str:
    return "diff" if t.region in ("diff", "diffhdr") else t.region


# --- putting it together --------------------------------------------------------------------

@dataclass(frozen=True)
class QuoteMatch:
    """A quoted line of a reply found in the patch it answers."""

    reply_line: int  # 1-based line of the reply body (the first, for a hard-wrapped line)
    reply_lines: int  # how many reply lines spell it (more than 1 when hard-wrapped)
    region: str  # "message", "notes", "diffhdr" (file/hunk headers) or "diff"
    path: str | None
    line: Line | None  # the diff line, for region "diff"
    text: str  # the line as the patch has it


def align_quotes(reply: Mail, patch: Patch) -> list[QuoteMatch]:
    """Every quoted line of ``reply`` that was found in ``patch``, in reply order."""
    targets = _patch_targets(patch)
    lines = _split_reply(reply)
    _align(lines, targets)
    out: list[QuoteMatch] = []
    seen: set[int] = set()
    for ln in lines:
        if ln.target is None or ln.number in seen:
            continue
        t = targets[ln.target]
        seen.update(range(ln.number, ln.number + ln.span))
        out.append(QuoteMatch(ln.number, ln.span, t.region, t.path, t.line, t.text))
    return out


def mine_reply(reply: Mail, answered: Mail | None, index: int | None,
               targets: Sequence[_Target]) -> list[MinedComment]:
    """The comments of one reply to ``answered`` (patch ``index``, 0 for the cover)."""
    lines = _split_reply(reply)
    _align(lines, targets)
    names = _reviewer_names(reply)
    reviewer = str(reply.author if reply.author.email else reply.sender)
    out: list[MinedComment] = []
    groups = _groups(lines)
    quote: list[_ReplyLine] = []
    for gi, (quoted, group) in enumerate(groups):
        if quoted:
            quote = group
            continue
        followed_by_quote = gi + 1 < len(groups)
        text, trailers, start = _clean(group, names, before_quote=followed_by_quote)
        if not text and not trailers:
            continue
        path, side, lo, hi, qtext = _anchor(quote, targets)
        out.append(MinedComment(
            reviewer=reviewer, reply_id=reply.message_id,
            patch_id=answered.message_id if answered is not None else None,
            patch_index=index, path=path, side=side, line_start=lo, line_end=hi,
            quoted=qtext, comment=text, kind=KIND_COMMENT if text else KIND_TRAILERS,
            trailers=trailers, reply_line=start or group[0].number,
        ))
    return out


@dataclass(frozen=True)
class ReplyBlock:
    """The writer's own words in a reply and the quoted lines just above them."""

    quoted: tuple[str, ...]  # quote markers removed, every quote level
    text: str  # own words: greetings, closings, signatures and trailers removed
    line: int  # 1-based line of the reply body where the words start


def reply_blocks(reply: Mail) -> list[ReplyBlock]:
    """Each run of own words in ``reply`` with the quote it sits under (top-posting: none)."""
    lines = _split_reply(reply)
    names = _reviewer_names(reply)
    groups = _groups(lines)
    out: list[ReplyBlock] = []
    quote: list[_ReplyLine] = []
    for gi, (quoted, group) in enumerate(groups):
        if quoted:
            quote = group
            continue
        text, _, start = _clean(group, names, before_quote=gi + 1 < len(groups))
        if text:
            out.append(ReplyBlock(tuple(ln.text for ln in quote), text,
                                  start or group[0].number))
    return out


def _groups(lines: list[_ReplyLine]) -> list[tuple[bool, list[_ReplyLine]]]:
    """Alternating runs of quoted and own lines; blank own lines between quotes stay own."""
    groups: list[tuple[bool, list[_ReplyLine]]] = []
    for ln in lines:
        quoted = ln.depth > 0
        if groups and groups[-1][0] == quoted:
            groups[-1][1].append(ln)
        else:
            groups.append((quoted, [ln]))
    return groups


def _best_patch(reply: Mail, candidates: Iterable[tuple[Patch, list[_Target]]]
                ) -> tuple[Patch, list[_Target]] | None:
    """For a reply whose parent is not in the thread: the patch it quotes most."""
    best: tuple[int, Patch, list[_Target]] | None = None
    for patch, targets in candidates:
        score = _align(_split_reply(reply), targets)
        if score >= 3 and (best is None or score > best[0]):
            best = (score, patch, targets)
    return None if best is None else (best[1], best[2])


def mine_series(series: Series) -> list[MinedComment]:
    """Every comment of every reply in the series, in thread order (patch, then reply)."""
    out: list[MinedComment] = []
    per_patch = [(p, _patch_targets(p)) for p in series.patches]
    for patch, targets in per_patch:
        for reply in patch.replies:
            out.extend(mine_reply(reply, patch.mail, patch.index, targets))
    cover_targets = _cover_targets(series.cover) if series.cover is not None else []
    by_id = {m.message_id: m for m in series.all_mails}
    cover_id = series.cover.message_id if series.cover is not None else None
    for reply in series.replies:
        # under a patch (a reply to a review of it), under the cover, or quoting a patch
        found = next(((p, t) for p, t in per_patch if answers(reply, p.mail.message_id, by_id)),
                     None)
        if found is None and not answers(reply, cover_id, by_id):
            found = _best_patch(reply, per_patch)
        if found is not None:
            out.extend(mine_reply(reply, found[0].mail, found[0].index, found[1]))
        else:
            out.extend(mine_reply(reply, series.cover, 0 if series.cover else None,
                                  cover_targets))
    return out


def answers(reply: Mail, wanted: str | None, by_id: dict[str, Mail]) -> bool:
    """Does ``reply`` sit under message ``wanted`` in the thread (directly or through replies)?"""
    if wanted is None:
        return False
    seen: set[str] = set()
    parent = reply.in_reply_to
    while parent is not None and parent not in seen:
        if parent == wanted:
            return True
        seen.add(parent)
        mail = by_id.get(parent)
        parent = mail.in_reply_to if mail is not None else None
    return wanted in reply.references


def where(index: int | None, path: str | None, side: str, start: int | None,
          end: int | None) -> str:
    """``patch 3 hw/mem/foo.c:12-14 (new)``, ``patch 2 commit message 1-5``, ``cover letter``."""
    head = "cover letter" if index == 0 else f"patch {index}" if index is not None else "thread"
    span = "" if start is None else f"{start}" if start == end else f"{start}-{end}"
    if path is not None:
        return f"{head} {path}:{span} ({side})" if span else f"{head} {path}"
    if side == "message":
        return f"{head} commit message, lines {span}"
    if side == "cover" and span:
        return f"{head}, lines {span}"
    return head
