"""A small series (cover + 2 patches, as `git format-patch` writes them) for the formatter
tests, read through the real ingest, and the findings a check would report on it.

The findings are built by hand so that each formatter test knows exactly what it renders;
the line numbers it prints are checked against the mail text itself.
"""

from __future__ import annotations

import io
from pathlib import Path

from reviewbot.context import Options
from reviewbot.engine import CheckResult
from reviewbot.finding import Finding, PatchRef, Severity
from reviewbot.ingest import load
from reviewbot.model import Patch, Series
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


MBOX_FROM = "From 0123456789abcdef Mon Sep 17 00:00:00 2001\n"


def mbox(*mails: str) -> bytes:
    return "\n".join(MBOX_FROM + m for m in mails).encode()


def load_text(data: bytes) -> Series:
    """The series through the real ingest, as `reviewbot check -` would read it."""
    return load("-", stdin=io.BytesIO(data))


def make_patch(text: str) -> Patch:
    (patch,) = load_text(text.encode()).patches
    return patch


def build_series(*, cover: bool = True) -> Series:
    mails = (COVER, PATCH1, PATCH2) if cover else (PATCH1, PATCH2)
    series = load_text(mbox(*mails))
    assert len(series.patches) == 2 and (series.cover is not None) == cover
    return series


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


def write_mbox(tmp_dir: Path, *mails: str, name: str = "series.mbox") -> Path:
    path = tmp_dir / name
    path.write_bytes(mbox(*mails))
    return path
