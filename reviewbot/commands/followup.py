"""``reviewbot followup PREVIOUS NEW``: what reviewers asked on vN, and what vN+1 did about it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.model import Series

HELP = "for every point reviewers made on the previous version: addressed, open or answered"

FORMATS = ("text", "json", "email", "changelog")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "PREVIOUS and NEW may be the same mbox when it holds both versions. "
        "Exit status: 0 nothing open, 1 some point is open, 2 bad input.")
    parser.add_argument("previous", metavar="PREVIOUS",
                        help="the vN thread with its review replies: mbox, .mbox.gz, maildir, "
                        "or a message-id of it (fetched from lore like `reviewbot lore`)")
    parser.add_argument("new", metavar="NEW",
                        help="the vN+1 series: a git range (before sending), mbox, maildir")
    parser.add_argument("-C", dest="repo", metavar="DIR",
                        help="run as if started in DIR (for a git range as NEW)")
    parser.add_argument("--format", default="text", choices=FORMATS, metavar="FORMAT",
                        help=f"output format: {', '.join(FORMATS)} (default: text)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.add_argument("--previous-version", type=int, metavar="N",
                        help="take vN from PREVIOUS (default: the newest one older than NEW)")
    parser.add_argument("--new-version", type=int, metavar="N",
                        help="take vN from NEW (default: the newest)")
    parser.add_argument("--no-findings", action="store_true",
                        help="do not run reviewbot's rules on both versions")
    parser.add_argument("--base", metavar="URL", default=None,
                        help="public-inbox base URL for a message-id PREVIOUS "
                        "(default: $REVIEWBOT_LORE_BASE, else lore.kernel.org/qemu-devel)")


def load_pair(previous: str, new: str, *, repo: str | None = None,
              previous_version: int | None = None, new_version: int | None = None,
              base: str | None = None) -> tuple[Series, Series]:
    """PREVIOUS and NEW as Series; PREVIOUS defaults to the newest version older than NEW."""
    from reviewbot.ingest import load
    from reviewbot.ingest.previous import load_previous

    new_series = load(new, cwd=repo, series_version=new_version)
    old = load_previous(previous, new_series, repo=repo, previous_version=previous_version,
                        base=base)
    return old, new_series


def run(args: argparse.Namespace) -> int:
    from reviewbot.commands.common import write_output
    from reviewbot.review.followup import build_ledger

    old, new = load_pair(args.previous, args.new, repo=args.repo,
                         previous_version=args.previous_version,
                         new_version=args.new_version, base=args.base)
    ledger = build_ledger(old, new, with_findings=not args.no_findings)
    if args.format == "changelog":
        from reviewbot.report import changelog
        write = changelog.write
    else:
        from reviewbot.report import followup as report
        write = {"text": report.write_text, "json": report.write_json,
                 "email": report.write_email}[args.format]
    write_output(args.output, lambda out: write(ledger, out))
    return 1 if ledger.open_points() else 0
