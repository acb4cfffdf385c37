"""Comment primitives: a hunk that drops a comment while the code it explains stays.

The comment is read from the hunk's old side (context and removed lines), so no tree is
needed. A deleted comment is a finding only when

- every line of it is removed and holds nothing but the comment,
- it says something: a few words of prose, not a lone word, ``fall through``, a section
  divider or commented-out code (its own words are counted, stop words too: "Check if the
  request can fit" is a comment worth keeping),
- the code it explained is still there: the first code line after it is kept by the hunk,
  or that statement is removed but the patch adds it again elsewhere (the function was
  restructured, the statement moved into a new helper),
- no comment added by the patch, nor one left in the post-image near the same place, says
  mostly the same words (moving or rewording a comment is fine).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from reviewbot.finding import Finding
from reviewbot.patch.diff import ADDED, REMOVED, FileDiff, Hunk
from reviewbot.rules.registry import primitive
from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from reviewbot.context import PatchContext
    from reviewbot.rules.model import Rule

DEFAULT_SUFFIXES = (".c", ".h", ".inc", ".c.inc", ".h.inc")
DEFAULT_IGNORE = (r"SPDX-License-Identifier", r"\bCopyright\b", r"\bLicen[cs]e\b",
                  r"^\W*(TODO|FIXME|XXX)\b")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]{2,}")
_OWN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_'-]*")
_MARKERS = re.compile(r"^\s*(?:/\*+|//+|\*+(?!/))|\*+/\s*$")
_DIVIDER = re.compile(r"[-=*#~_+/]{4,}")
_TRIVIAL = re.compile(
    r"^\W*(?:(?:fall(?:s|ing)?[\s-]*thr(?:ough|u)|fallthrough)(?:\W+\w+){0,4}|no\s+break|"
    r"not\s*reached|unreachable|nothing(?:\s+(?:else\s+)?to\s+do)?(?:\s+here)?|"
    r"do\s+nothing(?:\s+here)?|(?:intentionally\s+)?(?:left\s+)?empty)\W*$",
    re.IGNORECASE)
# A line of commented-out code: a statement with code in it ending in ";" (prose ending in
# ";" has no parentheses or "="), a brace, a preprocessor line, a control-flow head.
_CODE_LINE = re.compile(
    r"[(=\[>].*;\s*$|^\s*[{}]\s*$|\)\s*\{\s*$|^\s*}\s*else\b|"
    r"^\s*#\s*(?:if|ifdef|ifndef|else|elif|endif|include|define|undef)\b|"
    r"^\s*(?:if|for|while|switch)\s*\(.*\)\s*\{?\s*$|^\s*(?:return|break|continue|goto)\b.*;\s*$")
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_STOP = frozenset({
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was",
    "one", "our", "out", "has", "have", "this", "that", "with", "from", "they", "will",
    "would", "there", "their", "what", "when", "which", "into", "than", "then", "them",
    "these", "those", "its", "also", "may", "might", "must", "should", "could", "been",
    "being", "does", "did", "doing", "here", "just", "only", "over", "such", "very", "some",
    "more", "most", "other",
})


@frozen
class _OldLine:
    number: int  # pre-image line
    text: str
    removed: bool


@frozen
class CommentBlock:
    start: int  # index into the line list
    end: int  # inclusive
    lines: tuple[str, ...]
    comment_only: bool  # no code shares a line with it

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def comment_blocks(lines: Sequence[str]) -> list[CommentBlock]:
    """Comments in ``lines`` (C syntax), consecutive ``//`` lines joined into one block."""
    blocks: list[CommentBlock] = []
    i = 0
    in_block = False
    start = 0
    only = True
    while i < len(lines):
        text = lines[i]
        j = 0
        code_seen = False
        line_comment_start: int | None = None
        while j < len(text):
            if in_block:
                close = text.find("*/", j)
                if close < 0:
                    j = len(text)
                    break
                in_block = False
                j = close + 2
                if text[j:].strip():
                    # code after the comment on its last line
                    rest = text[j:].lstrip()
                    if not rest.startswith(("/*", "//")):
                        only = False
                blocks.append(CommentBlock(start, i, tuple(lines[start:i + 1]), only))
                continue
            ch = text[j]
            if ch in "\"'":
                j = _skip_literal(text, j)
                code_seen = True
                continue
            if text.startswith("/*", j):
                in_block = True
                start = i
                only = not code_seen and not text[:j].strip()
                j += 2
                continue
            if text.startswith("//", j):
                line_comment_start = j
                break
            if not ch.isspace():
                code_seen = True
            j += 1
        if line_comment_start is not None:
            alone = not text[:line_comment_start].strip()
            prev = blocks[-1] if blocks else None
            if (alone and prev is not None and prev.end == i - 1 and prev.comment_only
                    and prev.lines[-1].lstrip().startswith("//")):
                blocks[-1] = CommentBlock(prev.start, i, (*prev.lines, text), True)
            else:
                blocks.append(CommentBlock(i, i, (text,), alone))
        i += 1
    return blocks


