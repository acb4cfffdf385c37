"""Size and time limits that keep hostile input from exhausting memory or hanging a run.

A file over a limit is not an error in the input as a whole: the front end that meets it
skips that file and says so ("could not analyse ..."), and the rest is still checked.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import BinaryIO

from reviewbot.errors import InputError

MiB = 1024 * 1024

# One input file (mbox, patch, eml): a large list-archive slice is tens of MB.
MAX_INPUT_BYTES = 256 * MiB
# A gzip input is refused when it inflates past this (a gzip bomb).
MAX_INFLATED_BYTES = 512 * MiB
# A C post-image handed to tree-sitter: the largest QEMU .c file is under 1 MB.
MAX_C_FILE_BYTES = 4 * MiB
# One line of C or of a diff: generated tables reach a few thousand characters.
MAX_LINE_CHARS = 64 * 1024
# One series, from loading to findings, in a bulk run.
SERIES_SECONDS = 120.0
# One C file through tree-sitter and fact extraction.
C_FILE_SECONDS = 10.0


class LimitExceeded(InputError):
    """A file or a series went past a size or time limit; the message says which."""


def too_large(origin: str, size: int, limit: int, what: str = "file") -> str | None:
    """A "could not analyse" note when ``size`` bytes exceed ``limit``, else None."""
    if size <= limit:
        return None
    return (f"{origin}: could not analyse: {what} is {_human(size)}, "
            f"over the limit of {_human(limit)}")


def read_capped(stream: BinaryIO, origin: str, what: str = "file") -> bytes:
    """All of ``stream``; LimitExceeded past MAX_INPUT_BYTES. Reads one byte past the limit
    and no further, so a pipe or a device that never ends (/dev/zero) stops there."""
    data = stream.read(MAX_INPUT_BYTES + 1)
    note = too_large(origin, len(data), MAX_INPUT_BYTES, what)
    if note is not None:
        raise LimitExceeded(note)
    return data


def read_input(path: Path, origin: str) -> bytes:
    """An input file's bytes, refused by its size before it is read when it is a regular
    file. OSError is left to the caller, which knows what the file was meant to be."""
    note = too_large(origin, path.stat().st_size, MAX_INPUT_BYTES)
    if note is not None and path.is_file():
        raise LimitExceeded(note)
    with path.open("rb") as stream:
        return read_capped(stream, origin)


def longest_line(text: str) -> int:
    """Length of the longest line of ``text`` (without its line end)."""
    return max(map(len, text.split("\n")))


def check_text(origin: str, text: str, *, max_bytes: int = MAX_C_FILE_BYTES,
               max_line: int = MAX_LINE_CHARS) -> str | None:
    """A "could not analyse" note when ``text`` is too big or has a too long line."""
    note = too_large(origin, len(text), max_bytes)
    if note is not None:
        return note
    longest = longest_line(text)
    if longest > max_line:
        return (f"{origin}: could not analyse: a line of {longest} characters, "
                f"over the limit of {max_line}")
    return None


@contextmanager
def time_limit(seconds: float, origin: str) -> Iterator[None]:
    """Raise LimitExceeded in the block after ``seconds`` of wall time.

    Uses SIGALRM, so it only acts in the main thread of a process on a POSIX system;
    elsewhere the block runs unlimited. Nests: an outer timer still running is re-armed
    with what is left of it when the block ends.
    """
    usable = (
        seconds > 0
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise LimitExceeded(f"{origin}: could not analyse within {seconds:g} s")

    started = time.monotonic()
    outer_left, _ = signal.getitimer(signal.ITIMER_REAL)
    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL,
                     min(seconds, outer_left) if outer_left > 0 else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left > 0:
            left = outer_left - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6))


def _human(size: int) -> str:
    if size >= MiB:
        return f"{size / MiB:.1f} MiB"
    if size >= 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size} bytes"
