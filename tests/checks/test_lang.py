"""The language primitive's conditions on small inputs: which rule fired, where, with which
evidence — and where each condition keeps it quiet. Then issue 13 items 3 and 7 on the
ported qemu-qom rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.finding import Finding
from reviewbot.ingest import load
from reviewbot.review.examples import synthetic_series
from reviewbot.rules.loader import load_rules
from reviewbot.rules.model import Rule

ROOT = Path(__file__).resolve().parents[2]
RULES = {r.id: r for r in load_rules()}


def rule(tmp_path: Path, body: str, *, message: str = "found $X", fix: str = "fix it",
         rule_id: str = "t-rule") -> Rule:
    pack = tmp_path / "t"
    (pack / "examples").mkdir(parents=True, exist_ok=True)
    (pack / "examples" / "e.c").write_text("int x;\n", encoding="utf-8")
    (pack / f"{rule_id}.yaml").write_text(
        f"id: {rule_id}\nseverity: warning\nmessage: {message!r}\nrationale: r\n"
        f"fix: {fix!r}\norigin: o\nexamples: [examples/e.c]\n{body}", encoding="utf-8")
    return next(r for r in load_rules([str(pack)]) if r.id == rule_id)


def check(files: dict[str, str], r: Rule, **options: Any) -> list[Finding]:
    series = synthetic_series(list(files.items()))
    return list(run_check(series, Options(**options), [r]).findings)


def line_of(text: str, needle: str) -> int:
    return next(i for i, t in enumerate(text.splitlines(), 1) if needle in t)


DEVICE = """#include "qemu/osdep.h"

static void knob_helper(KnobState *s)
{
    poke(s, 1);
}

static void knob_realize(DeviceState *dev, Error **errp)
{
    KnobState *s = KNOB(dev);

    knob_helper(s);
    poke(s, 2);
}

static void knob_reset(DeviceState *dev)
{
    poke(KNOB(dev), 3);
}

static void knob_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = knob_realize;
    device_class_set_legacy_reset(dc, knob_reset);
}

static const TypeInfo knob_info = {
    .name = TYPE_KNOB,
    .parent = TYPE_DEVICE,
    .class_init = knob_class_init,
};
"""


def test_match_with_metavariables_in_message_and_fix(tmp_path: Path) -> None:
    r = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}", message="poke of $X by {function}()",
             fix="use $S->value")
    found = check({"hw/misc/knob.c": DEVICE}, r)
    assert [(f.line, f.message, f.fix) for f in found] == [
        (5, "poke of 1 by knob_helper()", "use s->value"),
        (13, "poke of 2 by knob_realize()", "use s->value"),
        (18, "poke of 3 by knob_reset()", "use KNOB(dev)->value"),
    ]
    assert found[0].evidence == ("knob_helper: poke(s, 1)",)
    assert found[0].code == "    poke(s, 1);"


def test_role_and_reachable_from_with_the_chain(tmp_path: Path) -> None:
    r = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}\nwhere: {role: realize}")
    assert [f.line for f in check({"hw/misc/knob.c": DEVICE}, r)] == [13]
    r = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}\n"
             "where: {reachable-from: {roles: [realize], depth: 1}}",
             message="$X via {chain}")
    found = check({"hw/misc/knob.c": DEVICE}, r)
    assert [(f.line, f.message) for f in found] == [
        (5, "1 via knob_realize() -> knob_helper() (hw/misc/knob.c:12)"),
        (13, "2 via knob_realize()"),
    ]
    assert found[0].evidence[1] == ("reached from a realize function: knob_realize() -> "
                                    "knob_helper() (hw/misc/knob.c:12)")
    deep = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}\n"
                "where: {reachable-from: {roles: [realize], depth: 0}}")
    assert [f.line for f in check({"hw/misc/knob.c": DEVICE}, deep)] == [13]


def test_code_kinds(tmp_path: Path) -> None:
    r = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}\nwhere: {code: device}")
    library = "#include \"qemu/osdep.h\"\nvoid f(void)\n{\n    poke(s, 9);\n}\n"
    assert check({"hw/misc/knob.c": DEVICE, "util/poke.c": library}, r)[-1].path == \
        "hw/misc/knob.c"
    obj = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}\nwhere: {code: qom-object}")
    backend = library + ("static const TypeInfo b = {\n    .name = TYPE_B,\n"
                         "    .parent = TYPE_OBJECT,\n};\n")
    assert [f.path for f in check({"backends/b.c": backend, "util/poke.c": library}, obj)] == \
        ["backends/b.c"]
    glob = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}\n"
                "where: {files: ['hw/**', '!hw/misc/*.c']}")
    assert check({"hw/misc/knob.c": DEVICE}, glob) == []
    assert [f.path for f in check({"hw/core/knob.c": DEVICE}, glob)] == ["hw/core/knob.c"] * 3


PRE = """#include "qemu/osdep.h"

