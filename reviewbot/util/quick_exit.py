"""``wind_up()`` and ``leave(status)``: end a process that ran one check without tearing its
interpreter down.

At a normal exit CPython frees every module and every object a check made, one by one:
10-15 ms after a check of a big file, 7 ms after a small one, against a whole check of a
real patch mail of about 100 ms. What must happen at exit still does: the ``atexit``
handlers (the rule cache saves itself from one), and the standard streams are flushed.
A process that started a pool of processes (``--jobs``, a first index of a tree) or left
a thread running exits the normal way."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

# Modules whose objects want the interpreter's own shutdown (pools join their workers).
_NEEDS_SHUTDOWN = ("multiprocessing", "concurrent.futures.process")


def wind_up() -> None:
    """What an exit must do: the atexit handlers, then the standard streams flushed (a
    reader that went away is not an error here)."""
    import atexit
    import contextlib

    with contextlib.suppress(Exception):  # (a handler's error is printed by atexit itself)
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe, or a stream a caller replaced
            stream.flush()


def can_leave() -> bool:
    """No pool of processes was started and no other thread runs."""
    if any(name in sys.modules for name in _NEEDS_SHUTDOWN):
        return False
    threading = sys.modules.get("threading")
    return threading is None or all(
        t.daemon or t is threading.main_thread() for t in threading.enumerate())


def leave(status: int) -> NoReturn:
    """``wind_up()``, then end the process with ``status`` at once."""
    wind_up()
    os._exit(status)
