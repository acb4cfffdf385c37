"""The qemu-practice primitives (reviewbot/checks/practice.py) on hand-built series."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from reviewbot.checks.practice import _closes_with_semicolon, _prop_defaults, _uses
from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.ingest.subject import parse_subject
from reviewbot.model import Mail, Patch, Person, Series
from reviewbot.patch.diff import parse_diff
from reviewbot.review.examples import synthetic_series
from reviewbot.rules.loader import load_rules

RULES = {r.id: r for r in load_rules() if r.pack == "qemu-practice"}
ADA = Person("Ada Author", "ada@example.org")


def _mail(mid: str, subject: str, *, reply_to: str | None = None,
          cc: tuple[Person, ...] = ()) -> Mail:
    return Mail(message_id=mid, subject=parse_subject(subject), sender=ADA, author=ADA,
                date=datetime(2025, 6, 10, tzinfo=timezone.utc), in_reply_to=reply_to,
                references=(reply_to,) if reply_to else (), to=(), cc=cc, body="")


def _series(diff: str, mail: Mail, *, version: int = 1) -> Series:
    patch = Patch(mail=mail, commit_message="x\n", notes="", trailers=(), diff_text=diff,
                  files=parse_diff(diff, "test"))
    return Series(patches=(patch,), source="test", version=version, all_mails=(mail,))


def _run(series: Series, *rule_ids: str) -> list[tuple[str, str | None, int | None, str]]:
    result = run_check(series, Options(), [RULES[r] for r in rule_ids])
    return [(f.rule, f.path, f.line, f.message) for f in result.findings]


def test_prop_defaults_reads_the_last_argument() -> None:
    lines = [(10, '    DEFINE_PROP_UINT32("num-irq", FooState, num_irq, MAX(4, 8)),'),
             (11, '    DEFINE_PROP_BOOL("x-legacy", FooState, legacy, false), /* old */'),
             (12, '    DEFINE_PROP_END_OF_LIST(),')]
    assert _prop_defaults(lines) == {"num-irq": (10, "UINT32", "MAX(4, 8)"),
                                     "x-legacy": (11, "BOOL", "false")}


def test_prop_default_changed_in_a_header_edit_names_old_and_new() -> None:
    diff = ("diff --git a/hw/misc/foo.c b/hw/misc/foo.c\n--- a/hw/misc/foo.c\n"
            "+++ b/hw/misc/foo.c\n@@ -5,3 +5,3 @@\n static const Property p[] = {\n"
            '-    DEFINE_PROP_UINT32("queues", FooState, queues, 1),\n'
            '+    DEFINE_PROP_UINT32("queues", FooState, queues, 4),\n };\n')
    found = _run(_series(diff, _mail("a@x", "[PATCH] foo: more queues")),
                 "qemu-prop-default-no-compat")
    assert found == [("qemu-prop-default-no-compat", "hw/misc/foo.c", 6,
                      'the default of property "queues" changes from 1 to 4, and the series '
                      "adds no compat entry keeping 1 for older machine types")]


def test_a_new_property_is_not_a_changed_default() -> None:
    diff = ("diff --git a/hw/misc/foo.c b/hw/misc/foo.c\n--- a/hw/misc/foo.c\n"
            "+++ b/hw/misc/foo.c\n@@ -5,2 +5,3 @@\n static const Property p[] = {\n"
            '+    DEFINE_PROP_UINT32("queues", FooState, queues, 4),\n };\n')
    assert _run(_series(diff, _mail("a@x", "[PATCH] foo: queues")),
                "qemu-prop-default-no-compat") == []


def test_uses_skips_prototypes_and_the_definition_but_counts_calls() -> None:
    text = ("void foo_go(int a);\n"               # 1 prototype
            "void foo_go(int a)\n{\n}\n"          # 2-4 definition
            "static void bar(void)\n{\n"
            "    return foo_go(1);\n}\n")         # 7 a call after 'return'
    assert _uses(text, "foo_go", (2, 4)) == 1
    assert _uses("bool foo_go(int a) G_GNUC_WARN_UNUSED_RESULT;\n", "foo_go", None) == 0
    assert _uses("    .read = foo_go,\n", "foo_go", None) == 1
    assert _closes_with_semicolon("(int a,\n            int b);")
    assert not _closes_with_semicolon("(a, b) + 1;")


def test_unused_new_function_is_quiet_when_a_header_declares_it_and_a_file_calls_it() -> None:
    series = synthetic_series([
        ("include/hw/misc/foo.h", "void foo_go(int a);\n"),
        ("hw/misc/foo.c", "#include \"hw/misc/foo.h\"\nvoid foo_go(int a)\n{\n}\n"
                          "void foo_spare(void)\n{\n}\n"),
        ("hw/misc/bar.c", "#include \"hw/misc/foo.h\"\nstatic void bar(void)\n{\n"
                          "    foo_go(2);\n}\n"),
    ])
    found = _run(series, "qemu-unused-new-function")
    assert [(r, p, ln) for r, p, ln, _ in found] == [
        ("qemu-unused-new-function", "hw/misc/foo.c", 5)]


def test_maintainers_not_cced_names_who_is_missing_from_the_tree_maintainers(
        tmp_path: Path) -> None:
    (tmp_path / "MAINTAINERS").write_text(
        "Foo device\nM: Bo Maintainer <bo@example.org>\nR: Cy Reviewer <cy@example.org>\n"
        "S: Maintained\nF: hw/misc/foo.c\n", encoding="utf-8")
    (tmp_path / "hw" / "misc").mkdir(parents=True)
    (tmp_path / "hw" / "misc" / "foo.c").write_text("int x;\n", encoding="utf-8")
    diff = ("diff --git a/hw/misc/foo.c b/hw/misc/foo.c\n--- a/hw/misc/foo.c\n"
            "+++ b/hw/misc/foo.c\n@@ -1 +1 @@\n-int x;\n+int y;\n")
    mail = _mail("m@x", "[PATCH] foo: rename", cc=(Person("Bo Maintainer", "BO@example.org"),))
    result = run_check(_series(diff, mail), Options(tree=str(tmp_path)),
                       [RULES["qemu-maintainers-not-cced"]])
    assert [f.message for f in result.findings] == [
        "the patch touches files of Foo device but does not reach Cy Reviewer <cy@example.org>"]


def test_version_in_old_thread_only_for_the_head_of_the_series() -> None:
    diff = ("diff --git a/hw/misc/foo.c b/hw/misc/foo.c\n--- a/hw/misc/foo.c\n"
            "+++ b/hw/misc/foo.c\n@@ -1 +1 @@\n-int x;\n+int y;\n")
    alone = _series(diff, _mail("v2@x", "[PATCH v2] foo: rename", reply_to="v1@x"), version=2)
    first_of_two = _series(diff, _mail("v2-1@x", "[PATCH v2 1/2] foo: rename",
                                       reply_to="v2-0@x"), version=2)
    assert [m for _, _, _, m in _run(alone, "qemu-version-in-old-thread")] == [
        "v2 is posted as a reply to <v1@x>: send each new version as a new thread"]
    assert _run(first_of_two, "qemu-version-in-old-thread") == []
