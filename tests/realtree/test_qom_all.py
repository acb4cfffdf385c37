"""Opt-in: the qemu-qom and comments packs with --all over accepted QEMU device files.

Every file is added as a new file of one patch (so all of it is "changed") and the packs run
on the lot, without a tree index: calls resolve between the files listed here.

Recorded on QEMU 10.0.13 — every finding below was read and is a true instance of its rule
(existing QEMU code does what the rule describes; the rules report only what a series adds,
so these are never reported on the tree itself):

- qom-realize-reaches-machine (15): realize/unrealize of amd-iommu, intel-iommu, x86-iommu,
  sgx-epc, pc-dimm, fw_cfg io/mem (2 deep, plus current_machine 3 deep), the pxb bridges
  (pxb_dev_realize_common), spapr-pci-host-bridge realize/unrealize, vfio-pci (4 deep, via
  vfio_msix_setup), pci_qdev_realize (4 deep, via pci_bar_address) and virtio-mem;
- qom-device-global-state (9): rocker's `rockers`, pxb's `pxb_dev_list`, spapr's
  `spapr_tce_tables`, usb-host's `hostdevs`, usb bus.c's `busses` and `legacy_usb_factory`,
  hyperv's two handler lists, and (since the rule covers any QOM object implementation, issue
  13 item 7) pcie_port.c's `chassis`, the PCIe slots' chassis list kept for the whole process;
- qom-device-machine-done-notifier (4): intel-iommu, fw_cfg, virtio-iommu, the PCI bus;
- qom-walk-whole-tree (2): intel-iommu's machine-done hook and spapr-pci's chassis check;
- qom-realize-memory-device-plug, qom-realize-phase-check, comments-deleted-comment,
  qom-memory-device-no-machine-handler: 0 (the last needs a tree index).
Machine code (hw/i386/pc.c, hw/arm/virt.c, hw/core/machine.c, hw/s390x/s390-virtio-ccw.c)
and the memory-device core (hw/mem/memory-device.c) give nothing.
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

FILES = (
    "hw/mem/cxl_type3.c", "hw/mem/memory-device.c", "hw/mem/npcm7xx_mc.c", "hw/mem/nvdimm.c",
    "hw/mem/pc-dimm.c", "hw/mem/sparse-mem.c",
    "hw/i386/sgx-epc.c", "hw/i386/sgx.c", "hw/virtio/virtio-mem.c", "hw/virtio/virtio-mem-pci.c",
    "hw/virtio/virtio-md-pci.c", "hw/virtio/virtio-pmem.c", "hw/i386/pc.c", "hw/acpi/cpu.c",
    "hw/ppc/spapr_pci.c", "hw/arm/virt.c", "hw/s390x/s390-virtio-ccw.c", "hw/i386/vmport.c",
    "hw/i386/kvm/clock.c", "hw/vfio/pci.c", "hw/virtio/virtio-iommu.c", "hw/i386/amd_iommu.c",
    "hw/i386/intel_iommu.c", "hw/misc/pvpanic-isa.c", "hw/acpi/vmgenid.c", "hw/core/machine.c",
    "hw/i386/fw_cfg.c", "hw/ppc/spapr_drc.c", "hw/nvram/fw_cfg.c", "hw/i386/x86-iommu.c",
    "hw/arm/smmuv3.c", "hw/acpi/ghes.c", "hw/remote/proxy.c", "hw/net/rocker/rocker.c",
    "hw/ppc/spapr_iommu.c", "hw/pci-bridge/pci_expander_bridge.c", "hw/usb/host-libusb.c",
    "hw/pci/pcie_port.c", "hw/usb/bus.c", "hw/pci/pci.c", "hw/net/can/xlnx-versal-canfd.c",
    "hw/hyperv/hyperv.c", "hw/smbios/smbios.c",
)

EXPECTED = {
    ("qom-realize-reaches-machine", "hw/i386/amd_iommu.c"): 1,
    ("qom-realize-reaches-machine", "hw/i386/intel_iommu.c"): 1,
    ("qom-realize-reaches-machine", "hw/i386/sgx-epc.c"): 1,
    ("qom-realize-reaches-machine", "hw/i386/x86-iommu.c"): 1,
    ("qom-realize-reaches-machine", "hw/mem/pc-dimm.c"): 1,
    ("qom-realize-reaches-machine", "hw/nvram/fw_cfg.c"): 2,
    ("qom-realize-reaches-machine", "hw/pci-bridge/pci_expander_bridge.c"): 3,
    ("qom-realize-reaches-machine", "hw/pci/pci.c"): 1,
    ("qom-realize-reaches-machine", "hw/ppc/spapr_pci.c"): 2,
    ("qom-realize-reaches-machine", "hw/vfio/pci.c"): 1,
    ("qom-realize-reaches-machine", "hw/virtio/virtio-mem.c"): 1,
    ("qom-device-global-state", "hw/hyperv/hyperv.c"): 2,
    ("qom-device-global-state", "hw/net/rocker/rocker.c"): 1,
    ("qom-device-global-state", "hw/pci-bridge/pci_expander_bridge.c"): 1,
    ("qom-device-global-state", "hw/pci/pcie_port.c"): 1,
    ("qom-device-global-state", "hw/ppc/spapr_iommu.c"): 1,
    ("qom-device-global-state", "hw/usb/bus.c"): 2,
    ("qom-device-global-state", "hw/usb/host-libusb.c"): 1,
    ("qom-device-machine-done-notifier", "hw/i386/intel_iommu.c"): 1,
    ("qom-device-machine-done-notifier", "hw/nvram/fw_cfg.c"): 1,
    ("qom-device-machine-done-notifier", "hw/pci/pci.c"): 1,
    ("qom-device-machine-done-notifier", "hw/virtio/virtio-iommu.c"): 1,
    ("qom-walk-whole-tree", "hw/i386/intel_iommu.c"): 1,
    ("qom-walk-whole-tree", "hw/ppc/spapr_pci.c"): 1,
}


def test_qom_and_comments_packs_over_real_device_files(qemu_tree: Path) -> None:
    root = qemu_tree
    files = [(f, (root / f).read_text(encoding="utf-8", errors="replace"))
             for f in FILES if (root / f).is_file()]
    assert len(files) == len(FILES), "some files are missing from this QEMU tree"
    rules = [r for r in load_rules() if r.pack in ("qemu-qom", "comments")]
    result = run_check(synthetic_series(files), Options(all_files=True), rules)
    assert not [f for f in result.findings if f.rule == "could-not-analyse"]
    counts = Counter((f.rule, f.path) for f in result.findings)
    assert dict(counts) == EXPECTED
    by_rule = Counter(f.rule for f in result.findings)
    assert by_rule == {"qom-realize-reaches-machine": 15, "qom-device-global-state": 9,
                       "qom-device-machine-done-notifier": 4, "qom-walk-whole-tree": 2}
    vfio = next(f for f in result.findings if f.path == "hw/vfio/pci.c")
    assert vfio.evidence[0].startswith(
        "vfio_realize -> vfio_add_capabilities -> vfio_add_std_cap -> vfio_msix_setup -> "
        "qdev_get_machine()")


def test_with_the_tree_the_fix_names_the_pc_dimm_handlers(qemu_tree: Path) -> None:
    """A new memory device checked against the real tree (whole-tree index): the evidence
    names how hw/i386/pc.c plugs pc-dimm, and that no machine plugs the new type."""
    root = qemu_tree
    example = Path(__file__).resolve().parents[2] / "corpus" / "memdev" / "v1.mbox"
    from reviewbot.ingest import load

    patch = load(str(example)).patches[0]
    device = next(f for f in patch.files if f.path == "hw/mem/memdev-window.c")
    text = "\n".join(ln.text for h in device.hunks for ln in h.lines) + "\n"
    rules = [r for r in load_rules() if r.pack == "qemu-qom"]
    series = synthetic_series([("hw/mem/memdev-window.c", text)])
    result = run_check(series, Options(tree=str(root)), rules)
    by_rule = {f.rule: f for f in result.findings}
    assert by_rule["qom-realize-reaches-machine"].evidence[-1] == (
        "the machine does this for a similar device: pc_machine_device_plug_cb() in "
        "hw/i386/pc.c hands TYPE_PC_DIMM to pc_memory_plug() (line 1438)")
    assert by_rule["qom-realize-memory-device-plug"].evidence[-1].startswith(
        "the machine does this for other devices: pc_machine_device_")
    assert "pc_dimm_" in by_rule["qom-realize-memory-device-plug"].evidence[-1]
    missing = by_rule["qom-memory-device-no-machine-handler"]
    assert missing.line == 168
    assert "TYPE_PC_DIMM" in missing.evidence[-1]
