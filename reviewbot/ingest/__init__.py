"""Every input becomes a Series: mail, git and diff front ends.

``load`` decides what SOURCE is: ``-`` is standard input; an existing path is a file
(mbox, .mbox.gz, .eml, .patch/.diff) or a maildir; anything else is a git revision range
in the repository at ``cwd``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import BinaryIO

from reviewbot.errors import InputError
from reviewbot.model import Series

_FILE_SUFFIXES = (".mbox", ".mbx", ".eml", ".patch", ".diff", ".gz", ".mail", ".txt")


def load(
    source: str | None,
    *,
    cwd: str | None = None,
    staged: bool = False,
    series_version: int | None = None,
    stdin: BinaryIO | None = None,
) -> Series:
    """Read SOURCE into a Series. Raises InputError (``"<input>: <problem>"``) on bad input."""
    from reviewbot.ingest.series import assemble

    base_dir = cwd if cwd is not None else str(Path.cwd())
    if cwd is not None and not Path(cwd).is_dir():
        raise InputError(f"{cwd}: no such directory")
    if staged:
        if source:
            raise InputError("--staged takes no SOURCE")
        from reviewbot.ingest import git

        got = git.load_staged(base_dir)
        return assemble(got.mails, source="--staged", series_version=series_version,
                        repo=got.repo, base=got.base, staged=True)
    if not source:
        raise InputError("no SOURCE given (a git range, a file, or - for standard input)")
    if source == "-":
        from reviewbot.util import limits

        stream = stdin if stdin is not None else sys.stdin.buffer
        data = limits.read_capped(stream, "<stdin>", "input")
        return _from_bytes(data, "<stdin>", source, series_version)
    path = Path(base_dir) / source
    if path.is_dir():
        return _from_dir(path, source, series_version)
    if path.exists() or path.is_symlink():
        from reviewbot.ingest.mail import read_bytes
        return _from_bytes(read_bytes(path, source), source, source, series_version)
    if source.endswith(_FILE_SUFFIXES):
        raise InputError(f"{source}: no such file or directory")
    from reviewbot.ingest import git

    try:
        got = git.load_range(source, base_dir)
    except InputError as exc:
        if "not a git repository" in str(exc):
            raise InputError(f"{source}: no such file, and {base_dir} is not a git repository "
                             "to read it as a revision range from") from None
        raise
    return assemble(got.mails, source=source, series_version=series_version,
                    problems=got.problems, repo=got.repo, base=got.base, commits=got.commits)


def _from_bytes(data: bytes, origin: str, source: str, series_version: int | None) -> Series:
    from reviewbot.ingest.mail import parse_all
    from reviewbot.ingest.patchfile import raw_from_bytes
    from reviewbot.ingest.series import assemble

    raws, bare = raw_from_bytes(data, origin)
    if bare is not None:
        return assemble([bare], source=source, series_version=series_version)
    mails, problems = parse_all(raws)
    if not mails and len(problems) == 1:
        raise InputError(f"{problems[0].origin}: {problems[0].message}")
    return assemble(mails, source=source, series_version=series_version, problems=problems)


def _from_dir(path: Path, source: str, series_version: int | None) -> Series:
    from reviewbot.ingest.mail import is_maildir, parse_all, raw_mails, read_bytes, read_maildir
    from reviewbot.ingest.series import assemble

    if is_maildir(path):
        raws = read_maildir(path)
    else:
        # a directory of mails, as `git format-patch -o DIR` writes them
        files = sorted(p for p in path.iterdir()
                       if p.is_file() and p.name.endswith((".patch", ".eml", ".mbox")))
        if not files:
            from reviewbot.ingest.archive import is_archive

            if is_archive(path):
                raise InputError(f"{source}: a public-inbox archive, which holds many threads: "
                                 "check them with --jobs N, or use mine / eval --reviews")
            raise InputError(f"{source}: a directory that is neither a maildir (cur/, new/) "
                             "nor holds .patch/.eml/.mbox files")
        raws = [r for f in files for r in raw_mails(read_bytes(f), str(f))]
    if not raws:
        raise InputError(f"{source}: empty maildir")
    mails, problems = parse_all(raws)
    return assemble(mails, source=source, series_version=series_version, problems=problems)
