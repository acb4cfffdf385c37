"""The c-code primitives: search loops, copied statement runs, parameter growth, and a
second notifier list with no comment, on C text and on patches through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.checks.code import Code, definition_params, lookups, split_parameters
from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.finding import Finding
from reviewbot.ingest import load
from reviewbot.review.examples import synthetic_series
from reviewbot.rules.loader import builtin_rules_dir, load_pack
from reviewbot.rules.model import Rule

PACK = builtin_rules_dir() / "c-code"


@pytest.fixture(scope="module")
def rules() -> dict[str, Rule]:
    return {r.id: r for r in load_pack("c-code", PACK)}


def run(rules: dict[str, Rule], rule_id: str, path: str, text: str) -> list[Finding]:
    series = synthetic_series([(path, text)])
    result = run_check(series, Options(), [rules[rule_id]])
    return [f for f in result.findings if f.rule == rule_id]


FIND = """\
static Entry *find(State *s, int idx)
{
    Entry *e;

    QTAILQ_FOREACH(e, &s->entries, next)
    {
        if (e->index == idx) {
            return e;
        }
    }
    for (i = 0; i < s->n; i++) {
        if (s->e[i].used) {
            s->e[i].used = false;
        }
    }
    QLIST_FOREACH(e, &s->list, next) {
        if (e->index == idx) {
            break;
        }
        count++;
    }
    return NULL;
}
"""


def test_lookups_are_loops_whose_one_if_leaves_the_loop() -> None:
    found = lookups(Code.of(FIND))
    # the second loop acts on every match, the third does more than test
    assert [(lk.line, lk.cond_line, lk.header, lk.cond) for lk in found] == [
        (5, 7, "QTAILQ_FOREACH(e, &s->entries, next)", "e->index == idx")]


def test_code_blanks_comments_and_literals_keeping_offsets() -> None:
    text = 'f("a(b", \'(\'); /* ) */ g();\n'
    code = Code.of(text)
    assert len(code.blank) == len(text) == len(code.bare)
    assert code.close(1) == text.index(";")
    assert "/*" not in code.bare and '"a(b"' in code.bare


def test_split_parameters() -> None:
    assert split_parameters("void") == []
    assert split_parameters("") == []
    assert split_parameters("int a, void (*cb)(void *, int), Error **errp") == [
        "int a", "void (*cb)(void *, int)", "Error **errp"]


def test_definition_params_skips_prototypes_and_calls() -> None:
    text = ("int load(Cfg *c, bool only);\n"
            "static void use(void)\n{\n    load(NULL, false);\n}\n"
            "int load(Cfg *c,\n         bool only, /* soon more */\n         Error **errp)\n"
            "{\n    return 0;\n}\n")
    pl = definition_params(Code.of(text), "load")
    assert pl is not None
    assert (pl.first_line, pl.last_line) == (6, 8)
    assert pl.params == ("Cfg *c", "bool only", "Error **errp")


LOOKUP_FILE = """\
/* path: backends/t.c */
static int a(T *t, int i)
{
    P *p;

    QTAILQ_FOREACH(p, &t->params, next) {
        if (p->index == i) {
            p->used = true;
            break;
        }
    }
    return 0;
}

static int b(T *t, int i)
{
    P *p;

    QTAILQ_FOREACH(p, &t->params, next) {
        if (p->index == i) {
            return p->size;
        }
    }
    return 0;
}

static int c(T *t, int i)
{
    P *p;

    QTAILQ_FOREACH(p, &t->params, next) {
        if (p->index == i) {
            memset(p->data, 0, p->size);
            break;
        }
    }
    return 0;
}
"""


def test_repeated_lookup_in_a_new_file_is_said_once_at_the_last_copy(
        rules: dict[str, Rule]) -> None:
    found = run(rules, "code-repeated-lookup", "backends/t.c", LOOKUP_FILE)
    assert [(f.path, f.line, f.end_line) for f in found] == [("backends/t.c", 31, 32)]
    assert found[0].evidence == (
        "the same loop and test at backends/t.c:6 in a()",
        "the same loop and test at backends/t.c:19 in b()")
    assert "(QTAILQ_FOREACH(p, &t->params, next), if (p->index == i))" in found[0].message


def test_two_copies_are_not_yet_a_pattern(rules: dict[str, Rule]) -> None:
    two = LOOKUP_FILE[:LOOKUP_FILE.index("static int c(")]
    assert run(rules, "code-repeated-lookup", "backends/t.c", two) == []


def _body(extra: str) -> str:
    lines = [f"    s->r[{k}] = read_reg(s, {k});" for k in range(5)]
    lines += ["    if (s->r[0] & 1) {", "        raise_irq(s);", "    }",
              "    s->count++;", "    trace_dev_update(s->count);", "    update_timer(s);"]
    return "\n".join(lines) + extra


def test_copied_statements_cites_the_other_function(rules: dict[str, Rule]) -> None:
    text = ("static void dev_realize(DeviceState *dev, Error **errp)\n{\n"
            "    DevState *s = DEV(dev);\n\n" + _body("\n}\n\n") +
            "static void dev_reset(void *opaque)\n{\n    DevState *s = opaque;\n\n"
            "    s->count = 0;\n" + _body("\n}\n"))
    found = run(rules, "code-copied-statements", "hw/misc/dev.c", text)
    # realize's body: lines 5-15; reset's copy follows its own first statement: 23-33
    assert [(f.line, f.end_line) for f in found] == [(23, 33)]
    assert found[0].evidence == (
        "10 statements the same as hw/misc/dev.c:5-15 in dev_realize()",)
    assert "dev_realize()" in found[0].message


def test_copied_statements_need_some_logic_not_only_settings(rules: dict[str, Rule]) -> None:
    settings = "\n".join(f"    dc->f{k} = {k};" for k in range(12))
    text = (f"static void a_class_init(ObjectClass *oc)\n{{\n{settings}\n}}\n\n"
            f"static void b_class_init(ObjectClass *oc)\n{{\n{settings}\n}}\n")
    assert run(rules, "code-copied-statements", "hw/misc/dev.c", text) == []


def test_parameter_growth_says_before_and_after(rules: dict[str, Rule]) -> None:
    series = load(str(PACK / "examples" / "code-parameter-growth.patch"))
    result = run_check(series, Options(), [rules["code-parameter-growth"]])
    assert [(f.path, f.line) for f in result.findings] == [("backends/blobcfg.c", 64)]
    f = result.findings[0]
    assert f.evidence == (
        "before: blobcfg_load(BlobCfg *cfg, ConfidentialGuestSupport *cgs, bool only_context, "
        "Error **errp) — 4 parameters",
        "after: blobcfg_load(BlobCfg *cfg, ConfidentialGuestSupport *cgs, bool only_context, "
        "GArray *smp_table, Error **errp) — 5 parameters")
    assert "from 4 to 5 parameters (adds GArray *smp_table)" in f.message


HOOKS = """\
static NotifierList init_done_notifiers =
    NOTIFIER_LIST_INITIALIZER(init_done_notifiers);