void old_one(void)
{
    poke(s, 1);
}
"""


def _patch(tmp_path: Path, pre: str, post: str, path: str = "hw/misc/k.c") -> Any:
    import difflib

    diff = "".join(difflib.unified_diff(pre.splitlines(True), post.splitlines(True),
                                        f"a/{path}", f"b/{path}"))
    mail = tmp_path / "p.patch"
    mail.write_text("From: A U Thor <a@example.org>\nSubject: [PATCH] hw/misc: poke more\n"
                    "Date: Mon, 1 Jun 2026 10:00:00 +0000\nMessage-ID: <p1@example.org>\n\n"
                    "Poke more.\n\nSigned-off-by: A U Thor <a@example.org>\n---\n"
                    f"diff --git a/{path} b/{path}\n" + diff, encoding="utf-8")
    return load(str(mail))


def test_change_new_function_and_removed(tmp_path: Path) -> None:
    post = PRE.replace("    poke(s, 1);\n", "    poke(s, 1);\n    poke(s, 4);\n") + \
        "\nvoid new_one(void)\n{\n    poke(s, 5);\n}\n"
    series = _patch(tmp_path, PRE, post)
    added = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}")
    assert [f.line for f in run_check(series, Options(), [added]).findings] == [6, 11]
    new_fn = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}\nwhere: {change: new-function}")
    assert [f.line for f in run_check(series, Options(), [new_fn]).findings] == [11]
    removed = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}\nwhere: {change: removed}")
    gone = _patch(tmp_path, PRE, PRE.replace("    poke(s, 1);\n", ""))
    [f] = run_check(gone, Options(), [removed]).findings
    assert (f.line, f.side, f.message) == (5, "old", "found 1")


def test_series_companion_unless_changed(tmp_path: Path) -> None:
    r = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}\n"
             "series: {unless-changed: {files: ['hw/core/machine.c'], regex: 'hw_compat_'}}")
    machine = "GlobalProperty hw_compat_10_0[] = {};\n"
    assert len(check({"hw/misc/knob.c": DEVICE}, r)) == 3
    assert check({"hw/misc/knob.c": DEVICE, "hw/core/machine.c": machine}, r) == []
    assert len(check({"hw/misc/knob.c": DEVICE, "hw/core/machine.c": "int x;\n"}, r)) == 3


def test_lines_in_comments_subject_and_commit_message(tmp_path: Path) -> None:
    text = "/* as suggested in review */\nint a; /* v2: renamed */\nchar *s = \"v2: no\";\n"
    r = rule(tmp_path, "lines: {regex: '(?P<X>as suggested|v[0-9]+:)', in: comments}")
    assert [(f.line, f.message) for f in check({"hw/a.c": text}, r)] == [
        (1, "found as suggested"), (2, "found v2:")]
    subj = rule(tmp_path, "lines: {regex: '^(?P<X>.{77,})$', in: subject}",
                message="{length} long")
    series = synthetic_series([("hw/a.c", "int a;\n")], title="x" * 80)
    [f] = run_check(series, Options(), [subj]).findings
    assert (f.message, f.path, f.anchor) == ("80 long", None, series.patches[0].subject.raw)


def test_function_has_and_metavariable_lines(tmp_path: Path) -> None:
    text = ("static int pick(Object *o, void *p)\n{\n    return !!object_dynamic_cast(o, TYPE_A);"
            "\n}\n\nstatic int any(Object *o, void *p)\n{\n    return 0;\n}\n\nvoid f(void)\n{\n"
            "    walk(pick);\n    walk(any);\n}\n")
    r = rule(tmp_path, "match: {pattern: 'walk($CB)'}\nwhere:\n  function-has:\n"
             "    function: $CB\n    match: {pattern: 'object_dynamic_cast($O, $T)'}",
             message="$CB picks $T (line $T.line)")
    [f] = check({"hw/a.c": text}, r)
    assert (f.line, f.message) == (13, "pick picks TYPE_A (line 3)")
    assert f.evidence[-1] == "pick() has object_dynamic_cast(o, TYPE_A) (hw/a.c:3)"


# --------------------------------------------------------------------------- issue 13, item 3

MEMDEV = """#include "qemu/osdep.h"

static const TypeInfo slab_info = {
    .name = TYPE_SLAB,
    .parent = TYPE_DEVICE,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_MEMORY_DEVICE },
        { }
    },
};

int slab_srat_entry(Object *obj, void *opaque)
{
    if (!object_dynamic_cast(obj, TYPE_SLAB)) {
        return 0;
    }
    return 0;
}
"""

ACPI = """#include "qemu/osdep.h"

static int host_bridge(Object *obj, void *opaque)
{
    return !!object_dynamic_cast(obj, TYPE_PCI_HOST_BRIDGE);
}

