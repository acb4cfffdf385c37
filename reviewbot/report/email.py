"""Reply emails, written as an mbox: one reply per reviewed patch, or one per series.

Each reply is threaded under the mail it reviews (``In-Reply-To``/``References``), goes to
its sender with its other recipients in Cc, and reads the way a reviewer writes: the hunk
lines a finding is about are quoted with ``> ``, the finding follows under the quote, and
the rest of the patch is trimmed (``[...]``). Findings about the mail as a whole (commit
message, trailers, the series) come first, above the first quote.

``--per-series`` reaches this module as ``options.per_series``; the sender as
``options.email_from`` or the ``REVIEWBOT_FROM`` environment variable (without either, the
reply has no From: and ``git send-email`` fills in the configured sender).
"""

from __future__ import annotations

import os
import re
import textwrap
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import TextIO

from reviewbot import __version__
from reviewbot.finding import Finding
from reviewbot.model import Mail, Patch, Person, Series
from reviewbot.patch.diff import FileDiff, Hunk, Line
from reviewbot.report.mailpos import ResultLike, diff_line_of, patch_for

WIDTH = 72
CONTEXT = 2  # quoted lines kept above the line a finding is about
TRIM = "[...]"
POLICY = default_policy.clone(linesep="\n")


@dataclass
class _Section:
    """What one reply says about one mail."""

    mail: Mail
    general: list[Finding] = field(default_factory=list)
    anchored: list[tuple[Finding, FileDiff, Hunk, Line]] = field(default_factory=list)


def _finding_text(finding: Finding, *, where: str = "") -> list[str]:
    head = f"{where}{finding.message} [{finding.rule}]"
    out = _wrap(head)
    for item in finding.evidence:
        out.extend(_wrap(item, indent="  "))
    if finding.fix:
        out.extend(_wrap(" ".join(finding.fix.split())))
    return out


def _wrap(text: str, indent: str = "") -> list[str]:
    # rule ids and paths are never split
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent * 2,
                         break_on_hyphens=False, break_long_words=False) or [indent + text]


def _locate(patch: Patch, finding: Finding) -> tuple[FileDiff, Hunk, Line] | None:
    shown = diff_line_of(patch, finding)
    if shown is None:
        return None
    for fd in patch.files:
        for hunk in fd.hunks:
            if shown in hunk.lines:
                return fd, hunk, shown
    return None


def _sections(series: Series, findings: list[Finding]) -> list[_Section]:
    """One section per mail that has findings, in series order; series-level findings
    go to the cover letter, or to the first patch when there is none."""
    by_mail: dict[str, _Section] = {}
    order = ([series.cover] if series.cover else []) + [p.mail for p in series.patches]
    fallback = series.cover or (series.patches[0].mail if series.patches else None)
    for finding in findings:
        patch = patch_for(series, finding.patch)
        mail = patch.mail if patch is not None else fallback
        if mail is None:
            continue
        section = by_mail.setdefault(mail.message_id, _Section(mail=mail))
        located = _locate(patch, finding) if patch is not None else None
        if located is None:
            section.general.append(finding)
        else:
            section.anchored.append((finding, *located))
    return [by_mail[m.message_id] for m in order if m.message_id in by_mail]


def _quote(line: Line) -> str:
    marker = {"+": "+", "-": "-"}.get(line.kind, " ")
    return f"> {marker}{line.text}".rstrip()


def _last_line(finding: Finding, hunk: Hunk, first: Line) -> Line:
    """The last diff line of a multi-line finding (end_line counts on the finding's side)."""
    last = first
    if not (finding.end_line and finding.line and finding.end_line > finding.line):
        return last
    for candidate in hunk.lines:
        number = candidate.source_line if finding.side == "old" else candidate.target_line
        if (candidate.diff_line > first.diff_line and number is not None
                and number <= finding.end_line):
            last = candidate
    return last


def _section_body(section: _Section) -> list[str]:
    out: list[str] = []
    for finding in section.general:
        where = ""
        if finding.path:
            where = f"{finding.path}:{finding.line}: " if finding.line else f"{finding.path}: "
        out.extend(_finding_text(finding, where=where))
        out.append("")
    anchored = sorted(section.anchored, key=lambda item: item[3].diff_line)
    quoted_file: FileDiff | None = None
    quoted_hunk: Hunk | None = None
    last_quoted = 0  # diff line of the last line quoted in the current hunk
    for finding, fd, hunk, line in anchored:
        if fd is not quoted_file:
            if quoted_file is not None:
                out.extend([TRIM, ""])
            old = fd.source_path or "/dev/null"
            new = fd.target_path or "/dev/null"
            out.append(f"> --- {'a/' + old if fd.source_path else old}")
            out.append(f"> +++ {'b/' + new if fd.target_path else new}")
            quoted_file, quoted_hunk, last_quoted = fd, None, 0
        if hunk is not quoted_hunk:
            if quoted_hunk is not None:
                out.extend([TRIM, ""])
            header = (f"@@ -{hunk.source_start},{hunk.source_length} "
                      f"+{hunk.target_start},{hunk.target_length} @@ {hunk.section}")
            out.append(f"> {header}".rstrip())
            quoted_hunk, last_quoted = hunk, 0
        last_line = _last_line(finding, hunk, line)
        start = line.diff_line - CONTEXT
        if last_quoted and start > last_quoted + 1:
            out.append(TRIM)
        lines = [ln for ln in hunk.lines
                 if max(start, last_quoted + 1) <= ln.diff_line <= last_line.diff_line]
        if lines and last_quoted == 0 and lines[0] is not hunk.lines[0]:
            out.append(TRIM)
        out.extend(_quote(ln) for ln in lines)
        last_quoted = max(last_quoted, last_line.diff_line)
        out.append("")
        out.extend(_finding_text(finding))
        out.append("")
    if anchored:
        out.extend([TRIM, ""])
    return out


