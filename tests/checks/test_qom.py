"""QOM primitives on small device files: what fires, where, with which evidence — and where
they stay quiet (machine code, other roles, other directories, const data)."""

from __future__ import annotations

from pathlib import Path

from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.finding import Finding
from reviewbot.review.examples import synthetic_series
from reviewbot.rules.loader import load_rules

RULES = {r.id: r for r in load_rules()}


def check(files: dict[str, str], rule: str, **options: object) -> list[Finding]:
    series = synthetic_series(list(files.items()))
    return list(run_check(series, Options(**options), [RULES[rule]]).findings)  # type: ignore[arg-type]


def device(name: str, realize_body: str, *, extra: str = "", class_extra: str = "",
           parent: str = "TYPE_DEVICE", interfaces: str = "") -> str:
    ifaces = (f"    .interfaces = (InterfaceInfo[]) {{\n        {{ {interfaces} }},\n"
              "        { }\n    },\n") if interfaces else ""
    return f"""#include "qemu/osdep.h"
{extra}
static void {name}_realize(DeviceState *dev, Error **errp)
{{
{realize_body}
}}

static void {name}_class_init(ObjectClass *oc, void *data)
{{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = {name}_realize;
{class_extra}
}}

static const TypeInfo {name}_info = {{
    .name = TYPE_{name.upper()},
    .parent = {parent},
    .class_init = {name}_class_init,
{ifaces}}};
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, t in enumerate(text.splitlines(), 1) if needle in t)


# ---------------------------------------------------------------- qom-realize-reaches-machine

def test_direct_use_of_current_machine() -> None:
    text = device("knob", "    int n = current_machine->smp.cpus;\n    (void)n;")
    [f] = check({"hw/misc/knob.c": text}, "qom-realize-reaches-machine")
    assert (f.path, f.line) == ("hw/misc/knob.c", line_of(text, "current_machine"))
    assert f.evidence[0].startswith("knob_realize -> current_machine  [hw/misc/knob.c:")
    assert f.message == "knob_realize() reaches the machine: knob_realize -> current_machine"


def test_chain_through_a_helper_in_another_file_of_the_same_directory() -> None:
    helper = "#include \"qemu/osdep.h\"\n\nint knob_bank(void)\n{\n" \
             "    return MACHINE(qdev_get_machine())->smp.cpus;\n}\n"
    text = device("knob", "    knob_bank();")
    [f] = check({"hw/misc/knob.c": text, "hw/misc/knob-util.c": helper},
                "qom-realize-reaches-machine")
    assert (f.path, f.line) == ("hw/misc/knob.c", line_of(text, "knob_bank();"))
    assert f.evidence[0] == ("knob_realize -> knob_bank -> qdev_get_machine()  "
                             "[hw/misc/knob.c:5, hw/misc/knob-util.c:5]")


def test_helpers_outside_the_directory_are_not_followed() -> None:
    helper = "int knob_bank(void)\n{\n    return MACHINE(qdev_get_machine())->smp.cpus;\n}\n"
    text = device("knob", "    knob_bank();")
    assert check({"hw/misc/knob.c": text, "hw/core/bank.c": helper},
                 "qom-realize-reaches-machine") == []


def test_machine_code_is_not_device_code() -> None:
    board = device("toy_board", "    MachineState *ms = MACHINE(qdev_get_machine());",
                   parent="TYPE_MACHINE")
    assert check({"hw/i386/toy-board.c": board}, "qom-realize-reaches-machine") == []


def test_functions_without_the_role_are_ignored() -> None:
    text = device("knob", "    (void)dev;",
                  extra="static void knob_reset(DeviceState *dev)\n{\n"
                        "    (void)qdev_get_machine();\n}\n")
    assert check({"hw/misc/knob.c": text}, "qom-realize-reaches-machine") == []


# ---------------------------------------------------------------- qom-device-global-state

def test_global_lists_and_a_notifier_with_its_flag() -> None:
    extra = ("static GList *knob_all;\n"
             "static Notifier knob_exit;\n"
             "static bool knob_exit_registered;\n"
             "static const char *const knob_names[] = { \"a\" };\n")
    text = device("knob", "    (void)dev;", extra=extra)
    found = check({"hw/misc/knob.c": text}, "qom-device-global-state")
    assert [(f.line, f.message) for f in found] == [
        (2, "file-global GList 'knob_all' keeps device state outside the device"),
        (3, "file-global Notifier 'knob_exit' keeps device state outside the device"),
    ]
    assert "knob_exit_registered (line 4)" in found[1].evidence[1]


def test_a_notifier_alone_and_lists_outside_device_code_are_quiet() -> None:
    text = device("knob", "    (void)dev;", extra="static Notifier knob_exit;\n")
    assert check({"hw/misc/knob.c": text}, "qom-device-global-state") == []
    library = "#include \"qemu/osdep.h\"\nstatic GSList *pending;\n"
    assert check({"hw/core/pending.c": library}, "qom-device-global-state") == []
    board = device("toy_board", "    (void)dev;", extra="static GSList *boards;\n",
                   parent="TYPE_X86_MACHINE")
    assert check({"hw/i386/toy.c": board}, "qom-device-global-state") == []


# ---------------------------------------------------------------- notifier / phase / walk

def test_machine_done_notifier_from_instance_init() -> None:
    extra = ("static void knob_done(Notifier *n, void *data)\n{\n}\n\n"
             "static void knob_init(Object *obj)\n{\n    KnobState *s = KNOB(obj);\n\n"
             "    s->done.notify = knob_done;\n"
             "    qemu_add_machine_init_done_notifier(&s->done);\n}\n")
    text = device("knob", "    (void)dev;", extra=extra)
    [f] = check({"hw/misc/knob.c": text}, "qom-device-machine-done-notifier")
    assert f.line == line_of(text, "qemu_add_machine_init_done_notifier")
    assert f.message == "knob_init() registers a machine-init-done notifier that runs knob_done()"


def test_phase_check_needs_hotpluggable_false_in_the_registering_class_init() -> None:
    body = "    if (phase_check(PHASE_MACHINE_READY)) {\n        return;\n    }"
    quiet = device("knob", body)
    assert check({"hw/misc/knob.c": quiet}, "qom-realize-phase-check") == []
    loud = device("knob", body, class_extra="    dc->hotpluggable = false;")
    [f] = check({"hw/misc/knob.c": loud}, "qom-realize-phase-check")
    assert f.line == line_of(loud, "phase_check")
    assert f.evidence[1] == (f"knob_class_init() sets dc->hotpluggable = false "
                             f"(hw/misc/knob.c:{line_of(loud, 'hotpluggable')})")


def test_walk_needs_a_type_picking_callback() -> None:
    extra = ("static int knob_each(Object *obj, void *opaque)\n{\n    return 0;\n}\n")
    body = "    object_child_foreach_recursive(qdev_get_machine(), knob_each, NULL);"
    assert check({"hw/misc/knob.c": device("knob", body, extra=extra)},
                 "qom-walk-whole-tree") == []
    picky = extra.replace("return 0;", "return !!object_dynamic_cast(obj, TYPE_KNOB);")
    text = device("knob", body.replace("qdev_get_machine()", "OBJECT(qdev_get_machine())"),
                  extra=picky)
    [f] = check({"hw/misc/knob.c": text}, "qom-walk-whole-tree")
    assert f.line == line_of(text, "object_child_foreach_recursive")
    assert f.severity.name == "INFO"


# ---------------------------------------------------------------- with a tree: machine handlers

TOY_DIMM = """#include "qemu/osdep.h"

