"""``reviewbot mine THREAD``: reviewers' inline comments, anchored to what they quote."""

from __future__ import annotations

import argparse

from reviewbot.commands.common import add_archive_arguments

HELP = "extract reviewers' inline comments from a review thread, anchored to file and line"

FORMATS = ("text", "jsonl", "parquet")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("thread", metavar="THREAD",
                        help="the review thread: mbox, .mbox.gz, maildir or .eml "
                        "(- for standard input), or a public-inbox archive")
    parser.add_argument("--format", default=None, choices=FORMATS, metavar="FORMAT",
                        help="text (default for a thread), jsonl (one JSON object a comment; "
                        "default for an archive) or parquet (needs reviewbot[data] and -o)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE instead of standard output")
    parser.add_argument("--rules", metavar="DIR", action="append", default=[],
                        help="archive: also load the rule packs in DIR (repeatable)")
    parser.add_argument("--series-version", type=int, metavar="N",
                        help="with several versions of a series in the thread, mine vN "
                        "(default: the newest)")
    parser.add_argument("--with-trailers", action="store_true",
                        help="also list replies that only give trailers (Reviewed-by: ...)")
    add_archive_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import sys

    from reviewbot.batch import archive
    from reviewbot.errors import UsageError
    from reviewbot.ingest import load
    from reviewbot.review.mine import KIND_COMMENT, mine_series, where

    if archive.is_archive_source(args.thread):
        args.format = args.format or "jsonl"
        return archive.command_mine(args, args.thread)
    if args.scheduler or args.since or args.until or args.incremental or args.jobs is not None:
        raise UsageError("--jobs, --scheduler, --since, --until and --incremental take a "
                         "public-inbox archive")
    series = load(args.thread, series_version=args.series_version)
    comments = [c for c in mine_series(series)
                if args.with_trailers or c.kind == KIND_COMMENT]
    if args.format in ("jsonl", "parquet"):
        archive.write_rows([c.as_dict() for c in comments], args.format, args.output)
        return 0
    if args.output:
        raise UsageError("-o: the text listing goes to standard output; use --format jsonl")
    out = sys.stdout
    for c in comments:
        place = where(c.patch_index, c.path, c.side, c.line_start, c.line_end)
        out.write(f"{c.reviewer} on {place} (reply {c.reply_id}, line {c.reply_line})\n")
        for line in c.quoted.splitlines()[-3:]:
            out.write(f"  > {line}\n")
        for line in (c.comment or "; ".join(c.trailers)).splitlines():
            out.write(f"  {line}\n".rstrip() + "\n")
        out.write("\n")
    kinds = sum(1 for c in comments if c.kind == KIND_COMMENT)
    out.write(f"{kinds} comment(s) in {len({c.reply_id for c in comments})} reply(ies)\n")
    return 0
