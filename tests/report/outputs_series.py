"""A small real series (cover + 2 patches, as `git format-patch` writes them) for the
formatter tests, and the findings a check would report on it.

The series is built from the mail text with the stdlib mail parser and ``parse_diff`` so the
line numbers the formatters print can be checked against the text itself.
"""

from __future__ import annotations

import email
import email.policy
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from reviewbot.context import Options
from reviewbot.diff import parse_diff
from reviewbot.engine import CheckResult
from reviewbot.finding import Finding, PatchRef, Severity
from reviewbot.model import Mail, Patch, Person, Series, Subject
from reviewbot.rules.model import Rule

COVER = """\
From: Ada Author <ada@example.org>
To: qemu-devel@nongnu.org
Cc: Paolo Maintainer <pm@example.org>
Subject: [PATCH 0/2] hw/misc: add the foo device
Date: Thu, 02 Jan 2025 03:04:05 +0000
Message-ID: <cover.1@example.org>

This series adds the foo device.

Ada Author (2):
  hw/misc: add the foo device
  MAINTAINERS: add foo
"""

PATCH1 = """\
From: Ada Author <ada@example.org>
To: qemu-devel@nongnu.org
Cc: Paolo Maintainer <pm@example.org>
Subject: [PATCH 1/2] hw/misc: add the foo device
Date: Thu, 02 Jan 2025 03:04:06 +0000
Message-ID: <patch.1@example.org>
In-Reply-To: <cover.1@example.org>
References: <cover.1@example.org>

A device that needs the machine.

Signed-off-by: Ada Author <ada@example.org>
---
 hw/misc/foo.c | 19 +++++++++++++++++++
 1 file changed, 19 insertions(+)
 create mode 100644 hw/misc/foo.c

diff --git a/hw/misc/foo.c b/hw/misc/foo.c
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/hw/misc/foo.c
@@ -0,0 +1,19 @@
+#include "qemu/osdep.h"
+#include "hw/boards.h"
+#include "hw/qdev-core.h"
+
+static void foo_realize(DeviceState *dev, Error **errp)
+{
+    MachineState *ms = MACHINE(qdev_get_machine());
+
+    (void)ms;
+}
+
+static void foo_class_init(ObjectClass *oc, void *data)
+{
+    DeviceClass *dc = DEVICE_CLASS(oc);
+
+    dc->realize = foo_realize;
+}
+
+/* end */
--
2.39.5
"""

PATCH2 = """\
From: Ada Author <ada@example.org>
To: qemu-devel@nongnu.org
Subject: [PATCH 2/2] MAINTAINERS: add foo
Date: Thu, 02 Jan 2025 03:04:07 +0000
Message-ID: <patch.2@example.org>
In-Reply-To: <cover.1@example.org>
References: <cover.1@example.org>

---
 MAINTAINERS | 4 ++++
 1 file changed, 4 insertions(+)

diff --git a/MAINTAINERS b/MAINTAINERS
index 2222222..3333333 100644
--- a/MAINTAINERS
+++ b/MAINTAINERS
@@ -10,3 +10,7 @@ Misc
 M: Someone <someone@example.org>
 S: Maintained
 F: hw/misc/bar.c
+
+Foo
+S: Orphan
+F: hw/misc/foo.c
--
2.39.5
"""


def _person(value: str) -> Person:
    name, addr = parseaddr(value)
    return Person(name=name, email=addr)


