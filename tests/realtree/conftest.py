"""The QEMU tree the real-tree tests read: $REVIEWBOT_QEMU_TREE, else they are skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def qemu_tree() -> Path:
    root = os.environ.get("REVIEWBOT_QEMU_TREE")
    if not root or not (Path(root) / "hw" / "mem" / "pc-dimm.c").is_file():
        reason = ("REVIEWBOT_QEMU_TREE is not set to a QEMU source tree (see "
                  "../shared/scripts/get-qemu-tree)")
        print(f"skipped: {reason}")
        pytest.skip(reason)
    return Path(root)
