"""Series-hygiene primitives: on hand-built series and on the pack's example mails."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from reviewbot.checks.series import (
    file_concerns,
    has_changelog,
    name_tokens,
    real_author,
    same_name,
    split_plan,
)
from reviewbot.context import Options, SeriesContext
from reviewbot.engine import run_check
from reviewbot.ingest import load
from reviewbot.model import Mail, Patch, Person, Series, Subject, Trailer
from reviewbot.patch.diff import parse_diff
from reviewbot.rules.loader import builtin_rules_dir, load_pack
from reviewbot.rules.model import Rule

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "rules" / "series" / "examples"


def new_file(path: str, lines: list[str]) -> str:
    body = "".join(f"+{ln}\n" for ln in lines)
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n"
            f"+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}")


def edit(path: str, old: str, new: str) -> str:
    return (f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
            f"@@ -1,2 +1,2 @@\n ctx\n-{old}\n+{new}\n")


def make_patch(diff: str, *, title: str = "hw/mem: change", counter: int | None = None,
               total: int | None = None, author: Person | None = None,
               sob: str | None = "Ada Author <ada@example.org>", commit: str | None = None,
               in_reply_to: str | None = None, msgid: str = "p@example.org") -> Patch:
    who = author or Person("Ada Author", "ada@example.org")
    tags = ("PATCH", f"{counter}/{total}") if counter else ("PATCH",)
    subject = Subject(raw=f"[{' '.join(tags)}] {title}", title=title, tags=tags, is_patch=True,
                      counter=counter, total=total)
    mail = Mail(message_id=msgid, subject=subject, sender=who, author=who,
                date=datetime(2025, 6, 10, tzinfo=timezone.utc), in_reply_to=in_reply_to,
                references=(), to=(), cc=(), body="")
    trailers: tuple[Trailer, ...] = ()
    if sob:
        name, _, addr = sob.partition(" <")
        trailers = (Trailer("Signed-off-by", sob, Person(name, addr.rstrip(">"))),)
    return Patch(mail=mail, commit_message="", notes="", trailers=trailers, diff_text=diff,
                 files=parse_diff(diff), commit=commit)


def rule_by_id(rule_id: str) -> Rule:
    return next(r for r in load_pack("series", builtin_rules_dir() / "series") if r.id == rule_id)


def run(rule_id: str, series: Series, tree: Any = None) -> list[Any]:
    ctx = SeriesContext(series, Options(), tree, open_tree=False)
    return list(run_check(series, Options(), [rule_by_id(rule_id)], context=ctx).findings)


DEVICE = new_file("hw/mem/spm.c", ["int x;"]) + edit("hw/mem/meson.build", "a", "b")
QAPI = edit("qapi/machine.json", "'*a': 'int',", "'*spm': 'bool',")
ACPI = edit("hw/i386/acpi-build.c", "x();", "build_srat_memory(t, b, s, 0, 1);")
E820 = edit("hw/i386/pc.c", "x();", "e820_add_entry(b, s, E820_SOFT_RESERVED);")
MAINT = edit("MAINTAINERS", "F: a", "F: hw/mem/spm.c")


@pytest.mark.parametrize(("diff", "expected"), [
    (new_file("hw/mem/spm.c", ["int x;"]), ("device",)),
    (edit("hw/mem/meson.build", "a", "b"), ()),
    (edit("tests/qtest/spm-test.c", "a", "b"), ()),
    (QAPI, ("qapi",)),
    (edit("qemu-options.hx", "a", "b"), ("qapi",)),
    (ACPI, ("acpi",)),
    (edit("hw/acpi/aml-build.c", "a", "b"), ("acpi",)),
    (edit("hw/i386/e820_memory_layout.c", "a", "b"), ("e820",)),
    (E820, ("e820",)),
    (edit("hw/i386/pc.c", "a", "b"), ("code",)),
    (MAINT, ("maintainers",)),
])
def test_file_concerns(diff: str, expected: tuple[str, ...]) -> None:
    (fd,) = parse_diff(diff)
    assert file_concerns(fd) == expected


def test_split_plan_orders_boilerplate_first() -> None:
    patch = make_patch(MAINT + ACPI + E820 + QAPI + DEVICE)
    plan = split_plan(patch)
    assert [c.key for c, _, _ in plan] == ["device", "qapi", "e820", "acpi", "maintainers"]
    assert plan[0][1] == ["hw/mem/spm.c", "hw/mem/meson.build"]


def test_split_fires_with_three_concerns_and_names_them() -> None:
    series = Series(patches=(make_patch(DEVICE + QAPI + ACPI),))
    (f,) = run("series-split-patch", series)
    assert f.patch.message_id == "p@example.org"
    assert "3 separable things" in f.message
    assert f.evidence[0] == ("new device model (new files and their build glue): "
                             "hw/mem/spm.c, hw/mem/meson.build")
    assert "1. new device model" in f.fix and "3. ACPI table generation" in f.fix


def test_split_is_quiet_on_two_concerns_and_on_tree_wide_edits() -> None:
    two = Series(patches=(make_patch(ACPI + E820 + edit("tests/data/acpi/x", "a", "b")),))
    assert run("series-split-patch", two) == []
    many = "".join(edit(f"hw/{d}/dev.c", "old_api();", "new_api();")
                   for d in ("net", "usb", "scsi", "block", "char"))
    assert run("series-split-patch", Series(patches=(make_patch(many),))) == []


class FakeTree:
    def __init__(self, maintainers: str) -> None:
        self.root = None
        self._text = maintainers

    def maintainers_text(self) -> str:
        return self._text

    def is_dir(self, path: str) -> bool:
        return False  # F: entries without a trailing slash name files here


MAINTAINERS = """\
All patches CC here
F: *
F: */

