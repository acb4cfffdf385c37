"""The follow-up ledger: every point reviewers made on vN, and what vN+1 did about it.

Three steps, each on what ingest already gives (two ``Series``, no repository needed):

1. **Patches matched across versions**, the way ``git range-diff`` pairs commits: by subject
   and by how many changed lines two patches share. Unlike range-diff's one-to-one
   assignment, a vN patch may go to several vN+1 patches (a split) and several vN patches to
   one (a merge), which is what reviewers ask for most often.
2. **Points**: the reviewers' comments that ``mine`` anchors to the vN patches (the author's
   own replies are answers, not points). A comment that asks for a series-level change
   ("split this", "MAINTAINERS in its own patch", "add a test") is a point of its own.
3. **A status with evidence** for each point, by following the quoted lines into vN+1: the
   same file in the matched patches first, then anywhere in vN+1 (moved text).

Statuses: ``addressed`` (the quoted code changed or went away, a suggested line is now in
vN+1, or the series-level request holds), ``open`` (the quoted code is as it was),
``answered`` (the author replied on the list explaining why not, or deferring it, and the
code stayed), ``unclear`` (nothing to follow), ``remark`` (the reviewer asked for nothing:
an approval, an aside, a preface to the comments below).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from difflib import SequenceMatcher

from reviewbot.engine import CheckResult
from reviewbot.errors import InputError
from reviewbot.finding import Finding, PatchRef, sort_findings
from reviewbot.model import Mail, Patch, Series
from reviewbot.patch.diff import ADDED, CONTEXT, REMOVED, Hunk, Line
from reviewbot.review.mine import (
    KIND_COMMENT,
    SIDE_MESSAGE,
    SIDE_OLD,
    MinedComment,
    answers,
    mine_series,
    reply_blocks,
)
from reviewbot.rules.builtin import FOLLOWUP_OPEN_POINT as OPEN_POINT

ADDRESSED = "addressed"
OPEN = "open"
ANSWERED = "answered"
UNCLEAR = "unclear"
REMARK = "remark"
STATUSES = (ADDRESSED, OPEN, ANSWERED, UNCLEAR, REMARK)

KIND_CODE = "code"  # anchored to diff lines
KIND_MESSAGE = "message"  # anchored to the commit message or the cover letter
KIND_SERIES = "series"  # a series-level request, or a comment not anchored to anything

REQUEST_SPLIT = "split"
REQUEST_MAINTAINERS = "maintainers"
REQUEST_TEST = "test"
REQUEST_FIXES = "fixes"

# --- what a comment asks ------------------------------------------------------------------

_ASKS = re.compile(
    r"\?|\b(should(n'?t)?|please|could you|can you|would you|needs? to|must|missing|instead|"
    r"rather than|(?<![a-z] )why|why (do|does|did|is|are|not|would|should)|nit|typo|wrong|"
    r"incorrect|drop|remove|rename|move|split|prefer|suggest\w*|"
    r"propos\w*|better to|i'?d (rather|prefer|suggest)|don'?t|do not|not needed|unnecessary|"
    r"redundant|own patch|separate patch)\b",
    re.IGNORECASE)
_PREFACE = re.compile(r"\b(below|inline|comments? (follow|further down))\b", re.IGNORECASE)
_SPLIT = re.compile(
    r"\bsplit\b|\bseparate (patch|commit)e?s?\b|\b(its|their) own (patch|commit)\b|"
    r"\bdistinct (parts|patches|commits)\b|\b(two|three|four|2|3|4)[- ](patch|commit)e?s?\b",
    re.IGNORECASE)
_FIXES = re.compile(r"\bFixes:?[- ]?(tag|line|trailer)", re.IGNORECASE)
_TEST = re.compile(
    r"\b(add|write|include|need|missing|with)\b[^.?!\n]{0,30}\b(q?tests?|test ?cases?)\b",
    re.IGNORECASE)
_AGREE = re.compile(
    r"^\W*(ok(ay)?|sure|agreed?|right|yes|yep|will do|done|fixed|good (point|catch)|"
    r"thanks?( you)?[,.! ]+(i|will)\b)|\b(i'?ll|i will|will) (send|fix|change|do|update|add|drop|"
    r"split|remove|rework|submit|correct|address|respin)\b|\bsounds (good|fine|reasonable)\b|"
    r"\byou'?re right\b",
    re.IGNORECASE)
_DEFER = re.compile(r"\b(later|follow[- ]?up|separate (series|patch)|future|another series|"
                    r"next (series|release|version))\b", re.IGNORECASE)
_DROP = re.compile(r"\b(drop (this|the) patch|patch (is|isn't|is not) needed|not needed|"
                   r"unnecessary|already (fixed|merged|upstream))\b", re.IGNORECASE)
_CODE_CHARS = re.compile(r"[;(){}=|&<>\[\]]")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def asks_something(comment: str) -> bool:
    """Does the comment ask for a change or an answer (not an approval or a preface)?"""
    if _PREFACE.search(comment) and "?" not in comment and len(comment.splitlines()) <= 3:
        return False
    return bool(_ASKS.search(comment))


def series_request(comment: str) -> str | None:
    """``split``, ``maintainers``, ``test`` or ``fixes``: the series change it asks for."""
    if _SPLIT.search(comment):
        return REQUEST_MAINTAINERS if "MAINTAINERS" in comment else REQUEST_SPLIT
    if _TEST.search(comment) and asks_something(comment):
        return REQUEST_TEST
    if _FIXES.search(comment) and asks_something(comment):
        return REQUEST_FIXES
    return None


def suggestions(comment: str) -> list[str]:
    """Code or message text the reviewer proposes: quoted strings, indented code lines."""
    out: list[str] = []
    for m in re.finditer(r'"([^"\n]{6,})"', comment):
        out.append(m.group(1))
    for m in re.finditer(r"`([^`\n]{6,})`", comment):
        out.append(m.group(1))
    for line in comment.splitlines():
        if line.startswith(("  ", "\t")) and _CODE_CHARS.search(line) and \
                len(_squash(line)) >= 6 and not line.strip().startswith(("*", "-", "http")):
            out.append(line.strip())
    return out


# --- the model ----------------------------------------------------------------------------

@dataclass(frozen=True)
class PatchMatch:
    """A vN patch and the vN+1 patches it went to."""

    old: int  # patch number in vN (n of n/N)
    new: tuple[int, ...]  # patch numbers in vN+1; empty when dropped
    how: str  # "subject", "diff", "subject+diff", "dropped"
    similarity: float  # best diff similarity, 0..1


@dataclass(frozen=True)
class Answer:
    """The author's reply on the list to a point."""

    message_id: str
    first_line: str
    agrees: bool  # "will do", "sounds good": a promise, not an explanation
    defers: bool


