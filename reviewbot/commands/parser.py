"""The command line's parser: the subcommands of ``reviewbot.commands`` gathered
(``build_parser``), with one-line usage errors."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType
from typing import Any, NoReturn

from reviewbot import __version__
from reviewbot.commands import COMMANDS, EXIT_ERROR


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
