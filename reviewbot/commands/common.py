"""Arguments and loading shared by the subcommands that read a series."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable

    from reviewbot.model import Series


def add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source", nargs="?", metavar="SOURCE",
        help="git range (A..B, a commit, -N for the last N commits), mbox, .mbox.gz, maildir, "
        ".eml, .patch/.diff file, or - for standard input",
    )
    parser.add_argument("-C", dest="repo", metavar="DIR", help="run as if started in DIR")
    parser.add_argument("--staged", action="store_true",
                        help="the change in the index against HEAD "
                        "(what `git commit` would record)")
    parser.add_argument("--series-version", type=int, metavar="N",
                        help="with several versions of a series in one mbox, take vN "
                        "(default: the newest)")


def load_series(args: argparse.Namespace) -> Series:
    from reviewbot.errors import UsageError
    from reviewbot.ingest import load

    if args.staged and args.source:
        raise UsageError("--staged takes no SOURCE")
    if not args.staged and not args.source:
        raise UsageError("no SOURCE given (a git range, a file, or - for standard input)")
    return load(args.source, cwd=args.repo, staged=args.staged,
                series_version=args.series_version)


def write_output(path: str | None, write: Callable[[TextIO], object]) -> None:
    """``write`` to the file ``path`` (``-o``), or to standard output; a file that cannot be
    opened or written is a one-line error."""
    import sys
    from pathlib import Path

    from reviewbot.errors import UsageError

    if not path:
        write(sys.stdout)
        sys.stdout.flush()
        return
    try:
        with Path(path).open("w", encoding="utf-8") as out:
            write(out)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write: {exc.strerror}") from None


def add_archive_arguments(parser: argparse.ArgumentParser, *, jobs: bool = True) -> None:
    """What a run over a public-inbox archive takes (check --jobs, mine, eval --reviews)."""
    group = parser.add_argument_group(
        "public-inbox archives", "SOURCE may be a public-inbox v2 inbox (git/N.git epochs) or "
        "one epoch repository: every thread in it is read")
    if jobs:
        group.add_argument("-j", "--jobs", type=int, metavar="N",
                           help="threads of an archive: N processes (0: one per core)")
    group.add_argument("--since", metavar="DATE",
                       help="only messages dated DATE or later (2024-06-01, ISO 8601; UTC)")
    group.add_argument("--until", metavar="DATE", help="only messages dated DATE or earlier")
    group.add_argument("--incremental", action="store_true",
                       help="read only the messages added since the last --incremental run "
                       "(kept per epoch under the cache directory); the threads they touch "
                       "are taken whole")
    group.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on this Dask distributed scheduler instead of local "
                       "processes (needs reviewbot[dask]; see docs/scaling.md)")
