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
    # A mechanical change (a move, a licence header, refreshed references) is its own patch
    # next to any other concern: reviewers check it by eye, the rest by thought.
    mechanical: bool = False


CONCERNS = {c.key: c for c in (
    Concern("move", "file move/rename", -3, mechanical=True),
    Concern("licence", "licence header", -2, mechanical=True),
    Concern("refs", "comment-only reference update", -1, mechanical=True),
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


# A spec or document reference: "r3.1", "rev 3.2", "Table 7-17", "Section 8.2.9.6.1", "3.1.2"
_REFERENCE = re.compile(
    r"(?i)\b(?:r|rev(?:ision)?\.?\s*|v)\d+(?:[.\-]\d+)*\b|"
    r"(?:\b(?:table|section|sect?\.|figure|fig\.|chapter|appendix)\s*|§\s*)[A-Z]?\d+(?:[.\-]\d+)*|"
    r"\b\d+(?:\.\d+)+\b|\b\d+-\d+\b")
_LICENCE = re.compile(r"SPDX-License-Identifier|\bCopyright\b|General Public License|"
                      r"\bLicen[cs]ed under\b|free software", re.IGNORECASE)
_C_LIKE = re.compile(r"\.(c|h|inc|rs|S)$")


def _is_comment_line(text: str, path: str) -> bool:
    stripped = text.strip()
    if stripped.startswith(("/*", "*", "//")) or "/*" in text or "//" in text:
        return True
    return stripped.startswith("#") and not _C_LIKE.search(path)


def reference_updates(fd: FileDiff) -> list[tuple[str, str]]:
    """(old, new) changed line pairs that differ only in the spec references of a comment
    ("CXL r3.1 Table 8-45" -> "CXL r3.2 Table 8-57")."""
    pairs: list[tuple[str, str]] = []
    for hunk in fd.hunks:
        removed: list[str] = []
        added: list[str] = []
        for ln in (*hunk.lines, None):
            kind = ln.kind if ln is not None else " "
            if kind == "-" and not added:
                removed.append(ln.text if ln is not None else "")
                continue
            if kind == "+":
                added.append(ln.text if ln is not None else "")
                continue
            if removed and len(removed) == len(added):
                for old, new in zip(removed, added, strict=True):
                    if (old != new and _is_comment_line(old, fd.path)
                            and _is_comment_line(new, fd.path)
                            and _REFERENCE.search(old) and _REFERENCE.sub("<ref>", old)
                            == _REFERENCE.sub("<ref>", new)):
                        pairs.append((old, new))
            removed, added = [], []
            if kind == "-":
                removed.append(ln.text if ln is not None else "")
    return pairs


def licence_lines(fd: FileDiff) -> list[str]:
    """Lines of licence header comments added to an existing file."""
    if fd.is_new:
        return []
    out: list[str] = []
    for hunk in fd.hunks:
        run: list[str] = []
        for ln in (*hunk.lines, None):
            if ln is not None and ln.kind == "+":
                run.append(ln.text)
                continue
            if (run and any(_LICENCE.search(t) for t in run)
                    and all(not t.strip() or _is_comment_line(t, fd.path) for t in run)):
                out.extend(run)
            run = []
    return out


def _changed_text(fd: FileDiff, skip: frozenset[str] = frozenset()) -> str:
    return "\n".join(ln.text for h in fd.hunks for ln in h.lines
                     if ln.kind in "+-" and ln.text not in skip)


def _moved_concerns(fd: FileDiff, old_lines: Sequence[str]) -> tuple[str, ...]:
    """A file deleted and added again elsewhere in one patch: what its new copy adds."""
    old = set(old_lines)
    new_only = [ln.text for h in fd.hunks for ln in h.lines
                if ln.kind == "+" and ln.text not in old and ln.text.strip()]
    found = ["move"]
    if any(_LICENCE.search(t) and _is_comment_line(t, fd.path) for t in new_only):
        found.append("licence")
    code = "\n".join(t for t in new_only if not _is_comment_line(t, fd.path))
    if code:
        found.extend(k for k, rx in (("e820", _E820_TEXT), ("acpi", _ACPI_TEXT))
                     if rx.search(code))
        if len(found) == 1 or found[-1] == "licence":
            found.append("code")
    return tuple(found)


def file_concerns(fd: FileDiff, min_reference_updates: int = 3,
                  moved_from: Sequence[str] | None = None) -> tuple[str, ...]:
    """Path rules (and, for edits of existing code, what the changed lines call); a rename,
    an added licence header and a run of comment-only reference updates are named apart
    from the rest of the file's change, which is judged without them. ``moved_from``: the
    lines of the file this one replaces, when the patch moved it without git seeing a
    rename."""
    path = fd.path
    if path == "MAINTAINERS":
        return ("maintainers",)
    if _ATTACHED.match(path) or _BUILD_GLUE.search(path):
        return ()
    if moved_from is not None:
        return _moved_concerns(fd, moved_from)
    mechanical: list[str] = []
    if fd.is_rename:
        mechanical.append("move")
    licence = licence_lines(fd)
    if licence:
        mechanical.append("licence")
    refs = reference_updates(fd)
    if len(refs) >= min_reference_updates:
        mechanical.append("refs")
    else:
        refs = []
    skip = frozenset(licence) | frozenset(t for pair in refs for t in pair)
    if mechanical:
        rest = [ln for h in fd.hunks for ln in h.lines if ln.kind in "+-"
                and ln.text not in skip and ln.text.strip()]
        if not rest:
            return tuple(mechanical)
        return (*mechanical, *_content_concerns(fd, skip))
    return _content_concerns(fd, skip)


def _content_concerns(fd: FileDiff, skip: frozenset[str]) -> tuple[str, ...]:
    path = fd.path
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
    text = _changed_text(fd, skip)
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


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _moved_files(patch: Patch) -> dict[str, list[str]]:
    """New files named like a file the same patch deletes (a move git did not show as a
    rename, changed too much or sent without -M), with the deleted file's lines."""
    gone = {_base(fd.path): [ln.text for h in fd.hunks for ln in h.lines if ln.kind == "-"]
            for fd in patch.files if fd.is_deleted}
    return {fd.path: gone[_base(fd.path)] for fd in patch.files
            if fd.is_new and _base(fd.path) in gone}


def split_plan(patch: Patch, maintainers: Maintainers | None = None,
               is_dir: Any = None,
               min_reference_updates: int = 3) -> list[tuple[Concern, list[str], list[str]]]:
    """(concern, files, MAINTAINERS sections) for each concern the patch touches, in split order."""
    files: dict[str, list[str]] = {}
    glue: list[str] = []
    moved = _moved_files(patch)
    moved_names = {_base(p) for p in moved}
    for fd in patch.files:
        if _BUILD_GLUE.search(fd.path):
            glue.append(fd.path)
        if fd.is_deleted and _base(fd.path) in moved_names:
            continue  # the other half of a move
        for key in file_concerns(fd, min_reference_updates, moved.get(fd.path)):
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


@primitive("split-patch", scope="patch", params=["min_concerns", "min_reference_updates"])
def split_patch(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """One patch that mixes several separable concerns (new device, QAPI, E820, ACPI...),
    or a mechanical change (move, licence header, refreshed references) with anything else."""
    minimum = int(rule.params.get("min_concerns", 3))
    min_refs = int(rule.params.get("min_reference_updates", 3))
    maintainers = _tree_maintainers(ctx)
    plan = split_plan(ctx.patch, maintainers, _is_dir_in(ctx), min_refs)
    counted = [c for c, _, _ in plan if c.counted]
    mechanical = any(c.mechanical for c in counted) and len(counted) >= 2
    if len(counted) < minimum and not mechanical:
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


@cache
def _changelog() -> re.Pattern[str]:
    """Lines that announce a changelog: the regex of rules/series/series-changelog-missing.yaml
    (the rule is a language rule; this reads its pattern for the tests and for callers)."""
    from reviewbot.rules.cache import load_yaml
    from reviewbot.rules.loader import builtin_rules_dir

    path = builtin_rules_dir() / "series" / "series-changelog-missing.yaml"
    return re.compile(load_yaml(path)["lines"]["regex"])


def has_changelog(text: str) -> bool:
    return _changelog().search(text) is not None


def _ref(patch: Patch, series: Series) -> PatchRef:
    index = patch.subject.counter or (series.patches.index(patch) + 1)
    return PatchRef(index=index, subject=patch.subject.raw or patch.subject.title,
                    message_id=patch.mail.message_id)


def _cover_ref(cover: Mail) -> PatchRef:
    return PatchRef(index=0, subject=cover.subject.raw or cover.subject.title,
                    message_id=cover.message_id)


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


def author_signs(author: Person, t: Trailer) -> bool:
    person = trailer_person(t)
    if person is None:
        return False
    if author.email and _norm_email(person.email) == _norm_email(author.email):
        return True
    return not author.email and bool(author.name) and \
        same_name(person.name, author.name)


def same_name_other_address(author: Person, t: Trailer) -> bool:
    """The author's name with another address (a personal From:, a work Signed-off-by).
    Stricter than ``same_name``: one shared word ("Ada") is not a person across addresses."""
    person = trailer_person(t)
    if person is None or not author.email or not author.name or not person.name:
        return False
    ta, tb = set(name_tokens(person.name)), set(name_tokens(author.name))
    return same_name(person.name, author.name) and (ta == tb or min(len(ta), len(tb)) >= 2)


# git's own trailers: a paragraph holding one counts as a trailer block when at least a
# quarter of its lines are trailers (trailer.c, find_trailer_block_start).
_GIT_PREFIXES = ("Signed-off-by: ", "(cherry picked from commit ")
_SOB_LINE = re.compile(r"^[ \t]*Signed-off-by[ \t]*:[ \t]*\S", re.IGNORECASE)
_GIT_TRAILER = re.compile(r"^[A-Za-z0-9-]+[ \t]*:")


def git_trailer_block(lines: Sequence[str]) -> tuple[int, int] | None:
    """[start, end) of the lines `git interpret-trailers` reads as the trailer block of a
    commit message body (the title already removed), or None when it finds none."""
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    trailers = non_trailers = continuations = 0
    recognised = False
    for i in range(end - 1, -2, -1):
        line = lines[i] if i >= 0 else ""  # the blank line after the title
        if line.startswith("#"):
            continue
        if not line.strip():
            non_trailers += continuations
            if (recognised and trailers * 3 >= non_trailers) or (trailers and not non_trailers):
                return (i + 1, end)
            return None
        if line.startswith(_GIT_PREFIXES):
            trailers += 1
            continuations = 0
            recognised = True
        elif _GIT_TRAILER.match(line):
            trailers += 1
            continuations = 0
        elif line[:1].isspace():
            continuations += 1
        else:
            non_trailers += 1 + continuations
            continuations = 0
    return None


def _is_text(line: str) -> bool:
    """A line of prose: not blank, not a ``Key: value`` trailer, not a continuation."""
    text = line.strip()
    return bool(text) and not line[:1].isspace() and not _GIT_TRAILER.match(line) \
        and not (text.startswith("[") and text.endswith("]"))  # a "[ note ]" between trailers


@frozen
class MisplacedSob:
    line: str  # the Signed-off-by line as written
    why: str  # what keeps it out of the trailer block
    evidence: tuple[str, ...]


def misplaced_sob(patch: Patch) -> MisplacedSob | None:
    """A Signed-off-by line that is written but not in the trailer block closing the commit
    message: run into the body text, followed by more text, or below the ``---`` line."""
    lines = patch.commit_message.split("\n")
    where = [i for i, ln in enumerate(lines) if _SOB_LINE.match(ln)]
    if not where:
        notes = [ln for ln in patch.notes.split("\n") if _SOB_LINE.match(ln)]
        if not notes:
            return None
        return MisplacedSob(notes[0].strip(), "it is below the '---' line, which `git am` "
                            "drops with the rest of the notes",
                            (notes[0].strip(), "below: ---"))
    i = where[-1]
    sob = lines[i].strip()
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and lines[start - 1].strip():
        start -= 1
    git_block = git_trailer_block(lines)
    git_sees = git_block is not None and git_block[0] <= i < git_block[1]
    if i < start:
        after = next((ln.strip() for ln in lines[i + 1:end] if _is_text(ln)),
                     lines[start].strip())
        return MisplacedSob(sob, "another paragraph follows it, and git interpret-trailers "
                            "and b4 read only the last paragraph, so they do not see it",
                            (sob, f"followed by: {after}"))
    before = [ln.strip() for ln in lines[start:i] if _is_text(ln)]
    after_lines = [ln.strip() for ln in lines[i + 1:end] if _is_text(ln)]
    evidence = [sob]
    if before:
        why = "no blank line separates it from the body text above it"
        evidence.insert(0, f"body text right above: {before[-1]}")
    elif after_lines:
        why = "text follows it in the same paragraph"
        evidence.append(f"followed by: {after_lines[0]}")
    else:
        why = "its paragraph holds lines that are not trailers"
    if git_sees:
        why += ("; git interpret-trailers takes that text into the trailer block, and b4 "
                "folds it back into the commit message")
    else:
        why += ", so git interpret-trailers does not see it as a trailer"
    return MisplacedSob(sob, why, tuple(evidence))


@primitive("misplaced-sign-off", scope="patch")
def misplaced_sign_off(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """A patch whose only Signed-off-by is written where git does not read trailers. The
    other Signed-off-by rules (missing, author, address, name) are language rules over
    ``lines: {in: trailers}`` (reviewbot/checks/lang.py); this one needs git's trailer-block
    reading (``git_trailer_block``)."""
    patch = ctx.patch
    if not patch.files and not patch.diff_text.strip():
        return  # not a patch (a stray mail in the thread)
    if not has_message(patch, ctx.series):
        return  # nothing committed yet: the Signed-off-by comes with `git commit -s`
    if _sobs(patch):
        return
    wrong = misplaced_sob(patch)
    if wrong is not None:
        yield rule.finding(ctx, why=wrong.why, anchor=wrong.line, evidence=wrong.evidence)


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
