"""C facts from the fixtures in tests/fixtures/c/: what was parsed, on which line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.c.facts import (
    Call,
    Dispatch,
    EnumConst,
    FileFacts,
    GlobalVar,
    NotifierReg,
    PhaseCheck,
    blank_macros,
    extract,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "c"


def facts(rel: str) -> FileFacts:
    return extract(rel, (FIXTURES / rel).read_text(encoding="utf-8"))


def line_of(rel: str, needle: str) -> int:
    """1-based line of the only line of fixture ``rel`` containing ``needle``."""
    lines = (FIXTURES / rel).read_text(encoding="utf-8").splitlines()
    hits = [i for i, text in enumerate(lines, start=1) if needle in text]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


DEV = "hw/misc/foo-dev.c"
PCI = "hw/misc/foo-pci.c"
MACHINE = "hw/toy/toy-machine.c"
HEAVY = "hw/toy/macro-heavy.c"


def test_functions_with_ranges_and_static() -> None:
    ff = facts(DEV)
    assert [f.name for f in ff.functions] == [
        "foo_machine_ram", "foo_dev_place", "foo_dev_machine_done", "foo_dev_helper_realize",
        "foo_dev_realize", "foo_dev_unrealize", "foo_dev_class_init", "foo_dev_register_types",
    ]
    realize = ff.function("foo_dev_realize")
    assert realize is not None
    assert (realize.line, realize.end_line, realize.static) == (
        line_of(DEV, "static void foo_dev_realize("), line_of(DEV, "qemu_add_machine_init") + 1,
        True)
    assert ff.error_lines == ()


def test_calls_skip_macros_and_keep_lines() -> None:
    ff = facts(DEV)
    assert Call("foo_machine_ram", "qdev_get_machine", line_of(DEV, "qdev_get_machine()")) \
        in ff.calls
    callees = {c.callee for c in ff.calls}
    # upper-case casts and list macros are not call targets
    assert not callees & {"MACHINE", "FOO_DEV", "QLIST_INSERT_HEAD", "DEVICE_CLASS", "container_of"}
    realize_calls = [c.callee for c in ff.calls if c.caller == "foo_dev_realize"]
    assert realize_calls == ["phase_check", "error_setg", "foo_dev_place", "g_slist_append",
                             "qemu_add_machine_init_done_notifier"]


def test_class_field_registrations() -> None:
    ff = facts(DEV)
    by_field = {a.field: a for a in ff.assignments if a.function == "foo_dev_class_init"}
    assert by_field["realize"].target == "foo_dev_realize"
    assert by_field["realize"].cls == "DeviceClass"
    assert by_field["realize"].line == line_of(DEV, "dc->realize =")
    assert by_field["unrealize"].target == "foo_dev_unrealize"
    assert (by_field["hotpluggable"].value, by_field["hotpluggable"].target) == ("false", None)


def test_subclass_hook_and_parent_realize() -> None:
    ff = facts(PCI)
    regs = {(a.function, a.field, a.target, a.cls, a.via) for a in ff.assignments
            if a.field == "realize"}
    assert regs == {
        ("foo_pci_class_init", "realize", "foo_pci_realize", "PCIDeviceClass", "assign"),
        ("foo_pci_v2_class_init", "realize", "foo_pci_v2_realize", "DeviceClass",
         "device_class_set_parent_realize"),
    }


def test_typeinfos_in_an_array_with_interfaces() -> None:
    ff = facts(PCI)
    assert [(t.name, t.parent, t.class_init, t.interfaces, t.line) for t in ff.typeinfos] == [
        ("TYPE_FOO_PCI", "TYPE_PCI_DEVICE", "foo_pci_class_init",
         ("INTERFACE_CONVENTIONAL_PCI_DEVICE",), line_of(PCI, ".name = TYPE_FOO_PCI,") - 1),
        ("TYPE_FOO_PCI_V2", "TYPE_FOO_PCI", "foo_pci_v2_class_init", (),
         line_of(PCI, ".name = TYPE_FOO_PCI_V2,") - 1),
    ]
    assert [(u.name, u.args) for u in ff.macro_uses] == [("DEFINE_TYPES", ("foo_pci_types",))]


def test_single_typeinfo_type_init_and_defines() -> None:
    ff = facts(DEV)
    (ti,) = ff.typeinfos
    assert (ti.var, ti.name, ti.parent, ti.class_init, ti.interfaces) == (
        "foo_dev_info", "TYPE_FOO_DEV", "TYPE_DEVICE", "foo_dev_class_init",
        ("TYPE_MEMORY_DEVICE",))
    assert ff.type_inits == ("foo_dev_register_types",)
    define = ff.define("TYPE_FOO_DEV")
    assert define is not None
    assert (define.string_value, define.line) == ("foo-dev", line_of(DEV, "#define TYPE_FOO_DEV"))
    regs = ff.define("FOO_DEV_REGS")
    assert regs is not None
    assert (regs.value, regs.string_value) == ("0x40", None)


def test_globals_with_kinds() -> None:
    ff = facts(DEV)
    got = {g.name: g for g in ff.globals}
    assert got["foo_devices"] == GlobalVar(
        "foo_devices", "QLIST_HEAD(, FooDevState)", "foo_devices", "qlist_head", True, False,
        False, line_of(DEV, "static QLIST_HEAD"))
    assert (got["foo_pending"].kind, got["foo_pending"].static) == ("gslist", True)
    assert (got["foo_names"].kind, got["foo_names"].const) == ("other", True)
    assert (got["foo_dev_count"].kind, got["foo_dev_count"].static) == ("other", False)
    # struct members and locals are not globals
    assert "next" not in got
    assert "s" not in got


def test_machine_done_notifier_through_a_field() -> None:
    ff = facts(DEV)
    assert ff.notifiers == (NotifierReg(
        "foo_dev_realize", "qemu_add_machine_init_done_notifier", "s->machine_done",
        "foo_dev_machine_done", line_of(DEV, "qemu_add_machine_init_done_notifier(")),)


def test_phase_check() -> None:
    assert facts(DEV).phase_checks == (
        PhaseCheck("foo_dev_realize", "PHASE_MACHINE_READY", line_of(DEV, "phase_check(")),)


def test_dispatch_tests_and_the_calls_they_guard() -> None:
    ff = facts(MACHINE)
    plug = [d for d in ff.dispatches if d.function == "toy_machine_plug"]
    assert [(d.type, d.in_condition, tuple(c.callee for c in d.calls)) for d in plug] == [
        ("TYPE_FOO_DEV", False, ()),  # bool is_foo = object_dynamic_cast(...)
        ("TYPE_PC_DIMM", True, ("toy_dimm_plug",)),
        ("TYPE_FOO_DEV", True, ("toy_foo_plug",)),  # is_foo || object_dynamic_cast(...)
        ("TYPE_CPU", False, ()),  # negated: the branch is for other types
    ]
    # toy-machine.c lines 39-40: if (object_dynamic_cast(.., TYPE_PC_DIMM)) { toy_dimm_plug(..)
    assert plug[1] == Dispatch("toy_machine_plug", "OBJECT(dev)", "TYPE_PC_DIMM", 39,
                               (Call("toy_machine_plug", "toy_dimm_plug", 40),), True)


def test_macro_heavy_code_parses_cleanly() -> None:
    ff = facts(HEAVY)
    assert ff.error_lines == ()
    assert [f.name for f in ff.functions] == [
        "heavy_log", "heavy_count", "heavy_exit_notify", "heavy_init", "heavy_after_macros"]
    kinds = {g.name: g.kind for g in ff.globals}
    assert kinds == {"entries": "qtailq_head", "other_entries": "qlist_head", "names": "glist",
                     "exit_notifier": "notifier"}
    # calls inside QTAILQ_FOREACH / WITH_QEMU_LOCK_GUARD blocks are kept, on their lines
    assert Call("heavy_count", "heavy_weight", line_of(HEAVY, "heavy_weight(e)")) in ff.calls
    assert Call("heavy_count", "heavy_locked_extra", line_of(HEAVY, "heavy_locked_extra()")) \
        in ff.calls
    assert [(u.name, u.args) for u in ff.macro_uses] == [
        ("type_init", ("heavy_init",)), ("block_init", ("heavy_block_init",))]
    # the function after the blanked registrations is still found with its true line
    after = ff.function("heavy_after_macros")
    assert after is not None
    assert after.line == line_of(HEAVY, "int heavy_after_macros")


def test_notifier_from_a_static_initialiser() -> None:
    (reg,) = facts(HEAVY).notifiers
    assert (reg.function, reg.notifier, reg.notify) == (
        "heavy_init", "exit_notifier", "heavy_exit_notify")


def test_enum_values_explicit_and_implicit() -> None:
    assert facts(HEAVY).enums == (
        EnumConst("HEAVY_OFF", None, 0, "HeavyMode", line_of(HEAVY, "HEAVY_OFF,")),
        EnumConst("HEAVY_ON", "4", 4, "HeavyMode", line_of(HEAVY, "HEAVY_ON = 4")),
        EnumConst("HEAVY_AUTO", None, 5, "HeavyMode", line_of(HEAVY, "HEAVY_AUTO,")),
        EnumConst("HEAVY__MAX", None, 6, "HeavyMode", line_of(HEAVY, "HEAVY__MAX")),
    )


def test_comments_with_ranges() -> None:
    ff = facts(HEAVY)
    first = ff.comments[0]
    assert (first.line, first.end_line) == (1, 5)
    assert first.text.startswith("/*\n * QEMU macros")
    assert any(c.text == "/* 5 */" and c.line == line_of(HEAVY, "/* 5 */") for c in ff.comments)


def test_blanking_keeps_length_and_lines() -> None:
    src = (FIXTURES / HEAVY).read_bytes()
    out, uses = blank_macros(src)
    assert [u.name for u in uses] == ["type_init", "block_init"]
    assert len(out) == len(src)
    assert out.count(b"\n") == src.count(b"\n")
    assert b"QTAILQ_FOREACH" not in out
    assert b"for(;;)" in out
    # comments are left alone, even when they name a macro
    text = b"/* type_init(x) */\nint a;\n"
    assert blank_macros(text) == (text, [])


def test_non_ascii_text_keeps_lines() -> None:
    text = '/* Kővágó Zoltán */\nstatic int f(void)\n{\n    return g("ü");\n}\n'
    ff = extract("x.c", text)
    assert ff.functions[0].line == 2
    assert ff.calls == (Call("f", "g", 4),)
    assert ff.comments[0].text == "/* Kővágó Zoltán */"


@pytest.mark.parametrize("text", ["", "int", "static void f(", "}}}{{{", "\x00\x01garbage"])
def test_bad_c_does_not_raise(text: str) -> None:
    ff = extract("bad.c", text, partial=True)
    assert ff.partial
    assert ff.path == "bad.c"


def test_macros_inside_a_multiline_define_keep_the_continuations() -> None:
    # A loop macro inside a #define used to lose its backslash and take the rest of the
    # file down with it (hw/core/qdev.c lost qdev_get_machine this way).
    text = (
        "#define CALL_ALL(_cb, args...)              \\\n"
        "    do {                                     \\\n"
        "        QTAILQ_FOREACH(_l, &listeners,       \\\n"
        "                       link) {               \\\n"
        "            _l->_cb(_l, ##args);             \\\n"
        "        }                                    \\\n"
        "    } while (0)\n"
        "\n"
        "Object *qdev_get_machine(void)\n"
        "{\n"
        "    return root;\n"
        "}\n"
    )
    ff = extract("hw/core/qdev.c", text)
    assert [(f.name, f.line) for f in ff.functions] == [("qdev_get_machine", 9)]
    define = ff.define("CALL_ALL")
    assert define is not None
    assert define.params == "(_cb, args...)"  # texts come from the original source


def test_a_file_over_the_size_limit_is_refused_with_a_note(monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    from reviewbot.util import limits

    monkeypatch.setattr(limits, "MAX_C_FILE_BYTES", 1000)
    with pytest.raises(limits.LimitExceeded, match=r"^hw/big\.c: could not analyse: file is"):
        extract("hw/big.c", "int x;\n" * 200)
    assert extract("hw/small.c", "int x;\n").globals[0].name == "x"


def test_lookups_by_name_survive_pickling() -> None:
    import pickle

    ff = facts(DEV)
    assert ff.function("foo_dev_realize") is not None  # builds the lookup table
    again = pickle.loads(pickle.dumps(ff))
    assert again == ff
    assert "_by_name" not in again.__dict__
    found = again.function("foo_dev_place")
    assert found is not None
    assert found.line == line_of(DEV, "static void foo_dev_place(")


def test_class_parameters_and_parameter_values_in_registrations() -> None:
    text = (
        "void device_class_set_parent_realize(DeviceClass *dc, DeviceRealize dev_realize,\n"
        "                                     DeviceRealize *parent_realize)\n"
        "{\n"
        "    *parent_realize = dc->realize;\n"
        "    dc->realize = dev_realize;\n"
        "}\n"
        "static void fill(DeviceClass *dc)\n"
        "{\n"
        "    dc->realize = foo_realize;\n"
        "}\n"
    )
    got = [(a.function, a.cls, a.value, a.target) for a in extract("hw/core/qdev.c", text)
           .assignments]
    assert got == [
        # a parameter is not a function name: no target, so no role for anything
        ("device_class_set_parent_realize", "DeviceClass", "dev_realize", None),
        ("fill", "DeviceClass", "foo_realize", "foo_realize"),
    ]


def test_functions_naming_writable_globals() -> None:
    from reviewbot.c.facts import GlobalUse

    assert facts(DEV).global_uses == (
        GlobalUse("foo_dev_realize", "foo_devices", line_of(DEV, "QLIST_INSERT_HEAD(")),
        GlobalUse("foo_dev_realize", "foo_pending", line_of(DEV, "g_slist_append(")),
    )
    text = ("static GSList *pending;\nstatic const int table = 1;\n"
            "void f(void)\n{\n    /* pending is not touched here */\n    puts(\"pending\");\n"
            "    g(table);\n}\nvoid h(void)\n{\n    pending = NULL;\n    pending = NULL;\n}\n")
    assert extract("hw/x.c", text).global_uses == (GlobalUse("h", "pending", 11),)


def test_enclosing_names_the_function_of_a_rebuilt_hunk() -> None:
    # lines 40-46 of a post-image rebuilt from one hunk: the function's start is not shown
    text = "\n" * 39 + (
        "    FooState *s = FOO(dev);\n"
        "\n"
        "    foo_setup(s);\n"
        "    s->ms = MACHINE(qdev_get_machine());\n"
        "    if (phase_check(PHASE_MACHINE_READY)) {\n"
        "        dc->hotpluggable = false;\n"
        "    }\n"
        "}\n")
    plain = extract("hw/misc/foo.c", text, partial=True)
    assert {c.caller for c in plain.calls} == {None}
    ff = extract("hw/misc/foo.c", text, partial=True,
                 enclosing=dict.fromkeys(range(40, 48), "foo_realize"))
    assert [(c.caller, c.callee, c.line) for c in ff.calls] == [
        ("foo_realize", "foo_setup", 42), ("foo_realize", "qdev_get_machine", 43),
        ("foo_realize", "phase_check", 44)]
    assert [(p.function, p.line) for p in ff.phase_checks] == [("foo_realize", 44)]
    assert ff.functions == ()  # not invented: only the facts are attributed
