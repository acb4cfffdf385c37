"""Command line: ``reviewbot SUBCOMMAND ...``.

Each subcommand lives in ``reviewbot/commands/<name>.py`` with ``HELP``, ``configure(parser)``
and ``run(args) -> int``; those modules import their heavy dependencies inside ``run`` so that
startup stays fast. ``reviewbot.commands.parser.build_parser`` gathers them. A ``reviewbot
check`` (or ``hook``) typed at a shell is first offered to a running check server
(``reviewbot/server/``), which answers it from an interpreter that has everything imported.
"""

from __future__ import annotations

import os
import sys

from reviewbot.commands import COMMANDS, EXIT_ERROR, EXIT_INTERNAL, EXIT_OK
from reviewbot.errors import InputError

TYPE_CHECKING = False  # typing itself costs 9 ms of a served check's start
if TYPE_CHECKING:
    from collections.abc import Sequence


# What a check server answers when one runs (reviewbot/server/): a check and the git hooks.
SERVED = ("check", "hook")


def command_named(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` runs when its first word is one; None when argparse must see
    the whole command line (``-h`` before the command lists every subcommand)."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; ``argv`` None is this process's own (``sys.argv[1:]``), and only
    then is a check offered to a check server: a caller handing words in runs them here."""
    words = list(argv) if argv is not None else sys.argv[1:]
    if argv is None and command_named(words) in SERVED \
            and os.environ.get("REVIEWBOT_SERVER") != "0":
        from reviewbot.server.client import check_through_server

        served = check_through_server(words)
        if served is not None:
            return served
    status = _run(words)
    if argv is None and command_named(words) in SERVED:
        from reviewbot.util.quick_exit import can_leave, leave

        if can_leave():
            leave(status)  # one check done: no interpreter teardown (util/quick_exit.py)
    return status


def _run(words: list[str]) -> int:
    from reviewbot.commands.parser import build_parser

    parser = build_parser(command_named(words))
    args = parser.parse_args(words)
    if getattr(args, "_run", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return int(args._run(args))
    except InputError as exc:
        sys.stderr.write(f"reviewbot: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing left to say.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("REVIEWBOT_DEBUG"):
            raise
        sys.stderr.write(
            f"reviewbot: internal error: {type(exc).__name__}: {exc} "
            "(please report it; REVIEWBOT_DEBUG=1 shows the traceback)\n"
        )
        return EXIT_INTERNAL
