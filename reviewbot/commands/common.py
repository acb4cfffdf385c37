"""Arguments and loading shared by the subcommands that read a series."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
