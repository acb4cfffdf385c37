"""The QOM graph over the fixtures: exact nodes, roles and edges, and the queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.c.digraph import DiGraph
from reviewbot.c.facts import extract
from reviewbot.c.graph import (
    all_shortest_chains,
    build_graph,
    chains_to,
    dispatch_handlers,
    find_functions,
    focus,
    functions_with_role,
    is_machine_type,
    machine_handlers,
    realize_of,
    shortest_chain,
    to_json,
    type_ancestors,
    type_id,
    types_registering,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "c"
FILES = ("hw/misc/foo-dev.c", "hw/misc/foo-pci.c", "hw/toy/toy-machine.c", "hw/toy/macro-heavy.c")


@pytest.fixture(scope="module")
def g() -> DiGraph:
    return build_graph(extract(p, (FIXTURES / p).read_text(encoding="utf-8")) for p in FILES)


DEV = "hw/misc/foo-dev.c"
TOY = "hw/toy/toy-machine.c"


def test_function_nodes_and_attributes(g: DiGraph) -> None:
    node = g.nodes[f"{DEV}::foo_dev_realize"]
    assert node == {
        "kind": "function", "name": "foo_dev_realize", "path": DEV, "line": 53,
        "end_line": 66, "static": True, "defined": True, "partial": False,
        "roles": ["DeviceClass.realize", "realize"], "settings": [],
    }
    ext = g.nodes["fn::qdev_get_machine"]
    assert (ext["kind"], ext["defined"], ext["path"]) == ("function", False, "")


def test_roles_come_from_registration_only(g: DiGraph) -> None:
    assert functions_with_role(g, "realize") == [
        f"{DEV}::foo_dev_realize",
        "hw/misc/foo-pci.c::foo_pci_realize",
        "hw/misc/foo-pci.c::foo_pci_v2_realize",
    ]
    # named like a realize, never registered: a helper with no role
    assert g.nodes[f"{DEV}::foo_dev_helper_realize"]["roles"] == []
    assert functions_with_role(g, "unrealize") == [f"{DEV}::foo_dev_unrealize"]
    assert functions_with_role(g, "class_init") == [
        f"{DEV}::foo_dev_class_init", "hw/misc/foo-pci.c::foo_pci_class_init",
        "hw/misc/foo-pci.c::foo_pci_v2_class_init", f"{TOY}::toy_bridge_class_init",
        f"{TOY}::toy_machine_class_init"]
    assert functions_with_role(g, "type_init") == [
        f"{DEV}::foo_dev_register_types", "hw/toy/macro-heavy.c::heavy_init"]
    assert functions_with_role(g, "machine_done_notifier") == [
        f"{DEV}::foo_dev_machine_done", "hw/toy/macro-heavy.c::heavy_exit_notify"]
    assert g.nodes["hw/misc/foo-pci.c::foo_pci_realize"]["roles"] == [
        "PCIDeviceClass.realize", "realize"]


def test_machine_handler_roles(g: DiGraph) -> None:
    assert g.nodes[f"{TOY}::toy_machine_plug"]["roles"] == [
        "HotplugHandlerClass.plug", "machine_plug", "plug"]
    assert g.nodes[f"{TOY}::toy_machine_pre_plug"]["roles"] == [
        "HotplugHandlerClass.pre_plug", "machine_pre_plug", "pre_plug"]
    # the bridge's handler is a hotplug handler, not a machine's
    assert g.nodes[f"{TOY}::toy_bridge_plug"]["roles"] == ["HotplugHandlerClass.plug", "plug"]
    assert g.nodes[f"{DEV}::foo_dev_class_init"]["settings"] == ["dc->hotpluggable = false"]


def test_registration_and_type_edges(g: DiGraph) -> None:
    reg = g.edges[f"{DEV}::foo_dev_class_init", f"{DEV}::foo_dev_realize"]
    assert (reg["kind"], reg["role"], reg["cls"], reg["line"], reg["via"]) == (
        "register", "realize", "DeviceClass", 80, "assign")
    parent = g.edges["hw/misc/foo-pci.c::foo_pci_v2_class_init",
                     "hw/misc/foo-pci.c::foo_pci_v2_realize"]
    assert (parent["kind"], parent["via"]) == ("register", "device_class_set_parent_realize")
    assert g.edges["type::TYPE_FOO_DEV", f"{DEV}::foo_dev_class_init"]["kind"] == "typeinfo"
    assert g.edges["type::TYPE_FOO_DEV", "type::TYPE_DEVICE"]["kind"] == "parent"
    assert g.edges["type::TYPE_FOO_DEV", "type::TYPE_MEMORY_DEVICE"]["kind"] == "interface"
    assert g.edges["type::TYPE_FOO_PCI_V2", "type::TYPE_FOO_PCI"]["kind"] == "parent"
    node = g.nodes["type::TYPE_FOO_DEV"]
    assert (node["value"], node["path"], node["line"], node["defined"]) == (
        "foo-dev", DEV, 85, True)
    notify = g.edges[f"{DEV}::foo_dev_realize", f"{DEV}::foo_dev_machine_done"]
    assert (notify["kind"], notify["role"], notify["line"]) == (
        "register", "machine_done_notifier", 65)


def test_call_edges_with_lines(g: DiGraph) -> None:
    e = g.edges[f"{DEV}::foo_dev_realize", f"{DEV}::foo_dev_place"]
    assert (e["kind"], e["line"], e["lines"]) == ("call", 61, [61])
    e = g.edges["hw/toy/macro-heavy.c::heavy_exit_notify", "hw/toy/macro-heavy.c::heavy_count"]
    assert (e["kind"], e["line"]) == ("call", 54)


def test_realize_reaches_machine_through_helpers(g: DiGraph) -> None:
    (chain,) = chains_to(g, f"{DEV}::foo_dev_realize", ["qdev_get_machine"])
    assert chain.names(g) == ("foo_dev_realize", "foo_dev_place", "foo_machine_ram",
                              "qdev_get_machine")
    assert chain.lines == (61, 37, 30)
    assert chain.describe(g) == (
        f"foo_dev_realize() -> foo_dev_place() ({DEV}:61) -> foo_machine_ram() ({DEV}:37)"
        f" -> qdev_get_machine() ({DEV}:30)")
    # bounded depth: two calls are not enough to get there
    assert chains_to(g, f"{DEV}::foo_dev_realize", ["qdev_get_machine"], max_depth=2) == []
    # unrealize reaches only the helper, not the machine
    assert shortest_chain(g, f"{DEV}::foo_dev_unrealize", ["qdev_get_machine"]) is None


def test_dispatch_edges_and_machine_handlers(g: DiGraph) -> None:
    e = g.edges[f"{TOY}::toy_machine_plug", f"{TOY}::toy_dimm_plug"]
    assert (e["kind"], e["types"], e["line"], e["kinds"]) == (
        "dispatch", ["TYPE_PC_DIMM"], 40, ["call", "dispatch"])
    e = g.edges[f"{TOY}::toy_machine_plug", f"{TOY}::toy_foo_plug"]
    assert (e["kind"], e["types"]) == ("dispatch", ["TYPE_FOO_DEV"])
    # the negated test does not make error_setg a per-type handler
    assert g.edges[f"{TOY}::toy_machine_plug", "fn::error_setg"]["kind"] == "call"

    got = [(d.handler.split("::")[1], d.target.split("::")[1], d.type)
           for d in machine_handlers(g)]
    assert got == [
        ("toy_machine_plug", "toy_dimm_plug", "TYPE_PC_DIMM"),
        ("toy_machine_plug", "toy_foo_plug", "TYPE_FOO_DEV"),
        ("toy_machine_pre_plug", "toy_dimm_pre_plug", "TYPE_PC_DIMM"),
    ]
    plug_dimm = machine_handlers(g, "TYPE_PC_DIMM", role="machine_plug")
    assert [(d.target, d.line) for d in plug_dimm] == [(f"{TOY}::toy_dimm_plug", 40)]
    # the bridge dispatches too, but is no machine handler
    assert [d.handler for d in dispatch_handlers(g, "TYPE_PC_DIMM")] == [
        f"{TOY}::toy_bridge_plug", f"{TOY}::toy_machine_plug", f"{TOY}::toy_machine_pre_plug"]
    chain = shortest_chain(g, plug_dimm[0].target, ["memory_device_plug"])
    assert chain is not None
    assert chain.names(g) == ("toy_dimm_plug", "memory_device_plug")


def test_type_queries(g: DiGraph) -> None:
    assert realize_of(g, "TYPE_FOO_DEV") == [f"{DEV}::foo_dev_realize"]
    assert realize_of(g, "TYPE_FOO_PCI") == ["hw/misc/foo-pci.c::foo_pci_realize"]
    assert realize_of(g, "TYPE_TOY_BRIDGE") == []
    assert types_registering(g, f"{DEV}::foo_dev_realize") == ["TYPE_FOO_DEV"]
    assert type_ancestors(g, "TYPE_FOO_PCI_V2") == ["TYPE_FOO_PCI", "TYPE_PCI_DEVICE"]
    assert find_functions(g, "foo_dev_place") == [f"{DEV}::foo_dev_place"]


def test_globals(g: DiGraph) -> None:
    node = g.nodes[f"global::{DEV}::foo_devices"]
    assert (node["kind"], node["gkind"], node["static"], node["line"]) == (
        "global", "qlist_head", True, 23)
    assert g.nodes["global::hw/toy/macro-heavy.c::exit_notifier"]["gkind"] == "notifier"
    use = g.edges[f"{DEV}::foo_dev_realize", f"global::{DEV}::foo_devices"]
    assert (use["kind"], use["line"]) == ("uses", 62)
    # a use is not a call: chains do not go through globals
    assert not chains_to(g, f"{DEV}::foo_dev_realize", ["foo_devices"])


def test_string_type_names_join_their_define() -> None:
    a = extract("include/hw/bar.h", '#define TYPE_BAR "bar"\n')
    b = extract("hw/bar.c", 'static const TypeInfo bar_info = {\n    .name = "bar",\n'
                '    .parent = TYPE_DEVICE,\n    .class_init = bar_class_init,\n};\n'
                "static void bar_class_init(ObjectClass *oc, void *data)\n{\n"
                "    DeviceClass *dc = DEVICE_CLASS(oc);\n    dc->realize = bar_realize;\n}\n")
    g = build_graph([a, b])
    assert g.nodes["type::TYPE_BAR"]["value"] == "bar"
    assert g.nodes["type::TYPE_BAR"]["path"] == "hw/bar.c"
    assert realize_of(g, "TYPE_BAR") == ["fn::bar_realize"]  # registered, defined elsewhere


def test_cross_file_resolution_prefers_real_over_stub_and_later_facts_win() -> None:
    caller = extract("hw/a.c", "void a(void)\n{\n    helper();\n}\n")
    real = extract("hw/b.c", "void helper(void)\n{\n}\n")
    stub = extract("stubs/helper.c", "void helper(void)\n{\n}\n")
    g = build_graph([caller, real, stub])
    assert list(g.successors("hw/a.c::a")) == ["hw/b.c::helper"]
    newer = extract("hw/a.c", "void a(void)\n{\n    other();\n}\n")
    g = build_graph([caller, real, newer])
    assert list(g.successors("hw/a.c::a")) == ["fn::other"]


def test_focus_and_json(g: DiGraph) -> None:
    sub = focus(g, "foo_dev_realize", depth=3)
    assert f"{DEV}::foo_dev_realize" in sub
    assert "fn::qdev_get_machine" in sub
    assert f"{DEV}::foo_dev_class_init" in sub  # who registers it
    assert "type::TYPE_FOO_DEV" in sub  # and for which type
    assert f"{TOY}::toy_machine_plug" not in sub
    data = to_json(sub)
    ids = [n["id"] for n in data["nodes"]]
    assert ids == sorted(ids)
    edge = next(e for e in data["edges"] if e["source"] == f"{DEV}::foo_machine_ram")
    assert (edge["target"], edge["kind"], edge["line"]) == ("fn::qdev_get_machine", "call", 30)


def test_every_query_answers_the_same_on_a_networkx_graph(g: DiGraph) -> None:
    """The queries are free functions over networkx's graph interface: handed the same graph
    as a networkx.DiGraph they give the same answers."""
    theirs = g.to_networkx()
    assert to_json(theirs) == to_json(g)
    realizes = functions_with_role(g, "realize")
    assert realizes and functions_with_role(theirs, "realize") == realizes
    for start in realizes:
        machine = ["qdev_get_machine"]
        assert chains_to(theirs, start, machine) == chains_to(g, start, machine)
        assert (all_shortest_chains(theirs, start, machine[0])
                == all_shortest_chains(g, start, machine[0]))
        assert to_json(focus(theirs, start)) == to_json(focus(g, start))
        assert types_registering(theirs, start) == types_registering(g, start)
    assert any(chains_to(g, s, ["qdev_get_machine"]) for s in realizes)
    assert dispatch_handlers(theirs) == dispatch_handlers(g) != []
    assert machine_handlers(theirs) == machine_handlers(g) != []
    types = sorted(n for n, d in g.nodes(data=True) if d["kind"] == "type")
    for tid in types:
        name = g.nodes[tid]["name"]
        assert type_ancestors(theirs, name) == type_ancestors(g, name)
        assert realize_of(theirs, name, inherited=True) == realize_of(g, name, inherited=True)
        assert is_machine_type(theirs, tid) == is_machine_type(g, tid)
    assert any(is_machine_type(g, t) for t in types) and type_id("TYPE_MACHINE") in g
    assert find_functions(theirs, "foo_dev_realize") == find_functions(g, "foo_dev_realize")
