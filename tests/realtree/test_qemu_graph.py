"""Known facts of QEMU 10.0, checked on a real tree (opt-in: REVIEWBOT_QEMU_TREE=/path/to/qemu).

Run: REVIEWBOT_QEMU_TREE=/work/qemu/qemu-10.0.13 .venv/bin/python -m pytest tests/realtree -s
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

from reviewbot.graph import (
    all_shortest_chains,
    build_graph,
    find_functions,
    functions_with_role,
    machine_handlers,
    realize_of,
    shortest_chain,
    types_registering,
)
from reviewbot.index import index_tree
from reviewbot.tree import DirTree

pytestmark = pytest.mark.realtree


@pytest.fixture(scope="module")
def qemu_graph(tmp_path_factory: pytest.TempPathFactory) -> nx.DiGraph:
    root = os.environ.get("REVIEWBOT_QEMU_TREE")
    if not root:
        pytest.skip("REVIEWBOT_QEMU_TREE is not set (a QEMU 10.0 source tree; see "
                    "../shared/scripts/get-qemu-tree)")
    if not (Path(root) / "hw").is_dir():
        pytest.skip(f"REVIEWBOT_QEMU_TREE={root} has no hw/ directory")
    cache = os.environ.get("REVIEWBOT_CACHE_DIR") or str(tmp_path_factory.mktemp("cache"))
    facts = index_tree(DirTree(root), ("hw/", "include/", "system/"), cache_dir=cache)
    return build_graph(facts)


def test_pc_dimm_realize_is_the_realize_of_pc_dimm(qemu_graph: nx.DiGraph) -> None:
    assert realize_of(qemu_graph, "TYPE_PC_DIMM") == ["hw/mem/pc-dimm.c::pc_dimm_realize"]
    assert types_registering(qemu_graph, "hw/mem/pc-dimm.c::pc_dimm_realize") == ["TYPE_PC_DIMM"]
    assert qemu_graph.nodes["type::TYPE_PC_DIMM"]["value"] == "pc-dimm"


def test_pc_machine_plug_dispatches_pc_dimm_to_pc_memory_plug(qemu_graph: nx.DiGraph) -> None:
    handler = "hw/i386/pc.c::pc_machine_device_plug_cb"
    assert "machine_plug" in qemu_graph.nodes[handler]["roles"]
    found = [d for d in machine_handlers(qemu_graph, "TYPE_PC_DIMM", role="machine_plug")
             if d.handler == handler]
    assert [(d.target, d.type) for d in found] == [
        ("hw/i386/pc.c::pc_memory_plug", "TYPE_PC_DIMM")]
    chain = shortest_chain(qemu_graph, "hw/i386/pc.c::pc_memory_plug", ["memory_device_plug"])
    assert chain is not None
    assert chain.names(qemu_graph) == ("pc_memory_plug", "pc_dimm_plug", "memory_device_plug")
    assert chain.nodes[-1] == "hw/mem/memory-device.c::memory_device_plug"


def test_pci_qdev_realize_reaches_the_machine_four_calls_down(qemu_graph: nx.DiGraph) -> None:
    (start,) = find_functions(qemu_graph, "pci_qdev_realize")
    assert "realize" in qemu_graph.nodes[start]["roles"]
    chains = all_shortest_chains(qemu_graph, start, "qdev_get_machine")
    assert {c.depth for c in chains} == {4}
    names = {c.names(qemu_graph) for c in chains}
    assert ("pci_qdev_realize", "pci_add_option_rom", "pci_register_bar", "pci_bar_address",
            "qdev_get_machine") in names


def test_count_of_realize_functions_reaching_the_machine(qemu_graph: nx.DiGraph) -> None:
    realizes = [n for n in functions_with_role(qemu_graph, "realize")
                if qemu_graph.nodes[n]["path"].startswith("hw/")]
    reaching = {n: shortest_chain(qemu_graph, n, ["qdev_get_machine"], max_depth=8)
                for n in realizes}
    reaching = {n: c for n, c in reaching.items() if c is not None}
    by_class = Counter(
        cls for n in reaching for cls in (
            r.split(".")[0] for r in qemu_graph.nodes[n]["roles"] if r.endswith(".realize")))
    device_class = sorted(n for n in reaching
                          if "DeviceClass.realize" in qemu_graph.nodes[n]["roles"])
    print(f"\nregistered realize functions in hw/: {len(realizes)}; "
          f"reaching qdev_get_machine(): {len(reaching)} (by class hook: {dict(by_class)}); "
          f"DeviceClass realize only: {len(device_class)}")
    # The reference count (39) is of DeviceClass realize hooks; hooks of subclasses
    # (PCIDeviceClass.realize, ...) reach it mostly through pci_register_bar().
    assert 30 <= len(device_class) <= 45
    assert "hw/mem/pc-dimm.c::pc_dimm_realize" in device_class
    assert "hw/pci/pci.c::pci_qdev_realize" in device_class
    assert by_class["PCIDeviceClass"] > 50
