"""Known facts of QEMU 10.0, checked on a real tree (opt-in: REVIEWBOT_QEMU_TREE=/path/to/qemu).

Run: REVIEWBOT_QEMU_TREE=/work/qemu/qemu-10.0.13 .venv/bin/python -m pytest tests/realtree -s
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from reviewbot.c.digraph import DiGraph
from reviewbot.c.graph import (
    Chain,
    all_shortest_chains,
    build_graph,
    chains_to,
    find_functions,
    functions_with_role,
    machine_handlers,
    realize_of,
    shortest_chain,
    types_registering,
)
from reviewbot.c.index import index_tree
from reviewbot.patch.tree import DirTree

pytestmark = pytest.mark.realtree


@pytest.fixture(scope="module")
def qemu_graph(tmp_path_factory: pytest.TempPathFactory, qemu_tree: Path) -> DiGraph:
    root = str(qemu_tree)
    cache = os.environ.get("REVIEWBOT_CACHE_DIR") or str(tmp_path_factory.mktemp("cache"))
    facts = index_tree(DirTree(root), ("hw/", "include/", "system/"), cache_dir=cache)
    return build_graph(facts)


def test_pc_dimm_realize_is_the_realize_of_pc_dimm(qemu_graph: DiGraph) -> None:
    assert realize_of(qemu_graph, "TYPE_PC_DIMM") == ["hw/mem/pc-dimm.c::pc_dimm_realize"]
    assert types_registering(qemu_graph, "hw/mem/pc-dimm.c::pc_dimm_realize") == ["TYPE_PC_DIMM"]
    assert qemu_graph.nodes["type::TYPE_PC_DIMM"]["value"] == "pc-dimm"


def test_pc_machine_plug_dispatches_pc_dimm_to_pc_memory_plug(qemu_graph: DiGraph) -> None:
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


def test_pci_qdev_realize_reaches_the_machine_four_calls_down(qemu_graph: DiGraph) -> None:
    (start,) = find_functions(qemu_graph, "pci_qdev_realize")
    assert "realize" in qemu_graph.nodes[start]["roles"]
    chains = all_shortest_chains(qemu_graph, start, "qdev_get_machine")
    assert {c.depth for c in chains} == {4}
    names = {c.names(qemu_graph) for c in chains}
    assert ("pci_qdev_realize", "pci_add_option_rom", "pci_register_bar", "pci_bar_address",
            "qdev_get_machine") in names


def test_count_of_realize_functions_reaching_the_machine(qemu_graph: DiGraph) -> None:
    g = qemu_graph
    realizes = [n for n in functions_with_role(g, "realize")
                if g.nodes[n]["path"].startswith("hw/")]

    def reaching(stop_at: tuple[str, ...]) -> dict[str, Chain]:
        found = {n: chains_to(g, n, ["qdev_get_machine"], max_depth=8, stop_at=stop_at)
                 for n in realizes}
        return {n: c[0] for n, c in found.items() if c}

    # QEMU 10 files orphan memory regions and GPIOs under /machine/unattached through
    # machine_get_container(): the core reaching the machine, not the device. Walking through
    # it makes almost every realize "reach" the machine.
    through_core = reaching(())
    own = reaching(("machine_get_container",))
    by_class = Counter(r.split(".")[0] for n in own for r in g.nodes[n]["roles"]
                       if r.endswith(".realize"))
    device_class = sorted(n for n in own if "DeviceClass.realize" in g.nodes[n]["roles"])
    print(f"\nregistered realize functions in hw/: {len(realizes)}; reaching qdev_get_machine(): "
          f"{len(own)} not through machine_get_container(), {len(through_core)} through it; "
          f"DeviceClass realize: {len(device_class)}; by class hook: {dict(by_class)}")
    # The reference count (39) matches DeviceClass realize hooks; the hooks of subclasses
    # (PCIDeviceClass.realize, ...) mostly get there through pci_register_bar().
    assert 30 <= len(device_class) <= 45
    assert "hw/mem/pc-dimm.c::pc_dimm_realize" in device_class
    assert "hw/pci/pci.c::pci_qdev_realize" in device_class
    assert by_class["PCIDeviceClass"] > 50
    assert len(through_core) > 2 * len(own)
