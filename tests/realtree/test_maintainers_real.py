"""QEMU's own MAINTAINERS: the sections a path is looked up in (``Maintainers._candidates``,
by its first directories, with a pattern's plain runs tested before its regex is made) give
what trying every section gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.patch.tree import DirTree
from reviewbot.qemu.maintainers import parse_maintainers

pytestmark = pytest.mark.realtree


def test_looked_up_sections_are_every_section_that_claims_the_path(qemu_tree: Path) -> None:
    tree = DirTree(qemu_tree)
    text = tree.maintainers_text()
    assert text is not None
    maintainers = parse_maintainers(text)
    assert len(maintainers.sections) > 400
    files = tree.list_files(("",), ())
    paths = [*files[::23], "hw/net", "hw/net/new-nic.c", "include/hw/char/new.h", "docs/x.rst",
             "MAINTAINERS", "tests/qtest/new-test.c", "target/riscv/new.c"]
    claimed = 0
    for path in paths:
        every = tuple(s for s in maintainers.sections
                      if not s.catch_all and s.matches_file(path, tree.is_dir))
        assert maintainers.sections_for_file(path, is_dir=tree.is_dir) == every, path
        claimed += bool(every)
    assert claimed > len(paths) // 4  # tests/, scripts/ and the like have no section
    memory = [s.title for s in maintainers.sections_for_file("hw/mem/pc-dimm.c")]
    assert "Memory devices" in memory
