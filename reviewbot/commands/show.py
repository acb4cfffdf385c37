"""``reviewbot show SOURCE``: print what reviewbot understood of a series."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from reviewbot.commands.common import add_source_arguments

if TYPE_CHECKING:
    from reviewbot.model import Mail, Patch, Person, Series, Subject, Trailer
    from reviewbot.patch.diff import FileDiff

HELP = "print what reviewbot understood of a series: cover, patches, trailers, files, replies"
JSON_FORMAT_VERSION = 1


def configure(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for people (default), json for a stable dump of the model")
    parser.add_argument("--bodies", action="store_true",
                        help="text format: also print the cover letter and commit messages")


def run(args: argparse.Namespace) -> int:
    from reviewbot.commands.common import load_series

    series = load_series(args)
    if args.format == "json":
        json.dump(series_as_dict(series), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        write_text(series, sys.stdout, bodies=args.bodies)
    return 0


# --- JSON --------------------------------------------------------------------------------

def _person(p: Person | None) -> dict[str, str] | None:
    return None if p is None else {"name": p.name, "email": p.email}


def _subject(s: Subject) -> dict[str, Any]:
    return {
        "raw": s.raw, "title": s.title, "tags": list(s.tags), "is_reply": s.is_reply,
        "is_patch": s.is_patch, "version": s.version, "counter": s.counter, "total": s.total,
        "rfc": s.rfc, "resend": s.resend,
    }


def _trailer(t: Trailer) -> dict[str, Any]:
    return {"key": t.key, "value": t.value, "person": _person(t.person),
            "from_reply": t.from_reply}


def _mail(m: Mail) -> dict[str, Any]:
    return {
        "message_id": m.message_id, "subject": _subject(m.subject),
        "sender": _person(m.sender), "author": _person(m.author),
        "date": m.date.isoformat() if m.date else None,
        "in_reply_to": m.in_reply_to, "references": list(m.references),
        "to": [_person(p) for p in m.to], "cc": [_person(p) for p in m.cc],
        "origin": m.origin, "body_offset": m.body_offset, "body": m.body,
    }


def _file(f: FileDiff) -> dict[str, Any]:
    return {
        "path": f.path, "source_path": f.source_path, "target_path": f.target_path,
        "new": f.is_new, "deleted": f.is_deleted, "rename": f.is_rename, "copy": f.is_copy,
        "binary": f.is_binary, "old_mode": f.old_mode, "new_mode": f.new_mode,
        "added": f.added_count, "removed": f.removed_count, "hunks": len(f.hunks),
        "truncated": f.truncated, "diff_line": f.diff_line,
    }


def _patch(p: Patch) -> dict[str, Any]:
    return {
        "mail": _mail(p.mail), "commit": p.commit, "commit_message": p.commit_message,
        "notes": p.notes, "trailers": [_trailer(t) for t in p.trailers],
        "files": [_file(f) for f in p.files], "diff_line": p.diff_line,
        "mail_diff_line": p.mail_diff_line, "diff": p.diff_text,
        "replies": [_mail(r) for r in p.replies],
    }


def series_as_dict(series: Series) -> dict[str, Any]:
    """The model as plain JSON-able data; keys only ever get added (``format_version``)."""
    return {
        "format_version": JSON_FORMAT_VERSION,
        "source": series.source, "title": series.title, "version": series.version,
        "rfc": series.rfc, "resend": series.resend, "staged": series.staged,
        "repo": series.repo, "base": series.base,
        "versions_available": list(series.versions_available),
        "cover": _mail(series.cover) if series.cover else None,
        "patches": [_patch(p) for p in series.patches],
        "replies": [_mail(r) for r in series.replies],
        "problems": [{"origin": p.origin, "message": p.message} for p in series.problems],
    }


# --- text --------------------------------------------------------------------------------

def _flags(series: Series) -> str:
    flags = [f"v{series.version}"]
    if series.rfc:
        flags.append("RFC")
    if series.resend:
        flags.append("RESEND")
    if series.staged:
        flags.append("staged")
    return ", ".join(flags)


def _when(m: Mail) -> str:
    return m.date.isoformat() if m.date else "(no date)"


def _reply_line(r: Mail, out: TextIO, indent: str) -> None:
    from reviewbot.ingest.trailers import reply_trailers

    given = ", ".join(f"{t.key}" for t in reply_trailers(r.body, r.message_id))
    out.write(f"{indent}{r.author} {_when(r)} <{r.message_id}>"
              f"{f'  gives: {given}' if given else ''}\n")


def write_text(series: Series, out: TextIO, *, bodies: bool = False) -> None:
    total = len(series.patches)
    out.write(f"series: {series.title}\n")
    out.write(f"  {_flags(series)}; {total} patch{'es' if total != 1 else ''}"
              f" from {series.source or '-'}\n")
    if len(series.versions_available) > 1:
        have = ", ".join(f"v{v}" for v in series.versions_available)
        out.write(f"  versions in the input: {have} (showing v{series.version})\n")
    if series.repo:
        out.write(f"  repository: {series.repo}\n")
    if series.base:
        out.write(f"  base: {series.base}\n")
    cover = series.cover
    if cover is None:
        out.write("cover: none\n")
    else:
        out.write(f"cover: {cover.subject.raw}\n")
        out.write(f"  from: {cover.author}\n  date: {_when(cover)}\n"
                  f"  message-id: <{cover.message_id}>\n")
        if bodies:
            out.write("".join(f"  | {ln}\n" for ln in cover.body.rstrip("\n").split("\n")))
    for patch in series.patches:
        s = patch.subject
        count = f"{s.counter}/{s.total}" if s.counter is not None else f"{patch.index}/{total}"
        out.write(f"patch {count}: {s.title}\n")
        out.write(f"  author: {patch.mail.author}\n  date: {_when(patch.mail)}\n"
                  f"  message-id: <{patch.mail.message_id}>\n")
        if patch.commit:
            out.write(f"  commit: {patch.commit}\n")
        if bodies and patch.commit_message:
            out.write("".join(f"  | {ln}\n" for ln in patch.commit_message.split("\n")))
        if patch.trailers:
            out.write("  trailers:\n")
            for t in patch.trailers:
                where = f"  (in reply <{t.from_reply}>)" if t.from_reply else ""
                out.write(f"    {t.key}: {t.value}{where}\n")
        else:
            out.write("  trailers: none\n")
        note_lines = [ln for ln in patch.notes.split("\n") if ln.strip()]
        out.write(f"  notes: {len(note_lines)} line(s) after '---'\n" if note_lines
                  else "  notes: none\n")
        out.write(f"  diff: starts at line {patch.mail_diff_line} of the mail\n")
        out.write("  files:\n")
        for f in patch.files:
            out.write(f"    {_file_line(f)}\n")
        if patch.replies:
            out.write(f"  replies ({len(patch.replies)}):\n")
            for r in patch.replies:
                _reply_line(r, out, "    ")
    if series.replies:
        out.write(f"replies to the series ({len(series.replies)}):\n")
        for r in series.replies:
            _reply_line(r, out, "  ")
    if series.problems:
        out.write(f"problems ({len(series.problems)}):\n")
        for p in series.problems:
            out.write(f"  {p.origin}: {p.message}\n")


def _file_line(f: FileDiff) -> str:
    name = f.path
    if f.is_rename or f.is_copy:
        name = f"{f.source_path} -> {f.target_path}"
    what = []
    if f.is_new:
        what.append("new")
    if f.is_deleted:
        what.append("deleted")
    if f.is_rename:
        what.append("renamed")
    if f.is_copy:
        what.append("copied")
    if f.old_mode and f.new_mode and f.old_mode != f.new_mode:
        what.append(f"mode {f.old_mode} -> {f.new_mode}")
    if f.truncated:
        what.append("TRUNCATED")
    counts = "binary" if f.is_binary else f"+{f.added_count} -{f.removed_count}"
    extra = f"  ({', '.join(what)})" if what else ""
    return f"{name}  {counts}{extra}"