void build_srat(GArray *table_data, MachineState *machine)
{
    acpi_table_begin(NULL, table_data);
    object_child_foreach_recursive(OBJECT(machine), slab_srat_entry, table_data);
    object_child_foreach_recursive(object_get_root(), host_bridge, table_data);
}
"""


def test_whole_tree_walks_in_acpi_building_code_are_reported_with_the_memory_device_fix(
) -> None:
    # Before issue 13 item 3 the rule looked at device files only: both walks were silent.
    found = check({"hw/mem/slab.c": MEMDEV, "hw/i386/acpi-build.c": ACPI},
                  RULES["qom-walk-whole-tree"])
    assert [(f.path, f.line, f.severity.name) for f in found] == [
        ("hw/i386/acpi-build.c", 11, "INFO"), ("hw/i386/acpi-build.c", 12, "INFO")]
    slab, bridges = found
    assert slab.message == ("object_child_foreach_recursive() walks the whole QOM tree from "
                            "OBJECT(machine) to pick out some objects in slab_srat_entry()")
    assert "slab_srat_entry() keeps only some objects (object_dynamic_cast)" in slab.evidence
    assert "device-memory region" in slab.fix and "qmp_memory_device_list()" in slab.fix
    assert "device-memory" not in bridges.fix and "object_child_foreach()" in bridges.fix


def test_walks_that_stay_quiet_in_machine_code() -> None:
    quiet = ACPI.replace("object_get_root()", "OBJECT(machine->fw_cfg)").replace(
        "slab_srat_entry", "host_bridge")
    library = ACPI.replace("acpi_table_begin(NULL, table_data);\n", "")
    assert check({"hw/i386/acpi-build.c": quiet}, RULES["qom-walk-whole-tree"])[0].line == 11
    assert len(check({"hw/i386/acpi-build.c": quiet}, RULES["qom-walk-whole-tree"])) == 1
    # neither device, machine nor ACPI-building code: not reported
    assert check({"util/walk.c": library}, RULES["qom-walk-whole-tree"]) == []


def test_the_memdev_corpus_srat_walk_is_reported_at_info() -> None:
    series = load(str(ROOT / "corpus" / "memdev" / "v4.mbox"))
    found = run_check(series, Options(), [RULES["qom-walk-whole-tree"]]).findings
    assert [(f.patch.index if f.patch else None, f.path, f.line) for f in found] == [
        (3, "hw/i386/acpi-build.c", 30)]
    assert found[0].evidence[0].startswith("build_srat: object_child_foreach_recursive(")


# --------------------------------------------------------------------------- issue 13, item 7

FILTER = """#include "qemu/osdep.h"

static QLIST_HEAD(, TallyState) tallies = QLIST_HEAD_INITIALIZER(tallies);

static void tally_setup(NetFilterState *nf, Error **errp)
{
    QLIST_INSERT_HEAD(&tallies, TALLY(nf), next);
}

