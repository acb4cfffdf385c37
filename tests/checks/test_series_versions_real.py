"""Series rules on real qemu-devel mail (../shared/corpus-versions) and on what git itself
says about trailers: issue 13 items 4, 6, 9 and 10."""

from __future__ import annotations

import email
import email.policy
import mailbox
import subprocess
from email.message import Message
from pathlib import Path

import pytest

from reviewbot.checks.series import git_trailer_block
from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.finding import Finding, Severity
from reviewbot.ingest import load
from reviewbot.rules.loader import builtin_rules_dir, load_pack

ARM_GIC = "arm-gic-running-priority-v1-v2.mbox"



def check(path: Path) -> list[Finding]:
    rules = load_pack("series", builtin_rules_dir() / "series")
    return list(run_check(load(str(path)), Options(), rules).findings)


def messages(mbox: Path) -> list[Message]:
    return [email.message_from_bytes(m.as_bytes(), policy=email.policy.compat32)
            for m in mailbox.mbox(str(mbox))]


def write_mbox(path: Path, mails: list[Message]) -> Path:
    box = mailbox.mbox(str(path))
    for m in mails:
        box.add(m)
    box.close()
    return path


def unthreaded(m: Message) -> Message:
    """The mail as `b4 am` writes it: no In-Reply-To / References to the cover letter."""
    del m["In-Reply-To"]
    del m["References"]
    return m


def test_changelog_advice_is_info(corpus_versions: Path) -> None:
    """Item 6: the v2 cover letter without a changelog, which the maintainer applied
    (<CAFEAcA...> reply "Applied to target-arm.next"), is advice, not a warning."""
    found = [f for f in check(corpus_versions / ARM_GIC) if f.rule == "series-changelog-missing"]
    assert [(f.severity, f.patch.index if f.patch else None) for f in found] == [
        (Severity.INFO, 0)]


def test_changelog_not_asked_of_patches_without_their_cover(corpus_versions: Path,
                                                             tmp_path: Path) -> None:
    """Item 9: v2 1/2 and 2/2 without the cover letter they were sent under (as `b4 am`
    saves them, cover apart, threading dropped): the changelog is in the cover we lack."""
    mails = messages(corpus_versions / ARM_GIC)
    patches = [unthreaded(m) for m in mails if "[PATCH v2 " in str(m["Subject"])
               and "0/2" not in str(m["Subject"]) and not str(m["Subject"]).startswith("Re")]
    assert len(patches) == 2
    got = check(write_mbox(tmp_path / "am.mbox", patches))
    assert [f.rule for f in got if f.rule == "series-changelog-missing"] == []
    # one saved mail of the two: silent too
    got = check(write_mbox(tmp_path / "one.mbox", patches[1:]))
    assert [f.rule for f in got if f.rule == "series-changelog-missing"] == []


def test_same_author_with_two_addresses_is_info(corpus_versions: Path, tmp_path: Path) -> None:
    """Item 10: v2 1/2 comes from Petr Pavlu <ppavlu@suse.cz> and signs off as Petr Pavlu
    <petr.pavlu@suse.com>; an in-body From names the latter. Without that line (a commit
    authored under the first address) it is the same person with two addresses: info."""
    mails = messages(corpus_versions / ARM_GIC)
    (patch,) = [m for m in mails if str(m["Subject"]).startswith("[PATCH v2 1/2]")]
    assert "ppavlu@suse.cz" in str(patch["From"])
    payload = patch.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode("utf-8")
    assert body.startswith("From: Petr Pavlu <petr.pavlu@suse.com>\n")
    as_sent = write_mbox(tmp_path / "as-sent.mbox", [unthreaded(patch)])
    assert [f.rule for f in check(as_sent) if "signed-off-by" in f.rule] == []
    patch.set_payload(body.split("\n", 2)[2].encode("utf-8"))
    no_in_body_from = write_mbox(tmp_path / "no-in-body-from.mbox", [patch])
    found = [f for f in check(no_in_body_from) if "signed-off-by" in f.rule]
    assert [(f.rule, f.severity) for f in found] == [
        ("series-signed-off-by-address", Severity.INFO)]
    assert found[0].message == ("the author Petr Pavlu <ppavlu@suse.cz> signs off under the "
                                "same name with another address (petr.pavlu@suse.com)")
    assert found[0].evidence == ("From: Petr Pavlu <ppavlu@suse.cz>",
                                 "Signed-off-by: Petr Pavlu <petr.pavlu@suse.com>")


