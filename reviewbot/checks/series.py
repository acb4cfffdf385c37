"""Series hygiene: how the patches are cut, numbered, described and signed.

These primitives read mails and diffstats only, never C facts. Mail-level findings carry
no path/line; their ``anchor`` is the text they are about (the subject, the trailer line)
so that a reader, and the example runner, can find the place in the mail.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from reviewbot.finding import Finding, PatchRef
from reviewbot.rules.registry import primitive
from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from reviewbot.context import PatchContext, SeriesContext
    from reviewbot.model import Mail, Patch, Person, Series, Trailer
    from reviewbot.patch.diff import FileDiff
    from reviewbot.qemu.maintainers import Maintainers
    from reviewbot.rules.model import Rule


# ---------------------------------------------------------------------------------------------
# Split the patch: what separate concerns does one patch mix?

@frozen
class Concern:
    key: str
    label: str
    rank: int  # place in the proposed split: boilerplate first, its users after
    counted: bool = True  # MAINTAINERS has its own rule; it is named but not counted


CONCERNS = {c.key: c for c in (
    Concern("device", "new device model (new files and their build glue)", 1),
    Concern("qapi", "QAPI schema / command-line interface", 2),
    Concern("code", "changes to existing code", 3),
    Concern("e820", "E820 memory map", 4),
    Concern("acpi", "ACPI table generation", 5),
    Concern("maintainers", "MAINTAINERS entry", 6, counted=False),
)}

_BUILD_GLUE = re.compile(r"(^|/)(meson\.build|Kconfig|meson_options\.txt)$|^configs/")
_ATTACHED = re.compile(r"^(tests|docs)/")  # tests and docs travel with what they test/describe
_QAPI_PATH = re.compile(r"^(qapi/.*\.json|qga/qapi-schema\.json|qemu-options\.hx)$")
_E820_PATH = re.compile(r"e820", re.IGNORECASE)
_ACPI_PATH = re.compile(r"(^|/)(acpi|[^/]*acpi[^/]*\.[ch]$)|aml-build", re.IGNORECASE)
_CODE_SUFFIX = re.compile(r"\.(c|h|inc|py|rs|S|json|hx|sh)$")
_E820_TEXT = re.compile(r"\be820_(add_entry|get_table|table)\b|\bE820_[A-Z_]+\b")
_ACPI_TEXT = re.compile(
    r"\b(aml_[a-z_]+|build_srat\w*|build_append_int_noprefix|acpi_table_begin|"
    r"acpi_table_end|build_[a-z]+_table|acpi_build\w*)\s*\(")


def _changed_text(fd: FileDiff) -> str:
    return "\n".join(ln.text for h in fd.hunks for ln in h.lines if ln.kind in "+-")


def file_concerns(fd: FileDiff) -> tuple[str, ...]:
    """Path rules (and, for edits of existing code, what the changed lines call)."""
    path = fd.path
    if path == "MAINTAINERS":
        return ("maintainers",)
    if _ATTACHED.match(path) or _BUILD_GLUE.search(path):
        return ()
    if _QAPI_PATH.match(path):
        return ("qapi",)
    if _E820_PATH.search(path.rsplit("/", 1)[-1]):
        return ("e820",)
    if _ACPI_PATH.search(path):
        return ("acpi",)
    if fd.is_new and re.match(r"^(hw|include/hw)/.*\.[ch]$", path):
        return ("device",)
    if not _CODE_SUFFIX.search(path):
        return ()
    text = _changed_text(fd)
    found = tuple(k for k, rx in (("e820", _E820_TEXT), ("acpi", _ACPI_TEXT)) if rx.search(text))
    return found or ("code",)


def _tree_maintainers(ctx: Any) -> Maintainers | None:
    tree = getattr(ctx, "tree", None)
    if tree is None:
        return None
    reader = getattr(tree, "maintainers_text", None)
    text = reader() if callable(reader) else None
    if not text:
        return None
    from reviewbot.qemu.maintainers import parse_maintainers_cached

    return parse_maintainers_cached(text)


def _is_dir_in(ctx: Any) -> Any:
    """Directory test for MAINTAINERS ``F:`` entries, in the tree the series applies to (a
    repository at the series' base revision, not its work tree)."""
    tree = getattr(ctx, "tree", None)
    return tree.is_dir if tree is not None else None


def split_plan(patch: Patch, maintainers: Maintainers | None = None,
               is_dir: Any = None) -> list[tuple[Concern, list[str], list[str]]]:
    """(concern, files, MAINTAINERS sections) for each concern the patch touches, in split order."""
    files: dict[str, list[str]] = {}
    glue: list[str] = []
    for fd in patch.files:
        if _BUILD_GLUE.search(fd.path):
            glue.append(fd.path)
        for key in file_concerns(fd):
            files.setdefault(key, []).append(fd.path)
    if "device" in files:
        files["device"].extend(glue)  # meson.build/Kconfig lines belong with the new files
    plan = []
    for key, paths in sorted(files.items(), key=lambda kv: CONCERNS[kv[0]].rank):
        sections: list[str] = []
        if maintainers is not None:
            sections = [s.title for s in maintainers.sections_for_patch(paths, is_dir=is_dir)]
        plan.append((CONCERNS[key], paths, sections))
    return plan


@primitive("split-patch", scope="patch", params=["min_concerns"])
def split_patch(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """One patch that mixes several separable concerns (new device, QAPI, E820, ACPI...)."""
    minimum = int(rule.params.get("min_concerns", 3))
    maintainers = _tree_maintainers(ctx)
    plan = split_plan(ctx.patch, maintainers, _is_dir_in(ctx))
    counted = [c for c, _, _ in plan if c.counted]
    if len(counted) < minimum:
        return
    evidence = []
    for concern, paths, sections in plan:
        where = f" [MAINTAINERS: {', '.join(sections)}]" if sections else ""
        evidence.append(f"{concern.label}: {', '.join(paths)}{where}")
    all_sections = sorted({s for _, _, secs in plan for s in secs})
    if all_sections:
        evidence.append(f"spans MAINTAINERS sections: {', '.join(all_sections)}")
    order = "; ".join(f"{i}. {c.label}" for i, (c, _, _) in enumerate(plan, start=1))
    yield rule.finding(ctx, count=len(counted), concerns=", ".join(c.label for c in counted),
                       order=order, evidence=evidence,
                       anchor="split:" + ",".join(c.key for c in counted))


# ---------------------------------------------------------------------------------------------
# Cover letter, changelog, numbering

def _from_git(series: Series) -> bool:
    return series.repo is not None or any(p.commit for p in series.patches)


def _known_ids(series: Series) -> set[str]:
    ids = {p.mail.message_id for p in series.patches}
    if series.cover is not None:
        ids.add(series.cover.message_id)
    return ids


def _threaded_under_missing_mail(series: Series) -> bool:
    """Do patches reply to a mail we do not have (a cover letter not in the input)?"""
    known = _known_ids(series)
    return any(p.mail.in_reply_to and p.mail.in_reply_to not in known for p in series.patches)


def _first_patch(series: Series) -> Patch | None:
    return next((p for p in series.patches if p.subject.counter == 1), None)


def _total(series: Series) -> int:
    totals = [p.subject.total for p in series.patches if p.subject.total]
    return _majority(totals) or len(series.patches)


def _complete(series: Series) -> bool:
    """Every patch n/N of the series is in the input."""
    total = _total(series)
    have = {p.subject.counter or 1 for p in series.patches}
    return have >= set(range(1, total + 1))


@primitive("cover-letter-missing", scope="series")
def cover_letter_missing(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """A posted multi-patch series without a 0/N cover letter."""
    series = ctx.series
    # One patch on its own (git send-email's validate hook sees one file at a time) says
    # nothing about the cover letter beside it.
    if (series.cover is not None or _from_git(series) or _total(series) < 2
            or len(series.patches) < 2):
        return
    first = _first_patch(series)
    # Without patch 1 we cannot tell whether a cover was sent; patch 1 replying to some
    # other mail means the thread has a head we were not given.
    if first is None or first.mail.in_reply_to or _threaded_under_missing_mail(series):
        return
    yield rule.finding(None, patch=_ref(first, series), count=_total(series),
                       anchor=first.subject.raw, evidence=[f"Subject: {first.subject.raw}"])


_CHANGELOG = r"""(?imx)
    ^[\s*>-]*(?:
        (?:changes?|changelog|change\ log|revision\ history|differences?)\b.*
            (?:\bv\d+|since|from|from\ last|in\ this\ version|to\ previous)
      | (?:changes?|changelog)\s*:?\s*$
      | \[?v\d+\]?\s*(?:->|→|-->|\.\.|\bto\b)\s*\[?v?\d+\]?
      | \[?v\d+\]?\s*:
      | since\s+v\d+
      | v\d+\s+(?:changes|updates)
      | (?:rfc\s+)?v\d+\s*$
    )"""


@cache
def _changelog() -> re.Pattern[str]:
    """Lines that announce a changelog; compiled on first use (a v1 series never asks)."""
    return re.compile(_CHANGELOG)


def has_changelog(text: str) -> bool:
    return _changelog().search(text) is not None


def _ref(patch: Patch, series: Series) -> PatchRef:
    index = patch.subject.counter or (series.patches.index(patch) + 1)
    return PatchRef(index=index, subject=patch.subject.raw or patch.subject.title,
                    message_id=patch.mail.message_id)


def _cover_ref(cover: Mail) -> PatchRef:
    return PatchRef(index=0, subject=cover.subject.raw or cover.subject.title,
                    message_id=cover.message_id)


@primitive("changelog-missing", scope="series")
def changelog_missing(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """A vN (N > 1) series that does not say what changed since the previous version."""
    series = ctx.series
    version = series.version
    if version < 2 or _from_git(series):
        return
    texts = [p.notes for p in series.patches] + [p.commit_message for p in series.patches]
    if series.cover is not None:
        texts.append(series.cover.body)
    if any(has_changelog(t) for t in texts if t):
        return
    if series.cover is not None:
        yield rule.finding(None, patch=_cover_ref(series.cover), version=version,
                           previous=version - 1, anchor=series.cover.subject.raw,
                           evidence=[f"Subject: {series.cover.subject.raw}"])
        return
    first = _first_patch(series) if _total(series) > 1 else (
        series.patches[0] if series.patches else None)
    if first is None or not _complete(series) or first.mail.in_reply_to \
            or _threaded_under_missing_mail(series):
        return  # a partial thread: the changelog may be in the mails we were not given
    yield rule.finding(None, patch=_ref(first, series), version=version, previous=version - 1,
                       anchor=first.subject.raw, evidence=[f"Subject: {first.subject.raw}"])


@primitive("numbering", scope="series")
def numbering(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """Version and n/N counters that disagree across the mails of one series."""
    series = ctx.series
    if _from_git(series):
        return
    mails: list[tuple[Mail, PatchRef]] = [(p.mail, _ref(p, series)) for p in series.patches]
    if series.cover is not None:
        mails.insert(0, (series.cover, _cover_ref(series.cover)))
    versions = [m.subject.version for m, _ in mails]
    expected_version = series.version or _majority(versions)
    totals = [m.subject.total for m, _ in mails if m.subject.total]
    expected_total = series.cover.subject.total if (
        series.cover is not None and series.cover.subject.total) else _majority(totals)
    seen: dict[int, str] = {}
    for mail, ref in mails:
        subj = mail.subject
        problems = []
        if subj.version != expected_version:
            problems.append(f"v{subj.version} in a v{expected_version} series")
        if subj.total and expected_total and subj.total != expected_total:
            problems.append(f"counts {subj.total} patches where the series has {expected_total}")
        if subj.counter is not None and subj.total and subj.counter > subj.total:
            problems.append(f"number {subj.counter} is above its total {subj.total}")
        if subj.counter is not None and mail is not series.cover:
            if subj.counter in seen and seen[subj.counter] != mail.message_id:
                problems.append(f"number {subj.counter} is used by two patches")
            seen.setdefault(subj.counter, mail.message_id)
        if problems:
            yield rule.finding(None, patch=ref, problem="; ".join(problems), anchor=subj.raw,
                               evidence=[f"Subject: {subj.raw}"])
    # Ingest keeps one version; a patch sent with another version's tags in reply to this
    # cover letter is left out of series.patches but is still part of this posting.
    if series.cover is not None:
        chosen = {m.message_id for m, _ in mails}
        for mail in series.all_mails:
            subj = mail.subject
            if (mail.message_id in chosen or subj.is_reply or not subj.is_patch
                    or subj.version == expected_version
                    or series.cover.message_id not in (mail.in_reply_to, *mail.references)):
                continue
            ref = PatchRef(index=subj.counter or 0, subject=subj.raw, message_id=mail.message_id)
            yield rule.finding(None, patch=ref, anchor=subj.raw,
                               problem=f"v{subj.version} in reply to the v{expected_version} "
                               "cover letter", evidence=[f"Subject: {subj.raw}"])


def _majority(values: Sequence[int]) -> int:
    if not values:
        return 0
    return max(sorted(set(values)), key=values.count)


# ---------------------------------------------------------------------------------------------
# Signed-off-by

_VIA = re.compile(r"\s+via\s+\S.*$", re.IGNORECASE)
_LIST_ADDRESS = re.compile(r"@(nongnu\.org|lists\.|vger\.kernel\.org)", re.IGNORECASE)


def _norm_email(email: str) -> str:
    return email.strip().strip("<>").lower()


def name_tokens(name: str) -> tuple[str, ...]:
    """A name compared without case, accents, punctuation or word order."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    words = re.findall(r"\w+", text.casefold())
    return tuple(sorted(words))


def same_name(a: str, b: str) -> bool:
    """The same person's name, allowing a dropped middle name or initial ("Michael S.
    Tsirkin" / "Michael Tsirkin")."""
    ta, tb = set(name_tokens(a)), set(name_tokens(b))
    return bool(ta and tb) and (ta <= tb or tb <= ta)


def real_author(patch: Patch) -> Person:
    """The author with list rewriting undone ("Name via Qemu-devel <list>" -> Name)."""
    from reviewbot.model import Person

    author = patch.mail.author
    name = _VIA.sub("", author.name or "").strip().strip('"')
    email = "" if _LIST_ADDRESS.search(author.email or "") else author.email
    return Person(name=name, email=email)


def _sobs(patch: Patch) -> list[Trailer]:
    return [t for t in patch.trailers if t.key.lower() == "signed-off-by" and t.from_reply is None]


def _sob_line(t: Trailer) -> str:
    return f"Signed-off-by: {t.value}"


_NAME_ADDR = re.compile(r"^\s*\"?(.*?)\"?\s*<([^<>@\s]+@[^<>\s]+)>")


def trailer_person(t: Trailer) -> Person | None:
    """The trailer's person; "Last, First <addr>" is read here when ingest left it unparsed."""
    if t.person is not None:
        return t.person
    m = _NAME_ADDR.match(t.value)
    if m is None:
        return None
    from reviewbot.model import Person

    return Person(name=m.group(1).strip(), email=m.group(2))


def _matches(author: Person, t: Trailer) -> bool:
    person = trailer_person(t)
    if person is None:
        return False
    if author.email and _norm_email(person.email) == _norm_email(author.email):
        return True
    return not author.email and bool(author.name) and \
        same_name(person.name, author.name)


@primitive("signed-off-by", scope="patch", required=["problem"])
def signed_off_by(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """Signed-off-by missing (problem: missing), none from the author (author), or the
    author's own with a different name (name)."""
    problem = rule.params["problem"]
    patch = ctx.patch
    if not patch.files and not patch.diff_text.strip():
        return  # not a patch (a stray mail in the thread)
    if not has_message(patch, ctx.series):
        return  # nothing committed yet: the Signed-off-by comes with `git commit -s`
    sobs = _sobs(patch)
    author = real_author(patch)
    if problem == "missing":
        if not sobs:
            yield rule.finding(ctx, anchor=patch.subject.raw,
                               evidence=[f"Subject: {patch.subject.raw}"])
        return
    if not sobs or (not author.email and not author.name):
        return
    mine = [t for t in sobs if _matches(author, t)]
    if problem == "author" and not mine:
        yield rule.finding(ctx, author=str(author), anchor=f"From: {author}",
                           evidence=[f"From: {author}", *(_sob_line(t) for t in sobs)])
    elif problem == "name" and mine and author.name:
        names = [(t, trailer_person(t)) for t in mine]
        mismatched = [(t, p) for t, p in names if p is not None and p.name
                      and not same_name(p.name, author.name)]
        if mismatched and len(mismatched) == len(mine):
            t, person = mismatched[0]
            yield rule.finding(ctx, author=author.name, name=person.name,
                               anchor=_sob_line(t),
                               evidence=[f"From: {author}", _sob_line(t)])
    elif problem not in ("author", "name"):
        raise ValueError(f"signed-off-by: unknown problem {problem!r}")


# ---------------------------------------------------------------------------------------------
# Subjects (the subject and MAINTAINERS rules are language rules: reviewbot/checks/lang.py)

def has_message(patch: Patch, series: Series) -> bool:
    """Is there a real commit message / mail? A commit or a mail has one (even a
    format-patch file without a Message-Id); --staged and a bare diff, whose mail ingest
    makes up without a sender, do not."""
    if series.staged:
        return False
    if patch.commit is not None or not patch.mail.message_id.endswith("@synthetic"):
        return True
    return bool(patch.mail.sender.email or patch.mail.author.email)