void pc_dimm_pre_plug(PCDIMMDevice *dimm, MachineState *machine, Error **errp)
{
    memory_device_pre_plug(MEMORY_DEVICE(dimm), machine, errp);
}

static const TypeInfo pc_dimm_info = {
    .name = TYPE_PC_DIMM,
    .parent = TYPE_DEVICE,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_MEMORY_DEVICE },
        { }
    },
};
"""

TOY_BOARD = """#include "qemu/osdep.h"

static void toy_memory_pre_plug(HotplugHandler *hotplug_dev, DeviceState *dev, Error **errp)
{
    pc_dimm_pre_plug(PC_DIMM(dev), MACHINE(hotplug_dev), errp);
}

static void toy_device_pre_plug_cb(HotplugHandler *hotplug_dev, DeviceState *dev,
                                   Error **errp)
{
    if (object_dynamic_cast(OBJECT(dev), TYPE_PC_DIMM)) {
        toy_memory_pre_plug(hotplug_dev, dev, errp);
    }
}

static void toy_machine_class_init(ObjectClass *oc, void *data)
{
    HotplugHandlerClass *hc = HOTPLUG_HANDLER_CLASS(oc);

    hc->pre_plug = toy_device_pre_plug_cb;
}

static const TypeInfo toy_machine_info = {
    .name = TYPE_TOY_MACHINE,
    .parent = TYPE_MACHINE,
    .class_init = toy_machine_class_init,
};
"""


def test_memory_device_plug_in_realize_names_the_machine_chain(tmp_path: Path) -> None:
    text = device("slab", "    memory_device_pre_plug(MEMORY_DEVICE(dev), NULL, errp);",
                  interfaces="TYPE_MEMORY_DEVICE")
    files = {"hw/mem/slab.c": text, "hw/mem/toy-dimm.c": TOY_DIMM,
             "hw/i386/toy-board.c": TOY_BOARD}
    [bare] = check(files, "qom-realize-memory-device-plug")
    assert bare.line == line_of(text, "memory_device_pre_plug")
    assert len(bare.evidence) == 1  # no tree: no exemplar search
    [f] = check(files, "qom-realize-memory-device-plug", tree=str(tmp_path))
    assert f.evidence[-1] == (
        "the machine does this for other devices: toy_device_pre_plug_cb() "
        "(hw/i386/toy-board.c, for TYPE_PC_DIMM) -> toy_memory_pre_plug() -> "
        "pc_dimm_pre_plug() (hw/i386/toy-board.c:5) -> memory_device_pre_plug() "
        "(hw/mem/toy-dimm.c:5)")


def test_reaching_the_machine_names_a_similar_devices_handler(tmp_path: Path) -> None:
    text = device("slab", "    (void)qdev_get_machine();", interfaces="TYPE_MEMORY_DEVICE")
    files = {"hw/mem/slab.c": text, "hw/mem/toy-dimm.c": TOY_DIMM,
             "hw/i386/toy-board.c": TOY_BOARD}
    [f] = check(files, "qom-realize-reaches-machine", tree=str(tmp_path))
    assert f.evidence[-1] == (
        "the machine does this for a similar device: toy_device_pre_plug_cb() in "
        "hw/i386/toy-board.c hands TYPE_PC_DIMM to toy_memory_pre_plug() (line 12)")


def test_memory_device_without_machine_handler(tmp_path: Path) -> None:
    text = device("slab", "    (void)dev;", interfaces="TYPE_MEMORY_DEVICE")
    files = {"hw/mem/slab.c": text, "hw/mem/toy-dimm.c": TOY_DIMM,
             "hw/i386/toy-board.c": TOY_BOARD}
    assert check(files, "qom-memory-device-no-machine-handler") == []  # no tree: quiet
    [f] = check(files, "qom-memory-device-no-machine-handler", tree=str(tmp_path))
    assert (f.path, f.line) == ("hw/mem/slab.c", line_of(text, "TypeInfo slab_info"))
    assert f.message == "TYPE_SLAB implements TYPE_MEMORY_DEVICE but no machine hotplug " \
                        "handler plugs it"
    assert f.evidence == ("TYPE_SLAB implements TYPE_MEMORY_DEVICE",
                          "no machine hotplug handler tests for TYPE_SLAB",
                          "TYPE_MEMORY_DEVICE types the machines do plug: TYPE_PC_DIMM")
    # a subtype of a dispatched type is handled through its parent
    child = device("slab", "    (void)dev;", parent="TYPE_PC_DIMM",
                   interfaces="TYPE_MEMORY_DEVICE")
    files["hw/mem/slab.c"] = child
    assert check(files, "qom-memory-device-no-machine-handler", tree=str(tmp_path)) == []
