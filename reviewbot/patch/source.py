"""Post-images (and pre-images) of the files a series touches, patch by patch.

Where the whole text comes from, best first:
  * git input: the file at each patch's commit (and at the parent for the first pre-image);
  * ``--staged``: the index (post) and HEAD (pre);
  * a tree (``--tree DIR``): the tree's file with the hunks of each patch applied in memory,
    one patch after the other (the user's files are never written);
  * nothing: rebuilt from the hunks. A new file is whole; a modified file holds only the lines
    the hunks show (context and added), every other line empty, so that ``lines[N - 1]`` is
    still post-image line N; such a SourceFile has ``partial=True``.
"""

from __future__ import annotations

import re
from dataclasses import field
from functools import cached_property

from reviewbot.model import InputProblem, Series
from reviewbot.patch.diff import ADDED, REMOVED, FileDiff, Hunk
from reviewbot.patch.tree import GitTree, Tree
from reviewbot.util.frozen import frozen


def split_lines(text: str) -> list[str]:
    """Lines as C compilers, diffs and tree-sitter count them: ended by LF (a CR before it is
    dropped). Not str.splitlines(), which also breaks at form feeds and other separators."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


@frozen
class SourceFile:
    path: str
    text: str
    partial: bool = False

    @cached_property
    def lines(self) -> tuple[str, ...]:
        """Lines without their ends; ``lines[N - 1]`` is line N."""
        return tuple(split_lines(self.text))

    def line(self, number: int) -> str:
        """Line ``number`` (1-based); "" outside the file."""
        return self.lines[number - 1] if 1 <= number <= len(self.lines) else ""


_SECTION_FUNCTION = re.compile(r"^[^=#;{}()]*?\b([A-Za-z_]\w*)\s*\(")


def function_in_section(section: str) -> str | None:
    """The function a hunk header's section names: ``static void f(int a,`` -> "f"; None for
    ``struct s {``, ``static const TypeInfo t = {`` and other non-functions."""
    m = _SECTION_FUNCTION.match(section.strip())
    if m is None or m.group(1) in ("if", "for", "while", "switch", "return", "sizeof"):
        return None
    return m.group(1)


class ApplyError(Exception):
    pass


@frozen
class _Image:
    """A file's text as lines; ``complete`` False means only the numbered lines are known."""

    known: dict[int, str] = field(default_factory=dict)
    complete: bool = True
    count: int = 0  # number of lines when complete

    @classmethod
    def whole(cls, text: str) -> _Image:
        lines = split_lines(text)
        return cls(dict(enumerate(lines, start=1)), True, len(lines))

    def as_list(self) -> list[str]:
        return [self.known.get(n, "") for n in range(1, self.count + 1)]

    def source(self, path: str) -> SourceFile:
        if self.complete:
            lines = self.as_list()
            return SourceFile(path, "\n".join(lines) + ("\n" if lines else ""), False)
        top = max(self.known, default=0)
        lines = [self.known.get(n, "") for n in range(1, top + 1)]
        return SourceFile(path, "\n".join(lines) + ("\n" if lines else ""), True)


def _blocks(h: Hunk) -> tuple[list[str], list[str]]:
    old = [ln.text.rstrip("\r") for ln in h.lines if ln.kind != ADDED]
    new = [ln.text for ln in h.lines if ln.kind != REMOVED]
    return old, new


def apply_whole(lines: list[str], fd: FileDiff) -> list[str]:
    """Apply ``fd``'s hunks to complete ``lines``; a hunk whose old text is not at its line is
    looked for nearby (like ``patch`` with an offset). Raises ApplyError when it is nowhere."""
    out: list[str] = []
    pos = 0
    offset = 0
    stripped = [ln.rstrip("\r") for ln in lines]
    for h in fd.hunks:
        old, new = _blocks(h)
        start = h.source_start if h.source_length == 0 else h.source_start - 1
        expected = max(pos, start + offset)
        found = -1
        if not old:
            found = min(expected, len(lines))
        else:
            for distance in range(len(lines) + 1):
                for p in (expected - distance, expected + distance) if distance else (expected,):
                    if pos <= p <= len(lines) - len(old) and stripped[p:p + len(old)] == old:
                        found = p
                        break
                if found >= 0:
                    break
        if found < 0:
            raise ApplyError(f"hunk at line {h.source_start} does not apply")
        out.extend(lines[pos:found])
        out.extend(new)
        pos = found + len(old)
        offset = found - start
    out.extend(lines[pos:])
    return out


def apply_sparse(known: dict[int, str], fd: FileDiff) -> dict[int, str]:
    """Apply ``fd`` to a partly known pre-image: known lines outside the hunks move by the
    hunks before them; the hunks' context and added lines land on their post-image lines."""
    spans = []
    for h in fd.hunks:
        if h.source_length == 0:
            spans.append((h.source_start + 1, h.source_start, h.target_length))
        else:
            spans.append((h.source_start, h.source_start + h.source_length - 1,
                          h.target_length - h.source_length))
    new: dict[int, str] = {}
    for n, text in known.items():
        shift = 0
        covered = False
        for first, last, delta in spans:
            if first <= n <= last:
                covered = True
                break
            if n > last:
                shift += delta
        if not covered:
            new[n + shift] = text
    for h in fd.hunks:
        for ln in h.lines:
            if ln.kind != REMOVED and ln.target_line is not None:
                new[ln.target_line] = ln.text
    return new


def _pre_lines(fd: FileDiff) -> dict[int, str]:
    return {ln.source_line: ln.text for h in fd.hunks for ln in h.lines
            if ln.kind != ADDED and ln.source_line is not None}


def hunk_functions(fd: FileDiff, *, old: bool = False) -> dict[int, str]:
    """Line of the new (``old``: the old) side of ``fd``'s hunks -> the function its hunk's
    ``@@`` header names (hunks whose header names none are left out)."""
    out: dict[int, str] = {}
    for h in fd.hunks:
        name = function_in_section(h.section)
        if name is not None:
            start, length = ((h.source_start, h.source_length) if old
                             else (h.target_start, h.target_length))
            out.update(dict.fromkeys(range(start, start + length), name))
    return out


def hunk_pre_image(fd: FileDiff) -> tuple[str, dict[int, str]]:
    """The old lines ``fd``'s hunks show, at their lines (every other line empty), and for
    each of them the function its hunk's ``@@`` header names (when it does)."""
    known = _pre_lines(fd)
    top = max(known, default=0)
    text = "".join(f"{known.get(n, '')}\n" for n in range(1, top + 1))
    return text, hunk_functions(fd, old=True)


_UNREAD = object()


class PostImages:
    """``after(i, path)`` / ``before(i, path)``: the file after / before patch ``i`` (0-based
    position in ``series.patches``); None when the file does not exist there (or is binary)."""

    def __init__(self, series: Series, tree: Tree | None) -> None:
        self.series = series
        self.tree = tree
        self.problems: list[InputProblem] = []
        patches = series.patches
        self._git = bool(series.repo) and bool(patches) and all(p.commit for p in patches)
        self._staged = bool(series.repo) and series.staged
        self._revs: dict[str, GitTree] = {}
        self._read_ahead = False  # _read_all done (git series)
        self._after: list[dict[str, _Image | None]] | None = None
        self._before: list[dict[str, _Image | None]] | None = None
        # Text made from an image once: rules ask for the same post-image many times, and a
        # 9,000-line file took 3 ms to join each time. Keyed by the image object (kept alive
        # here) and the path it is read under.
        self._texts: dict[tuple[int, str], tuple[_Image, SourceFile]] = {}

    # -- git and staged input: read, never apply
    def _rev(self, rev: str | None) -> GitTree:
        key = rev or ":index"
        if key not in self._revs:
            assert self.series.repo is not None
            self._revs[key] = GitTree(self.series.repo, rev)
        return self._revs[key]

    def _read(self, rev: str | None, path: str) -> SourceFile | None:
        if not self._read_ahead:
            self._read_ahead = True
            self._read_all()
        text = self._rev(rev).read_text(path)
        return None if text is None else SourceFile(path, text, False)

    def _read_all(self) -> None:
        """Every file each commit of a git series touches, before and after it and after the
        last commit, read with one git process (rules ask for them one by one, a process
        each)."""
        from reviewbot.patch.tree import read_across

        if self._staged:
            return
        wanted: list[tuple[GitTree, str]] = []
        for index, patch in enumerate(self.series.patches):
            before = self._rev(self.series.patches[index - 1].commit if index
                               else self._base_rev())
            after = self._rev(patch.commit)
            for fd in patch.files:
                if fd.is_binary:
                    continue
                if fd.source_path is not None and not fd.is_new:
                    wanted.append((before, fd.source_path))
                if fd.target_path is not None and not fd.is_deleted:
                    wanted.append((after, fd.target_path))
        # and each of them as the series leaves it (what the series-wide rules read)
        last = self._rev(self.series.patches[-1].commit)
        wanted.extend((last, path) for _, path in list(wanted))
        read_across(wanted)

    def _base_rev(self) -> str:
        first = self.series.patches[0].commit
        return self.series.base or f"{first}^"

    # -- applied or rebuilt
    def _initial(self, path: str) -> _Image | object | None:
        if self.tree is None:
            return _UNREAD
        text = self.tree.read_text(path)
        return None if text is None else _Image.whole(text)

    def _run(self) -> None:
        state: dict[str, _Image | object | None] = {}
        self._after, self._before = [], []
        for index, patch in enumerate(self.series.patches):
            after: dict[str, _Image | None] = {}
            before: dict[str, _Image | None] = {}
            for fd in patch.files:
                src = fd.source_path
                if src is None:
                    pre: _Image | object | None = None
                else:
                    if src not in state:
                        state[src] = self._initial(src)
                    pre = state[src]
                if pre is None and src is not None and fd.hunks and self.tree is not None:
                    self._problem(index, fd, "not in the tree; using the hunks only")
                pre_img = self._pre_image(pre, fd)
                before[fd.path] = pre_img
                post = self._post_image(pre_img, fd, index)
                if fd.is_rename and src is not None and src != fd.path:
                    state[src] = None
                    after[src] = None
                if fd.target_path is not None:
                    state[fd.target_path] = post
                    after[fd.target_path] = post
                elif src is not None:
                    state[src] = None
                    after[src] = None
            self._after.append(after)
            self._before.append(before)

    @staticmethod
    def _pre_image(pre: _Image | object | None, fd: FileDiff) -> _Image | None:
        if isinstance(pre, _Image):
            return pre
        if fd.source_path is None:
            return None
        if pre is None and not fd.hunks:
            return None
        return _Image(_pre_lines(fd), complete=False)

    def _post_image(self, pre: _Image | None, fd: FileDiff, index: int) -> _Image | None:
        if fd.is_deleted or fd.is_binary:
            return None
        if pre is None:
            lines = apply_whole([], fd)
            return _Image(dict(enumerate(lines, start=1)), True, len(lines))
        if not fd.hunks:
            return pre
        if pre.complete:
            try:
                lines = apply_whole(pre.as_list(), fd)
            except ApplyError as exc:
                self._problem(index, fd, f"{exc} on the tree's file; using the hunks only")
                known = apply_sparse(_pre_lines(fd), fd)
                return _Image(known, complete=False)
            return _Image(dict(enumerate(lines, start=1)), True, len(lines))
        return _Image(apply_sparse(pre.known, fd), complete=False)

    def _problem(self, index: int, fd: FileDiff, message: str) -> None:
        origin = self.series.patches[index].mail.origin or f"patch {index + 1}"
        self.problems.append(InputProblem(origin, f"{fd.path}: {message}"))

    def _lookup(self, table: list[dict[str, _Image | None]], index: int, path: str,
                ) -> tuple[bool, _Image | None]:
        if path in table[index]:
            return True, table[index][path]
        return False, None

    def applied_problems(self) -> list[InputProblem]:
        """What went wrong applying the series in memory (files missing from the tree, hunks
        that do not apply); git and staged input are read, never applied, so have none."""
        if not (self._git or self._staged) and self._after is None:
            self._run()
        return list(self.problems)

    def after(self, index: int, path: str) -> SourceFile | None:
        if not 0 <= index < len(self.series.patches):
            raise IndexError(index)
        if self._staged:
            return self._read(None, path)
        if self._git:
            return self._read(self.series.patches[index].commit, path)
        if self._after is None:
            self._run()
        assert self._after is not None
        for i in range(index, -1, -1):
            hit, img = self._lookup(self._after, i, path)
            if hit:
                return None if img is None else self._text(img, path)
        return self._from_tree(path)

    def before(self, index: int, path: str) -> SourceFile | None:
        """The file as patch ``index`` finds it (its old path when the patch renames it)."""
        if not 0 <= index < len(self.series.patches):
            raise IndexError(index)
        patch = self.series.patches[index]
        old_path = path
        created = False
        for fd in patch.files:
            if fd.path == path and fd.source_path is not None:
                old_path = fd.source_path
            if fd.path == path and fd.is_new:
                created = True
        if created and (self._staged or self._git):
            return None  # git's own diff says the file is new: nothing to read before it
        if self._staged:
            return self._read("HEAD", old_path)
        if self._git:
            rev = self.series.patches[index - 1].commit if index else self._base_rev()
            return self._read(rev, old_path)
        if self._before is None:
            self._run()
        assert self._before is not None
        hit, img = self._lookup(self._before, index, path)
        if hit:
            return None if img is None else self._text(img, old_path)
        return self.after(index - 1, path) if index else self._from_tree(path)

    def _text(self, img: _Image, path: str) -> SourceFile:
        key = (id(img), path)
        hit = self._texts.get(key)
        if hit is None:
            hit = self._texts[key] = (img, img.source(path))
        return hit[1]

    def _from_tree(self, path: str) -> SourceFile | None:
        if self.tree is None:
            return None
        text = self.tree.read_text(path)
        return None if text is None else SourceFile(path, text, False)

    def sections(self, index: int, path: str) -> dict[int, str]:
        """For a post-image rebuilt from hunks: post-image line -> the function patch
        ``index``'s hunk names in its ``@@ ... @@`` section header (empty for whole images,
        for hunks without a function header, and for lines of earlier patches)."""
        src = self.after(index, path)
        if src is None or not src.partial:
            return {}
        out: dict[int, str] = {}
        for fd in self.series.patches[index].files:
            if fd.path == path:
                out.update(hunk_functions(fd))
        return out

    def touched(self, index: int) -> tuple[str, ...]:
        """Paths patch ``index`` leaves in the tree (new and modified; not deleted)."""
        return tuple(fd.path for fd in self.series.patches[index].files if not fd.is_deleted)
