"""series-split-patch on mechanical changes mixed with others (issue 13 item 8): refreshed
spec references in comments, file moves and renames, licence headers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from reviewbot.checks.series import file_concerns, licence_lines, reference_updates, split_plan
from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.finding import Finding
from reviewbot.model import Mail, Patch, Person, Series, Subject
from reviewbot.patch.diff import parse_diff
from reviewbot.rules.loader import builtin_rules_dir, load_pack


def patch_of(diff: str) -> Patch:
    who = Person("Ada Author", "ada@example.org")
    subject = Subject(raw="[PATCH] hw/cxl: change", title="hw/cxl: change", tags=("PATCH",),
                      is_patch=True)
    mail = Mail(message_id="p@example.org", subject=subject, sender=who, author=who,
                date=datetime(2026, 1, 19, tzinfo=timezone.utc), in_reply_to=None,
                references=(), to=(), cc=(), body="")
    return Patch(mail=mail, commit_message="", notes="", trailers=(), diff_text=diff,
                 files=parse_diff(diff))


def split_findings(diff: str) -> list[Finding]:
    rules = [r for r in load_pack("series", builtin_rules_dir() / "series")
             if r.id == "series-split-patch"]
    return list(run_check(Series(patches=(patch_of(diff),)), Options(), rules).findings)


# Shaped like <20260119111542.788389-4-Jonathan.Cameron@huawei.com>: the header's record
# layout changes (a reserved size) while every reference in the file moves to CXL r3.2.
EVENTS_H = """\
diff --git a/include/hw/cxl/lamp_events.h b/include/hw/cxl/lamp_events.h
--- a/include/hw/cxl/lamp_events.h
+++ b/include/hw/cxl/lamp_events.h
@@ -10,14 +10,14 @@
 /*
  * General Media Event Record
- * CXL r3.1 Section 8.2.9.2.1.1; Table 8-45
+ * CXL r3.2 Section 8.2.10.2.1.1; Table 8-57
  */
-#define LAMP_GEN_MED_RES_SIZE 0x2e
+#define LAMP_GEN_MED_RES_SIZE 0x29
 /*
  * DRAM Event Record
- * CXL r3.1 Section 8.2.9.2.1.2: Table 8-46
+ * CXL r3.2 Section 8.2.10.2.1.2: Table 8-58
  */
 #define LAMP_DRAM_RES_SIZE 0x17
-/* Memory Module Event Record, CXL r3.1 Section 8.2.9.2.1.3: Table 8-47 */
+/* Memory Module Event Record, CXL r3.2 Section 8.2.10.2.1.3: Table 8-59 */
 #define LAMP_MODULE_RES_SIZE 0x3d
"""
QAPI_DOC = """\
diff --git a/qapi/lamp.json b/qapi/lamp.json
--- a/qapi/lamp.json
+++ b/qapi/lamp.json
@@ -1,4 +1,4 @@
 ##
-# Event record for a General Media Event (CXL r3.0 8.2.9.2.1.1).
+# Event record for a General Media Event (CXL r3.2 8.2.10.2.1.1).
 #
 ##