def _skip_literal(text: str, j: int) -> int:
    quote = text[j]
    j += 1
    while j < len(text) and text[j] != quote:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def words(text: str) -> frozenset[str]:
    """The significant words of a comment: lower case, three letters or more, no stop words."""
    return frozenset(w for w in (m.group(0).lower() for m in _WORD.finditer(text))
                     if w not in _STOP)


def prose(text: str) -> list[str]:
    """The comment's text lines without their ``/*``, ``*``, ``//`` and ``*/`` markers."""
    return [t for t in (_MARKERS.sub("", ln).strip() for ln in text.split("\n")) if t]


def own_words(text: str) -> list[str]:
    """Every word the comment says, stop words included."""
    return [m.group(0) for ln in prose(text) for m in _OWN_WORD.finditer(ln)]


def trivial_comment(text: str, min_words: int) -> bool:
    """Too little to be worth asking about: fewer than ``min_words`` words, nothing but stop
    words, ``fall through`` and its kin, a section divider, or commented-out code."""
    lines = prose(text)
    said = own_words(text)
    if len(said) < min_words or not words(text):
        return True
    body = " ".join(lines)
    if _TRIVIAL.match(body):
        return True
    if _DIVIDER.search(text) and len(said) <= 4:
        return True  # "/* ---- helpers ---- */"
    code = sum(1 for ln in lines if _CODE_LINE.search(ln))
    return code * 2 >= len(lines)


def keeps_point(deleted: frozenset[str], candidate: frozenset[str], threshold: float) -> bool:
    """Does ``candidate`` say mostly what ``deleted`` said (moved, or reworded)?"""
    if not deleted or not candidate:
        return False
    shared = len(deleted & candidate)
    return shared / len(deleted) >= threshold or (
        len(candidate) >= 3 and shared / len(candidate) >= max(threshold, 0.6)
    )


def _old_side(hunk: Hunk) -> list[_OldLine]:
    return [_OldLine(ln.source_line, ln.text, ln.kind == REMOVED)
            for ln in hunk.lines if ln.kind != ADDED and ln.source_line is not None]


def _new_side(hunk: Hunk) -> list[str]:
    return [ln.text for ln in hunk.lines if ln.kind != REMOVED]


def _added_comments(ctx: PatchContext) -> list[frozenset[str]]:
    """Words of each comment the patch adds, in any file (a comment may move elsewhere)."""
    out: list[frozenset[str]] = []
    for fd in ctx.patch.files:
        for hunk in fd.hunks:
            new = [ln for ln in hunk.lines if ln.kind != REMOVED]
            blocks = comment_blocks([ln.text for ln in new])
            for b in blocks:
                if any(new[k].kind == ADDED for k in range(b.start, b.end + 1)):
                    out.append(words(b.text))
    return out


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _statement(lines: Sequence[str]) -> str:
    """The first statement of ``lines`` (up to its ``;`` or opening ``{``), joined."""
    out: list[str] = []
    depth = 0
    for text in lines:
        code = text.split("//", 1)[0]
        out.append(code.strip())
        depth += code.count("(") - code.count(")")
        if depth <= 0 and code.rstrip().endswith((";", "{", "}")):
            break
    return " ".join(t for t in out if t)


def _balanced_call(text: str, start: int) -> str | None:
    """``name(args)`` starting at ``start`` in ``text``, its parentheses balanced."""
    open_at = text.index("(", start)
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i + 1]
    return None


_NOT_CALLS = frozenset({"if", "for", "while", "switch", "return", "sizeof", "defined"})


def statement_key(statement: str) -> str | None:
    """What identifies a statement when it turns up elsewhere: its first call with
    arguments (``foo(a, FLAG)``, whatever the call's result is assigned to), else the whole
    statement when it is long enough to be specific; white space removed."""
    for m in _CALL.finditer(statement):
        if m.group(1) in _NOT_CALLS:
            continue
        call = _balanced_call(statement, m.start())
        if call is not None and _squash(call[len(m.group(1)):]) != "()":
            return _squash(call)
    whole = _squash(statement)
    return whole if len(whole) >= 16 and re.search(r"[A-Za-z_]\w*", whole) else None


@frozen
class _Added:
    path: str
    lines: tuple[tuple[int, str], ...]  # (post-image line, text) of a run of added lines


