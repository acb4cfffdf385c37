"""Command line: ``reviewbot SUBCOMMAND ...``.

Each subcommand lives in ``reviewbot/commands/<name>.py`` with ``HELP``, ``configure(parser)``
and ``run(args) -> int``; those modules import their heavy dependencies inside ``run`` so that
startup stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from reviewbot import __version__
from reviewbot.errors import InputError

# Order is the order of `reviewbot --help`.
COMMANDS = ("check", "show", "graph", "rules", "spec", "mine", "eval", "lore", "hook")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``reviewbot: error: ...`` and exit 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_ERROR)


def _command_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"reviewbot.commands.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"reviewbot.commands.{name}":
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reviewbot",
        description="Review a QEMU-style patch series before it is sent: device-model rules, "
        "series hygiene, QAPI and firmware-table conformance, with evidence.",
        epilog="Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.",
    )
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = _command_module(name)
        if module is None:
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
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