def _addr(person: Person) -> str:
    return formataddr((person.name, person.email)) if person.name else person.email


def _recipients(mail: Mail) -> tuple[list[Person], list[Person]]:
    listed = {p.email.lower() for p in (*mail.to, *mail.cc)}
    to = mail.sender
    if to.email.lower() in listed or not to.email:
        to = mail.author  # "Name via List" rewrites: reply to the real author
    seen = {to.email.lower()}
    cc: list[Person] = []
    for person in (mail.author, *mail.to, *mail.cc):
        key = person.email.lower()
        if person.email and key not in seen:
            seen.add(key)
            cc.append(person)
    return [to], cc


def _reply_subject(mail: Mail) -> str:
    raw = " ".join(mail.subject.raw.split())
    return raw if re.match(r"(?i)^re:", raw) else f"Re: {raw}"


def _attribution(mail: Mail) -> str:
    who = mail.author.name or mail.author.email
    if mail.date is None:
        return f"{who} wrote:"
    return f"On {mail.date.strftime('%a, %d %b %Y %H:%M')}, {who} wrote:"


def _message(mail: Mail, body_lines: list[str], sender: str | None,
             now: datetime) -> EmailMessage:
    return reply_message(mail, body_lines, sender, now,
                         footer=f"reviewbot {__version__}: automated review; rule ids in "
                         "brackets")


def reply_message(mail: Mail, body_lines: list[str], sender: str | None, now: datetime, *,
                  footer: str, extra_cc: Sequence[str] = ()) -> EmailMessage:
    """A reply to ``mail``: its author and recipients (and ``extra_cc``, addresses as
    written) on To/Cc, threaded under it, ``body_lines`` and a signature ``footer``."""
    msg = EmailMessage(policy=POLICY)
    if sender:
        msg["From"] = sender
    to, cc = _recipients(mail)
    msg["To"] = ", ".join(_addr(p) for p in to)
    if cc or extra_cc:
        msg["Cc"] = ", ".join([*(_addr(p) for p in cc), *extra_cc])
    msg["Subject"] = _reply_subject(mail)
    msg["Date"] = format_datetime(now)
    domain = parseaddr(sender)[1].rpartition("@")[2] if sender else ""
    msg["Message-ID"] = make_msgid("reviewbot", domain=domain or "reviewbot.invalid")
    msg["In-Reply-To"] = f"<{mail.message_id}>"
    refs = [r for r in mail.references if r != mail.message_id] + [mail.message_id]
    msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg["X-Mailer"] = f"reviewbot {__version__}"
    body = "\n".join(body_lines).rstrip("\n") + "\n"
    body += f"\n-- \n{footer}\n"
    cte = "7bit" if body.isascii() else "8bit"
    msg.set_content(body, charset="utf-8", cte=cte)
    return msg


def replies(result: ResultLike, *, per_series: bool | None = None, sender: str | None = None,
            now: datetime | None = None) -> list[EmailMessage]:
    """The reply messages for a check result (none when there are no findings)."""
    series = result.series
    if per_series is None:
        per_series = bool(getattr(result.options, "per_series", False))
    if sender is None:
        sender = getattr(result.options, "email_from", None) or os.environ.get("REVIEWBOT_FROM")
    now = now or datetime.now(timezone.utc)
    sections = _sections(series, list(result.findings))
    if not sections:
        return []
    if not per_series:
        return [
            _message(s.mail, [_attribution(s.mail), "", *_section_body(s)], sender, now)
            for s in sections
        ]
    target = series.cover or series.patches[0].mail
    lines = [_attribution(target), ""]
    for section in sections:
        if section.mail is not target:
            lines.extend([f"About {section.mail.subject.raw}:", ""])
        lines.extend(_section_body(section))
    return [_message(target, lines, sender, now)]


_FROM_LINE = re.compile(r"^>*From ", re.MULTILINE)


def write(result: ResultLike, out: TextIO) -> None:
    write_mbox(replies(result), out)


def write_mbox(messages: Iterable[EmailMessage], out: TextIO) -> None:
    """``messages`` as an mbox (mboxrd escaping of From lines in the bodies)."""
    stamp = time.asctime(time.gmtime())
    for msg in messages:
        # as_string() would base64 an 8bit body; the bytes generator keeps it readable
        text = msg.as_bytes(policy=POLICY).decode("utf-8")
        head, _, body = text.partition("\n\n")
        body = _FROM_LINE.sub(lambda m: ">" + m.group(0), body)  # mboxrd escaping
        out.write(f"From reviewbot {stamp}\n{head}\n\n{body.rstrip(chr(10))}\n\n")
