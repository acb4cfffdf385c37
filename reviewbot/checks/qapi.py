"""QAPI schema documentation: ``Since:`` releases, and new option members documented twice.

Both primitives read only lines the series adds to the schema (``qapi/*.json`` by default),
and the post-images around them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from reviewbot.rules.registry import primitive
from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from reviewbot.context import PatchContext, SeriesContext
    from reviewbot.finding import Finding
    from reviewbot.patch.diff import FileDiff
    from reviewbot.qemu.releases import Target
    from reviewbot.rules.model import Rule

SCHEMA_PATHS = ("qapi/*.json", "qga/qapi-schema.json", "storage-daemon/qapi/*.json")

# "# Since: 10.1" (a doc section) and "(since 10.1)" / "(default: x, since 10.1)" (a member)
_SINCE = re.compile(
    r"(?:^\s*#\s*Since:?\s+|[(,;]\s*since:?\s+)(?P<ver>\d+\.\d+)(?:\.\d+)?(?=\s*(?:\)|$|\.|,))",
    re.IGNORECASE)
_DEFINITION = re.compile(
    r"""^\{\s*['"](?P<kind>struct|union|enum|command|event|alternate)['"]\s*:\s*"""
    r"""['"](?P<name>[\w-]+)['"]""")
_MEMBER = re.compile(r"""^\s+['"](?P<opt>\*?)(?P<name>[a-zA-Z][\w-]*)['"]\s*:""")
_NOT_MEMBERS = frozenset({"data", "base", "if", "features", "type", "struct", "union", "enum",
                          "command", "event", "alternate", "returns", "boxed", "gen",
                          "allow-oob", "allow-preconfig", "coroutine", "discriminator",
                          "prefix", "success-response", "all", "any", "not"})


def _schema_file(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def _patterns(rule: Rule) -> tuple[str, ...]:
    raw = rule.params.get("paths", SCHEMA_PATHS)
    return tuple(str(p) for p in raw)


def series_date(ctx: Any) -> Any:
    """When the series was sent (or committed): the earliest date among its mails."""
    series = ctx.series
    dates = [m.date for m in (series.cover, *(p.mail for p in series.patches))
             if m is not None and m.date is not None]
    return min(dates) if dates else None


def target_release(ctx: Any) -> Target | None:
    """--qemu-version, else the tree's VERSION, else the series' date on the calendar; the
    date too when the tree is older or newer than the series (its hunks do not apply there,
    and its date places it in another release than the tree leads to)."""
    from reviewbot.qemu.releases import over_stale_tree, target_for

    tree = getattr(ctx, "tree", None)
    version = tree.version() if tree is not None else None
    date = series_date(ctx)
    target = target_for(version_file=version, option=ctx.options.qemu_version, date=date)
    if target is None or ctx.options.qemu_version or not version or not version.strip():
        return target
    why = _tree_mismatch(ctx)
    if why is None:
        return target
    return over_stale_tree(target, version, date, why) or target


def _tree_mismatch(ctx: Any) -> str | None:
    """How the series fails to apply to the tree (the first problem), or None."""
    parent = getattr(ctx, "parent", ctx)
    images = getattr(parent, "post_images", None)
    if images is None:
        return None
    problems = images.applied_problems()
    if not problems:
        return None
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    return f"{problems[0].message}{more}"


def _moved_text(ctx: PatchContext) -> set[str]:
    """Lines this patch removes anywhere: re-added, they are moved, not new."""
    return {" ".join(ln.text.split()) for fd in ctx.patch.files for h in fd.hunks
            for ln in h.removed}


@primitive("qapi-since", scope="patch", params=["paths"])
def qapi_since(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """A ``Since:``/``(since X.Y)`` added to the schema that names another release than the
    one the change will first appear in."""
    patterns = _patterns(rule)
    files = [fd for fd in ctx.patch.files
             if not fd.is_deleted and not fd.is_rename and _schema_file(fd.path, patterns)]
    if not files:
        return
    from reviewbot.qemu.releases import parse_release

    target = target_release(ctx)
    if target is None:
        return
    moved = _moved_text(ctx)
    accepted = ", ".join(str(r) for r in target.releases)
    for fd in files:
        for hunk in fd.hunks:
            for ln in hunk.added:
                m = _SINCE.search(ln.text)
                if m is None or " ".join(ln.text.split()) in moved:
                    continue
                named = parse_release(m.group("ver"))
                if named is None or named in target.releases:
                    continue
                if ln.target_line is None or documents_existing(ctx, fd, ln.target_line):
                    continue  # a Since added to the doc of something older (a doc fix)
                yield rule.finding(
                    ctx, path=fd.path, line=ln.target_line, code=ln.text,
                    anchor=ln.text.strip(), named=m.group("ver"), expected=str(target.expected),
                    basis=target.basis,
                    evidence=[f"{fd.path}:{ln.target_line}: {ln.text.strip()}",
                              f"release derived from {target.basis}; accepted: {accepted}"])


_MEMBER_DOC = re.compile(r"^#\s*@(?P<name>[\w-]+)\s*:")


def _documented_thing(lines: dict[int, str], line: int) -> tuple[str, str] | None:
    """What the doc line ``line`` belongs to: ("definition", name) for a ``Since:`` section,
    ("member", name) for a line of a ``# @name:`` paragraph; None when that is not visible."""
    text = lines.get(line, "")
    if re.match(r"^#\s*Since\b", text, re.IGNORECASE):
        after = line + 1
        while lines.get(after, "").startswith("#"):
            after += 1
        found = _DEFINITION.match(lines.get(after, ""))
        return ("definition", found.group("name")) if found else None
    no = line
    while no > 0:
        text = lines.get(no, "")
        m = _MEMBER_DOC.match(text)
        if m is not None:
            return "member", m.group("name")
        if not text.startswith("#") or text.strip() == "#" or text.startswith("##"):
            return None
        no -= 1
    return None


def documents_existing(ctx: PatchContext, fd: FileDiff, line: int) -> bool:
    """Does the ``Since`` on post-image ``line`` document a member or definition that this
    patch does not add?"""
    thing = _documented_thing(_lines_of(ctx, fd), line)
    if thing is None:
        return False
    kind, name = thing
    added = [ln.text for h in fd.hunks for ln in h.added]
    removed = [ln.text for h in fd.hunks for ln in h.removed]
    if kind == "definition":
        new = any((m := _DEFINITION.match(t)) and m.group("name") == name for t in added)
        return not new
    word = re.compile(r"""['"]\*?""" + re.escape(name) + r"""['"]""")
    return not (any(word.search(t) for t in added if not t.lstrip().startswith("#"))
                and not any(word.search(t) for t in removed if not t.lstrip().startswith("#")))


# ---------------------------------------------------------------------------------------------
# New members of option-backing structs

@frozen
class NewMember:
    position: int  # patch position in the series
    path: str
    line: int
    text: str
    struct: str
    name: str


def _lines_of(ctx: PatchContext, fd: FileDiff) -> dict[int, str]:
    """Post-image lines by number: the whole file when known, else what the hunks show."""
    src = ctx.source(fd.path)
    known: dict[int, str] = {}
    if src is not None:
        known = {n: t for n, t in enumerate(src.lines, start=1) if t}
    for h in fd.hunks:
        for ln in h.lines:
            if ln.target_line is not None:
                known.setdefault(ln.target_line, ln.text)
    return known


def _enclosing_definition(lines: dict[int, str], line: int) -> tuple[str, str, int] | None:
    for no in range(line, 0, -1):
        text = lines.get(no)
        if text is None:
            continue
        m = _DEFINITION.match(text)
        if m is not None:
            return m.group("kind"), m.group("name"), no
        if no != line and text.startswith("##"):
            return None  # reached the doc comment of a definition not shown above
    return None


def _doc_block(lines: dict[int, str], def_line: int) -> list[str]:
    out = []
    no = def_line - 1
    while no > 0 and lines.get(no, "").startswith("#"):
        out.append(lines[no])
        no -= 1
    return out


def new_members(ctx: PatchContext, structs: Iterable[str],
                patterns: Sequence[str] = SCHEMA_PATHS) -> list[NewMember]:
    """Members this patch adds to any of ``structs``."""
    wanted = set(structs)
    out: list[NewMember] = []
    for fd in ctx.patch.files:
        if fd.is_deleted or not _schema_file(fd.path, patterns):
            continue
        lines: dict[int, str] | None = None
        removed_names = {m.group("name") for h in fd.hunks for ln in h.removed
                         if (m := _MEMBER.match(ln.text))}
        for h in fd.hunks:
            for ln in h.added:
                m = _MEMBER.match(ln.text)
                if m is None or ln.target_line is None or m.group("name") in _NOT_MEMBERS:
                    continue
                if m.group("name") in removed_names:
                    continue  # an existing member whose line was edited
                if lines is None:
                    lines = _lines_of(ctx, fd)
                found = _enclosing_definition(lines, ln.target_line)
                if found is None or found[0] != "struct" or found[1] not in wanted:
                    continue
                out.append(NewMember(ctx.position, fd.path, ln.target_line, ln.text, found[1],
                                     m.group("name")))
    return out


def _word(name: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])" + re.escape(name) + r"(?![\w-])")


def _documented_in_schema(ctx: PatchContext, member: NewMember) -> bool:
    fd = next(f for f in ctx.patch.files if f.path == member.path)
    lines = _lines_of(ctx, fd)
    found = _enclosing_definition(lines, member.line)
    doc = _doc_block(lines, found[2]) if found else []
    tag = re.compile(r"^#\s*@" + re.escape(member.name) + r"\s*:")
    if any(tag.match(t) for t in doc):
        return True
    # The doc block may be outside what the hunks show: accept the tag added anywhere in the
    # same file by the series.
    return any(tag.match(ln.text) for p in ctx.parent.patch_contexts for f in p.patch.files
               if f.path == member.path for h in f.hunks for ln in h.added)


@primitive("qapi-option-member-doc", scope="series", required=["structs"],
           params=["hx", "paths"])
def qapi_option_member_doc(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """A new member of a struct behind a command-line option, not documented both in its
    QAPI doc comment and in qemu-options.hx by the same series."""
    structs: dict[str, str] = {str(k): str(v) for k, v in dict(rule.params["structs"]).items()}
    hx = str(rule.params.get("hx", "qemu-options.hx"))
    patterns = _patterns(rule)
    hx_added = [ln.text for p in ctx.patch_contexts for f in p.patch.files if f.path == hx
                for h in f.hunks for ln in h.added]
    for pctx in ctx.patch_contexts:
        for member in new_members(pctx, structs, patterns):
            missing = []
            if not _documented_in_schema(pctx, member):
                missing.append(f"the QAPI doc comment of {member.struct} (# @{member.name}:)")
            if not any(_word(member.name).search(t) for t in hx_added):
                missing.append(f"{hx} ({structs[member.struct]})")
            if not missing:
                continue
            yield rule.finding(
                pctx, path=member.path, line=member.line, code=member.text,
                anchor=f"{member.struct}.{member.name}", member=member.name,
                struct=member.struct, option=structs[member.struct],
                missing=" and ".join(missing),
                evidence=[f"{member.path}:{member.line}: {member.text.strip()}",
                          *(f"not documented in {m}" for m in missing)])