@dataclass(frozen=True)
class Point:
    reviewer: str
    message_id: str  # the review mail
    date: datetime | None
    patch: int | None  # vN patch number (0: cover letter), None: the thread
    path: str | None
    line: int | None
    end_line: int | None
    side: str  # mine's side: new, old, message, cover, none
    quote: str  # the vN line the comment sits under (last quoted line)
    quoted: str  # every quoted line of the anchor
    comment: str
    kind: str  # code, message, series
    request: str | None
    asks: bool
    status: str = UNCLEAR
    evidence: tuple[str, ...] = ()
    new_patch: int | None = None
    new_path: str | None = None
    new_line: int | None = None
    answer: Answer | None = None
    after_new: bool = False  # made after vN+1 was posted: vN+1 could not answer it
    summary: str = ""  # what vN+1 did, for a changelog line
    function: str | None = None  # the C function the quoted lines are in (vN)

    @property
    def reviewer_first_name(self) -> str:
        name = self.reviewer.split("<", 1)[0].strip().strip('"')
        if not name:
            return self.reviewer.strip("<>").split("@", 1)[0]
        if "," in name:  # "Last, First"
            name = name.split(",", 1)[1].strip()
        return name.split()[0]


@dataclass(frozen=True)
class FindingsDiff:
    """reviewbot's own findings on vN and vN+1, by fingerprint."""

    fixed: tuple[Finding, ...] = ()  # on vN only
    still: tuple[Finding, ...] = ()  # on both (the vN+1 one)
    new: tuple[Finding, ...] = ()  # on vN+1 only


@dataclass(frozen=True)
class Ledger:
    previous: Series
    new: Series
    matches: tuple[PatchMatch, ...]
    points: tuple[Point, ...]
    findings: FindingsDiff | None = None

    def count(self, status: str) -> int:
        return sum(1 for p in self.points if p.status == status)

    def open_points(self) -> list[Point]:
        return [p for p in self.points if p.status == OPEN]


# --- inputs that do not fit -----------------------------------------------------------------

def _first_date(series: Series) -> datetime | None:
    dates = [_utc(m.date) for m in _series_mails(series) if m.date is not None]
    return min(dates) if dates else None


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _series_mails(series: Series) -> list[Mail]:
    return [*([series.cover] if series.cover is not None else []),
            *(p.mail for p in series.patches)]


