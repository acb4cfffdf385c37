"""QEMU's MAINTAINERS file: sections and which of them a file or a patch belongs to.

The format is described at the top of the file itself. A section is a title line followed
by ``X: value`` lines; the ones that decide membership are

- ``F:`` a path pattern: ``*`` and ``?`` are wildcards, a trailing ``/`` takes everything
  below a directory, otherwise the pattern matches only at the same directory depth
  (``hw/net/*`` is the files in hw/net, not below it);
- ``X:`` the same kind of pattern, excluding files; exclusions are tested first;
- ``N:`` a regular expression tried against the file's path;
- ``K:`` a regular expression tried against the content of the patch (QEMU uses it on
  the Subject line: ``K: ^Subject:.*(?i)trivial``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache

_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")  # an entry's tag: "F: hw/net/"
_INLINE_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")


@dataclass(frozen=True)
class Section:
    title: str
    line: int  # 1-based line of the title in MAINTAINERS
    status: str = ""
    maintainers: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    regexes: tuple[str, ...] = ()  # N:
    keywords: tuple[str, ...] = ()  # K:

    @property
    def catch_all(self) -> bool:
        """A section such as "All patches CC here" that claims every file."""
        return any(p in ("*", "*/") for p in self.files)

    def matches_file(self, path: str, is_dir: Callable[[str], bool] | None = None) -> bool:
        if any(_pattern_matches(p, path) for p in self.excludes):
            return False
        if any(_pattern_matches(p, path) for p in self.files):
            return True
        if is_dir is not None and any(_dir_matches(raw, path, is_dir) for raw in self.files):
            return True
        return any(r.search(path) for r in _regexes(self.regexes))

    def matches_content(self, text: str) -> bool:
        return any(k.search(text) for k in _regexes(self.keywords))


# A MAINTAINERS file has some 2,000 patterns and a patch asks about a few paths: patterns are
# turned into regexes only when a path starts with their literal part, once per process.
def _literal_end(pattern: str) -> int:
    """Where an F:/X: pattern's literal start ends: at its first wildcard, else its end."""
    cut = len(pattern)
    for wildcard in "*?[":
        at = pattern.find(wildcard, 0, cut)
        if at >= 0:
            cut = at
    return cut


def _pieces(pattern: str) -> list[str]:
    """A pattern's pieces: one character each, but ``[hc]`` (a character class) whole."""
    return re.findall(r"\[[^\]/]+\]|.", pattern)


@cache
def _glob(pattern: str) -> tuple[str, bool, int, bool]:
    """An F:/X: pattern as (its literal start, is-directory, slash count, has wildcards)."""
    cut = _literal_end(pattern)
    return pattern[:cut], pattern.endswith("/"), pattern.count("/"), cut < len(pattern)


@cache
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """An F:/X: pattern with wildcards as a regex anchored at the start."""
    parts = []
    for piece in _pieces(pattern):
        if piece == "*":
            parts.append(".*")
        elif piece == "?":
            parts.append(".")
        elif len(piece) > 1:  # [hc]: a character class, as get_maintainer.pl leaves it
            parts.append(piece)
        else:
            parts.append(re.escape(piece))
    try:
        return re.compile("^" + "".join(parts))
    except re.error:
        return re.compile("^" + re.escape(pattern))


@cache
def _literals(pattern: str) -> tuple[str, ...]:
    """The runs of plain characters of a pattern with wildcards, in order (what any path it
    matches holds, in that order): ``hw/*/*sifive*`` -> ("hw/", "/", "sifive")."""
    runs: list[str] = []
    run = ""
    for piece in _pieces(pattern):
        if piece in ("*", "?") or len(piece) > 1:
            if run:
                runs.append(run)
            run = ""
        else:
            run += piece
    if run:
        runs.append(run)
    return tuple(runs)


def _in_order(runs: tuple[str, ...], path: str) -> bool:
    at = 0
    for run in runs:
        at = path.find(run, at)
        if at < 0:
            return False
        at += len(run)
    return True


def _pattern_matches(pattern: str, path: str) -> bool:
    prefix, is_dir, slashes, wild = _glob(pattern)
    # the regex starts with the literal part, so a path without it cannot match; nor one
    # without its other plain runs in order (``hw/*/*sifive*`` on hw/char/escc.c): most
    # patterns tried are ruled out before their regex is made
    if not path.startswith(prefix):
        return False
    if wild and (not _in_order(_literals(pattern), path)
                 or _glob_regex(pattern).match(path) is None):
        return False
    return is_dir or path.count("/") == slashes


def _dir_matches(raw: str, path: str, is_dir: Callable[[str], bool]) -> bool:
    """``F: hw/net`` names a directory without the slash; only the tree can tell."""
    if raw.endswith("/") or "*" in raw or "?" in raw:
        return False
    return path.startswith(raw + "/") and is_dir(raw)