static const TypeInfo tally_info = {
    .name = TYPE_FILTER_TALLY,
    .parent = TYPE_NETFILTER,
};
"""


@pytest.mark.parametrize("path", ["net/filter-tally.c", "backends/tally.c", "ui/tally.c"])
def test_global_state_in_a_qom_object_outside_hw(path: str) -> None:
    # Before issue 13 item 7 the rule looked under hw/ at files registering a realize only.
    [f] = check({path: FILTER}, RULES["qom-device-global-state"])
    assert (f.path, f.line, f.severity.name) == (path, 3, "WARNING")
    assert f.message == ("file-global QLIST_HEAD(, TallyState) 'tallies' keeps device state "
                         "outside the device")
    assert f.evidence == ("QLIST_HEAD(, TallyState) tallies at file scope",)


def test_global_state_stays_quiet_without_a_qom_type_or_in_board_code() -> None:
    no_type = FILTER.split("static const TypeInfo", maxsplit=1)[0]
    assert check({"net/tally.c": no_type}, RULES["qom-device-global-state"]) == []
    board = FILTER.replace("TYPE_NETFILTER", "TYPE_X86_MACHINE")
    assert check({"hw/i386/toy.c": board}, RULES["qom-device-global-state"]) == []


def test_global_state_leaves_listener_registries_and_core_subsystems_alone() -> None:
    listeners = FILTER.replace("QLIST_HEAD(, TallyState) tallies", "QLIST_HEAD(, TallyListener) "
                               "tally_listeners")
    assert check({"net/tally.c": listeners}, RULES["qom-device-global-state"]) == []
    assert check({"system/tally.c": FILTER}, RULES["qom-device-global-state"]) == []
    assert len(check({"hw/misc/tally.c": FILTER}, RULES["qom-device-global-state"])) == 1


def test_the_contract_example_a_parameter_pattern_inside_the_function(tmp_path: Path) -> None:
    # docs/writing-rules.md: `Error **$ERRP` is read as a parameter declaration
    text = ("static bool knob_set(Knob *k, Error **errp)\n{\n    error_report(\"bad %d\", 1);\n"
            "    return false;\n}\n\nstatic void knob_log(int x)\n{\n    error_report(\"x\");\n}\n")
    r = rule(tmp_path, "match:\n  pattern: error_report($$$ARGS)\n  inside:\n"
             "    kind: function_definition\n    stopBy: end\n"
             "    has: {pattern: 'Error **$ERRP', stopBy: end}\n",
             message="error_report($$$ARGS) in {function}(), which has $ERRP",
             fix="error_setg($ERRP, ...)")
    [f] = check({"hw/misc/knob.c": text}, r)
    assert (f.line, f.message, f.fix) == (
        3, 'error_report("bad %d", 1) in knob_set(), which has errp', "error_setg(errp, ...)")


# ---------------------------------------------------------------- mail sources, series shape


def _mail(n: int, total: int, body: str, *, version: int = 1, author: str = "Ada Author "
          "<ada@example.org>", reply_to: str = "", cover: bool = False) -> str:
    tag = f"PATCH v{version}" if version > 1 else "PATCH"
    counter = f" {n}/{total}" if total > 1 or cover else ""
    mid = f"m{version}-{n}@example.org"
    reply = f"In-Reply-To: <{reply_to}>\nReferences: <{reply_to}>\n" if reply_to else ""
    diff = "" if cover else (
        "---\n\ndiff --git a/hw/misc/k.c b/hw/misc/k.c\nnew file mode 100644\n"
        "index 0000000..1111111\n--- /dev/null\n+++ b/hw/misc/k.c\n@@ -0,0 +1 @@\n"
        f"+int k{n};\n")
    return (f"From {mid} Mon Sep 17 00:00:00 2001\nFrom: {author}\n"
            f"Date: Tue, 10 Jun 2025 10:0{n}:00 +0000\nSubject: [{tag}{counter}] hw/misc: "
            f"part {n}\nMessage-Id: <{mid}>\n{reply}To: qemu-devel@nongnu.org\n\n"
            f"{body}\n{diff}\n")


def _run(tmp_path: Path, r: Rule, *mails: str) -> list[Finding]:
    path = tmp_path / "s.mbox"
    path.write_text("".join(mails), encoding="utf-8")
    return list(run_check(load(str(path)), Options(), [r]).findings)


def test_lines_when_absent_over_commit_message_and_notes(tmp_path: Path) -> None:
    r = rule(tmp_path, "lines: {in: [commit-message, notes], regex: '(?m)^Tested: ',"
             " when: absent}", message="{subject} untested")
    [f] = _run(tmp_path, r, _mail(1, 1, "Body.\n\nSigned-off-by: Ada Author <ada@example.org>"))
    assert (f.message, f.path, f.anchor) == ("[PATCH] hw/misc: part 1 untested", None,
                                             "[PATCH] hw/misc: part 1")
    assert f.evidence == ("Subject: [PATCH] hw/misc: part 1",)
    # below the --- line counts too
    notes = _mail(1, 1, "Body.\n\nSigned-off-by: Ada Author <ada@example.org>")
    notes = notes.replace("---\n\ndiff", "---\nTested: by hand\n\ndiff")
    assert _run(tmp_path, r, notes) == []


def test_trailers_with_person_unless_first_and_anchor(tmp_path: Path) -> None:
    other = rule(tmp_path, "lines: {in: trailers, regex: '^Signed-off-by: ', "
                 "person: [author-name-other-address], unless: {person: [author]}, first: true}",
                 message="{author} as {address}", rule_id="t-other")
    body = ("Body.\n\nSigned-off-by: Ada Author <ada@work.example>\n"
            "Signed-off-by: Ada Author <ada@home.example>")
    [f] = _run(tmp_path, other, _mail(1, 1, body))
    assert (f.message, f.anchor) == ("Ada Author <ada@example.org> as ada@work.example",
                                     "Signed-off-by: Ada Author <ada@work.example>")
    both = body + "\nSigned-off-by: Ada Author <ada@example.org>"
    assert _run(tmp_path, other, _mail(1, 1, both)) == []  # unless: the From: address signs
    none = rule(tmp_path, "lines: {in: trailers, regex: '^Signed-off-by: ', "
                "person: ['!author'], unless: {person: [author]}, first: true}\n"
                "anchor: 'From: {author}'\nevidence: ['{lines}']",
                message="no sign-off of {author_name}", rule_id="t-none")
    two = "Body.\n\nSigned-off-by: Bo <bo@x.example>\nSigned-off-by: Cy <cy@x.example>"
    [f] = _run(tmp_path, none, _mail(1, 1, two))
    assert (f.message, f.anchor) == ("no sign-off of Ada Author",
                                     "From: Ada Author <ada@example.org>")
    assert f.evidence == ("Signed-off-by: Bo <bo@x.example>", "Signed-off-by: Cy <cy@x.example>")


def test_series_shape_cover_total_thread_and_head(tmp_path: Path) -> None:
    r = rule(tmp_path, "lines: {in: subject, regex: '^'}\n"
             "series: {source: mail, cover: missing, total: '>= 2', thread: whole, at: head}",
             message="{total} patches, no cover")
    one, two = _mail(1, 2, "A."), _mail(2, 2, "B.", reply_to="m1-1@example.org")
    [f] = _run(tmp_path, r, one, two)
    assert (f.message, f.patch.index if f.patch else None) == ("2 patches, no cover", 1)
    assert _run(tmp_path, r, _mail(1, 1, "Alone.")) == []  # total 1
    # patch 2 replies to a mail we do not have: the thread is not whole
    assert _run(tmp_path, r, one, _mail(2, 2, "B.", reply_to="cover@example.org")) == []
    cover = _mail(0, 2, "The cover.", cover=True)
    assert _run(tmp_path, r, cover, _mail(1, 2, "A.", reply_to="m1-0@example.org"),
                _mail(2, 2, "B.", reply_to="m1-0@example.org")) == []


def test_absent_over_the_series_is_about_the_cover_letter(tmp_path: Path) -> None:
    r = rule(tmp_path, "lines: {in: [cover-letter, notes], regex: '(?im)^changes', "
             "when: absent, scope: series}\n"
             "series: {version: '>= 2', any: [{cover: present}, {total: 1, thread: whole}]}",
             message="v{version} says nothing since v{previous}")
    cover = _mail(0, 2, "The cover.", version=2, cover=True)
    p1 = _mail(1, 2, "A.", version=2, reply_to="m2-0@example.org")
    p2 = _mail(2, 2, "B.", version=2, reply_to="m2-0@example.org")
    [f] = _run(tmp_path, r, cover, p1, p2)
    assert f.message == "v2 says nothing since v1"
    assert f.patch is not None and f.patch.index == 0  # the cover letter
    assert _run(tmp_path, r, cover.replace("The cover.", "Changes: all"), p1, p2) == []
    # two patches without their cover letter: quiet (the changelog would be there)
    assert _run(tmp_path, r, p1, p2) == []
    [single] = _run(tmp_path, r, _mail(1, 1, "Alone.", version=2))
    assert single.patch is not None and single.patch.index == 1


def test_lines_table_and_two_regexes(tmp_path: Path) -> None:
    r = rule(tmp_path, "lines:\n  regex: ['^#define (?P<N>\\w+) (?P<V>.+)$', "
             "'^\\s*(?P<N>\\w+) = (?P<V>[^,]+),$']\n"
             "  table: {data: firmware-spec, name: $N, value: $V}",
             message="$N is {value}, not {expected} ({table})")
    text = ("#define E820_PMEM 12\n#define E820_RAM 1\nenum {\n"
            "    MEM_AFFINITY_HOTPLUGGABLE = BIT(2),\n    E820_NVS = 4,\n};\n")
    found = check({"include/hw/k.h": text}, r)
    assert [(f.line, f.message) for f in found] == [
        (1, "E820_PMEM is 0xc, not 0x7 (E820 type)"),
        (4, "MEM_AFFINITY_HOTPLUGGABLE is 0x4, not 0x2 (SRAT memory-affinity flag)")]


def test_reachable_from_reported_at_the_root_with_every_chain(tmp_path: Path) -> None:
    r = rule(tmp_path, "match: {pattern: '$F($$$A)'}\n"
             "constraints: {F: {regex: '^(poke|MACHINE)$'}}\n"
             "where: {reachable-from: {roles: [realize], depth: 2, follow: file, "
             "report: root, target: '$F()'}}", message="{function}: {chain} ({target})")
    text = ("static int helper(void)\n{\n    return MACHINE(poke(1));\n}\n\n"
            "static int deep(void)\n{\n    return helper();\n}\n\n"
            "static void k_realize(DeviceState *dev, Error **errp)\n{\n"
            "    helper();\n    deep();\n    poke(2);\n}\n\n"
            "static void k_class_init(ObjectClass *oc, void *data)\n{\n"
            "    DeviceClass *dc = DEVICE_CLASS(oc);\n    dc->realize = k_realize;\n}\n")
    [f] = check({"hw/misc/k.c": text}, r)
    # one finding, at the first changed step of the first chain; MACHINE(poke(1)) is poke()
    # (the innermost match of its line); the chain through deep() is one call too deep
    # (deep -> helper -> poke() has three calls)
    assert (f.line, f.message) == (line_of(text, "    helper();"),
                                   "k_realize: k_realize -> helper -> poke() (poke())")
    assert f.evidence == ("k_realize -> helper -> poke()  [hw/misc/k.c:13, hw/misc/k.c:3]",
                          "k_realize -> poke()  [hw/misc/k.c:15]")


def test_a_matched_function_definition_is_its_own_function(tmp_path: Path) -> None:
    """needs-from-lang item 1: {function}, role, reachable-from and change: new-function
    see the definition a match is (not only the one a match is inside)."""
    body = ("match: {kind: function_definition, has: {stopBy: end, pattern: 'poke($S, $X)'}}\n")
    named = rule(tmp_path, body, message="{function} pokes")
    found = check({"hw/misc/knob.c": DEVICE}, named)
    assert [(f.line, f.message) for f in found] == [
        (3, "knob_helper pokes"), (8, "knob_realize pokes"), (16, "knob_reset pokes")]
    assert found[0].evidence == ("knob_helper: static void knob_helper(KnobState *s)",)
    role = rule(tmp_path, body + "where: {role: realize}", message="{function} pokes")
    assert [(f.line, f.message) for f in check({"hw/misc/knob.c": DEVICE}, role)] == [
        (8, "knob_realize pokes")]
    reach = rule(tmp_path, body + "where: {reachable-from: {roles: [realize], depth: 1}}",
                 message="{function} via {chain}")
    assert [(f.line, f.message) for f in check({"hw/misc/knob.c": DEVICE}, reach)] == [
        (3, "knob_helper via knob_realize() -> knob_helper() (hw/misc/knob.c:12)"),
        (8, "knob_realize via knob_realize()")]
    post = PRE + "\nvoid new_one(void)\n{\n    poke(s, 5);\n}\n"
    new_fn = rule(tmp_path, body + "where: {change: new-function}", message="{function}")
    series = _patch(tmp_path, PRE, post.replace("poke(s, 1)", "poke(s, 2)"))
    assert [(f.line, f.message) for f in run_check(series, Options(), [new_fn]).findings] == [
        (8, "new_one")]


def test_each_file_is_parsed_once_per_patch_whatever_the_rules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.c import astgrep

    parsed: list[int] = []
    real_parse = astgrep.parse

    def counting(text: str) -> Any:
        parsed.append(len(text))
        return real_parse(text)

    monkeypatch.setattr(astgrep, "parse", counting)
    rules = [rule(tmp_path, "match: {pattern: 'poke($S, $X)'}", rule_id=f"t-{i}")
             for i in range(3)]
    files = {"hw/misc/knob.c": DEVICE, "hw/misc/other.c": DEVICE.replace("knob", "other")}
    found = list(run_check(synthetic_series(list(files.items())), Options(), rules).findings)
    assert sorted({(f.rule, f.path) for f in found}) == [
        (r.id, p) for r in rules for p in sorted(files)]
    lengths = sorted(len(t) for t in files.values())
    # one parse a file (the others are the rules' patterns, checked when first used)
    assert sorted(n for n in parsed if n in lengths) == lengths


_GADGET = """#include "qemu/osdep.h"

