"""MAINTAINERS parsing and matching: F:/X: globs, N: path regexes, K: content keywords."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewbot.qemu.maintainers import parse_maintainers

SAMPLE = """\
Example Maintainers
===================

Descriptions of section entries:

\tF: Files and directories with wildcard patterns.
\tF:\tdrivers/net/\tall files in and below drivers/net

General Project Administration
------------------------------
M: Pat Admin <pat@example.org>

All patches CC here
L: devel@example.org
F: *
F: */

ACPI/SMBIOS
M: Ann Acpi <ann@example.org>
S: Supported
F: hw/acpi/*
F: hw/i386/acpi-build.[hc]
X: hw/acpi/ghes*

Memory devices
M: Mel Mem <mel@example.org>
S: Supported
F: hw/mem/
N: (^|/)memory[-_]device

Trivial patches
L: trivial@example.org
K: ^Subject:.*(?i)trivial

Network devices
F: hw/net
"""


def titles(sections: object) -> list[str]:
    return [s.title for s in sections]  # type: ignore[attr-defined]


def test_sections_are_parsed_and_preamble_skipped() -> None:
    m = parse_maintainers(SAMPLE)
    assert titles(m.sections) == ["General Project Administration", "All patches CC here",
                                  "ACPI/SMBIOS", "Memory devices", "Trivial patches",
                                  "Network devices"]
    acpi = m.section("ACPI/SMBIOS")
    assert acpi is not None
    assert acpi.line == 18
    assert acpi.status == "Supported"
    assert acpi.maintainers == ("Ann Acpi <ann@example.org>",)
    assert acpi.excludes == ("hw/acpi/ghes*",)


def test_star_pattern_stays_at_its_depth() -> None:
    m = parse_maintainers(SAMPLE)
    assert titles(m.sections_for_file("hw/acpi/core.c")) == ["ACPI/SMBIOS"]
    assert titles(m.sections_for_file("hw/acpi/sub/deeper.c")) == []


def test_character_class_and_exclude() -> None:
    m = parse_maintainers(SAMPLE)
    assert titles(m.sections_for_file("hw/i386/acpi-build.h")) == ["ACPI/SMBIOS"]
    assert titles(m.sections_for_file("hw/i386/acpi-build.o")) == []
    assert titles(m.sections_for_file("hw/acpi/ghes.c")) == []


def test_trailing_slash_takes_everything_below() -> None:
    m = parse_maintainers(SAMPLE)
    assert titles(m.sections_for_file("hw/mem/cxl/type3.c")) == ["Memory devices"]


def test_n_regex_on_path() -> None:
    m = parse_maintainers(SAMPLE)
    assert titles(m.sections_for_file("include/hw/memory-device.h")) == ["Memory devices"]


def test_catch_all_only_on_request() -> None:
    m = parse_maintainers(SAMPLE)
    assert titles(m.sections_for_file("vl.c")) == []
    assert titles(m.sections_for_file("vl.c", include_catch_all=True)) == ["All patches CC here"]


def test_k_keyword_with_inline_flag_in_the_middle() -> None:
    m = parse_maintainers(SAMPLE)
    assert titles(m.sections_for_patch([], "Subject: [PATCH] TRIVIAL: typo")) == [
        "Trivial patches"]
    assert titles(m.sections_for_patch([], "Subject: [PATCH] hw/mem: fix\n")) == []


def test_directory_without_slash_needs_the_tree() -> None:
    m = parse_maintainers(SAMPLE)
    assert titles(m.sections_for_file("hw/net/e1000.c")) == []
    assert titles(m.sections_for_file("hw/net/e1000.c", is_dir=lambda p: p == "hw/net")) == [
        "Network devices"]


def test_patch_spans_sections_in_file_order() -> None:
    m = parse_maintainers(SAMPLE)
    got = m.sections_for_patch(["hw/mem/foo.c", "hw/i386/acpi-build.c"], "Subject: hw: x")
    assert titles(got) == ["ACPI/SMBIOS", "Memory devices"]


@pytest.mark.realtree
def test_real_maintainers() -> None:
    root = os.environ.get("REVIEWBOT_QEMU_TREE")
    if not root or not (Path(root) / "MAINTAINERS").is_file():
        pytest.skip("REVIEWBOT_QEMU_TREE is not set to a QEMU tree with a MAINTAINERS file")
    tree = Path(root)
    m = parse_maintainers((tree / "MAINTAINERS").read_text(encoding="utf-8"))
    assert len(m.sections) > 300

    def is_dir(p: str) -> bool:
        return (tree / p).is_dir()

    acpi = titles(m.sections_for_file("hw/i386/acpi-build.c", is_dir=is_dir))
    assert "ACPI/SMBIOS" in acpi and "PC" in acpi
    assert titles(m.sections_for_file("hw/mem/pc-dimm.c", is_dir=is_dir)) == ["Memory devices"]
    assert "QAPI Schema" in titles(m.sections_for_file("qapi/machine.json", is_dir=is_dir))
    assert "Trivial patches" in titles(m.sections_for_patch(
        [], "Subject: [PATCH] trivial: fix a typo"))


def _every_section(m: object, path: str, is_dir: object = None,
                   include_catch_all: bool = False) -> list[str]:
    """sections_for_file as a walk of every section (what the candidate index must equal)."""
    return [s.title for s in m.sections  # type: ignore[attr-defined]
            if (include_catch_all or not s.catch_all) and s.matches_file(path, is_dir)]


LOOSE = """\
Top-level wildcard
M: Tess Top <tess@example.org>
F: hw*

Docs directory without a slash
F: docs

Regex only
N: virtio

Root file
F: MAINTAINERS

Bracket start
F: [hi]w/misc/*.c
"""


@pytest.mark.parametrize("path", [
    "hw/mem/pc-dimm.c", "hw/acpi/ghes.c", "hw/acpi/core.c", "hw/i386/acpi-build.h",
    "hw/net/e1000.c", "hwx/y.c", "hw", "docs/index.rst", "docs", "MAINTAINERS",
    "meson.build", "hw/virtio/virtio.c", "include/hw/virtio/virtio.h", "iw/misc/a.c",
    "hw/misc/edu.c", "memory-device.c", "hwmon.c", "",
])
def test_only_candidate_sections_are_tried_and_the_answer_is_the_same(path: str) -> None:
    """Sections are looked up by the path's first component; those that a path can reach
    otherwise (``hw*``, ``docs``, N:, K:, catch-alls, a bracket first) are always tried."""
    m = parse_maintainers(SAMPLE + "\n" + LOOSE)

    def is_dir(p: str) -> bool:
        return p in ("hw/net", "docs", "hw")

    for catch_all in (False, True):
        for tree in (None, is_dir):
            assert titles(m.sections_for_file(path, is_dir=tree, include_catch_all=catch_all)) \
                == _every_section(m, path, tree, catch_all)
    everything = [s.title for s in m.sections
                  if s.matches_file(path, is_dir) or s.matches_content("Subject: trivial")]
    assert titles(m.sections_for_patch([path], "Subject: trivial", is_dir=is_dir,
                                       include_catch_all=True)) == everything
    spot = {"hw/virtio/virtio.c": ["Regex only"], "hwmon.c": ["Top-level wildcard"],
            "iw/misc/a.c": ["Bracket start"], "hw/misc/edu.c": ["Bracket start"]}
    if path in spot:
        assert titles(m.sections_for_file(path)) == spot[path]
