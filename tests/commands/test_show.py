"""`reviewbot show` end to end through cli.main: output, JSON, and every bad input."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
TWO = str(FIXTURES / "two-versions.mbox")
GOOD_PATCH = ("From: A <a@example.org>\nSubject: [PATCH] hw/x: b\nMessage-Id: <g1>\n\nAdd b.\n"
              "---\ndiff --git a/hw/x.c b/hw/x.c\n--- a/hw/x.c\n+++ b/hw/x.c\n@@ -1 +1,2 @@\n a\n"
              "+b\n")


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["show", TWO], capsys)
    assert (code, err) == (0, "")
    lines = out.split("\n")
    assert lines[0] == "series: hw/misc: add the widget device"
    assert lines[1] == f"  v2; 2 patches from {TWO}"
    assert "  versions in the input: v1, v2 (showing v2)" in lines
    assert "patch 1/2: hw/misc: add widget.c" in lines
    assert "    hw/misc/widget.c  +4 -0  (new)" in lines
    assert "    docs/widget.txt  +1 -1" in lines
    assert "    Reviewed-by: Rita Reviewer <rita@example.org>  (in reply <r-v2-1@example.org>)" \
        in lines
    assert "  notes: 3 line(s) after '---'" in lines
    assert "replies to the series (1):" in lines


def test_json_output_is_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["show", TWO, "--format", "json", "--series-version", "1"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["format_version"] == 1
    assert (data["version"], data["versions_available"]) == (1, [1, 2])
    assert [p["mail"]["message_id"] for p in data["patches"]] == ["v1-1@example.org",
                                                                   "v1-2@example.org"]
    second = data["patches"][1]
    assert [(t["key"], t["from_reply"]) for t in second["trailers"]] == [
        ("Signed-off-by", None), ("Reviewed-by", "r-v1-2@example.org")]
    assert second["files"][0] | {"diff_line": 0} == {
        "path": "docs/widget.txt", "source_path": "docs/widget.txt",
        "target_path": "docs/widget.txt", "new": False, "deleted": False, "rename": False,
        "copy": False, "binary": False, "old_mode": None, "new_mode": None, "added": 1,
        "removed": 1, "hunks": 1, "truncated": False, "diff_line": 0,
    }
    assert data["problems"] == []


def test_problems_are_shown_and_the_rest_loads(capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sep = "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
    bad = "From: B <b@example.org>\nSubject: [PATCH 2/2] x\nContent-Type: text/plain; " \
          "charset=no-such-charset\n\nbody\n"
    data = (sep + GOOD_PATCH.replace("[PATCH]", "[PATCH 1/2]") + "\n" + sep + bad).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, err = _run(["show", "-"], capsys)
    assert (code, err) == (0, "")
    assert "patch 1/2: hw/x: b" in out
    assert out.endswith("problems (1):\n  <stdin>#2: unknown charset 'no-such-charset'\n")


def _bad(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = _run(argv, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("reviewbot: error: "), err
    assert "Traceback" not in err
    return err.removeprefix("reviewbot: error: ").rstrip("\n")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope.mbox")
    assert _bad(["show", missing], capsys) == f"{missing}: no such file or directory"


def test_unreadable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "secret.mbox"
    f.write_text(GOOD_PATCH)
    f.chmod(0)
    if os.geteuid() == 0:
        # root reads mode-000 files anyway; make opening this file fail the way it does for
        # users, whichever way the reader opens it
        real_open = Path.open

        def denied_open(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self == f:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        def denied_read(self: Path) -> bytes:
            with self.open("rb") as stream:
                return stream.read()

        monkeypatch.setattr(Path, "open", denied_open)
        monkeypatch.setattr(Path, "read_bytes", denied_read)
    assert _bad(["show", str(f)], capsys) == f"{f}: cannot read: Permission denied"


def test_mbox_with_no_patch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "talk.mbox"
    f.write_text("From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: a@example.org\n"
                 "Subject: Re: [PATCH] x\n\nNice.\n\n")
    assert _bad(["show", str(f)], capsys) == f"{f}: no patch found (1 mail(s), none with a diff)"


def test_truncated_mail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "cut.eml"
    f.write_text("From: a@example.org\nSubject: [PATCH] x\nMessage-Id: <cut")
    assert _bad(["show", str(f)], capsys) == (
        f"{f}: truncated mail: the header block never ends (no body)")


def test_malformed_mail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.eml"
    f.write_text("From: a@example.org\nSubject: [PATCH] x\nno colon on this line\n\nbody\n")
    assert _bad(["show", str(f)], capsys) == (
        f"{f}: malformed mail: line 3 of the header block is not a header "
        "('no colon on this line')")


def test_binary_only_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "blob.patch"
    f.write_text("diff --git a/pc-bios/x.bin b/pc-bios/x.bin\nindex 1..2 100644\n"
                 "GIT binary patch\nliteral 3\nKcmZQzU|;|M00aO5\n\nliteral 0\nHcmV?d00001\n\n")
    assert _bad(["show", str(f)], capsys) == (
        f"{f}: only binary changes (pc-bios/x.bin); no text diff to review")


def test_non_utf8_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "latin1.diff"
    f.write_bytes(b"--- a/x.c\n+++ b/x.c\n@@ -1 +1 @@\n-a\n+/* caf\xe9 */\n")
    assert _bad(["show", str(f)], capsys) == f"{f}: not UTF-8 (byte 0xe9 at offset 42)"


def test_non_utf8_mail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "latin1.eml"
    f.write_bytes(GOOD_PATCH.replace("Add b.", "Add caf\xe9.").encode("latin-1"))
    assert _bad(["show", str(f)], capsys) == (
        f"{f}: body is not UTF-8 and declares no other charset (byte 0xe9 at offset 7)")


def test_not_a_maildir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _bad(["show", str(tmp_path)], capsys) == (
        f"{tmp_path}: a directory that is neither a maildir (cur/, new/) nor holds "
        ".patch/.eml/.mbox files")


def test_staged_with_source_and_no_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert _bad(["show", "--staged", TWO], capsys) == "--staged takes no SOURCE"
    assert _bad(["show"], capsys) == (
        "no SOURCE given (a git range, a file, or - for standard input)")


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mbox", sorted(str(p.relative_to(REPO))
                                        for p in (REPO / "corpus").glob("*/*.mbox")))
def test_every_bundled_corpus_series_shows(mbox: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["show", str(REPO / mbox), "--format", "json"], capsys)
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["patches"] and all(p["files"] for p in data["patches"])


def test_errors_name_the_input_as_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _bad(["show", "-C", str(tmp_path), "nope.mbox"], capsys) == (
        "nope.mbox: no such file or directory")