static uint64_t gadget_read(void *opaque, hwaddr addr, unsigned size)
{
    printf("gadget read %d\\n", (int)addr);
    return 0;
}

static const MemoryRegionOps gadget_ops = {
    .read = gadget_read,
};

static void gadget_realize(DeviceState *dev, Error **errp)
{
    GadgetState *s = GADGET(dev);

    s->ms = MACHINE(qdev_get_machine());
    s->buf = g_malloc(sizeof(GadgetBuf));
    memory_region_init_io(&s->mmio, OBJECT(dev), &gadget_ops, s, "gadget", 0x100);
}

static void gadget_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = gadget_realize;
}

static const TypeInfo gadget_info = {
    .name = TYPE_GADGET,
    .parent = TYPE_SYS_BUS_DEVICE,
    .class_init = gadget_class_init,
};
"""


def test_presearch_does_the_searches_before_the_facts_with_the_same_findings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What a split check's child does while its parent extracts the facts: the searches
    of every rule of the built-in packs with a C match, without reading the files' facts;
    the rules then take their matches from it (no second search) and find what they
    find without it."""
    from reviewbot import engine
    from reviewbot.c import astgrep
    from reviewbot.checks import lang
    from reviewbot.context import SeriesContext

    rules = [r for r in load_rules() if r.check == "language" and "match" in r.params]
    series = synthetic_series([("hw/misc/gadget.c", _GADGET)])
    alone = [(f.rule, f.line, f.message) for f in run_check(series, Options(), rules).findings]
    assert {"qemu-device-no-vmsd", "qemu-g-malloc-sizeof", "qom-realize-reaches-machine",
            "qemu-printf-in-device"} <= {r for r, *_ in alone}

    sctx = SeriesContext(series, Options())
    pctx = sctx.patch_contexts[0]

    def no_facts(*_: Any) -> Any:
        raise AssertionError("facts read before they are there")

    monkeypatch.setattr(SeriesContext, "facts_after", no_facts)
    lang.presearch(pctx, rules)
    monkeypatch.undo()
    searched = lang._files(pctx).found
    # every rule but those starting from the call graph, on the one file
    assert {rid for rid, *_ in searched} == {
        r.id for r in rules if lang.holds_needles(r, _GADGET)
        and r.params.get("where", {}).get("reachable-from", {}).get("report") != "root"}
    searches: list[str] = []
    real = astgrep.matches

    def counting(*args: Any, **kwargs: Any) -> Any:
        searches.append("within" if kwargs.get("within") is not None else "file")
        return real(*args, **kwargs)

    monkeypatch.setattr(astgrep, "matches", counting)
    prims = [engine._primitive(r) for r in rules]
    found = engine._run_some(rules, prims, sctx, range(len(rules)))
    after = [(f.rule, f.line, f.message) for fs in found for f in fs
             if f.rule in {r for r, *_ in alone}]
    assert sorted(after) == sorted(alone)
    # only the searches inside functions the call graph names are left to do
    assert "file" not in searches


