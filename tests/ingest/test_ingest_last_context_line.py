"""A diff whose last hunk ends on an empty context line keeps it, however the mail ends.

``git format-patch --no-signature`` ends the mail on the hunk's last line; when that line is
an empty context line (``" "``), the mail ends in a line that looks blank, and transport may
strip its space too. The ``@@`` counts say it belongs to the hunk.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main
from reviewbot.ingest import load
from reviewbot.model import Series
from reviewbot.patch.diff import ADDED, CONTEXT, REMOVED

# Ends in an empty line: the hunk that changes "int d;" ends on that blank context line.
BEFORE = "int a;\nint b;\nint c;\nint d;\n\n"
AFTER = "int a;\nint b;\nint c;\nint D;\n\n"


def _format_patch(git_repo: Callable[..., Any], *extra: str) -> bytes:
    repo = git_repo()
    repo.commit("add x.c", {"x.c": BEFORE})
    repo.commit("x.c: capital d\n\nSigned-off-by: Ada Author <ada@example.org>",
                {"x.c": AFTER})
    out = repo.git("format-patch", "--stdout", *extra, "-1")
    return out.encode()


def _load_bytes(data: bytes) -> Series:
    return load("-", stdin=io.BytesIO(data))


def _assert_whole_hunk(series: Series) -> None:
    assert series.problems == ()
    (patch,) = series.patches
    (fd,) = patch.files
    (hunk,) = fd.hunks
    assert not hunk.truncated
    assert (hunk.source_start, hunk.source_length, hunk.target_start, hunk.target_length) == (
        1, 5, 1, 5)
    assert [(ln.kind, ln.text, ln.source_line, ln.target_line) for ln in hunk.lines] == [
        (CONTEXT, "int a;", 1, 1), (CONTEXT, "int b;", 2, 2), (CONTEXT, "int c;", 3, 3),
        (REMOVED, "int d;", 4, None), (ADDED, "int D;", None, 4), (CONTEXT, "", 5, 5)]
    # the blank line is the hunk's last line in the diff text, and nothing follows it
    assert patch.diff_text.split("\n")[hunk.lines[-1].diff_line - 1] in (" ", "")
    assert patch.diff_text.endswith("\n+int D;\n \n") or patch.diff_text.endswith(
        "\n+int D;\n\n")


def test_no_signature_mail_ending_on_a_blank_context_line(
        git_repo: Callable[..., Any]) -> None:
    data = _format_patch(git_repo, "--no-signature")
    assert data.endswith(b"\n+int D;\n \n")  # what git writes: the line is " "
    _assert_whole_hunk(_load_bytes(data))


def test_space_stripped_in_transit_and_extra_blank_lines(
        git_repo: Callable[..., Any]) -> None:
    data = _format_patch(git_repo, "--no-signature")
    stripped = data[:-len(b" \n")] + b"\n"
    _assert_whole_hunk(_load_bytes(stripped))
    _assert_whole_hunk(_load_bytes(stripped + b"\n\n"))
    _assert_whole_hunk(_load_bytes(data + b"\n"))


def test_with_signature_the_stripped_line_is_kept_too(
        git_repo: Callable[..., Any]) -> None:
    data = _format_patch(git_repo)
    assert b"\n+int D;\n \n-- \n" in data
    _assert_whole_hunk(_load_bytes(data.replace(b"\n+int D;\n \n-- \n", b"\n+int D;\n\n-- \n")))


def test_a_mail_really_cut_short_is_still_reported(git_repo: Callable[..., Any]) -> None:
    data = _format_patch(git_repo, "--no-signature")
    cut = data[:data.index(b" int c;\n")] + b"\n\n"  # ends after " int b;", then padding
    series = _load_bytes(cut)
    (problem,) = series.problems
    assert "x.c: hunk at diff line 5 ends early" in problem.message
    (hunk,) = series.patches[0].files[0].hunks
    # blank lines that cannot complete the hunk are padding, not context
    assert hunk.truncated and [ln.text for ln in hunk.lines] == ["int a;", "int b;"]
    assert series.patches[0].diff_text.endswith("\n int b;\n")


def test_check_reports_no_input_problem(git_repo: Callable[..., Any], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    mbox = tmp_path / "one.mbox"
    mbox.write_bytes(_format_patch(git_repo, "--no-signature"))
    main(["check", "--format", "json", str(mbox)])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert "input-problem" not in {f["rule"] for f in findings}
    # the same mail cut short does get one
    mbox.write_bytes(mbox.read_bytes().replace(b"+int D;\n \n", b""))
    main(["check", "--format", "json", str(mbox)])
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [f["rule"] for f in findings].count("input-problem") == 1