def check_pair(previous: Series, new: Series) -> None:
    """One clear InputError when NEW cannot be the version after PREVIOUS."""
    old_ids = {m.message_id for m in _series_mails(previous)}
    new_ids = {m.message_id for m in _series_mails(new)}
    if old_ids == new_ids:
        raise InputError(f"{new.source}: NEW is the same v{new.version} as PREVIOUS "
                         "(give the next version as NEW)")
    posted = new.repo is None  # a git range is the next version before it is sent
    if posted and new.version < previous.version:
        raise InputError(f"{new.source}: NEW is v{new.version}, older than PREVIOUS "
                         f"v{previous.version} (the arguments are PREVIOUS NEW)")
    old_date, new_date = _first_date(previous), _first_date(new)
    if posted and old_date is not None and new_date is not None and new_date < old_date:
        raise InputError(f"{new.source}: NEW was posted {new_date:%Y-%m-%d}, before PREVIOUS "
                         f"({old_date:%Y-%m-%d}); the arguments are PREVIOUS NEW")


# --- matching patches between versions ---------------------------------------------------------

def _changed(patch: Patch) -> Counter[str]:
    out: Counter[str] = Counter()
    for fd in patch.files:
        for hunk in fd.hunks:
            for ln in hunk.lines:
                key = _squash(ln.text)
                if ln.kind != CONTEXT and len(key) >= 3:
                    out[f"{fd.path}\0{ln.kind}{key}"] += 1
    return out


def _title(patch: Patch) -> str:
    return " ".join(patch.subject.title.lower().split())


def match_patches(previous: Series, new: Series) -> tuple[PatchMatch, ...]:
    """Each vN patch with the vN+1 patches it became (splits and merges followed)."""
    new_changed = [_changed(p) for p in new.patches]
    out: list[PatchMatch] = []
    for old in previous.patches:
        a = _changed(old)
        links: list[tuple[int, str, float]] = []
        for q, b in zip(new.patches, new_changed, strict=True):
            shared = sum((a & b).values())
            sim = shared / max(1, min(sum(a.values()), sum(b.values())))
            same_title = SequenceMatcher(None, _title(old), _title(q)).ratio() >= 0.85
            same_files = bool({f.path for f in old.files} & {f.path for f in q.files})
            by_diff = shared >= 2 and sim >= 0.25
            if same_title and (same_files or by_diff or shared):
                links.append((q.index, "subject+diff" if by_diff else "subject", sim))
            elif by_diff:
                links.append((q.index, "diff", sim))
            elif same_title:
                links.append((q.index, "subject", sim))
        if not links:
            out.append(PatchMatch(old.index, (), "dropped", 0.0))
            continue
        hows = {h for _, h, _ in links}
        how = "subject+diff" if "subject+diff" in hows else sorted(hows)[0]
        out.append(PatchMatch(old.index, tuple(i for i, _, _ in links), how,
                              round(max(s for _, _, s in links), 2)))
    # A vN+1 patch nothing led to, but touching the same functions as a vN patch, came out
    # of that patch (the part of a split that was rewritten most).
    reached = {i for m in out for i in m.new}
    for q in new.patches:
        if q.index in reached:
            continue
        sections = _sections(q)
        for k, old in enumerate(previous.patches):
            if sections & _sections(old):
                m = out[k]
                out[k] = replace(m, new=tuple(sorted({*m.new, q.index})),
                                 how=m.how if m.new else "diff")
                break
    return tuple(out)


def _sections(patch: Patch) -> set[tuple[str, str]]:
    return {(fd.path, _function(h)) for fd in patch.files for h in fd.hunks if _function(h)}


_DEFINITION = re.compile(r"^(?:[A-Za-z_][\w \t\*]*[\s\*])?([A-Za-z_]\w*)\s*\([^;]*$")


def enclosing_function(hunk: Hunk, line: Line) -> str:
    """The function ``line`` of ``hunk`` sits in: the last definition above it in the hunk
    (a line at column 0 like ``static void foo(...``), else the hunk's ``@@`` section."""
    pos = hunk.lines.index(line)
    for ln in reversed(hunk.lines[:pos + 1]):
        if ln.kind == REMOVED or not ln.text[:1].isalpha() or "(" not in ln.text or \
                len(ln.text) > 300:
            continue
        m = _DEFINITION.match(ln.text)
        if m and m.group(1) not in ("if", "while", "for", "switch", "return", "sizeof"):
            return m.group(1)
    return _function(hunk)


def _function(hunk: Hunk) -> str:
    """The function a hunk is in, from its ``@@`` section (``static int foo(...`` -> foo)."""
    m = re.search(r"([A-Za-z_]\w*)\s*\(", hunk.section)
    return m.group(1) if m else ""


# --- following a point into vN+1 ------------------------------------------------------------