def test_only_the_patch_lines_top_level_nodes_are_searched_with_the_same_findings(
        tmp_path: Path) -> None:
    """A match starting on a changed line is inside the top-level node spanning that line;
    the others are not searched; with --all every node is."""
    pre = ("void one(void) { poke(s, 1); }\nvoid two(void) { poke(s, 4); }\n"
           "void other(void) { poke(s, 7); }\n")
    series = _patch(tmp_path, pre, pre.replace("poke(s, 7)", "poke(s, 8)"))
    r = rule(tmp_path, "match: {pattern: 'poke($S, $X)'}")
    assert [(f.line, f.message) for f in run_check(series, Options(), [r]).findings] == [
        (3, "found 8")]
    from reviewbot.checks.lang import language
    from reviewbot.context import SeriesContext

    pctx = SeriesContext(series, Options(all_files=True)).patch_contexts[0]
    assert [(f.line, f.message) for f in language(pctx, r)] == [
        (1, "found 1"), (2, "found 4"), (3, "found 8")]


def test_needles_come_from_the_cases_a_match_needs(tmp_path: Path) -> None:
    """A file is parsed for a rule only when it has a word of each group: the words of the
    patterns of the match, of its has/inside/all cases, one of each any case, the literal
    a regex requires; none from not."""
    from reviewbot.checks.lang import holds_needles, needles

    r = rule(tmp_path, "match:\n  kind: expression_statement\n"
             "  has: {pattern: 'poke($S, $X)'}\n"
             "  inside: {kind: function_definition, stopBy: end, any: [{pattern: 'alpha()'},"
             " {has: {pattern: 'beta($Y)', stopBy: end}}]}\n"
             "  not: {has: {pattern: 'gamma()'}}\n  regex: delta\n")
    assert needles(r) == (("alpha", "beta"), ("delta",), ("poke",))
    assert holds_needles(r, "void f(void) { beta(1); poke(delta, 2); }")
    assert not holds_needles(r, "void f(void) { poke(delta, 2); }")
    assert not holds_needles(r, "void f(void) { beta(1); poke(s, 2); }")
    macro = rule(tmp_path, "match: {kind: preproc_function_def, regex: printf}",
                 message="found", rule_id="t-m")
    assert needles(macro) == (("define",), ("printf",))
    # the rule still finds what it found when the words are there
    text = "void f(void)\n{\n    beta(1);\n    poke(delta, 2);\n}\n"
    assert [f.line for f in check({"hw/misc/k.c": text}, r)] == [4]


