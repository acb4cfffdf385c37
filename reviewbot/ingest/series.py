"""Decoded mails -> one Series: patches, cover letter, version, replies, reply trailers.

- A mail with a diff is a patch; ``[PATCH 0/N]`` without a diff is the cover letter; a
  ``Re:``/``RE:`` mail, or any other mail answering one of them, is a reply.
- Several versions in one mbox: the newest is taken unless a version is asked for.
- A reply is attached to the patch it answers, following In-Reply-To then References
  (nearest first) through other replies; replies to the cover letter, and those whose
  target is not in the input, stay on the series. Reviewer trailers in a reply go to the
  patch it answers; those answering the cover letter go to every patch, as b4 does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone

from reviewbot.errors import InputError
from reviewbot.ingest.body import split_body
from reviewbot.ingest.mail import parse_people
from reviewbot.ingest.subject import parse_subject
from reviewbot.ingest.trailers import reply_trailers, split_trailers
from reviewbot.model import InputProblem, Mail, Patch, Series, Trailer
from reviewbot.patch.diff import parse_diff
from reviewbot.util.frozen import frozen


@frozen
class Part:
    """A mail and what it is, before the series is put together."""

    mail: Mail
    patch: Patch | None = None


def make_patch(mail: Mail, *, commit: str | None = None) -> tuple[Patch | None, list[InputProblem]]:
    """Split a mail into a Patch. None when the mail carries no diff."""
    problems: list[InputProblem] = []
    body = split_body(mail.body)
    if body.diff_index < 0:
        return None, problems
    for key, value in body.in_body:
        if key == "From":
            people = parse_people(value)
            if people and people[0].email:
                mail = replace(mail, author=people[0])
        elif key == "Subject":
            mail = replace(mail, subject=parse_subject(value))
    message, trailers = split_trailers(body.message)
    origin = mail.origin or mail.message_id
    files = parse_diff(body.diff, origin)
    for fd in files:
        for hunk in fd.hunks:
            if hunk.truncated:
                problems.append(InputProblem(
                    origin, f"{fd.path}: hunk at diff line {hunk.diff_line} ends early "
                    f"(mail truncated?); the rest of the file's change is unknown"))
    if not files:
        problems.append(InputProblem(origin, "the diff has no file in it"))
    return Patch(
        mail=mail, commit_message=message, notes=body.notes, trailers=trailers,
        diff_text=body.diff, files=files, diff_line=body.diff_index + 1, commit=commit,
    ), problems


def _when(mail: Mail) -> datetime:
    if mail.date is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    if mail.date.tzinfo is None:
        return mail.date.replace(tzinfo=timezone.utc)
    return mail.date


def assemble(
    mails: Sequence[Mail],
    *,
    source: str,
    series_version: int | None = None,
    problems: Sequence[InputProblem] = (),
    repo: str | None = None,
    base: str | None = None,
    staged: bool = False,
    commits: dict[str, str] | None = None,
) -> Series:
    """Put decoded mails together into the series they carry.

    ``commits`` maps message-id -> git commit id for mails made from a repository.
    Raises InputError when no patch is left.
    """
    all_problems = list(problems)
    patches: list[Patch] = []
    covers: list[Mail] = []
    replies: list[Mail] = []
    for mail in mails:
        if mail.subject.is_reply:
            replies.append(mail)
            continue
        if mail.subject.is_patch and mail.subject.counter == 0:
            covers.append(mail)  # even when it carries an interdiff
            continue
        patch, found = make_patch(mail, commit=(commits or {}).get(mail.message_id))
        all_problems.extend(found)
        if patch is not None:
            patches.append(patch)
        elif mail.subject.is_patch and mail.subject.counter is not None:
            all_problems.append(InputProblem(
                mail.origin, f"patch {mail.subject.counter}/{mail.subject.total} "
                f"({mail.subject.title!r}) has no diff"))
        elif mail.subject.is_patch and mail.in_reply_to is None:
            covers.append(mail)  # "[PATCH v2] intro" without 0/N, answering nothing
        else:
            replies.append(mail)

    versions = sorted({p.subject.version for p in patches})
    if not patches:
        what = (f"{len(mails)} mail(s), none with a diff" if mails
                else "no readable mail")
        first_problem = all_problems[0] if all_problems else None
        detail = (f"; {first_problem.origin}: {first_problem.message}"
                  if first_problem is not None else "")
        raise InputError(f"{source}: no patch found ({what}){detail}")
    if series_version is None:
        version = versions[-1]
    elif series_version in versions:
        version = series_version
    else:
        have = ", ".join(f"v{v}" for v in versions)
        raise InputError(f"{source}: no v{series_version} of the series here (has {have})")

    chosen = _dedupe([p for p in patches if p.subject.version == version], all_problems)
    chosen.sort(key=lambda p: (p.subject.counter is None, p.subject.counter or 0))
    cover_candidates = [c for c in covers if c.subject.version == version]
    cover = max(cover_candidates, key=_when) if cover_candidates else None

    by_id = {m.message_id: m for m in mails}
    targets: dict[str, int] = {p.mail.message_id: i for i, p in enumerate(chosen)}
    cover_id = cover.message_id if cover is not None else None
    other_ids = {m.message_id for m in mails} - set(targets) - {cover_id} - {
        r.message_id for r in replies}
    patch_replies: list[list[Mail]] = [[] for _ in chosen]
    series_replies: list[Mail] = []
    for reply in sorted(replies, key=_when):
        target = _target(reply, by_id=by_id, targets=targets, cover_id=cover_id,
                         other_ids=other_ids, chosen=chosen)
        if target == "other":
            continue  # answers another version of the series
        if isinstance(target, int):
            patch_replies[target].append(reply)
        else:
            series_replies.append(reply)

    cover_trailers: list[Trailer] = []
    for reply in series_replies:
        if cover_id is not None and _answers(reply, cover_id, by_id):
            cover_trailers.extend(reply_trailers(reply.body, reply.message_id))
    final: list[Patch] = []
    for patch, answers in zip(chosen, patch_replies, strict=True):
        extra = [t for r in answers for t in reply_trailers(r.body, r.message_id)]
        final.append(replace(
            patch, replies=tuple(answers),
            trailers=patch.trailers + tuple(extra) + tuple(cover_trailers),
        ))

    every_file = [f for p in final for f in p.files]
    if every_file and all(f.is_binary for f in every_file):
        names = ", ".join(sorted({f.path for f in every_file}))
        raise InputError(f"{source}: only binary changes ({names}); no text diff to review")
    if base is None:
        base = _base_commit([cover, *(p.mail for p in final)])
    first = final[0].subject
    return Series(
        patches=tuple(final), cover=cover, replies=tuple(series_replies), version=version,
        rfc=(cover.subject.rfc if cover else first.rfc),
        resend=(cover.subject.resend if cover else first.resend),
        source=source, repo=repo, base=base, staged=staged,
        versions_available=tuple(versions), problems=tuple(all_problems),
        all_mails=tuple(mails),
    )


_BASE_COMMIT = re.compile(r"^base-commit: ([0-9a-f]{7,64})\s*$", re.MULTILINE)


def _base_commit(mails: Sequence[Mail | None]) -> str | None:
    """``base-commit:`` as `git format-patch --base` and b4 write it (cover or last patch)."""
    for mail in mails:
        m = _BASE_COMMIT.search(mail.body) if mail is not None else None
        if m:
            return m.group(1)
    return None


def _dedupe(patches: list[Patch], problems: list[InputProblem]) -> list[Patch]:
    """Two mails for the same n/N (a RESEND next to the original): keep the later one."""
    keep: dict[int, Patch] = {}
    loose: list[Patch] = []
    for patch in patches:
        n = patch.subject.counter
        if n is None:
            loose.append(patch)
            continue
        old = keep.get(n)
        if old is None or _when(patch.mail) >= _when(old.mail):
            if old is not None:
                problems.append(InputProblem(
                    old.mail.origin, f"patch {n} appears twice; took the later "
                    f"{patch.mail.message_id}"))
            keep[n] = patch
        else:
            problems.append(InputProblem(
                patch.mail.origin, f"patch {n} appears twice; took the later "
                f"{old.mail.message_id}"))
    return [*keep.values(), *loose]


def _parents(mail: Mail) -> list[str]:
    ids: list[str] = []
    if mail.in_reply_to:
        ids.append(mail.in_reply_to)
    ids.extend(r for r in reversed(mail.references) if r not in ids)
    return ids


def _target(
    reply: Mail, *, by_id: dict[str, Mail], targets: dict[str, int], cover_id: str | None,
    other_ids: set[str], chosen: list[Patch],
) -> int | str | None:
    """Index of the patch a reply (transitively) answers, "cover", "other" (another
    version's mail), or None when nothing it answers is here."""
    seen: set[str] = set()
    queue = _parents(reply)
    while queue:
        mid = queue.pop(0)
        if mid in seen:
            continue
        seen.add(mid)
        if mid in targets:
            return targets[mid]
        if mid == cover_id:
            return "cover"
        if mid in other_ids:
            return "other"
        parent = by_id.get(mid)
        if parent is not None:
            queue = _parents(parent) + queue
    # Nothing it answers is in the input: fall back to the subject it answers.
    for i, patch in enumerate(chosen):
        s = patch.subject
        if (reply.subject.title == s.title and reply.subject.counter == s.counter
                and reply.subject.version == s.version):
            return i
    return None


def _answers(reply: Mail, target: str, by_id: dict[str, Mail]) -> bool:
    seen: set[str] = set()
    queue = _parents(reply)
    while queue:
        mid = queue.pop(0)
        if mid == target:
            return True
        if mid in seen:
            continue
        seen.add(mid)
        parent = by_id.get(mid)
        if parent is not None:
            queue = _parents(parent) + queue
    return False
