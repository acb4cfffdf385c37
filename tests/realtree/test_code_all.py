"""Opt-in: the c-code pack with --all over accepted QEMU code, and the parameter counts its
bound comes from.

Every .c file under hw/mem, hw/i386, hw/virtio, hw/core and hw/acpi (QEMU 10.0.13) is added
as a new file of one patch, so all of it counts as added. Recorded there, and read:

- code-repeated-lookup, code-undocumented-hook-list: nothing. Over the whole tree (roms/
  aside) no file holds one search loop three times, and no notifier list extends another's
  name; these rules speak only when a series does what the threads they come from did.
- code-copied-statements (14): stretches of 8 to 16 statements copied between functions of
  one file: xen_evtchn's port operations, xen_xenstore's watch handling, cxl_type3's QMP
  event injectors and address translation, vhost's backend state save/load, virtio-nsm's
  request parsers, and split vs packed virtqueue pop in virtio.c. Each is code a reviewer
  would ask to share if a patch added it.
- code-parameter-growth says nothing on new files (nothing grew); see the count below.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reviewbot.c.facts import extract
from reviewbot.checks.code import code_of, definition_params
from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.review.examples import synthetic_series
from reviewbot.rules.loader import load_rules

pytestmark = pytest.mark.realtree

DIRS = ("hw/mem", "hw/i386", "hw/virtio", "hw/core", "hw/acpi")

EXPECTED = [
    ("hw/i386/kvm/xen_evtchn.c", 758, 806), ("hw/i386/kvm/xen_evtchn.c", 883, 917),
    ("hw/i386/kvm/xen_xenstore.c", 970, 994),
    ("hw/mem/cxl_type3.c", 973, 984), ("hw/mem/cxl_type3.c", 1322, 1339),
    ("hw/mem/cxl_type3.c", 1708, 1733), ("hw/mem/cxl_type3.c", 1809, 1833),
    ("hw/virtio/vhost.c", 2329, 2350),
    ("hw/virtio/virtio-nsm.c", 264, 277), ("hw/virtio/virtio-nsm.c", 415, 428),
    ("hw/virtio/virtio-nsm.c", 663, 698), ("hw/virtio/virtio-nsm.c", 798, 817),
    ("hw/virtio/virtio-nsm.c", 1412, 1425),
    ("hw/virtio/virtio.c", 1906, 1926),
]


def _files(root: Path) -> list[tuple[str, str]]:
    return [(str(p.relative_to(root)), p.read_text(encoding="utf-8", errors="replace"))
            for d in DIRS for p in sorted((root / d).rglob("*.c"))]


def test_c_code_pack_over_real_device_files(qemu_tree: Path) -> None:
    files = _files(qemu_tree)
    assert len(files) > 150
    rules = [r for r in load_rules() if r.pack == "c-code"]
    result = run_check(synthetic_series(files), Options(all_files=True), rules)
    assert not [f for f in result.findings if f.rule == "could-not-analyse"]
    assert Counter(f.rule for f in result.findings) == {"code-copied-statements": 14}
    assert [(f.path, f.line, f.end_line) for f in result.findings] == EXPECTED
    virtio = next(f for f in result.findings if f.path == "hw/virtio/virtio.c")
    assert virtio.evidence == (
        "8 statements the same as hw/virtio/virtio.c:1769-1789 in virtqueue_split_pop()",)


def test_five_parameters_is_the_long_tail(qemu_tree: Path) -> None:
    """The bound of code-parameter-growth: in hw/ of QEMU 10.0, under a tenth of function
    definitions take five parameters or more, and half take two or fewer."""
    root = qemu_tree
    counts: Counter[int] = Counter()
    for p in sorted((root / "hw").rglob("*.c")):
        text = p.read_text(encoding="utf-8", errors="replace")
        code = code_of(text)
        for fn in extract(str(p.relative_to(root)), text).functions:
            found = definition_params(code, fn.name, fn.line)
            if found is not None:
                counts[len(found.params)] += 1
    total = sum(counts.values())
    assert total > 15000
    at_least_five = sum(n for k, n in counts.items() if k >= 5) / total
    at_most_two = sum(n for k, n in counts.items() if k <= 2) / total
    assert 0.05 < at_least_five < 0.10
    assert at_most_two > 0.5
