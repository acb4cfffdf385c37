"""Reply emails: threaded under the reviewed mail, quoting the hunk lines a finding is about."""

from __future__ import annotations

import dataclasses
import io
import mailbox
from datetime import datetime, timezone
from email.message import Message
from pathlib import Path

import outputs_series as s
import pytest

from reviewbot.finding import Severity
from reviewbot.model import Person
from reviewbot.report import email as email_report


def _mbox(result: object, tmp_path: Path) -> tuple[str, list[Message]]:
    out = io.StringIO()
    email_report.write(result, out)  # type: ignore[arg-type]
    path = tmp_path / "replies.mbox"
    path.write_text(out.getvalue(), encoding="utf-8")
    return out.getvalue(), list(mailbox.mbox(str(path)))


def _body(msg: Message) -> str:
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode("utf-8")


@pytest.fixture(autouse=True)
def _sender(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWBOT_FROM", "Rita Reviewer <rita@example.net>")


def test_one_reply_per_patch_with_findings_threaded_and_addressed(tmp_path: Path) -> None:
    _, msgs = _mbox(s.check_result(), tmp_path)
    assert [m["Subject"] for m in msgs] == [
        "Re: [PATCH 1/2] hw/misc: add the foo device",
        "Re: [PATCH 2/2] MAINTAINERS: add foo",
    ]
    first = msgs[0]
    assert first["In-Reply-To"] == "<patch.1@example.org>"
    assert first["References"] == "<cover.1@example.org> <patch.1@example.org>"
    assert first["To"] == "Ada Author <ada@example.org>"
    assert first["Cc"] == "qemu-devel@nongnu.org, Paolo Maintainer <pm@example.org>"
    assert first["From"] == "Rita Reviewer <rita@example.net>"
    assert first["Message-ID"].endswith("@example.net>")
    assert msgs[1]["In-Reply-To"] == "<patch.2@example.org>"
    assert msgs[1]["Cc"] == "qemu-devel@nongnu.org"


def test_body_quotes_the_hunk_lines_and_puts_the_finding_under_them(tmp_path: Path) -> None:
    _, msgs = _mbox(s.check_result(), tmp_path)
    body = _body(msgs[0]).split("\n")
    assert body[0] == "On Thu, 02 Jan 2025 03:04, Ada Author wrote:"
    quote_end = body.index("> +    MachineState *ms = MACHINE(qdev_get_machine());")
    assert body[quote_end - 2:quote_end] == [
        "> +static void foo_realize(DeviceState *dev, Error **errp)", "> +{"]
    assert "> +++ b/hw/misc/foo.c" in body[:quote_end]
    assert body[quote_end + 1] == ""
    assert body[quote_end + 2] == (
        "foo_realize reaches the machine through qdev_get_machine")
    assert body[quote_end + 3] == "[qom-realize-reaches-machine]"
    assert body[quote_end + 4] == "  foo_realize -> qdev_get_machine"
    # the rest of the patch is trimmed
    text = "\n".join(body)
    assert '#include "hw/boards.h"' not in text
    assert "dc->realize = foo_realize" not in text
    assert "[...]" in text


def test_mail_level_findings_go_above_the_first_quote(tmp_path: Path) -> None:
    _, msgs = _mbox(s.check_result(), tmp_path)
    body = _body(msgs[1]).split("\n")
    signoff = body.index("no Signed-off-by from the author [patch-missing-signoff]")
    first_quote = next(i for i, line in enumerate(body) if line.startswith(">"))
    assert signoff < first_quote
    maint = body.index("> +F: hw/misc/foo.c")
    assert body[maint + 2].startswith("MAINTAINERS changes belong in their own patch")


def test_per_series_is_one_reply_to_the_cover_letter(tmp_path: Path) -> None:
    _, msgs = _mbox(s.check_result(per_series=True), tmp_path)
    assert len(msgs) == 1
    (msg,) = msgs
    assert msg["Subject"] == "Re: [PATCH 0/2] hw/misc: add the foo device"
    assert msg["In-Reply-To"] == "<cover.1@example.org>"
    body = _body(msg)
    first = body.index("About [PATCH 1/2] hw/misc: add the foo device:")
    second = body.index("About [PATCH 2/2] MAINTAINERS: add foo:")
    assert first < body.index("qdev_get_machine());") < second < body.index("> +F: hw/misc")


def test_series_level_finding_without_cover_goes_to_the_first_patch(tmp_path: Path) -> None:
    series = s.build_series(cover=False)
    note = s.rule("series-no-cover-letter", Severity.WARNING, "a series of 2 needs a cover")
    _, msgs = _mbox(s.check_result(series, (note.finding(None),)), tmp_path)
    (msg,) = msgs
    assert msg["In-Reply-To"] == "<patch.1@example.org>"
    assert "a series of 2 needs a cover [series-no-cover-letter]" in _body(msg)


def test_mbox_escapes_from_lines_and_reads_back(tmp_path: Path) -> None:
    series = s.build_series()
    odd = s.rule("odd", Severity.WARNING, "From the spec: type 7 is persistent memory")
    text, msgs = _mbox(s.check_result(series, (odd.finding(None, patch=s.ref(series, 1)),)),
                       tmp_path)
    assert "\n>From the spec: type 7" in text
    assert len(msgs) == 1


def test_no_findings_no_mail(tmp_path: Path) -> None:
    text, msgs = _mbox(s.check_result(found=()), tmp_path)
    assert (text, msgs) == ("", [])


def test_without_sender_there_is_no_from_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVIEWBOT_FROM")
    now = datetime(2025, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    (msg,) = email_report.replies(s.check_result(), per_series=True, now=now)
    assert msg["From"] is None
    assert msg["Date"] == "Mon, 03 Feb 2025 04:05:06 +0000"


def test_reply_goes_to_the_author_when_the_list_rewrote_the_sender(tmp_path: Path) -> None:
    series = s.build_series()
    patch = series.patches[0]
    via = Person("Ada Author via Qemu-devel", "qemu-devel@nongnu.org")
    mail = dataclasses.replace(patch.mail, sender=via)
    series = dataclasses.replace(series, patches=(dataclasses.replace(patch, mail=mail),
                                                  series.patches[1]))
    _, msgs = _mbox(s.check_result(series), tmp_path)
    assert msgs[0]["To"] == "Ada Author <ada@example.org>"
    assert "qemu-devel@nongnu.org" in msgs[0]["Cc"]


def test_check_writes_a_reply_quoting_the_real_finding(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reviewbot.cli import main

    source = s.write_mbox(tmp_path, s.COVER, s.PATCH1, s.PATCH2)
    replies = tmp_path / "replies.mbox"
    assert main(["check", str(source), "--format", "email", "-o", str(replies)]) == 1
    msgs = list(mailbox.mbox(str(replies)))
    by_parent = {m["In-Reply-To"]: m for m in msgs}
    reply = by_parent["<patch.1@example.org>"]
    assert reply["Subject"] == "Re: [PATCH 1/2] hw/misc: add the foo device"
    body = _body(reply).split("\n")
    quoted = body.index("> +    MachineState *ms = MACHINE(qdev_get_machine());")
    assert body[quoted + 1] == ""
    assert "[qom-realize-reaches-machine]" in " ".join(body[quoted + 2:quoted + 6])
    per_series = tmp_path / "one.mbox"
    assert main(["check", str(source), "--format", "email", "--per-series",
                 "-o", str(per_series)]) == 1
    (only,) = list(mailbox.mbox(str(per_series)))
    assert only["In-Reply-To"] == "<cover.1@example.org>"
    capsys.readouterr()


def test_non_ascii_body_stays_readable_8bit(tmp_path: Path) -> None:
    series = s.build_series()
    note = s.rule("spec-note", Severity.WARNING, "type 0xEFFFFFFF — “soft reserved”")
    text, msgs = _mbox(s.check_result(series, (note.finding(None, patch=s.ref(series, 1)),)),
                       tmp_path)
    assert "Content-Transfer-Encoding: 8bit" in text
    assert "type 0xEFFFFFFF — “soft reserved” [spec-note]" in text
    assert "type 0xEFFFFFFF — “soft reserved”" in _body(msgs[0])


def test_deleted_lines_are_quoted_by_their_old_line_numbers(tmp_path: Path) -> None:
    removal = s.PATCH2.replace(
        "@@ -10,3 +10,7 @@ Misc\n M: Someone <someone@example.org>\n S: Maintained\n"
        " F: hw/misc/bar.c\n",
        "@@ -10,5 +10,7 @@ Misc\n M: Someone <someone@example.org>\n-S: Maintained\n"
        "-F: hw/misc/bar.c\n+S: Orphan\n+F: hw/misc/bar.c\n")
    series = s.load_text(s.mbox(removal))
    gone = s.rule("comments-deleted-comment", Severity.WARNING, "these lines held")
    finding = gone.finding(None, path="MAINTAINERS", line=11, end_line=12, side="old",
                           patch=s.ref(series, 1))
    _, msgs = _mbox(s.check_result(series, (finding,)), tmp_path)
    body = _body(msgs[0]).split("\n")
    at = body.index("these lines held [comments-deleted-comment]")
    assert body[at - 3:at] == ["> -S: Maintained", "> -F: hw/misc/bar.c", ""]
    assert "> +S: Orphan" not in body[:at]