def test_regex_words_are_what_every_match_of_the_regex_holds() -> None:
    from reviewbot.checks.lang import regex_words

    assert regex_words("^(drive_get|blk_by_legacy_dinfo)$") == {"drive_get",
                                                                "blk_by_legacy_dinfo"}
    assert regex_words("^g_(try_)?malloc0?$") == {"malloc"}  # the optional part is not needed
    assert regex_words(r"->\s*vmsd\s*=") == {"vmsd"}
    assert regex_words("(?i)realize") is None  # the text is searched as written
    assert regex_words("^_([A-Z_]|[a-z])") is None  # nothing of 3 characters required
    assert regex_words("a|bcd") is None  # one branch has no word
    assert regex_words("x+ ab cdef") == {"cdef"}  # no white space: blanking makes spaces


def test_unit_needles_leave_out_what_may_lie_outside_the_unit(tmp_path: Path) -> None:
    """A sibling (follows) can be another top-level unit and an ancestor of no stated kind
    can be the file: their words do not narrow the units searched; the words of a
    constraint on a metavariable the match binds do."""
    from reviewbot.checks.lang import unit_needles

    r = rule(tmp_path, "match:\n  pattern: '$FN($X)'\n"
             "  follows: {pattern: 'alpha()', stopBy: end}\n"
             "  inside: {kind: function_definition, stopBy: end, has: {pattern: 'beta()'}}\n"
             "constraints: {FN: {regex: '^(poke|nudge)$'}}\n")
    assert unit_needles(r) == (("beta",), ("nudge", "poke"))
    whole = rule(tmp_path, "match:\n  kind: call_expression\n"
                 "  inside: {kind: translation_unit, has: {pattern: 'alpha()', stopBy: end}}\n",
                 message="found", rule_id="t-w")
    assert unit_needles(whole) == ()
    container = rule(tmp_path, "match: {kind: preproc_ifdef, regex: CONFIG_KNOB}",
                     message="found", rule_id="t-c")
    assert unit_needles(container) is None  # the match may be the conditional itself


