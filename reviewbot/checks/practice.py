"""QEMU contributor practice that needs more than a structural match (the qemu-practice pack).

Most qemu-practice rules are data (``match:``/``lines:`` in their YAML). What is here needs
its own analysis: pairing a removed and an added property definition, finding who calls a
new function anywhere in the series, reading MAINTAINERS, looking at how the mails of a
series are threaded, and following a QAPI member into the C that uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from reviewbot.checks.code import split_parameters
from reviewbot.context import C_SUFFIXES
from reviewbot.finding import Finding, PatchRef
from reviewbot.rules.registry import primitive

if TYPE_CHECKING:
    from reviewbot.context import PatchContext, SeriesContext
    from reviewbot.model import Mail, Patch, Series
    from reviewbot.patch.diff import FileDiff
    from reviewbot.qemu.maintainers import Maintainers
    from reviewbot.rules.model import Rule


def _ref(patch: Patch, series: Series) -> PatchRef:
    index = patch.subject.counter or (series.patches.index(patch) + 1)
    return PatchRef(index=index, subject=patch.subject.raw or patch.subject.title,
                    message_id=patch.mail.message_id)


def _added(fd: FileDiff) -> Iterator[tuple[int, str]]:
    for h in fd.hunks:
        for ln in h.lines:
            if ln.kind == "+" and ln.target_line is not None:
                yield ln.target_line, ln.text


def _removed(fd: FileDiff) -> Iterator[tuple[int, str]]:
    for h in fd.hunks:
        for ln in h.lines:
            if ln.kind == "-" and ln.source_line is not None:
                yield ln.source_line, ln.text


# ---------------------------------------------------------------------------------------------
# A property's default changed without a compat property for older machine types

# DEFINE_PROP_BOOL("name", State, field, default), DEFINE_PROP_UINT32(...), ... on one line.
_PROP = re.compile(r'\bDEFINE_PROP_(?P<kind>[A-Z0-9_]+)\s*\(\s*"(?P<name>[^"]+)"\s*,(?P<rest>.*)\)'
                   r"\s*,?\s*(/\*.*)?$")
# The kinds whose last argument is the default value.
_WITH_DEFAULT = re.compile(r"^(BOOL|U?INT(8|16|32|64)|SIZE(32)?|STRING|ON_OFF_AUTO|BIT(64)?|"
                           r"LINK|UUID|\w*_DEFAULT|\w+)$")


def _prop_defaults(lines: Iterable[tuple[int, str]]) -> dict[str, tuple[int, str, str]]:
    """name -> (line, kind, default as written) for the one-line DEFINE_PROP_* in ``lines``."""
    out: dict[str, tuple[int, str, str]] = {}
    for no, text in lines:
        m = _PROP.search(text)
        if m is None or not _WITH_DEFAULT.match(m.group("kind")):
            continue
        args = [a for a in split_parameters(m.group("rest")) if a]
        if len(args) < 2:
            continue
        out[m.group("name")] = (no, m.group("kind"), args[-1].strip())
    return out


@primitive("prop-default-changed", scope="series", params=["compat"])
def prop_default_changed(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """A DEFINE_PROP_* default changed while the series adds no compat property for it."""
    compat = re.compile(str(rule.params.get("compat", r"hw_compat_|pc_compat_|GlobalProperty")))
    series = ctx.series
    changed: list[tuple[Patch, str, int, str, str, str]] = []
    for patch in series.patches:
        for fd in patch.files:
            path = fd.path
            if not path.endswith(C_SUFFIXES):
                continue
            before = _prop_defaults(_removed(fd))
            if not before:
                continue  # no default removed here, none changed (a new file has none)
            for name, (line, kind, value) in _prop_defaults(_added(fd)).items():
                was = before.get(name)
                if was is not None and was[1] == kind and was[2] != value:
                    changed.append((patch, path, line, name, was[2], value))
    if not changed:
        return
    compat_text = [t for patch in series.patches for fd in patch.files
                   if fd.path.endswith(C_SUFFIXES) for _, t in _added(fd)
                   if not _PROP.search(t)]
    compat_lines = [t for t in compat_text if compat.search(t)]
    for patch, path, line, name, old, new in changed:
        quoted = f'"{name}"'
        if compat_lines or any(quoted in t for t in compat_text):
            continue
        yield rule.finding(None, patch=_ref(patch, series), path=path, line=line, prop=name,
                           old=old, new=new,
                           evidence=[f"{path}:{line}: default of \"{name}\" {old} -> {new}",
                                     "no hw_compat_*/pc_compat_* or GlobalProperty line is "
                                     "added anywhere in the series"])


# ---------------------------------------------------------------------------------------------
# A new non-static function that nothing in the series calls

# QMP/HMP handlers are called from code the build generates (qapi-commands, hmp-commands.hx)
_GENERATED_CALLERS = ("qmp_", "hmp_")
_WORD = re.compile(r"\b[A-Za-z_]\w*\b")
_TYPE_WORD = re.compile(r"[A-Za-z0-9_*]\s*$")
_NOT_TYPE = re.compile(r"\b(return|case|else|sizeof|do)\s*$")


def _uses(text: str, name: str, skip: tuple[int, int] | None) -> int:
    """Occurrences of ``name`` in ``text`` that are not its definition (lines in ``skip``)
    nor a prototype (a type right before the name and ``;`` after the parameter list)."""
    count = 0
    line, pos = 1, 0  # the line of ``pos``, counted on from the previous occurrence
    # ``name\b`` and the character before it checked here: the same matches as
    # ``\bname\b``, which the regex engine would try at every position of the text.
    # ``str.find`` and the characters around each hit checked here: the matches of
    # ``\bname\b`` without compiling a regex for every name.
    size = len(name)
    at = text.find(name)
    while at >= 0:
        start, end = at, at + size
        at = text.find(name, at + 1)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if before.isalnum() or before == "_" or after.isalnum() or after == "_":
            continue
        line += text.count("\n", pos, start)
        pos = start
        if skip is not None and skip[0] <= line <= skip[1]:
            continue
        head = text[max(0, start - 80):start]
        tail = text[end:end + 400]
        if _TYPE_WORD.search(head) and not _NOT_TYPE.search(head):
            paren = re.match(r"\s*\(", tail)
            if paren is not None and _closes_with_semicolon(tail):
                continue  # a prototype
        count += 1
    return count


def _closes_with_semicolon(tail: str) -> bool:
    depth = 0
    for i, ch in enumerate(tail):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                rest = tail[i + 1:]
                rest = re.sub(r"^\s*(G_GNUC_\w+(\([^)]*\))?|QEMU_\w+(\([^)]*\))?|"
                              r"__attribute__\s*\(\([^)]*\)\))\s*", "", rest)
                return rest.lstrip().startswith(";")
    return False


# An identifier followed by an opening parenthesis: a call, a definition or a prototype.
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


@primitive("unused-new-function", scope="series")
def unused_new_function(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """A non-static function the series adds and nothing in the series refers to."""
    pcs = ctx.patch_contexts
    if not pcs:
        return
    last = pcs[-1]
    new_funcs: list[tuple[PatchRef, str, str, int, int]] = []
    removed_names: set[str] = set()
    touched: set[str] = set()
    for pc in pcs:
        for fd in pc.patch.files:
            path = fd.path
            if not path.endswith(C_SUFFIXES):
                continue
            touched.add(path)
            removed_names.update(_removed_function_names(pc, fd))
            facts = pc.facts(path)
            if facts is None or facts.partial:
                continue
            pre = pc.pre_source(path)
            called_before = set(_CALLED.findall(pre.text)) if pre is not None else set()
            for fn in facts.functions:
                if fn.static or not pc.changed(path, fn.line):
                    continue
                if fn.name in called_before:
                    continue
                new_funcs.append((pc.ref, path, fn.name, fn.line, fn.end_line))
    if not new_funcs:
        return
    texts: dict[str, str] = {}
    where: dict[str, list[str]] = {}  # identifier -> files naming it, to search only those
    for path in sorted(touched):
        src = last.source(path)
        if src is not None:
            texts[path] = src.text
            for word in set(_WORD.findall(src.text)):
                where.setdefault(word, []).append(path)
    for ref, path, name, line, end in new_funcs:
        if name in removed_names or name == "main" or name.startswith(_GENERATED_CALLERS):
            continue
        uses = sum(_uses(texts[p], name, (line, end) if p == path else None)
                   for p in where.get(name, ()))
        if uses:
            continue
        yield rule.finding(None, patch=ref, path=path, line=line, function=name,
                           evidence=[f"{path}:{line}: {name}() is defined here",
                                     f"no call or reference in the {len(texts)} C file(s) the "
                                     "series touches (as they are after the last patch)"])


def _removed_function_names(pc: PatchContext, fd: FileDiff) -> set[str]:
    """Functions defined in the pre-image whose definition line this patch removes (moves)."""
    names: set[str] = set()
    removed = {no for no, _ in _removed(fd)}
    if not removed or fd.source_path is None:
        return names
    pre = pc.pre_source(fd.source_path)
    if pre is None:
        return names
    for no in removed:
        if 0 < no <= len(pre.lines):
            m = re.match(r"^[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*\(", pre.lines[no - 1])
            if m is not None:
                names.add(m.group(1))
    return names


# ---------------------------------------------------------------------------------------------
# MAINTAINERS people of the touched files not on Cc

_ADDR = re.compile(r"<([^>]+)>|(\S+@\S+)")


def _email_of(entry: str) -> str:
    m = _ADDR.search(entry)
    if m is None:
        return ""
    return (m.group(1) or m.group(2)).strip().lower()


def _maintainers_for(ctx: SeriesContext) -> Maintainers | None:
    """The tree's MAINTAINERS, else the series' own post-image of it when the series has the
    whole file (creates it)."""
    tree = ctx.tree
    reader = getattr(tree, "maintainers_text", None) if tree is not None else None
    text = reader() if callable(reader) else None
    if not text and ctx.patch_contexts:
        src = ctx.patch_contexts[-1].source("MAINTAINERS")
        if src is not None and not src.partial:
            text = src.text
    if not text:
        return None
    from reviewbot.qemu.maintainers import parse_maintainers_cached

    return parse_maintainers_cached(text)


def _recipients(*mails: Mail | None) -> set[str]:
    out: set[str] = set()
    for mail in mails:
        if mail is None:
            continue
        for person in (*mail.to, *mail.cc, mail.sender, mail.author):
            if person.email:
                out.add(person.email.lower())
    return out


@primitive("maintainers-not-cced", scope="series", params=["lists"])
def maintainers_not_cced(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """A posted patch that does not reach the maintainers and reviewers MAINTAINERS names for
    the files it touches."""
    series = ctx.series
    if series.repo is not None or any(p.commit for p in series.patches):
        return  # not mail: nobody was Cc'd yet
    maintainers = _maintainers_for(ctx)
    if maintainers is None:
        return
    with_lists = bool(rule.params.get("lists", False))
    cover_to = _recipients(series.cover)
    for patch in series.patches:
        paths = [fd.path for fd in patch.files if fd.path != "MAINTAINERS"]
        if not paths:
            continue
        sections = maintainers.sections_for_patch(paths)
        got = _recipients(patch.mail) | cover_to
        missing: list[str] = []
        titles: list[str] = []
        for sec in sections:
            people = [*sec.maintainers, *sec.reviewers]
            if with_lists:
                people += list(sec.lists)
            lacking = [p for p in people if _email_of(p) and _email_of(p) not in got
                       and p not in missing]
            if lacking:
                missing.extend(lacking)
                titles.append(sec.title)
        if not missing:
            continue
        yield rule.finding(None, patch=_ref(patch, series), missing=", ".join(missing),
                           sections=", ".join(titles), anchor=patch.subject.raw,
                           evidence=[f"MAINTAINERS: {t}" for t in titles]
                           + [f"not on To:/Cc:: {p}" for p in missing])


# ---------------------------------------------------------------------------------------------
# A new version posted inside the previous version's thread

@primitive("version-in-old-thread", scope="series")
def version_in_old_thread(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """A vN (N > 1) series whose head mail replies to another thread."""
    series = ctx.series
    if series.version < 2 or series.repo is not None or any(p.commit for p in series.patches):
        return
    head: Mail | None = series.cover
    ref: PatchRef | None = None
    if head is not None:
        ref = PatchRef(index=0, subject=head.subject.raw or head.subject.title,
                       message_id=head.message_id)
    else:
        first = next((p for p in series.patches if p.subject.counter in (None, 1)), None)
        if first is None or (first.subject.total or 1) > 1:
            return  # patch 1 of a series replies to its cover letter, which we were not given
        head, ref = first.mail, _ref(first, series)
    parent = head.in_reply_to or (head.references[-1] if head.references else None)
    if not parent:
        return
    yield rule.finding(None, patch=ref, version=series.version, parent=parent,
                       anchor=head.subject.raw,
                       evidence=[f"Subject: {head.subject.raw}", f"In-Reply-To: <{parent}>"])


# ---------------------------------------------------------------------------------------------
# A QAPI 'str' member that the C code only compares with fixed strings

_QAPI_STR_MEMBER = re.compile(r"""['"]\*?(?P<name>[a-z][a-z0-9-]*)['"]\s*:\s*['"]str['"]""")
_STR_COMPARE = re.compile(
    r"""(?:\b(?:g_str_equal|strcmp|g_strcmp0|strcasecmp|g_ascii_strcasecmp)\s*\(\s*"""
    r"""(?:[\w.>-]+(?:->|\.)){name}\s*,\s*"[^"]*"\s*\)"""
    r"""|\b(?:g_str_equal|strcmp|g_strcmp0|strcasecmp|g_ascii_strcasecmp)\s*\(\s*"[^"]*"\s*,"""
    r"""\s*(?:[\w.>-]+(?:->|\.)){name}\s*\))""")


@primitive("qapi-str-compared", scope="series")
def qapi_str_compared(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """A 'str' member added to a QAPI schema whose C uses, in the series, are all comparisons
    with string literals: the set of values is fixed, so it is an enum."""
    series = ctx.series
    members: list[tuple[Patch, str, int, str]] = []
    c_added: list[str] = []
    for patch in series.patches:
        for fd in patch.files:
            if fd.path.endswith(".json") and ("qapi" in fd.path or "qga" in fd.path):
                for no, text in _added(fd):
                    for m in _QAPI_STR_MEMBER.finditer(text):
                        members.append((patch, fd.path, no, m.group("name")))
            elif fd.path.endswith(C_SUFFIXES):
                c_added.extend(t for _, t in _added(fd))
    for patch, path, line, name in members:
        cname = name.replace("-", "_")
        uses = [t for t in c_added if re.search(rf"(->|\.){re.escape(cname)}\b", t)]
        if not uses:
            continue
        compare = re.compile(_STR_COMPARE.pattern.format(name=re.escape(cname)))
        literals = [t for t in uses if compare.search(t)]
        presence = re.compile(
            rf"\bhas_{re.escape(cname)}\b|(->|\.){re.escape(cname)}\s*\)?\s*(\)|&&|\|\||\?)"
            rf"|!\s*\w+(->|\.){re.escape(cname)}\b")
        others = [t for t in uses if not compare.search(t) and not presence.search(t)]
        if not literals or others:
            continue
        values = sorted(set(re.findall(r'"([^"]*)"', " ".join(literals))))
        yield rule.finding(None, patch=_ref(patch, series), path=path, line=line, member=name,
                           values=", ".join(f'"{v}"' for v in values),
                           evidence=[t.strip() for t in literals[:4]])
