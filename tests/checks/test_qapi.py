"""QAPI primitives: Since releases and documentation of option-backing struct members."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from reviewbot.context import Options, SeriesContext
from reviewbot.engine import run_check
from reviewbot.ingest import load
from reviewbot.model import Mail, Patch, Person, Series, Subject
from reviewbot.patch.diff import parse_diff
from reviewbot.rules.loader import builtin_rules_dir, load_pack
from reviewbot.rules.model import Rule

EXAMPLES = Path(__file__).resolve().parents[2] / "rules" / "qapi" / "examples"


def rules() -> list[Rule]:
    return load_pack("qapi", builtin_rules_dir() / "qapi")


def rule(rule_id: str) -> Rule:
    return next(r for r in rules() if r.id == rule_id)


def patch_of(diff: str, *, when: datetime | None = None, msgid: str = "q@x") -> Patch:
    who = Person("Ada Author", "ada@example.org")
    mail = Mail(message_id=msgid, subject=Subject(raw="[PATCH] qapi: x", title="qapi: x"),
                sender=who, author=who, date=when, in_reply_to=None, references=(),
                to=(), cc=(), body="")
    return Patch(mail=mail, commit_message="", notes="", trailers=(), diff_text=diff,
                 files=parse_diff(diff))


class FakeTree:
    root = None

    def __init__(self, version: str | None) -> None:
        self._version = version

    def version(self) -> str | None:
        return self._version

    def maintainers_text(self) -> None:
        return None

    def read_text(self, path: str) -> None:
        return None

    def exists(self, path: str) -> bool:
        return False


def check(rule_id: str, *patches: Patch, tree: Any = None,
          options: Options | None = None) -> list[Any]:
    series = Series(patches=patches)
    opts = options or Options()
    ctx = SeriesContext(series, opts, tree, open_tree=False)
    return list(run_check(series, opts, [rule(rule_id)], context=ctx).findings)


SINCE_DIFF = """\
diff --git a/qapi/machine.json b/qapi/machine.json
--- a/qapi/machine.json
+++ b/qapi/machine.json
@@ -10,3 +10,14 @@
 ##
 # @Foo:
 #
+# @bar: a new member (since 10.0)
+#
+# @baz: another one (default: off, since 10.1)
+#
+# Since: 9.2
+##
+{ 'struct': 'Foo',
+  'data': { 'bar': 'int',
+            '*baz': 'bool' } }
+
+##
"""


def lines_flagged(findings: list[Any]) -> list[tuple[str, int, str]]:
    return [(f.path, f.line, f.code.strip()) for f in findings]


def test_since_against_tree_version() -> None:
    got = check("qapi-since", patch_of(SINCE_DIFF), tree=FakeTree("10.0.50"))
    assert lines_flagged(got) == [
        ("qapi/machine.json", 13, "# @bar: a new member (since 10.0)"),
        ("qapi/machine.json", 17, "# Since: 9.2"),
    ]
    assert got[0].message == '"10.0" is not the release this change first appears in (10.1)'
    assert "VERSION 10.0.50 in the tree (development toward 10.1)" in got[0].fix


def test_option_wins_over_tree() -> None:
    got = check("qapi-since", patch_of(SINCE_DIFF), tree=FakeTree("10.0.50"),
                options=Options(qemu_version="10.0"))
    assert [f.line for f in got] == [15, 17]
    assert "--qemu-version 10.0" in got[0].evidence[1]


def test_release_candidate_tolerates_the_release_after() -> None:
    got = check("qapi-since", patch_of(SINCE_DIFF), tree=FakeTree("9.2.91"))
    # 10.0 (the release being prepared) and 10.1 (after the freeze) both pass
    assert [f.line for f in got] == [17]


def test_date_when_no_tree_and_no_option() -> None:
    patch = patch_of(SINCE_DIFF, when=datetime(2025, 2, 3, tzinfo=timezone.utc))
    got = check("qapi-since", patch)
    assert [f.line for f in got] == [17]
    assert "series date 2025-02-03 on the release calendar" in got[0].evidence[1]


def test_no_basis_no_finding() -> None:
    assert check("qapi-since", patch_of(SINCE_DIFF)) == []


def test_moved_since_is_not_new() -> None:
    moved = """\
diff --git a/qapi/machine.json b/qapi/machine.json
--- a/qapi/machine.json
+++ b/qapi/machine.json
@@ -1,4 +1,4 @@
 ##
-# Since: 2.1
+#  Since: 2.1
 ##
 x
"""
    assert check("qapi-since", patch_of(moved), tree=FakeTree("10.0.50")) == []


def test_since_added_to_the_doc_of_existing_things_is_a_doc_fix() -> None:
    doc_fix = """\
diff --git a/qapi/machine.json b/qapi/machine.json
--- a/qapi/machine.json
+++ b/qapi/machine.json
@@ -1,8 +1,10 @@
 ##
 # @Foo:
 #
-# @bar: a member
+# @bar: a member (since 2.12)
 #