static NotifierList init_done_late_notifiers =
    NOTIFIER_LIST_INITIALIZER(init_done_late_notifiers);

/* Notified after every init_done notifier has run. */
static NotifierList init_done_final_notifiers =
    NOTIFIER_LIST_INITIALIZER(init_done_final_notifiers);

static NotifierList exit_notifiers = NOTIFIER_LIST_INITIALIZER(exit_notifiers);
"""


def test_undocumented_sibling_hook_list(rules: dict[str, Rule]) -> None:
    found = run(rules, "code-undocumented-hook-list", "system/hooks.c", HOOKS)
    assert [(f.line, f.anchor) for f in found] == [(4, "init_done_late_notifiers")]
    assert found[0].evidence == (
        "existing hook point 'init_done': NotifierList init_done_notifiers at system/hooks.c:1",)


def test_c_code_rules_stay_quiet_on_a_file_without_c(rules: dict[str, Rule]) -> None:
    for rule_id in rules:
        assert run(rules, rule_id, "docs/notes.txt", HOOKS) == []



def test_copied_statements_in_a_hunk_of_a_file_known_from_hunks_only(
        rules: dict[str, Rule], tmp_path: Path) -> None:
    body = _body("").split("\n")
    old = ["static void dev_realize(DeviceState *dev, Error **errp)", "{",
           "    DevState *s = DEV(dev);", "", *body, "}", ""]
    new = ["static void dev_reset(void *opaque)", "{", "    DevState *s = opaque;", "",
           *body, "}", ""]
    hunk = [f" {ln}" for ln in old] + [f"+{ln}" for ln in new]
    diff = ("diff --git a/hw/misc/dev.c b/hw/misc/dev.c\n--- a/hw/misc/dev.c\n"
            "+++ b/hw/misc/dev.c\n"
            f"@@ -100,{len(old)} +100,{len(old) + len(new)} @@ void dev_update(DevState *s)\n"
            + "\n".join(hunk) + "\n")
    mail = tmp_path / "reset.patch"
    mail.write_text(
        "From: Jo Contributor <jo@example.org>\nSubject: [PATCH] hw/misc/dev: add reset\n"
        "Message-Id: <reset.1@example.org>\n\nReset the device.\n\n"
        "Signed-off-by: Jo Contributor <jo@example.org>\n---\n" + diff)
    result = run_check(load(str(mail)), Options(), [rules["code-copied-statements"]])
    # dev_realize stands at 100-116 (body 104-114); dev_reset's body starts at 121
    assert [(f.path, f.line, f.end_line, f.evidence) for f in result.findings] == [
        ("hw/misc/dev.c", 121, 131,
         ("10 statements the same as hw/misc/dev.c:104-114 in dev_realize()",))]


def test_repeated_lookup_points_at_the_added_line_of_the_loop(
        rules: dict[str, Rule], tmp_path: Path) -> None:
    """The third copy comes from changing an existing loop's test: the finding is on the
    changed line (the engine keeps findings on added lines only), the file known from the
    hunk alone."""
    lines = LOOKUP_FILE.split("\n")[1:]  # without the path comment: post-image lines 100...
    at = lines.index("            memset(p->data, 0, p->size);") - 1  # c()'s test
    old = [*lines[:at], "        if (p->index == i + 1) {", *lines[at + 1:]]
    hunk = ([f" {ln}" for ln in old[:at]] + [f"-{old[at]}", f"+{lines[at]}"]
            + [f" {ln}" for ln in old[at + 1:]])
    diff = ("diff --git a/backends/t.c b/backends/t.c\n--- a/backends/t.c\n+++ b/backends/t.c\n"
            f"@@ -100,{len(old)} +100,{len(lines)} @@\n" + "\n".join(hunk) + "\n")
    mail = tmp_path / "fix.patch"
    mail.write_text(
        "From: Jo Contributor <jo@example.org>\nSubject: [PATCH] backends/t: fix c()\n"
        "Message-Id: <fix.1@example.org>\n\nFix the index.\n\n"
        "Signed-off-by: Jo Contributor <jo@example.org>\n---\n" + diff)
    result = run_check(load(str(mail)), Options(), [rules["code-repeated-lookup"]])
    assert [(f.line, f.end_line, f.evidence) for f in result.findings] == [
        (100 + at, 100 + at, ("the same loop and test at backends/t.c:104 in a()",
                              "the same loop and test at backends/t.c:117 in b()"))]
