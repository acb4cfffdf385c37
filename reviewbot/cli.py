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
from typing import Any, NoReturn

from reviewbot import __version__
from reviewbot.errors import InputError

# Order is the order of `reviewbot --help`.
COMMANDS = ("check", "show", "graph", "rules", "spec", "mine", "eval", "lore", "hook",
            "followup")

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
EXIT_INTERNAL = 3


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size()`` finds it: $COLUMNS, else the
    standard output's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, given its width: argparse makes one for every option it is
    handed and finds the width with shutil, whose import (with zlib, bz2 and lzma) cost
    2 ms of every run."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``reviewbot: error: ...`` and exit 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line; with ``only``, that subcommand alone (others are not imported).

    ``only`` is for a command line known to name that subcommand: argparse then never looks at
    the other subparsers, and configuring them all (importing every command module) costs more
    than a small check itself.
    """
    parser = _Parser(
        prog="reviewbot",
        description="Review a QEMU-style patch series before it is sent: device-model rules, "
        "series hygiene, QAPI and firmware-table conformance, with evidence.",
        epilog="Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or input error.",
    )
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS if only is None else (only,):
        module = _command_module(name)
        if module is None:
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.configure(p)
        p.set_defaults(_run=module.run)
    return parser


def command_named(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` runs when its first word is one; None when argparse must see
    the whole command line (``-h`` before the command lists every subcommand)."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    words = list(argv) if argv is not None else sys.argv[1:]
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