def test_another_person_still_is_an_error(corpus_versions: Path, tmp_path: Path) -> None:
    mails = messages(corpus_versions / ARM_GIC)
    (patch,) = [m for m in mails if str(m["Subject"]).startswith("[PATCH v2 1/2]")]
    payload = patch.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode("utf-8").split("\n", 2)[2]
    patch.set_payload(body.replace("Petr Pavlu <petr.pavlu@suse.com>",
                                   "Bo Builder <bo@example.net>").encode("utf-8"))
    found = [f.rule for f in check(write_mbox(tmp_path / "p.mbox", [patch]))
             if "signed-off-by" in f.rule]
    assert found == ["series-signed-off-by-author"]


def _git_trailers(body: str) -> str:
    out = subprocess.run(["git", "interpret-trailers", "--parse"], input="title\n\n" + body,
                         capture_output=True, text=True, check=True)
    return out.stdout


@pytest.mark.parametrize("body", [
    "Fix the thing.\n\nSigned-off-by: A <a@b.org>\n",
    "Fix the thing.\nSigned-off-by: A <a@b.org>\n",
    "Fix the thing,\nover\nfour\nlines.\nSigned-off-by: A <a@b.org>\n",
    "Fix.\n\nSigned-off-by: A <a@b.org>\nTested on x86.\n",
    "Fix.\n\nSigned-off-by: A <a@b.org>\n\nTested on x86.\n",
    "Fix.\n\nReviewed-by: R <r@b.org>\n  continued\nSigned-off-by: A <a@b.org>\n",
    "Fix.\n\nNote: a\nb\nc\nd\n",
    "Signed-off-by: A <a@b.org>\n",
])
def test_trailer_block_is_where_git_finds_it(body: str) -> None:
    """Item 4: git_trailer_block says what `git interpret-trailers --parse` says."""
    lines = body.rstrip("\n").split("\n")
    block = git_trailer_block(lines)
    ours = [ln for ln in lines[block[0]:block[1]] if ":" in ln and not ln[:1].isspace()] \
        if block else []
    theirs = [ln.split(":", 1)[0] for ln in _git_trailers(body).splitlines()]
    assert [ln.split(":", 1)[0] for ln in ours] == theirs


@pytest.mark.parametrize(("body", "why"), [
    ("Fix the thing, which was broken\nfor years on every host\nwe know of,\nand then some.\n"
     "Signed-off-by: Ada Author <ada@example.org>\n",
     "no blank line separates it from the body text above it, so git interpret-trailers "
     "does not see it as a trailer"),
    ("Fix the thing.\nSigned-off-by: Ada Author <ada@example.org>\n",
     "no blank line separates it from the body text above it; git interpret-trailers takes "
     "that text into the trailer block, and b4 folds it back into the commit message"),
    ("Fix the thing.\n\nSigned-off-by: Ada Author <ada@example.org>\n\nTested on x86.\n",
     "another paragraph follows it, and git interpret-trailers and b4 read only the last "
     "paragraph, so they do not see it"),
])
def test_signed_off_by_outside_the_trailer_block(tmp_path: Path, body: str, why: str) -> None:
    """Item 4: a Signed-off-by that is there but not where git looks is a warning saying
    what is wrong, not the error for a patch without one."""
    mail = tmp_path / "p.patch"
    mail.write_text(
        "From: Ada Author <ada@example.org>\nSubject: [PATCH] hw/mem: fix\n"
        "Message-Id: <p@example.org>\nDate: Tue, 10 Jun 2025 10:00:00 +0000\n\n"
        f"{body}---\n"
        "diff --git a/hw/mem/a.c b/hw/mem/a.c\n--- a/hw/mem/a.c\n+++ b/hw/mem/a.c\n"
        "@@ -1,2 +1,2 @@\n ctx\n-int a;\n+int b;\n", encoding="utf-8")
    found = [f for f in check(mail) if "signed-off-by" in f.rule]
    assert [(f.rule, f.severity) for f in found] == [
        ("series-signed-off-by-misplaced", Severity.WARNING)]
    assert found[0].message == ("the Signed-off-by is not in the trailer block that ends the "
                                f"commit message: {why}")
    assert "Signed-off-by: Ada Author <ada@example.org>" in found[0].evidence