def test_units_holding_the_words_give_the_findings_of_a_whole_file_search(
        tmp_path: Path) -> None:
    """Only the units (top-level nodes, the children of a top-level #if) holding the rule's
    words and a changed line are searched; the findings are those of searching the whole
    file, including a match inside a conditional and one whose related node is a sibling."""
    from reviewbot.checks import lang

    pad = "/* " + "x" * 300 + " */"  # big enough that searching two units costs less
    body = "".join(f"void f{i}(void) {{ other({i}); {pad} }}\n" for i in range(80))
    post = ("#include \"qemu/osdep.h\"\n" + body
            + "#ifdef CONFIG_KNOB\nvoid k(void) { poke(s, 1); }\n#endif\n"
            + "void a(void) { alpha(); }\nvoid g(void) { poke(s, 2); }\n")
    series = synthetic_series([("hw/misc/k.c", post)])
    r = rule(tmp_path, "match:\n  pattern: 'poke($S, $X)'\n"
             "  inside: {kind: function_definition, stopBy: end}\n")
    after = rule(tmp_path, "match:\n  kind: function_definition\n  has: {pattern: 'poke($S, $X)',"
                 " stopBy: end}\n  follows: {kind: function_definition, has: {pattern: 'alpha()',"
                 " stopBy: end}, stopBy: end}\n", message="after alpha", rule_id="t-after")
    searched: list[int] = []
    real = lang._PatchFiles.search_in

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        got = real(self, *args, **kwargs)
        searched.append(-1 if got is None else len(got))
        return got

    def whole(self: Any, *args: Any, **kwargs: Any) -> Any:
        return None

    def run(search: Any, **options: Any) -> list[tuple[int, str]]:
        lang._PatchFiles.search_in = search  # type: ignore[method-assign]
        try:
            return sorted((f.line, f.message)
                          for f in run_check(series, Options(**options), [r, after]).findings)
        finally:
            lang._PatchFiles.search_in = real  # type: ignore[method-assign]

    expected = [(83, "found 1"), (86, "after alpha"), (86, "found 2")]
    assert run(spy) == expected == run(whole)
    assert searched == [2, 2]  # k (inside the #ifdef) and g, of 85 units
    assert run(spy, all_files=True) == expected == run(whole, all_files=True)


def test_lines_of_a_big_file_are_searched_joined_first_with_the_same_findings(
        tmp_path: Path) -> None:
    """Past _MANY added lines a lines: rule searches them joined once before going line by
    line (``^``/``$`` at each line); a regex anchored with \\A is searched line by line only.
    Either way the findings are those of a line-by-line search, and a file with no line that
    matches, or (for a table rule) no name of the table, is passed over."""
    from reviewbot.checks import lang

    filler = "".join(f"static int v{i} = {i};\n" for i in range(300))
    text = filler + "#define E820_PMEM 12\n" + filler + "    x = 1; /* TODO: later */\n"
    anchored = rule(tmp_path, "lines: {regex: '^#define (?P<X>E820_\\w+) ', in: added-lines}")
    whole = rule(tmp_path, "lines: {regex: '\\A\\s*x = (?P<X>\\d+);', in: added-lines}",
                 rule_id="t-a")
    table = rule(tmp_path, "lines:\n  regex: ['^#define (?P<N>\\w+) (?P<V>.+)$']\n"
                 "  table: {data: firmware-spec, name: $N, value: $V}",
                 message="$N is {value}", rule_id="t-t")
    assert lang._joined_regexes((r"\Afoo",)) is None
    found = {r.id: [(f.line, f.message) for f in check({"hw/misc/k.h": text}, r)]
             for r in (anchored, whole, table)}
    assert found == {"t-rule": [(301, "found E820_PMEM")], "t-a": [(602, "found 1")],
                     "t-t": [(301, "E820_PMEM is 0xc")]}
    assert lang._names_table(filler) is False and lang._names_table(text) is True
    assert check({"hw/misc/k.h": filler + filler}, anchored) == []