def _regexes(texts: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [r for r in map(_regex, texts) if r is not None]


@cache
def _regex(text: str) -> re.Pattern[str] | None:
    """A Perl-style pattern; inline flags in the middle (``.*(?i)x``) become scoped groups."""
    pieces = _INLINE_FLAGS.split(text)
    if len(pieces) > 1 and not text.startswith("(?"):
        rebuilt = pieces[0]
        for i in range(1, len(pieces), 2):
            rebuilt += f"(?{pieces[i]}:{pieces[i + 1]})"
        text = rebuilt
    try:
        return re.compile(text, re.MULTILINE)
    except re.error:
        return None


_DEPTH = 3  # directories of a path that pick the sections to try (include/hw/char/)


@dataclass(frozen=True)
class Maintainers:
    sections: tuple[Section, ...]
    origin: str = "MAINTAINERS"

    @cached_property
    def _candidates(self) -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
        """Which sections can claim a path, by the path's first ``_DEPTH`` directories, and
        the sections tried for every path. A section claims a path only through an F:
        pattern whose literal start (the part before any wildcard) begins the path, a
        directory F: (which begins it too), or an N: regex. A literal start is filed under
        its first ``_DEPTH`` whole directories, or as many as it has ("hw/char/" for
        ``hw/char/escc*``, "hw/" for ``hw/ch*`` and ``hw/net`` without the slash,
        "include/hw/char/" for ``include/hw/char/*``); sections with N: or K:
        entries, or a literal start without a "/" (``*``, ``docs``, ``hw*``), are tried for
        every path. QEMU files some 400 sections under hw/ alone."""
        buckets: dict[str, list[int]] = {}
        always: list[int] = []
        for i, s in enumerate(self.sections):
            keys = set()
            loose = bool(s.regexes or s.keywords)
            for pattern in s.files:
                # the literal start's whole directories
                cut = _literal_end(pattern)
                whole = pattern.split("/", _DEPTH)
                if len(whole) > 1 and len(pattern) - len(whole[-1]) <= cut:
                    keys.add("/".join(whole[:-1]) + "/")  # _DEPTH directories, all literal
                    continue
                end = pattern.rfind("/", 0, cut)
                if end < 0:
                    loose = True
                    break
                keys.add(pattern[:end + 1])
            if loose:
                always.append(i)
                continue
            for key in keys:
                buckets.setdefault(key, []).append(i)
        return {k: tuple(v) for k, v in buckets.items()}, tuple(always)

    def _maybe(self, paths: Iterable[str]) -> list[Section]:
        """The sections that can claim any of ``paths`` (a superset), in file order."""
        buckets, always = self._candidates
        found = set(always)
        for p in paths:
            parts = p.split("/", _DEPTH)
            for depth in range(1, len(parts)):
                found.update(buckets.get("/".join(parts[:depth]) + "/", ()))
        return [self.sections[i] for i in sorted(found)]

    def sections_for_file(self, path: str, *, is_dir: Callable[[str], bool] | None = None,
                          include_catch_all: bool = False) -> tuple[Section, ...]:
        return tuple(s for s in self._maybe([path])
                     if (include_catch_all or not s.catch_all) and s.matches_file(path, is_dir))

    def sections_for_patch(self, paths: Iterable[str], content: str = "", *,
                           is_dir: Callable[[str], bool] | None = None,
                           include_catch_all: bool = False) -> tuple[Section, ...]:
        """Sections any of ``paths`` belongs to, or whose K: matches ``content``; in file order."""
        paths = list(paths)
        out = []
        for s in self._maybe(paths):
            if s.catch_all and not include_catch_all:
                continue
            if any(s.matches_file(p, is_dir) for p in paths) or (
                    content and s.matches_content(content)):
                out.append(s)
        return tuple(out)

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)


def parse_maintainers(text: str, origin: str = "MAINTAINERS") -> Maintainers:
    """Every section of a MAINTAINERS file; the descriptive preamble is skipped."""
    sections: list[Section] = []
    title: str | None = None
    title_line = 0
    values: dict[str, list[str]] = {}
    pending_title: tuple[str, int] | None = None
    for no, raw in enumerate(text.splitlines(), start=1):
        if len(raw) > 1 and raw[1] == ":" and raw[0] in _LETTERS:
            # an entry, "X: value" (tested on the raw line before anything else: nearly
            # every line of the file is one)
            if title is None:
                if pending_title is None:
                    continue  # an entry with no title above it: the preamble's examples
                title, title_line = pending_title
            value = raw[2:].strip()
            got = values.get(raw[0])
            if got is None:
                values[raw[0]] = [value]
            else:
                got.append(value)
            continue
        line = raw.strip()
        if line and (raw[:1].isspace() or set(line) <= {"-", "="}):
            continue
        if title is not None and values:
            sections.append(_section(title, title_line, values))
        title, values = None, {}
        pending_title = (line, no) if line else None
    if title is not None and values:
        sections.append(_section(title, title_line, values))
    return Maintainers(tuple(sections), origin)


@lru_cache(maxsize=4)
def parse_maintainers_cached(text: str) -> Maintainers:
    """parse_maintainers, once per text: every patch of a series asks for the same file."""
    return parse_maintainers(text)


def _section(title: str, line: int, values: dict[str, list[str]]) -> Section:
    files = tuple(values.get("F", ()))
    excludes = tuple(values.get("X", ()))
    regexes = tuple(values.get("N", ()))
    keywords = tuple(values.get("K", ()))
    return Section(
        title=title, line=line, status=(values.get("S") or [""])[0],
        maintainers=tuple(values.get("M", ())), reviewers=tuple(values.get("R", ())),
        lists=tuple(values.get("L", ())), files=files, excludes=excludes,
        regexes=regexes, keywords=keywords,
    )