"""


MODULE_R31 = "/* Memory Module Event Record, CXL r3.1 Section 8.2.9.2.1.3: Table 8-47 */"
MODULE_R32 = "/* Memory Module Event Record, CXL r3.2 Section 8.2.10.2.1.3: Table 8-59 */"


def test_reference_updates_are_comment_lines_differing_only_in_references() -> None:
    (fd,) = parse_diff(EVENTS_H)
    assert reference_updates(fd) == [
        (" * CXL r3.1 Section 8.2.9.2.1.1; Table 8-45",
         " * CXL r3.2 Section 8.2.10.2.1.1; Table 8-57"),
        (" * CXL r3.1 Section 8.2.9.2.1.2: Table 8-46",
         " * CXL r3.2 Section 8.2.10.2.1.2: Table 8-58"),
        ("/* Memory Module Event Record, CXL r3.1 Section 8.2.9.2.1.3: Table 8-47 */",
         "/* Memory Module Event Record, CXL r3.2 Section 8.2.10.2.1.3: Table 8-59 */")]
    # the #define is code, not a comment; QAPI doc comments are '#' lines
    (qapi,) = parse_diff(QAPI_DOC)
    assert len(reference_updates(qapi)) == 1
    assert file_concerns(fd) == ("refs", "code")


def test_references_refreshed_with_a_behaviour_change_is_two_patches() -> None:
    (f,) = split_findings(EVENTS_H)
    assert f.message == ("this patch does 2 separable things at once: comment-only reference "
                         "update, changes to existing code")
    assert "1. comment-only reference update; 2. changes to existing code" in f.fix
    assert f.anchor == "split:refs,code"


@pytest.mark.parametrize("diff", [
    # references only
    EVENTS_H.replace("-#define LAMP_GEN_MED_RES_SIZE 0x2e\n+#define LAMP_GEN_MED_RES_SIZE 0x29\n",
                     " #define LAMP_GEN_MED_RES_SIZE 0x2e\n"),
    # a code change that updates fewer references than min_reference_updates
    EVENTS_H.replace(f"-{MODULE_R31}\n+{MODULE_R32}\n", f" {MODULE_R31}\n"),
])
def test_references_alone_or_few_stay_quiet(diff: str) -> None:
    assert split_findings(diff) == []


RENAME = """\
diff --git a/hw/misc/lamp.c b/hw/lamp/lamp.c
similarity index 71%
rename from hw/misc/lamp.c
rename to hw/lamp/lamp.c
--- a/hw/misc/lamp.c
+++ b/hw/lamp/lamp.c
@@ -1,5 +1,10 @@
+/*
+ * Lamp device
+ *
+ * SPDX-License-Identifier: GPL-2.0-or-later
+ */
 #include "qemu/osdep.h"
{BLANK}
 static int lamp_read(void *opaque)
 {
-    return 0;
+    return 2;
""".replace("{BLANK}", " ")


def test_rename_with_a_licence_header_and_a_code_change_is_three_patches() -> None:
    (fd,) = parse_diff(RENAME)
    assert licence_lines(fd)[3] == " * SPDX-License-Identifier: GPL-2.0-or-later"
    (f,) = split_findings(RENAME)
    assert f.message == ("this patch does 3 separable things at once: file move/rename, "
                         "licence header, changes to existing code")
    assert "1. file move/rename; 2. licence header; 3. changes to existing code" in f.fix


def test_pure_rename_and_rename_with_licence_only() -> None:
    pure = ("diff --git a/hw/misc/lamp.c b/hw/lamp/lamp.c\nsimilarity index 100%\n"
            "rename from hw/misc/lamp.c\nrename to hw/lamp/lamp.c\n")
    assert split_findings(pure) == []
    licence_only = RENAME.replace("-    return 0;\n+    return 2;\n", "     return 0;\n")
    (f,) = split_findings(licence_only)  # a move and a header: two reviews, two patches
    assert f.anchor == "split:move,licence"


def test_move_git_did_not_see_as_a_rename() -> None:
    """Sent without -M, or changed too much for git's similarity: a deleted file and a new
    file of the same name; what the new copy adds is judged against the old lines."""
    old = ["#include \"qemu/osdep.h\"", "", "static int lamp_read(void *opaque)", "{",
           "    return 0;", "}"]
    new = ["/* SPDX-License-Identifier: GPL-2.0-or-later */", *old[:4], "    return 2;", "}"]
    diff = (f"diff --git a/hw/misc/lamp.c b/hw/misc/lamp.c\ndeleted file mode 100644\n"
            f"--- a/hw/misc/lamp.c\n+++ /dev/null\n@@ -1,{len(old)} +0,0 @@\n"
            + "".join(f"-{t}\n" for t in old)
            + f"diff --git a/hw/lamp/lamp.c b/hw/lamp/lamp.c\nnew file mode 100644\n"
            f"--- /dev/null\n+++ b/hw/lamp/lamp.c\n@@ -0,0 +1,{len(new)} @@\n"
            + "".join(f"+{t}\n" for t in new))
    plan = split_plan(patch_of(diff))
    assert [(c.key, paths) for c, paths, _ in plan] == [
        ("move", ["hw/lamp/lamp.c"]), ("licence", ["hw/lamp/lamp.c"]),
        ("code", ["hw/lamp/lamp.c"])]
    same = diff.replace("+    return 2;", "+    return 0;").replace(
        "+/* SPDX-License-Identifier: GPL-2.0-or-later */\n", "").replace(
        f"+1,{len(new)} @@", f"+1,{len(old)} @@")
    assert [c.key for c, _, _ in split_plan(patch_of(same))] == ["move"]
