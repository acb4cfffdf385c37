"""``reviewbot spec FILE``: a standalone boot log, checked the way pasted logs are."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from reviewbot.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "rules" / "spec-acpi" / "examples"


def run_json(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    code = main(["spec", "--format", "json", str(path)])
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == 1 and doc["file"] == str(path)
    return code, doc["findings"]


def test_overlap_text_output_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    log = EXAMPLES / "overlap.log"
    assert main(["spec", str(log)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{log}:10: error: the pasted E820 map has overlapping ranges "
                      "(0x7ff00000-0x7ffdffff is described twice) [spec-e820-overlap]")
    assert out[1] == ("    [    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007ffdffff]"
                      " usable")


def test_clean_log_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec", str(EXAMPLES / "clean.log")]) == 0
    assert capsys.readouterr().out == "no problems found\n"


def test_fail_on_error_ignores_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "dmesg.txt"
    log.write_text("BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable\n"
                   "BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] type 9\n")
    assert main(["spec", "--fail-on", "error", str(log)]) == 0
    assert "[spec-e820-unknown-type]" in capsys.readouterr().out
    assert main(["spec", str(log)]) == 1


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = (EXAMPLES / "overlap.log").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert main(["spec", "-"]) == 1
    assert capsys.readouterr().out.startswith("<stdin>:10: error:")


@pytest.mark.parametrize(("content", "problem"), [
    (None, "no such file"),
    (b"just some text\n", "no 'BIOS-e820:' or 'ACPI: SRAT:' lines found"),
    (b"\x00\x01BIOS-e820", "binary data, not a text log"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, content: bytes | None, problem: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.txt"
    if content is not None:
        path.write_bytes(content)
    assert main(["spec", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"reviewbot: error: {path}: {problem}\n"


def test_non_utf8_log_is_still_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "console.log"
    path.write_bytes(b"\xff\xfe garbage from the serial line\n"
                     b"BIOS-e820: [mem 0x0000000000000000-0x00000000bfffffff] usable\n"
                     b"BIOS-e820: [mem 0x0000000080000000-0x00000000ffffffff] reserved\n")
    assert main(["spec", str(path)]) == 1
    assert f"{path}:3: error:" in capsys.readouterr().out


def test_range_ending_before_its_start_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "inverted.log"
    log.write_text("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
                   "BIOS-e820: [mem 0x0000000000200000-0x00000000001fffff] reserved\n")
    code, findings = run_json(log, capsys)
    assert code == 1
    assert [(f["rule"], f["line"]) for f in findings] == [("spec-e820-overlap", 2)]
    message = str(findings[0]["message"])
    assert "ends before it starts" in message and "{" not in message


def test_type_6_is_a_known_e820_type(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "disabled.log"
    log.write_text("BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n"
                   "BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] type 6\n"
                   "BIOS-e820: [mem 0x0000000000200000-0x00000000002fffff] type 11\n")
    code, findings = run_json(log, capsys)
    assert code == 1
    assert [(f["rule"], f["line"]) for f in findings] == [("spec-e820-unknown-type", 3)]


def test_a_log_over_the_input_limit_is_refused_without_reading_it_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from reviewbot.util import limits

    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 1024)
    log = tmp_path / "huge.log"
    log.write_bytes((EXAMPLES / "overlap.log").read_bytes() * 100)
    assert main(["spec", str(log)]) == 2
    assert capsys.readouterr().err == (f"reviewbot: error: {log}: could not analyse: file is "
                                       f"{limits._human(log.stat().st_size)}, over the limit "
                                       "of 1.0 KiB\n")
    # a character device that never ends: read one byte past the limit, then refused
    assert main(["spec", "/dev/zero"]) == 2
    assert "/dev/zero: could not analyse" in capsys.readouterr().err
    stdin = io.BytesIO(b"BIOS-e820: " * 200)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(stdin))
    assert main(["spec", "-"]) == 2
    assert "<stdin>: could not analyse: input is" in capsys.readouterr().err
    assert stdin.tell() == 1025