+# Since: 2.11
+#
 ##
 { 'struct': 'Foo',
   'data': { 'bar': 'int' } }
"""
    assert check("qapi-since", patch_of(doc_fix), tree=FakeTree("10.0.50")) == []


def test_other_files_are_not_schema() -> None:
    diff = SINCE_DIFF.replace("qapi/machine.json", "docs/qapi-notes.json")
    assert check("qapi-since", patch_of(diff), tree=FakeTree("10.0.50")) == []


MEMBER_DIFF = """\
diff --git a/qapi/machine.json b/qapi/machine.json
--- a/qapi/machine.json
+++ b/qapi/machine.json
@@ -1,8 +1,11 @@
 ##
 # @NumaNodeOptions:
 #
+# @spm: specific-purpose memory (since 10.1)
+#
 # Since: 2.1
 ##
 { 'struct': 'NumaNodeOptions',
   'data': {
-   '*memdev': 'str' }}
+   '*memdev': 'str',
+   '*spm': 'bool' }}
"""

HX_DIFF = """\
diff --git a/qemu-options.hx b/qemu-options.hx
--- a/qemu-options.hx
+++ b/qemu-options.hx
@@ -1,2 +1,2 @@
 DEF("numa", HAS_ARG, QEMU_OPTION_numa,
-    "-numa node[,memdev=id]\\n"
+    "-numa node[,memdev=id][,spm=on|off]\\n"
"""


def test_member_documented_in_both_places_is_quiet() -> None:
    assert check("qapi-option-member-undocumented", patch_of(MEMBER_DIFF + HX_DIFF)) == []


def test_hx_in_a_later_patch_of_the_series_counts() -> None:
    got = check("qapi-option-member-undocumented", patch_of(MEMBER_DIFF, msgid="1@x"),
                patch_of(HX_DIFF, msgid="2@x"))
    assert got == []


def test_member_missing_from_hx() -> None:
    (f,) = check("qapi-option-member-undocumented", patch_of(MEMBER_DIFF))
    assert (f.path, f.line) == ("qapi/machine.json", 11)
    assert f.message == ("new member 'spm' of NumaNodeOptions (behind -numa node) is not "
                         "documented in qemu-options.hx (-numa node)")


def test_member_missing_from_schema_doc() -> None:
    undocumented = MEMBER_DIFF.replace("+# @spm: specific-purpose memory (since 10.1)\n+#\n", "")
    undocumented = undocumented.replace("@@ -1,8 +1,11 @@", "@@ -1,8 +1,9 @@")
    (f,) = check("qapi-option-member-undocumented", patch_of(undocumented + HX_DIFF))
    assert f.line == 9
    assert "QAPI doc comment of NumaNodeOptions (# @spm:)" in f.message


def test_struct_not_behind_an_option_is_ignored() -> None:
    other = MEMBER_DIFF.replace("NumaNodeOptions", "MemoryInfo")
    assert check("qapi-option-member-undocumented", patch_of(other)) == []


EXAMPLE_FINDINGS = {
    "qapi-since.mbox": [("qapi-option-member-undocumented", "qapi/machine.json", 27),
                        ("qapi-since", "qapi/machine.json", 35)],
    "option-member.mbox": [("qapi-option-member-undocumented", "qapi/machine.json", 27)],
    # checked against the 10.0 tree beside it, older than the series (issue 13 item 5)
    "qapi-since-stale-tree.mbox": [("qapi-since", "qapi/machine.json", 30)],
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_FINDINGS))
def test_examples(name: str) -> None:
    from reviewbot.review.examples import example_tree

    options = Options(tree=example_tree(EXAMPLES / name))
    result = run_check(load(str(EXAMPLES / name)), options, rules())
    assert [(f.rule, f.path, f.line) for f in result.findings] == EXAMPLE_FINDINGS[name]


def test_every_example_is_listed() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.mbox")) == sorted(EXAMPLE_FINDINGS)


def test_real_thread_audio_since_is_right(corpus_real: Path) -> None:
    """qapi/audio.json in Sep 2019 says "since 4.2": the release after that date."""
    series = load(str(corpus_real / "audio-pa-stream-name.mbox"))
    added = [ln.text for p in series.patches for fd in p.files if fd.path == "qapi/audio.json"
             for h in fd.hunks for ln in h.added]
    assert any("since 4.2)" in t for t in added)
    assert run_check(series, Options(), rules()).findings == ()
    wrong = run_check(series, Options(qemu_version="4.2.50"), rules()).findings
    assert [(f.rule, f.path) for f in wrong] == [("qapi-since", "qapi/audio.json")]


@pytest.mark.realtree
def test_since_against_the_real_version_file() -> None:
    import os

    root = os.environ.get("REVIEWBOT_QEMU_TREE")
    if not root or not (Path(root) / "VERSION").is_file():
        pytest.skip("REVIEWBOT_QEMU_TREE is not set to a QEMU tree")
    version = (Path(root) / "VERSION").read_text(encoding="utf-8").strip()
    from reviewbot.qemu.releases import from_version_file

    expected = str(from_version_file(version).expected)
    series = Series(patches=(patch_of(SINCE_DIFF),))
    got = run_check(series, Options(tree=root), [rule("qapi-since")]).findings
    flagged = {f.code.strip() for f in got}
    for line in ("# @bar: a new member (since 10.0)",
                 "# @baz: another one (default: off, since 10.1)", "# Since: 9.2"):
        named = line.rsplit(" ", 1)[-1].strip(")")
        assert (line in flagged) == (named != expected), (line, expected)
    assert all(f"VERSION {version} in the tree" in f.fix for f in got)


# Issue 13 item 5: --tree older than the series. Its VERSION leads to the release after the
# tree's, but a series posted later goes into a later release: the date decides, and says so.
def _stale_diff(since: str, context: tuple[str, str, str]) -> str:
    return ("diff --git a/qapi/machine.json b/qapi/machine.json\n--- a/qapi/machine.json\n"
            "+++ b/qapi/machine.json\n@@ -1,3 +1,8 @@\n"
            + "".join(f" {c}\n" for c in context)
            + f"+##\n+# @SpmNode:\n+#\n+# Since: {since}\n+##\n")


NEWER_CONTEXT = ("# -*- Mode: Python -*-", "# vim: filetype=python", "# SPDX-License-Identifier: x")
MARCH_2026 = datetime(2026, 3, 2, tzinfo=timezone.utc)


def test_since_against_a_tree_older_than_the_series() -> None:
    """The tree is missing the file the series edits, and the series is dated 2026-03 (11.0
    on the calendar) where the tree's VERSION 10.0.13 leads to 10.1."""
    right = patch_of(_stale_diff("11.0", NEWER_CONTEXT), when=MARCH_2026)
    assert check("qapi-since", right, tree=FakeTree("10.0.13")) == []
    wrong = patch_of(_stale_diff("10.1", NEWER_CONTEXT), when=MARCH_2026)
    (f,) = check("qapi-since", wrong, tree=FakeTree("10.0.13"))
    assert f.message == '"10.1" is not the release this change first appears in (11.0)'
    assert f.evidence[1] == (
        "release derived from series date 2026-03-02 on the release calendar, not the "
        "tree's VERSION 10.0.13 (next release 10.1): the tree is older than the series "
        "(qapi/machine.json: not in the tree; using the hunks only); accepted: 11.0, 11.1")


@pytest.mark.realtree
def test_real_thread_against_a_newer_tree_keeps_its_date(corpus_real: Path) -> None:
    """audio (Sep 2019, "since 4.2") against the 10.0.13 tree: its hunks do not apply there,
    and 10.1 is not what a 2019 series goes into."""
    import os

    root = os.environ.get("REVIEWBOT_QEMU_TREE")
    if not root or not (Path(root) / "VERSION").is_file():
        pytest.skip("REVIEWBOT_QEMU_TREE is not set to a QEMU tree")
    series = load(str(corpus_real / "audio-pa-stream-name.mbox"))
    assert run_check(series, Options(tree=root), [rule("qapi-since")]).findings == ()


def test_series_dated_within_the_trees_release_keeps_the_version() -> None:
    """Hunks that do not apply, but a date that leads to the same release: VERSION stands."""
    june_2025 = datetime(2025, 6, 2, tzinfo=timezone.utc)
    (f,) = check("qapi-since", patch_of(_stale_diff("10.2", NEWER_CONTEXT), when=june_2025),
                 tree=FakeTree("10.0.13"))
    assert "VERSION 10.0.13 in the tree" in f.evidence[1]


@pytest.mark.realtree
def test_since_against_a_stale_real_tree() -> None:
    import os

    root = os.environ.get("REVIEWBOT_QEMU_TREE")
    if not root or not (Path(root) / "VERSION").is_file():
        pytest.skip("REVIEWBOT_QEMU_TREE is not set to a QEMU tree")
    if (Path(root) / "VERSION").read_text(encoding="utf-8").strip() != "10.0.13":
        pytest.skip("written for QEMU 10.0.13")
    lines = (Path(root) / "qapi/machine.json").read_text(encoding="utf-8").splitlines()
    applies = (lines[0], lines[1], lines[2])
    stale = patch_of(_stale_diff("11.0", NEWER_CONTEXT), when=MARCH_2026)
    got = run_check(Series(patches=(stale,)), Options(tree=root), [rule("qapi-since")])
    assert got.findings == ()  # 11.0 is right for March 2026, whatever the old tree says
    fresh = patch_of(_stale_diff("11.0", applies), when=MARCH_2026)
    (f,) = run_check(Series(patches=(fresh,)), Options(tree=root),
                     [rule("qapi-since")]).findings
    # the hunk applies: the tree is taken as the base, and it leads to 10.1
    assert f.message == '"11.0" is not the release this change first appears in (10.1)'
