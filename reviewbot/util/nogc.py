"""``collector_paused()``: no cyclic garbage collection inside the block.

Building or loading the tree's graph and facts makes hundreds of thousands of small objects
and no garbage cycles; a collection set off by those allocations would walk all of them, and
any graph already in memory, for nothing. The same holds for a whole single check (the
diff's lines, facts, matches: ``commands/check.py``), whose process then ends."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