def parse_mail(text: str, origin: str) -> tuple[Mail, int]:
    """A Mail from raw text, and the 1-based line of the body where the diff starts (0 if
    there is none)."""
    msg = email.message_from_string(text, policy=email.policy.default)
    raw_subject = str(msg["Subject"])
    counter = total = None
    title = raw_subject
    if raw_subject.startswith("[PATCH"):
        tag, _, title = raw_subject[1:].partition("] ")
        if "/" in tag:
            n, _, m = tag.split()[-1].partition("/")
            counter, total = int(n), int(m)
    head_lines = text.split("\n\n", 1)[0].count("\n") + 1
    body = text.split("\n\n", 1)[1]
    diff_at = 0
    for no, line in enumerate(body.split("\n"), start=1):
        if line.startswith("diff --git "):
            diff_at = no
            break
    mail = Mail(
        message_id=str(msg["Message-ID"]).strip("<>"),
        subject=Subject(raw=raw_subject, title=title, is_patch=counter is not None,
                        counter=counter, total=total),
        sender=_person(str(msg["From"])),
        author=_person(str(msg["From"])),
        date=parsedate_to_datetime(str(msg["Date"])),
        in_reply_to=str(msg["In-Reply-To"]).strip("<>") if msg["In-Reply-To"] else None,
        references=tuple(r.strip("<>") for r in str(msg["References"] or "").split()),
        to=tuple(Person(n, a) for n, a in getaddresses([str(msg["To"] or "")]) if a),
        cc=tuple(Person(n, a) for n, a in getaddresses([str(msg["Cc"] or "")]) if a),
        body=body,
        origin=origin,
        body_offset=head_lines + 2,
    )
    return mail, diff_at


def make_patch(text: str, origin: str) -> Patch:
    mail, diff_at = parse_mail(text, origin)
    diff_text = "\n".join(mail.body.split("\n")[diff_at - 1:]).replace("\n--\n2.39.5\n", "\n")
    return Patch(mail=mail, commit_message="", notes="", trailers=(), diff_text=diff_text,
                 files=parse_diff(diff_text, origin), diff_line=diff_at)


def build_series(*, cover: bool = True) -> Series:
    patches = (make_patch(PATCH1, "series.mbox#2"), make_patch(PATCH2, "series.mbox#3"))
    cover_mail = parse_mail(COVER, "series.mbox#1")[0] if cover else None
    return Series(patches=patches, cover=cover_mail, source="series.mbox")


def rule(rule_id: str, severity: Severity, message: str) -> Rule:
    return Rule(
        id=rule_id, pack="test-pack", severity=severity, check="none", message=message,
        rationale=f"Why {rule_id} matters: maintainers ask for it.",
        fix=f"How to fix {rule_id}: do it the way hw/mem/pc-dimm.c does.",
        origin="review feedback on qemu-devel",
    )


REACHES = rule("qom-realize-reaches-machine", Severity.ERROR,
               "{function} reaches the machine through {target}")
MAINT = rule("series-maintainers-own-patch", Severity.WARNING,
             "MAINTAINERS changes belong in their own patch")
SIGNOFF = rule("patch-missing-signoff", Severity.WARNING, "no Signed-off-by from the author")
COVER_NOTE = rule("series-cover-note", Severity.INFO, "the cover letter could say more")

# Line 7 of hw/misc/foo.c is the MACHINE(qdev_get_machine()) line.
MACHINE_LINE = 7
MACHINE_CODE = "    MachineState *ms = MACHINE(qdev_get_machine());"


def ref(series: Series, index: int) -> PatchRef:
    if index == 0:
        assert series.cover is not None
        return PatchRef(0, series.cover.subject.raw, series.cover.message_id)
    mail = series.patches[index - 1].mail
    return PatchRef(index, mail.subject.raw, mail.message_id)


def findings(series: Series) -> tuple[Finding, ...]:
    return (
        REACHES.finding(None, path="hw/misc/foo.c", line=MACHINE_LINE, code=MACHINE_CODE,
                        evidence=("foo_realize -> qdev_get_machine",), patch=ref(series, 1),
                        function="foo_realize", target="qdev_get_machine"),
        SIGNOFF.finding(None, patch=ref(series, 2)),
        MAINT.finding(None, path="MAINTAINERS", line=16, code="F: hw/misc/foo.c",
                      patch=ref(series, 2)),
    )


def check_result(series: Series | None = None, found: tuple[Finding, ...] | None = None,
                 **options: object) -> CheckResult:
    series = series if series is not None else build_series()
    found = found if found is not None else findings(series)
    return CheckResult(series=series, findings=found, rules=(REACHES, MAINT, SIGNOFF),
                       options=Options(**options))  # type: ignore[arg-type]


def mail_line_of(text: str, needle: str) -> int:
    """1-based line number of the first line of ``text`` that contains ``needle``."""
    for no, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return no
    raise AssertionError(f"{needle!r} not in text")