@dataclass(frozen=True)
class _Place:
    patch: int
    path: str
    hunk: Hunk
    pos: int  # index into hunk.lines


def _hunks(series: Series, numbers: Iterable[int] | None, path: str | None
           ) -> list[tuple[int, str, Hunk]]:
    wanted = None if numbers is None else set(numbers)
    return [(p.index, fd.path, h) for p in series.patches
            if wanted is None or p.index in wanted
            for fd in p.files if path is None or fd.path == path for h in fd.hunks]


def _quoted_lines(patch: Patch, point: Point) -> tuple[list[Line], list[Line], Hunk | None]:
    """The diff lines the point quotes (post-image or removed ones) and a few after them."""
    for fd in patch.files:
        if fd.path != point.path:
            continue
        for hunk in fd.hunks:
            if point.side == SIDE_OLD:
                idx = [i for i, ln in enumerate(hunk.lines) if ln.kind == REMOVED
                       and ln.source_line is not None and point.line is not None
                       and point.end_line is not None
                       and point.line <= ln.source_line <= point.end_line]
            else:
                idx = [i for i, ln in enumerate(hunk.lines) if ln.kind != REMOVED
                       and ln.target_line is not None and point.line is not None
                       and point.end_line is not None
                       and point.line <= ln.target_line <= point.end_line]
            if idx:
                lines = [hunk.lines[i] for i in idx]
                after = [ln for ln in hunk.lines[idx[-1] + 1:] if ln.kind != REMOVED][:2]
                return lines, after, hunk
    return [], [], None


def _find(lines: Sequence[Line], candidates: Sequence[tuple[int, str, Hunk]], kinds: str
          ) -> tuple[int, _Place | None, list[Line]]:
    """The hunk holding most of ``lines`` (by text, whitespace aside), in order."""
    keys = [_squash(ln.text) for ln in lines]
    best: tuple[int, _Place | None, list[Line]] = (0, None, [])
    for patch_no, path, hunk in candidates:
        have = [(i, _squash(ln.text)) for i, ln in enumerate(hunk.lines) if ln.kind in kinds]
        found: list[Line] = []
        start = 0
        first: int | None = None
        for key in keys:
            if len(key) < 2:
                continue
            for j in range(start, len(have)):
                if have[j][1] == key:
                    found.append(hunk.lines[have[j][0]])
                    first = have[j][0] if first is None else first
                    start = j + 1
                    break
        if len(found) > best[0] and first is not None:
            last = hunk.lines.index(found[-1])
            best = (len(found), _Place(patch_no, path, hunk, last), found)
    return best


def _line_of(ln: Line) -> int | None:
    return ln.target_line if ln.target_line is not None else ln.source_line