def _added_runs(ctx: PatchContext) -> list[_Added]:
    """Each run of consecutive added lines of the patch, in every file."""
    runs: list[_Added] = []
    for fd in ctx.patch.files:
        if fd.target_path is None or fd.is_binary:
            continue
        for hunk in fd.hunks:
            run: list[tuple[int, str]] = []
            for ln in (*hunk.lines, None):
                if ln is not None and ln.kind == ADDED and ln.target_line is not None:
                    run.append((ln.target_line, ln.text))
                    continue
                if run:
                    runs.append(_Added(fd.target_path, tuple(run)))
                    run = []
    return runs


def moved_to(key: str, runs: Sequence[_Added]) -> tuple[str, int, str] | None:
    """(path, line, text) where the patch adds the statement identified by ``key``."""
    for run in runs:
        squashed = ""
        starts: list[int] = []  # offset in ``squashed`` where each line begins
        for _, text in run.lines:
            starts.append(len(squashed))
            squashed += _squash(text.split("//", 1)[0])
        at = squashed.find(key)
        if at < 0:
            continue
        k = max(i for i, off in enumerate(starts) if off <= at)
        number, text = run.lines[k]
        return run.path, number, text.strip()
    return None


def _post_image_comments(ctx: PatchContext, fd: FileDiff, hunk: Hunk,
                         window: int) -> list[frozenset[str]]:
    """Comments left near the hunk's place in the post-image (whole file when known)."""
    texts: list[str] = []
    src = None
    if fd.target_path is not None:
        try:
            src = ctx.source(fd.target_path)
        except Exception:  # the post-image is a help here, not a need
            src = None
    if src is not None and not src.partial:
        lo = max(hunk.target_start - window, 1)
        hi = hunk.target_start + hunk.target_length + window
        texts = list(src.lines[lo - 1:hi])
    else:
        texts = _new_side(hunk)
    return [words(b.text) for b in comment_blocks(texts)]


@primitive("deleted-comment", scope="patch",
           params=("suffixes", "min_words", "similarity", "window", "ignore"))
def deleted_comment(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """A removed comment block whose code stays and whose point is kept nowhere nearby."""
    suffixes = tuple(rule.params.get("suffixes", DEFAULT_SUFFIXES))
    min_words = int(rule.params.get("min_words", 4))
    similarity = float(rule.params.get("similarity", 0.5))
    window = int(rule.params.get("window", 15))
    ignore = [re.compile(p, re.I | re.M) for p in rule.params.get("ignore", DEFAULT_IGNORE)]

    added: list[frozenset[str]] | None = None
    runs: list[_Added] | None = None
    for fd in ctx.patch.files:
        if fd.is_binary or fd.is_deleted or fd.source_path is None:
            continue
        if not fd.source_path.endswith(suffixes):
            continue
        for hunk in fd.hunks:
            old = _old_side(hunk)
            if not any(ln.removed for ln in old):
                continue
            for block in comment_blocks([ln.text for ln in old]):
                span = old[block.start:block.end + 1]
                if not block.comment_only or not all(ln.removed for ln in span):
                    continue
                text = block.text
                said = words(text)
                if trivial_comment(text, min_words) or any(p.search(text) for p in ignore):
                    continue
                after = old[block.end + 1:]
                at = next((k for k, ln in enumerate(after) if ln.text.strip()), None)
                if at is None:
                    continue  # we cannot see what it described
                follower = after[at]
                if follower.text.lstrip().startswith(("/*", "//", "*")):
                    continue
                kept = "stays"
                code_after = follower.text.strip()
                where = f"the code it explained stays: {code_after}"
                if follower.removed:
                    # The code went too; is it added again elsewhere in the patch?
                    last = _first_kept(after[at:])
                    removed = [ln.text for ln in after[at:]]
                    key = statement_key(_statement(removed[:last + 1] if last >= 0 else removed))
                    if runs is None:
                        runs = _added_runs(ctx)
                    found = moved_to(key, runs) if key else None
                    if found is None:
                        continue  # the code it described went too
                    path, number, code_after = found
                    kept = f"moved to {path}:{number}"
                    where = f"the code it explained moved to {path}:{number}: {code_after}"
                if added is None:
                    added = _added_comments(ctx)
                nearby = _post_image_comments(ctx, fd, hunk, window)
                if any(keeps_point(said, c, similarity) for c in (*added, *nearby)):
                    continue
                quoted = [f"- {ln.text}" for ln in span]
                yield rule.finding(
                    ctx, path=fd.source_path, line=span[0].number, end_line=span[-1].number,
                    side="old", code=span[0].text, anchor=" ".join(sorted(said)),
                    evidence=("deleted comment:\n" + "\n".join(quoted), where),
                    code_after=code_after, kept=kept,
                )


def _first_kept(lines: Sequence[_OldLine]) -> int:
    """Index of the last removed line before the first kept one (-1: all removed)."""
    for k, ln in enumerate(lines):
        if not ln.removed:
            return k - 1
    return -1
