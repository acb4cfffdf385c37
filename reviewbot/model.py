"""The Series model every input becomes: mails, patches, trailers, parsed subjects.

All types are frozen; ingest builds them once and nothing downstream mutates them.
"""

from __future__ import annotations

from dataclasses import field
from datetime import datetime

from reviewbot.patch.diff import FileDiff
from reviewbot.util.frozen import frozen


@frozen
class Person:
    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@frozen
class Subject:
    """A mail subject split into its bracketed prefix and the title.

    ``[RFC PATCH v2 03/12] hw/mem: add foo`` -> rfc, version 2, counter 3, total 12,
    title ``hw/mem: add foo``.
    """

    raw: str
    title: str
    tags: tuple[str, ...] = ()  # every bracketed word, e.g. ("RFC", "PATCH", "v2", "03/12")
    is_reply: bool = False  # Re:/RE:/Aw: in front
    is_patch: bool = False  # a PATCH tag (or a bare n/N counter) was present
    version: int = 1
    counter: int | None = None
    total: int | None = None
    rfc: bool = False
    resend: bool = False


@frozen
class Trailer:
    """``Key: value`` at the end of a commit message, or given in a reply."""

    key: str  # canonical spelling, e.g. "Signed-off-by", "Reviewed-by"
    value: str
    person: Person | None = None  # parsed when the value is "Name <addr>"
    from_reply: str | None = None  # message-id of the reply that gave it, None if in the patch


@frozen
class Mail:
    """One decoded message: headers of interest and the text/plain body."""

    message_id: str  # without angle brackets; synthesised when the mail has none
    subject: Subject
    sender: Person  # From: as sent (may be a list rewrite "Name via List")
    author: Person  # real author: undone list rewriting, in-body From: for patches
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    to: tuple[Person, ...]
    cc: tuple[Person, ...]
    body: str  # decoded text/plain, LF line ends
    origin: str = ""  # where it came from: "file.mbox#3", "git:abc123", ...
    headers: tuple[tuple[str, str], ...] = ()  # decoded (name, value) pairs in order
    # 1-based line of the raw mail where the body starts. Line 1 is the mbox "From " line
    # when the mail came with one (as `git format-patch` writes it), else the first header.
    # Exact for 7bit/8bit bodies; for quoted-printable/base64 bodies, decoded lines are
    # counted from there, which is the best a line number in the decoded text can mean.
    body_offset: int = 0


@frozen
class Patch:
    mail: Mail
    commit_message: str  # subject title excluded; body up to trailers (included)
    notes: str  # text between '---' and the diff: changelog, diffstat
    trailers: tuple[Trailer, ...]
    diff_text: str
    files: tuple[FileDiff, ...]
    # 1-based line of the diff's first line ("diff --git ...") within ``mail.body``; 0 when
    # unknown. Its line in the mail as `git format-patch` writes it (what checkpatch calls
    # `-:N:`) is ``mail_diff_line``; line k (1-based) of ``diff_text`` is at
    # ``mail_diff_line + k - 1``.
    diff_line: int = 0
    commit: str | None = None  # git commit id when read from a repository
    replies: tuple[Mail, ...] = ()

    @property
    def subject(self) -> Subject:
        return self.mail.subject

    @property
    def index(self) -> int:
        return self.mail.subject.counter or 1

    @property
    def mail_diff_line(self) -> int:
        """1-based line of the diff's first line in the whole mail, mbox "From " line being
        line 1 (``git format-patch`` numbering); 0 when unknown."""
        if self.diff_line <= 0:
            return 0
        return max(self.mail.body_offset, 1) + self.diff_line - 1


@frozen
class InputProblem:
    """A part of the input that could not be used; reported, the rest still checked."""

    origin: str
    message: str


@frozen
class Series:
    patches: tuple[Patch, ...]
    cover: Mail | None = None
    replies: tuple[Mail, ...] = ()  # replies to the cover letter (or unattached)
    version: int = 1
    rfc: bool = False
    resend: bool = False
    source: str = ""  # the SOURCE argument as given
    repo: str | None = None  # repository top-level for git input
    base: str | None = None  # git revision the series applies to, when known
    staged: bool = False
    versions_available: tuple[int, ...] = ()
    problems: tuple[InputProblem, ...] = ()
    all_mails: tuple[Mail, ...] = field(default=(), repr=False)

    @property
    def title(self) -> str:
        if self.cover is not None:
            return self.cover.subject.title
        return self.patches[0].subject.title if self.patches else ""