ACPI/SMBIOS
F: hw/acpi/*
F: hw/i386/acpi-build.[hc]

QAPI Schema
F: qapi/*.json

Memory devices
F: hw/mem/
"""


def test_split_names_maintainers_sections_with_a_tree() -> None:
    series = Series(patches=(make_patch(DEVICE + QAPI + ACPI),))
    (f,) = run("series-split-patch", series, FakeTree(MAINTAINERS))
    assert f.evidence == (
        "new device model (new files and their build glue): hw/mem/spm.c, hw/mem/meson.build "
        "[MAINTAINERS: Memory devices]",
        "QAPI schema / command-line interface: qapi/machine.json [MAINTAINERS: QAPI Schema]",
        "ACPI table generation: hw/i386/acpi-build.c [MAINTAINERS: ACPI/SMBIOS]",
        "spans MAINTAINERS sections: ACPI/SMBIOS, Memory devices, QAPI Schema",
    )


def test_maintainers_mixed() -> None:
    mixed = Series(patches=(make_patch(DEVICE + MAINT),))
    (f,) = run("series-maintainers-own-patch", mixed)
    assert f.message == ("MAINTAINERS is changed together with code "
                         "(hw/mem/spm.c, hw/mem/meson.build)")
    assert "MAINTAINERS +F: hw/mem/spm.c" in f.evidence
    assert run("series-maintainers-own-patch", Series(patches=(make_patch(MAINT),))) == []


def test_no_cover_letter_only_for_posted_mail() -> None:
    p1 = make_patch(DEVICE, counter=1, total=2, msgid="1@x")
    p2 = make_patch(QAPI, counter=2, total=2, msgid="2@x", in_reply_to="1@x")
    (f,) = run("series-cover-letter-missing", Series(patches=(p1, p2)))
    assert (f.patch.index, f.patch.message_id) == (1, "1@x")
    from_git = Series(patches=(replace(p1, commit="abc"), replace(p2, commit="def")),
                      repo="/src/qemu")
    assert run("series-cover-letter-missing", from_git) == []


def test_no_cover_letter_quiet_on_partial_thread() -> None:
    only_3 = make_patch(DEVICE, counter=3, total=3, msgid="3@x", in_reply_to="0@x")
    assert run("series-cover-letter-missing", Series(patches=(only_3,))) == []


@pytest.mark.parametrize("text", [
    "v1 -> v2:\n- fixed", "Changes in v3:\n- b4", "v2:\n - rebased", "Changes since v1:",
    "Changelog:\n* x", "v2 -> v3:\n- add g_assert(vdev)", "since v2: rebased", "  v3\n  - foo",
])
def test_changelog_seen(text: str) -> None:
    assert has_changelog(text)


@pytest.mark.parametrize("text", [
    "This series adds a device.\n\nAda Author (2):\n  hw/mem: add spm\n",
    " hw/mem/spm.c | 4 ++--\n 1 file changed", "Tested with Linux v6.12 guests.",
])
def test_changelog_not_imagined(text: str) -> None:
    assert not has_changelog(text)


def test_author_via_list_is_matched_by_name() -> None:
    rewritten = Person("Ada Author via Qemu-devel", "qemu-devel@nongnu.org")
    patch = make_patch(DEVICE, author=rewritten, sob="Author, Ada <ada@example.org>")
    assert real_author(patch) == Person("Ada Author", "")
    assert run("series-signed-off-by-author", Series(patches=(patch,))) == []
    assert run("series-signed-off-by-name", Series(patches=(patch,))) == []


def test_name_tokens_ignore_order_accents_and_punctuation() -> None:
    assert name_tokens("Kővágó, Zoltán") == name_tokens("Zoltan Kovago")
    assert name_tokens("Ada Author") != name_tokens("A. N. Other")


def test_same_name_allows_a_dropped_middle_initial() -> None:
    assert same_name("Michael S. Tsirkin", "Michael Tsirkin")
    assert not same_name("Ada Author", "A. N. Other")
    assert not same_name("", "Ada Author")
    patch = make_patch(DEVICE, author=Person("Michael Tsirkin", "mst@example.org"),
                       sob="Michael S. Tsirkin <mst@example.org>")
    assert run("series-signed-off-by-name", Series(patches=(patch,))) == []


# The examples: exactly these findings, on exactly these mails.
EXAMPLE_FINDINGS = {
    "split-patch.mbox": [("series-maintainers-own-patch", "split-2@example.org"),
                         ("series-split-patch", "split-2@example.org")],
    "split-mechanical.mbox": [("series-split-patch", "splitm-1@example.org"),
                              ("series-split-patch", "splitm-2@example.org")],
    "maintainers-mixed.mbox": [("series-maintainers-own-patch", "maint-1@example.org")],
    "no-cover-letter.mbox": [("series-cover-letter-missing", "nocover-1@example.org")],
    "with-cover-letter.mbox": [],
    "v2-no-changelog.mbox": [("series-changelog-missing", "v2nc-0@example.org")],
    "v2-with-changelog.mbox": [],
    # the cover letter rule cannot tell b4 am output from a series sent without one
    "v3-without-cover.mbox": [("series-cover-letter-missing", "v3wc-1@example.org")],
    "numbering.mbox": [("series-numbering", "num-2@example.org"),
                       ("series-numbering", "num-3@example.org")],
    "signed-off-by.mbox": [("series-signed-off-by-missing", "sob-1@example.org"),
                           ("series-signed-off-by-address", "sob-2@example.org"),
                           ("series-signed-off-by-name", "sob-3@example.org"),
                           ("series-signed-off-by-author", "sob-5@example.org"),
                           ("series-signed-off-by-misplaced", "sob-6@example.org"),
                           ("series-signed-off-by-misplaced", "sob-7@example.org"),
                           ("series-signed-off-by-misplaced", "sob-8@example.org")],
    "subject.mbox": [("series-subject-prefix", "subj-1@example.org"),
                     ("series-subject-too-long", "subj-2@example.org")],
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_FINDINGS))
def test_examples(name: str) -> None:
    rules = load_pack("series", builtin_rules_dir() / "series")
    result = run_check(load(str(EXAMPLES / name)), Options(), rules)
    got = [(f.rule, f.patch.message_id if f.patch else "") for f in result.findings]
    assert sorted(got) == sorted(EXAMPLE_FINDINGS[name])
    assert all(f.path is None for f in result.findings)


def test_every_example_is_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.mbox")) == sorted(EXAMPLE_FINDINGS)


def test_numbering_explains_each_problem() -> None:
    rules = [rule_by_id("series-numbering")]
    result = run_check(load(str(EXAMPLES / "numbering.mbox")), Options(), rules)
    assert [f.message for f in result.findings] == [
        "subject numbering is inconsistent: v1 in reply to the v2 cover letter",
        "subject numbering is inconsistent: counts 4 patches where the series has 3",
    ]


def test_staged_change_has_no_message_to_check(git_repo: Any) -> None:
    repo = git_repo()
    repo.commit("hw/mem: base\n\nSigned-off-by: Ada Author <ada@example.org>",
                {"hw/mem/spm.c": "int x;\n"})
    repo.write("hw/mem/spm.c", "int x;\nint y;\n")
    repo.git("add", "hw/mem/spm.c")
    series = load(None, cwd=str(repo.path), staged=True)
    rules = load_pack("series", builtin_rules_dir() / "series")
    assert run_check(series, Options(), rules).findings == ()


def test_bare_diff_has_no_message_to_check(tmp_path: Path) -> None:
    diff = tmp_path / "change.diff"
    diff.write_text(edit("hw/mem/spm.c", "int x;", "int y;"), encoding="utf-8")
    rules = load_pack("series", builtin_rules_dir() / "series")
    assert run_check(load(str(diff)), Options(), rules).findings == ()


def _qemu_tree() -> Path:
    import os

    root = os.environ.get("REVIEWBOT_QEMU_TREE")
    if not root or not (Path(root) / "MAINTAINERS").is_file():
        pytest.skip("REVIEWBOT_QEMU_TREE is not set to a QEMU tree")
    return Path(root)


@pytest.mark.realtree
def test_split_names_real_maintainers_sections() -> None:
    tree = _qemu_tree()
    series = Series(patches=(make_patch(DEVICE + QAPI + ACPI + MAINT),))
    rules = [rule_by_id("series-split-patch")]
    (f,) = run_check(series, Options(tree=str(tree)), rules).findings
    # a new file no section lists yet: named without sections
    assert f.evidence[0] == ("new device model (new files and their build glue): "
                             "hw/mem/spm.c, hw/mem/meson.build")
    assert "[MAINTAINERS: Machine core, QAPI Schema]" in f.evidence[1]
    assert "ACPI/SMBIOS" in f.evidence[2] and "PC" in f.evidence[2]
    assert f.evidence[-1].startswith("spans MAINTAINERS sections: ACPI/SMBIOS, ")


CORPUS = REPO / "corpus" / "versions"


@pytest.mark.parametrize(("version", "status", "expected"), [
    ("v1", 1, [("series-cover-letter-missing", 1), ("series-subject-too-long", 1),
               ("series-signed-off-by-missing", 2), ("series-subject-prefix", 2),
               ("series-signed-off-by-address", 3), ("series-numbering", 4),
               ("series-signed-off-by-name", 4)]),
    ("v2", 0, []),
    ("v3", 0, [("series-changelog-missing", 0)]),  # info: advice, not a failure
])
def test_check_command_on_the_versions_corpus(version: str, status: int,
                                              expected: list[tuple[str, int]],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from reviewbot.cli import main

    assert main(["check", "--format", "json", str(CORPUS / f"{version}.mbox")]) == status
    doc = json.loads(capsys.readouterr().out)
    got = [(f["rule"], f["patch"]["index"]) for f in doc["findings"]]
    assert sorted(got) == sorted(expected)


def test_git_range_checks_commits_but_not_mail_threading(git_repo: Any) -> None:
    repo = git_repo()
    repo.commit("base\n\nSigned-off-by: Ada Author <ada@example.org>", {"hw/mem/a.c": "int a;\n"})
    repo.commit("hw/mem: grow a\n\nSigned-off-by: Ada Author <ada@example.org>",
                {"hw/mem/a.c": "int a;\nint b;\n"})
    repo.commit("grow a again, unsigned", {"hw/mem/a.c": "int a;\nint b;\nint c;\n"})
    series = load("HEAD~2..HEAD", cwd=str(repo.path))
    assert len(series.patches) == 2 and all(p.commit for p in series.patches)
    rules = load_pack("series", builtin_rules_dir() / "series")
    got = sorted((f.rule, f.patch.index if f.patch else -1)
                 for f in run_check(series, Options(), rules).findings)
    # no cover letter / changelog / numbering talk: format-patch adds those at send time
    assert got == [("series-signed-off-by-missing", 2), ("series-subject-prefix", 2)]


def test_format_patch_file_without_message_id_is_still_checked(git_repo: Any,
                                                                tmp_path: Path) -> None:
    """What git send-email's sendemail-validate hook hands over: no Message-Id yet."""
    repo = git_repo()
    repo.commit("base", {"hw/mem/a.c": "int a;\n"})
    repo.commit("grow a, unsigned", {"hw/mem/a.c": "int a;\nint b;\n"})
    out = tmp_path / "0001.patch"
    out.write_text(repo.git("format-patch", "--stdout", "-1"), encoding="utf-8")
    assert "Message-Id" not in out.read_text(encoding="utf-8")
    rules = load_pack("series", builtin_rules_dir() / "series")
    got = sorted(f.rule for f in run_check(load(str(out)), Options(), rules).findings)
    assert got == ["series-signed-off-by-missing", "series-subject-prefix"]


def test_patch_one_alone_says_nothing_about_a_cover_letter() -> None:
    p1 = make_patch(DEVICE, counter=1, total=3, msgid="1@x")
    assert run("series-cover-letter-missing", Series(patches=(p1,))) == []
