"""Opt-in: the qemu-practice pack with --all over a few QEMU 10.0.13 files.

Each place below was read in the tree and is a true instance of its rule (the tree is old
code; a review only reports what a series adds). The whole-tree figures and the sampled
judgements are in rules/qemu-practice/README.md (bench/practice_precision.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.review.examples import synthetic_series
from reviewbot.rules.loader import load_rules

pytestmark = pytest.mark.realtree

FILES = ("hw/watchdog/wdt_aspeed.c", "hw/virtio/vdpa-dev.c", "hw/intc/riscv_aclint.c",
         "hw/net/net_rx_pkt.c", "hw/intc/exynos4210_combiner.c", "hw/char/imx_serial.c",
         "hw/i386/xen/xen-pvh.c")

EXPECTED = {
    # vhost_vdpa_device_realize(): `if (*errp)` after calls that set it, no ERRP_GUARD()
    ("qemu-errp-deref-without-guard", "hw/virtio/vdpa-dev.c"): [66, 72, 78, 92, 130],
    # riscv_aclint_mtimer/swi realize: error_report("... already claimed"); exit(1);
    ("qemu-errp-error-report", "hw/intc/riscv_aclint.c"): [299, 489],
    ("qemu-errp-exit", "hw/intc/riscv_aclint.c"): [300, 490],
    # hw_error() on guest register accesses
    ("qemu-guest-error-report", "hw/intc/exynos4210_combiner.c"): [122, 186, 192, 198, 248],
    # static helpers named _net_rx_...
    ("qemu-reserved-identifier", "hw/net/net_rx_pkt.c"): [235, 244, 258, 276, 290, 490, 542],
    ("qemu-vmstate-name-prefix", "hw/watchdog/wdt_aspeed.c"): [232],
    ("qemu-g-malloc-sizeof", "hw/i386/xen/xen-pvh.c"): [48],
    ("qemu-g-malloc-sizeof", "hw/net/net_rx_pkt.c"): [81],
    ("qemu-debug-printf-macro", "hw/char/imx_serial.c"): [36],
    ("qemu-debug-printf-macro", "hw/intc/exynos4210_combiner.c"): [44],
    # one finding per registering function, not per type
    ("qemu-type-register-static", "hw/watchdog/wdt_aspeed.c"): [464],
}


def test_practice_pack_on_tree_files(qemu_tree: Path) -> None:
    rules = [r for r in load_rules() if r.pack == "qemu-practice"]
    series = synthetic_series([(f, (qemu_tree / f).read_text(encoding="utf-8",
                                                              errors="replace"))
                               for f in FILES])
    findings = run_check(series, Options(all_files=True), rules).findings
    assert not [f for f in findings if f.rule == "could-not-analyse"]
    got: dict[tuple[str, str], list[int]] = {}
    for f in findings:
        if f.path is not None and f.line is not None:
            got.setdefault((f.rule, f.path), []).append(f.line)
    for key, lines in EXPECTED.items():
        assert sorted(got.get(key, [])) == lines, key
    # nothing from the machine-only rules in device files
    per_rule = Counter(rule for rule, _ in got)
    assert per_rule["qemu-get-machine-with-machine-param"] == 0
    assert per_rule["qemu-get-machine-in-machine-hotplug"] == 0
