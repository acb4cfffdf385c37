"""reviewbot.util.limits: the notes for oversized text and the SIGALRM time limit."""

from __future__ import annotations

import signal
import time

import pytest

from reviewbot.errors import InputError
from reviewbot.util import limits


def test_too_large_names_the_file_and_both_sizes() -> None:
    assert limits.too_large("hw/a.c", 10, 10) is None
    note = limits.too_large("hw/a.c", 5 * limits.MiB, 4 * limits.MiB)
    assert note == "hw/a.c: could not analyse: file is 5.0 MiB, over the limit of 4.0 MiB"


def test_check_text_flags_a_long_line() -> None:
    assert limits.check_text("x.c", "int a;\nint b;\n", max_line=10) is None
    note = limits.check_text("x.c", "int a;\n" + "y" * 11 + "\n", max_line=10)
    assert note == "x.c: could not analyse: a line of 11 characters, over the limit of 10"


def test_longest_line_counts_the_last_line_without_a_newline() -> None:
    assert limits.longest_line("ab\nabcd") == 4
    assert limits.longest_line("") == 0


def test_time_limit_stops_a_busy_loop_as_an_input_error() -> None:
    started = time.monotonic()
    with pytest.raises(InputError, match=r"^hw/slow\.c: could not analyse within 0\.2 s$"), \
            limits.time_limit(0.2, "hw/slow.c"):
        while time.monotonic() - started < 10:
            pass
    assert time.monotonic() - started < 5


def test_time_limit_restores_an_outer_timer() -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with limits.time_limit(5, "inner"):
            pass
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left <= 0.5
        time.sleep(0.7)
        assert fired == [1]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