def _code(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return f"`{text[:width - 3]}...`" if len(text) > width else f"`{text}`"


def _follow_code(point: Point, previous: Series, new: Series, targets: Sequence[int]
                 ) -> tuple[str, list[str], Point]:
    """"unchanged", "changed", "gone" or "unknown", with evidence and the vN+1 place."""
    old_patch = next((p for p in previous.patches if p.index == point.patch), None)
    if old_patch is None or point.path is None:
        return "unknown", [], point
    lines, _, old_hunk = _quoted_lines(old_patch, point)
    significant = [ln for ln in lines if len(_squash(ln.text)) >= 2]
    if not significant or old_hunk is None:
        return "unknown", [], point
    # what follows the last significant quoted line in vN (closing braces included)
    tail = old_hunk.lines[old_hunk.lines.index(significant[-1]) + 1:]
    after = [ln for ln in tail if ln.kind != REMOVED][:len(lines) - len(significant) + 2]
    where = f"v{new.version}"
    kinds = REMOVED if point.side == SIDE_OLD else ADDED + CONTEXT
    pools = [_hunks(new, targets, point.path), _hunks(new, None, point.path),
             _hunks(new, None, None)]
    count, place, found = 0, None, list[Line]()
    for pool in pools:
        count, place, found = _find(significant, pool, kinds)
        if count:
            break
    if point.side == SIDE_OLD:
        if not _hunks(new, None, point.path):
            return "changed", [f"{where} no longer changes {point.path}: the quoted lines "
                               "are not removed any more"], point
        if count == len(significant):
            return "unchanged", [f"{where} still removes {_code(significant[-1].text)} "
                                 f"from {point.path}"], point
        kept = _find(significant, _hunks(new, None, point.path), CONTEXT)
        ev = [f"{where} no longer removes {_code(ln.text)}" for ln in significant
              if ln not in found][:3]
        if kept[1] is not None and kept[2]:
            k = kept[1]
            point = replace(point, new_patch=k.patch, new_path=k.path,
                            new_line=_line_of(kept[2][-1]))
        else:
            near = _hunks(new, targets, point.path)
            if near:
                point = replace(point, new_patch=near[0][0], new_path=point.path,
                                new_line=_nearest(near, significant[0].source_line or 0))
        return "changed", ev or [f"{where} changes {point.path} differently"], point
    if place is None:
        if not _hunks(new, None, point.path):
            return "gone", [f"{where} no longer changes {point.path}"], point
        return "gone", [f"{_code(significant[-1].text)} is no longer in {where}'s "
                        f"{point.path}"], point
    last = found[-1]
    point = replace(point, new_patch=place.patch, new_path=place.path, new_line=_line_of(last))
    moved = "" if place.path == point.path else f" (moved to {place.path})"
    if count < len(significant):
        still = {_squash(f.text) for f in found}
        gone = [ln for ln in significant if _squash(ln.text) not in still]
        ev = [f"{_code(ln.text)} is not in {where} any more" for ln in gone[:2]]
        repl = _replacement(gone, place)
        if repl:
            ev.append(f"{where} has {_code(repl.text)} at {place.path}:{_line_of(repl)}")
        return "changed", ev + ([moved.strip(" ()")] if moved else []), point
    # every quoted line is still there: did what follows it change (a line added under it)?
    pos = place.hunk.lines.index(last)
    following = [ln for ln in place.hunk.lines[pos + 1:] if ln.kind != REMOVED][:len(after)]
    if [_squash(a.text) for a in after] != [_squash(f.text) for f in following]:
        added = [f for f in following if f.kind == ADDED and
                 _squash(f.text) not in {_squash(a.text) for a in after}]
        if added:
            return "changed", [f"{where} adds {_code(added[0].text)} under the quoted lines "
                               f"at {place.path}:{_line_of(added[0])}{moved}"], point
    shown = max(found, key=lambda ln: len(_squash(ln.text)))
    return "unchanged", [f"{where} still has {_code(shown.text)} at "
                         f"{place.path}:{_line_of(shown)}{moved}"], point


def _nearest(hunks: Sequence[tuple[int, str, Hunk]], line: int) -> int | None:
    best = min(hunks, key=lambda h: abs(h[2].source_start - line))
    return best[2].target_start


def _replacement(gone: Sequence[Line], place: _Place) -> Line | None:
    """The vN+1 added line most like the first quoted line that is gone."""
    if not gone:
        return None
    target = " ".join(gone[-1].text.split())[:200]
    best: tuple[float, Line | None] = (0.5, None)
    for ln in place.hunk.lines:
        if ln.kind == ADDED:
            r = SequenceMatcher(None, target, " ".join(ln.text.split())[:200]).ratio()
            if r > best[0]:
                best = (r, ln)
    return best[1]


def _applied_suggestion(point: Point, previous: Series, new: Series
                        ) -> tuple[str, str, int, int] | None:
    """A proposed line or string now added by vN+1 (and not by vN): text, path, line, patch."""
    old_added = {_squash(ln.text) for _, _, h in _hunks(previous, None, None) for ln in h.added}
    for text in suggestions(point.comment):
        key = _squash(text)
        if len(key) < 8:
            continue
        for patch_no, path, hunk in _hunks(new, None, None):
            for ln in hunk.added:
                have = _squash(ln.text)
                if key in have and not any(key in o for o in old_added):
                    return text, path, ln.target_line or 0, patch_no
    return None


# --- series-level requests ----------------------------------------------------------------

def _request_status(point: Point, match: PatchMatch | None, previous: Series, new: Series
                    ) -> tuple[bool | None, str]:
    v, w = f"v{previous.version}", f"v{new.version}"
    if point.request == REQUEST_SPLIT:
        if match is not None:
            if len(match.new) >= 2:
                return True, (f"{v} patch {match.old} became {w} patches "
                              f"{', '.join(map(str, match.new))}")
            if match.new:
                return False, (f"{v} patch {match.old} is still one patch in {w} "
                               f"(patch {match.new[0]})")
            return None, f"{v} patch {match.old} is not in {w}"
        if len(new.patches) > len(previous.patches):
            return True, f"{w} has {len(new.patches)} patches, {v} had {len(previous.patches)}"
        return False, f"{w} has {len(new.patches)} patch(es), as many as {v}"
    if point.request == REQUEST_MAINTAINERS:
        alone = [p.index for p in new.patches if p.files and
                 all(f.path == "MAINTAINERS" for f in p.files)]
        if alone:
            return True, f"{w} patch {alone[0]} changes MAINTAINERS alone"
        mixed = [p.index for p in new.patches if any(f.path == "MAINTAINERS" for f in p.files)]
        if mixed:
            return False, f"{w} patch {mixed[0]} changes MAINTAINERS with other files"
        return None, f"{w} does not change MAINTAINERS"
    if point.request == REQUEST_TEST:
        def tests(s: Series) -> int:
            return sum(f.added_count for p in s.patches for f in p.files
                       if f.path.startswith(("tests/", "test/")))
        before, after = tests(previous), tests(new)
        if after > before:
            return True, f"{w} adds {after} line(s) under tests/ ({v}: {before})"
        return False, f"{w} adds {after} line(s) under tests/, {v} added {before}"
    if point.request == REQUEST_FIXES:
        def fixes(s: Series) -> int:
            return sum(1 for p in s.patches for t in p.trailers
                       if t.key.lower() == "fixes" and t.from_reply is None)
        before, after = fixes(previous), fixes(new)
        if after > before:
            return True, f"{w} has {after} Fixes: trailer(s), {v} had {before}"
        return False, f"{w} has {after} Fixes: trailer(s), as {v} had {before}"
    return None, ""


# --- answers on the list --------------------------------------------------------------------

def _is_author(mail: Mail, authors: set[str]) -> bool:
    return any(k in authors for k in _person_keys(mail))


def _person_keys(mail: Mail) -> set[str]:
    keys: set[str] = set()
    for person in (mail.author, mail.sender):
        if person.email:
            keys.add(person.email.lower())
        name = " ".join(person.name.lower().split())
        if name and " via " not in name:
            keys.add(name)
    return keys


def _authors(*series: Series) -> set[str]:
    out: set[str] = set()
    for s in series:
        for mail in _series_mails(s):
            out |= _person_keys(mail)
    return out


def _answers(points: list[Point], previous: Series, authors: set[str]) -> list[Point]:
    """Attach to each point the author's reply that quotes it (its words or its anchor)."""
    by_id = {m.message_id: m for m in previous.all_mails}
    found: dict[int, list[tuple[Mail, str]]] = {}
    for mail in previous.all_mails:
        if not _is_author(mail, authors) or mail.in_reply_to is None:
            continue
        if any(mail.message_id == m.message_id for m in _series_mails(previous)):
            continue
        for block in reply_blocks(mail):
            quoted = [_squash(q) for q in block.quoted if len(_squash(q)) >= 10]
            best: tuple[int, int] = (0, -1)
            for i, point in enumerate(points):
                if not answers(mail, point.message_id, by_id):
                    continue
                words = _squash(point.comment)
                score = sum(1 for q in quoted if q in words) * 10
                if point.quote and quoted and quoted[-1] == _squash(point.quote.lstrip("+- ")):
                    score += 1
                if score > best[0]:
                    best = (score, i)
            if best[1] >= 0:
                found.setdefault(best[1], []).append((mail, block.text))
    out = list(points)
    for i, replies in found.items():
        agrees = any(_AGREE.search(text[:300]) for _, text in replies)
        defers = any(_DEFER.search(text) for _, text in replies)
        mail, text = replies[0]
        first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        out[i] = replace(out[i], answer=Answer(mail.message_id, first, agrees, defers))
    return out


# --- putting it together --------------------------------------------------------------------

def _split_series_request(c: MinedComment) -> list[tuple[str, str | None]]:
    """A comment's text, cut into a series-level request and the rest (when both are there)."""
    request = series_request(c.comment)
    if request is None:
        return [(c.comment, None)]
    paras = [p for p in re.split(r"\n\s*\n", c.comment) if p.strip()]
    asked = [p for p in paras if series_request(p) == request]
    rest = [p for p in paras if p not in asked]
    if not asked or not rest or not any(asks_something(p) for p in rest):
        return [(c.comment, request)]
    return [("\n\n".join(asked), request), ("\n\n".join(rest), None)]


def collect_points(previous: Series, authors: set[str]) -> list[Point]:
    by_id = {m.message_id: m for m in previous.all_mails}
    out: list[Point] = []
    for c in mine_series(previous):
        if c.kind != KIND_COMMENT:
            continue
        mail = by_id.get(c.reply_id)
        if mail is None or _is_author(mail, authors):
            continue
        quote_lines = [ln for ln in c.quoted.splitlines() if ln.strip()]
        for text, request in _split_series_request(c):
            if request is not None:
                kind = KIND_SERIES
            elif c.path is not None:
                kind = KIND_CODE
            elif c.side in (SIDE_MESSAGE, "cover"):
                kind = KIND_MESSAGE
            else:
                kind = KIND_SERIES
            out.append(Point(
                reviewer=c.reviewer, message_id=c.reply_id, date=mail.date,
                patch=c.patch_index, path=c.path, line=c.line_start, end_line=c.line_end,
                side=c.side, quote=quote_lines[-1] if quote_lines else "",
                quoted=c.quoted, comment=text, kind=kind, request=request,
                asks=request is not None or asks_something(text),
            ))
    return out


def _message_status(point: Point, previous: Series, new: Series, targets: Sequence[int]
                    ) -> tuple[str, list[str]]:
    old = next((p for p in previous.patches if p.index == point.patch), None)
    lines = [_squash(ln) for ln in point.quoted.splitlines() if len(_squash(ln)) >= 4]
    if old is None or not lines:
        return "unknown", []
    if point.patch == 0:
        text = new.cover.body if new.cover is not None else ""
    else:
        text = "\n".join(p.commit_message for p in new.patches if p.index in targets)
    have = _squash(text)
    kept = sum(1 for ln in lines if ln in have)
    if kept == len(lines):
        return "unchanged", [f"v{new.version} keeps the quoted text"]
    return "changed", [f"v{new.version} rewords the quoted text ({len(lines) - kept} of "
                       f"{len(lines)} line(s) changed)"]


def _old_function(point: Point, previous: Series) -> str | None:
    patch = next((p for p in previous.patches if p.index == point.patch), None)
    if patch is None or point.path is None:
        return None
    lines, _, hunk = _quoted_lines(patch, point)
    if hunk is None or not lines:
        return None
    return enclosing_function(hunk, lines[-1]) or None


def assess(point: Point, matches: dict[int, PatchMatch], previous: Series, new: Series
           ) -> Point:
    point = replace(point, function=_old_function(point, previous))
    match = matches.get(point.patch) if point.patch else None
    targets = match.new if match is not None else ()
    v = f"v{new.version}"
    evidence: list[str] = []
    late = ""
    if point.after_new:
        late = f"made after {v} was posted: {v} could not have answered it"
    answer = point.answer
    answered = answer is not None and not answer.agrees
    if answer is not None:
        who = "agreed" if answer.agrees else "answered"
        evidence.append(f"the author {who} on the list: \"{answer.first_line[:100]}\"")

    def done(status: str, ev: Sequence[str], summary: str = "") -> Point:
        out = [*ev, *evidence, *([late] if late else [])]
        return replace(point, status=status, evidence=tuple(out), summary=summary)

    if not point.asks:
        return done(REMARK, ["no change asked"])
    if match is not None and not match.new:
        gone = f"v{previous.version} patch {match.old} is not in {v}"
        if _DROP.search(point.comment):
            return done(ADDRESSED, [f"{gone}, as asked"], f"dropped patch {match.old}")
        return done(ANSWERED if answered else UNCLEAR,
                    [f"{gone} (dropped, or merged on its own?)"])
    if point.request is not None:
        holds, why = _request_status(point, match, previous, new)
        point = replace(point, new_patch=targets[0] if targets else None)
        if holds:
            assert point.request is not None
            what = {REQUEST_SPLIT: f"split into {len(targets) or len(new.patches)} patches",
                    REQUEST_MAINTAINERS: "MAINTAINERS change in its own patch",
                    REQUEST_TEST: "added a test",
                    REQUEST_FIXES: "added Fixes: tags"}[point.request]
            return done(ADDRESSED, [why], what)
        if holds is None:
            return done(ANSWERED if answered else UNCLEAR, [why] if why else [])
        return done(ANSWERED if answered else OPEN, [why])
    applied = _applied_suggestion(point, previous, new)
    if point.kind == KIND_CODE:
        state, ev, point = _follow_code(point, previous, new, targets)
    elif point.kind == KIND_MESSAGE:
        state, ev = _message_status(point, previous, new, targets)
    else:
        state, ev = "unknown", []
    if applied is not None:
        text, path, line, patch_no = applied
        point = replace(point, new_patch=patch_no, new_path=path, new_line=line)
        return done(ADDRESSED, [f"the suggested {_code(text)} is in {v} at {path}:{line}",
                                *ev], _summary(point, f"use {_code(text)}"))
    if state in ("changed", "gone"):
        return done(ADDRESSED, ev, _summary(point, _change_words(state, point)))
    if state == "unchanged":
        return done(ANSWERED if answered else OPEN, ev)
    return done(ANSWERED if answered else UNCLEAR, ev or ["nothing in the quote to follow"])


def _change_words(state: str, point: Point) -> str:
    quote = _code(point.quote.lstrip("+- "), 50)
    if state == "gone":
        return f"dropped {quote}"
    if point.kind == KIND_MESSAGE:
        return "reworded the commit message"
    if point.side == SIDE_OLD:
        return f"no longer removes {quote}"
    return f"reworked {quote}"


def _summary(point: Point, what: str) -> str:
    where = point.new_path or point.path
    if where and point.function:
        where = f"{where} ({point.function})"
    return f"{where}: {what}" if where else what


def build_ledger(previous: Series, new: Series, *, with_findings: bool = False) -> Ledger:
    """The ledger of PREVIOUS's review points against NEW. Raises InputError when they do not
    fit together (NEW not newer, no review in PREVIOUS, unrelated series)."""
    check_pair(previous, new)
    if new.repo is not None and new.version <= previous.version:
        new = replace(new, version=previous.version + 1)  # a range not yet sent: the next one
    authors = _authors(previous, new)
    points = collect_points(previous, authors)
    if not points:
        others = [m for m in previous.all_mails if m.in_reply_to is not None
                  and not _is_author(m, authors)]
        what = ("no reply by anyone but the author" if not others else
                "replies, but no reviewer comment in them (only trailers or thanks)")
        raise InputError(f"{previous.source}: the v{previous.version} thread has {what}; "
                         "give the thread with its review replies")
    matches = match_patches(previous, new)
    if not any(m.new for m in matches):
        raise InputError(f"{new.source}: NEW does not look like a version of PREVIOUS: "
                         "no patch of it matches one of PREVIOUS by subject or diff")
    new_date = _first_date(new) if new.repo is None else None
    if new_date is not None:
        points = [replace(p, after_new=p.date is not None and _utc(p.date) > new_date)
                  for p in points]
    points = _answers(points, previous, authors)
    by_old = {m.old: m for m in matches}
    assessed = tuple(assess(p, by_old, previous, new) for p in points)
    findings = diff_findings(previous, new) if with_findings else None
    return Ledger(previous, new, matches, assessed, findings)


def diff_findings(previous: Series, new: Series) -> FindingsDiff:
    """reviewbot's own findings on both versions, paired by SARIF partialFingerprints."""
    from reviewbot.context import Options
    from reviewbot.engine import run_check
    from reviewbot.rules.loader import load_rules

    rules = load_rules(())
    options = Options()
    before = run_check(previous, options, rules).findings
    after = run_check(new, options, rules).findings
    old_fp = {f.fingerprint() for f in before}
    new_fp = {f.fingerprint() for f in after}
    return FindingsDiff(
        fixed=tuple(f for f in before if f.fingerprint() not in new_fp),
        still=tuple(f for f in after if f.fingerprint() in old_fp),
        new=tuple(f for f in after if f.fingerprint() not in old_fp),
    )


def point_id(point: Point) -> str:
    """Stable identity of a point: review mail, anchor and words."""
    import hashlib

    basis = "\0".join((point.message_id, point.path or "", _squash(point.quote),
                       _squash(point.comment)))
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


# --- `check --previous`: open points as findings ------------------------------------------



def open_point_findings(ledger: Ledger) -> list[Finding]:
    """One warning finding per open point, placed where the point landed in the new version."""
    by_index = {p.index: p for p in ledger.new.patches}
    out: list[Finding] = []
    for p in ledger.open_points():
        target = by_index.get(p.new_patch) if p.new_patch is not None else None
        ref = None
        if target is not None:
            ref = PatchRef(target.index, target.subject.raw, target.mail.message_id)
        elif ledger.new.cover is not None:
            c = ledger.new.cover
            ref = PatchRef(0, c.subject.raw, c.message_id)
        words = " ".join(p.comment.split())
        words = words[:120] + ("..." if len(words) > 120 else "")
        quote = [f"> {p.quote.strip()}"] if p.quote.strip() else []
        out.append(Finding(
            rule=OPEN_POINT.id, severity=OPEN_POINT.severity,
            message=OPEN_POINT.format_message(reviewer=p.reviewer_first_name,
                                              version=ledger.previous.version, words=words),
            path=p.new_path, line=p.new_line, patch=ref,
            evidence=(f"review: {p.message_id}", *quote, *p.evidence),
            fix=OPEN_POINT.fix, anchor=point_id(p),
        ))
    return out


def with_open_points(result: CheckResult, previous: str, *, repo: str | None = None
                     ) -> CheckResult:
    """``check --previous``: ``result`` with a warning finding per open point."""
    from reviewbot.ingest.previous import load_previous

    if OPEN_POINT.id in result.options.disabled or (
            result.options.enabled and OPEN_POINT.id not in result.options.enabled):
        return result
    old = load_previous(previous, result.series, repo=repo)
    ledger = build_ledger(old, result.series)
    extra = open_point_findings(ledger)
    return replace(result, findings=tuple(sort_findings([*result.findings, *extra])),
                   rules=(*result.rules, OPEN_POINT))
