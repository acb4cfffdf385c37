"""``reviewbot lore MSGID``: fetch a thread from a public-inbox server, then check it."""

from __future__ import annotations

import argparse

HELP = "fetch a thread from a public-inbox archive (lore) by message-id, then check it"

THEN = ("check", "show", "mine", "fetch")


def configure(parser: argparse.ArgumentParser) -> None:
    from reviewbot.ingest.lore import BASE_ENV, DEFAULT_BASE, MAX_DOWNLOAD, TIMEOUT, MiB

    parser.epilog = (
        "Example: reviewbot lore 20250101.123-1-ada@example.org --args='--format sarif'. "
        "Threads are cached under $XDG_CACHE_HOME/reviewbot/lore (default ~/.cache).")
    parser.add_argument("msgid", metavar="MSGID",
                        help="message-id of any mail in the thread (<...>, id:... and "
                        "thread URLs are accepted)")
    parser.add_argument("--base", metavar="URL", default=None,
                        help=f"public-inbox base URL (default: ${BASE_ENV}, else {DEFAULT_BASE})")
    parser.add_argument("--then", choices=THEN, default="check",
                        help="what to do with the thread: check (default), show, mine, or "
                        "fetch (only print the path of the cached mbox)")
    parser.add_argument("--refresh", action="store_true",
                        help="download again even when the thread is cached")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS",
                        help=f"network timeout (default: {TIMEOUT:g})")
    parser.add_argument("--max-download", type=int, default=MAX_DOWNLOAD // MiB, metavar="MIB",
                        help=f"largest download accepted, in MiB (default: "
                        f"{MAX_DOWNLOAD // MiB})")
    parser.add_argument("--args", default="", metavar="ARGS", dest="then_args",
                        help="options for the --then command, as one string "
                        "(e.g. --args='--format json --fail-on error')")


def run(args: argparse.Namespace) -> int:
    import os
    import shlex
    import sys

    from reviewbot.cli import main
    from reviewbot.errors import UsageError
    from reviewbot.ingest.lore import BASE_ENV, DEFAULT_BASE, Limits, MiB, fetch_thread

    if args.timeout <= 0 or args.max_download <= 0:
        raise UsageError("--timeout and --max-download must be positive")
    base = args.base or os.environ.get(BASE_ENV) or DEFAULT_BASE
    limits = Limits(max_download=args.max_download * MiB, timeout=args.timeout)

    def log(message: str) -> None:
        sys.stderr.write(f"reviewbot: {message}\n")

    path = fetch_thread(args.msgid, base, limits=limits, refresh=args.refresh, log=log)
    rest = shlex.split(args.then_args)
    if args.then == "fetch":
        if rest:
            raise UsageError("--then fetch takes no --args")
        sys.stdout.write(f"{path}\n")
        return 0
    return main([args.then, str(path), *rest])
