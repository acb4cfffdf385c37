"""checkpatch-shaped lines: level, rule id, and N pointing at the right line of the mail."""

from __future__ import annotations

import io

import outputs_series as s
import pytest

from reviewbot.finding import Severity
from reviewbot.report import checkpatch


def _lines(result: object) -> list[str]:
    out = io.StringIO()
    checkpatch.write(result, out)  # type: ignore[arg-type]
    return out.getvalue().splitlines()


def test_single_patch_lines_point_into_the_mail_as_given() -> None:
    series = s.load_text(s.PATCH1.encode())  # one mail, no mbox From_ line, as b4 pipes it
    found = (s.REACHES.finding(None, path="hw/misc/foo.c", line=s.MACHINE_LINE,
                               code=s.MACHINE_CODE, patch=s.ref(series, 1),
                               function="foo_realize", target="qdev_get_machine"),)
    lines = _lines(s.check_result(series, found))
    expected_n = s.mail_line_of(s.PATCH1, "+" + s.MACHINE_CODE)
    assert lines == [
        f"-:{expected_n}: ERROR: foo_realize reaches the machine through qdev_get_machine "
        "[qom-realize-reaches-machine]"
    ]
    # the number really is the offending line of the mail b4 would feed on stdin
    assert "qdev_get_machine()" in s.PATCH1.split("\n")[expected_n - 1]


def test_series_names_each_mail_and_maps_levels() -> None:
    result = s.check_result()
    lines = _lines(result)
    assert len(lines) == 3
    reach, signoff, maint = lines
    # numbers count lines of each message in the mbox, its From_ line included
    patch1, patch2 = s.MBOX_FROM + s.PATCH1, s.MBOX_FROM + s.PATCH2
    reach_n = s.mail_line_of(patch1, "+" + s.MACHINE_CODE)
    assert reach.startswith(f"<stdin>#2:{reach_n}: ERROR: ")
    maint_n = s.mail_line_of(patch2, "+F: hw/misc/foo.c")
    assert maint == (f"<stdin>#3:{maint_n}: WARNING: MAINTAINERS changes belong in their "
                     "own patch [series-maintainers-own-patch]")
    # a finding about the mail as a whole points at the first body line
    body_start = patch2.split("\n").index("") + 2
    assert signoff == (f"<stdin>#3:{body_start}: WARNING: no Signed-off-by from the author "
                       "[patch-missing-signoff]")


def test_info_is_check_and_messages_stay_on_one_line() -> None:
    series = s.build_series()
    note = s.rule("multi-line", Severity.INFO, "first line\nsecond   line")
    found = (note.finding(None, patch=s.ref(series, 0)),)
    (line,) = _lines(s.check_result(series, found))
    assert line.endswith(": CHECK: first line second line [multi-line]")
    assert line.startswith("<stdin>#1:")


def test_clean_result_prints_nothing() -> None:
    assert _lines(s.check_result(found=())) == []


def test_check_on_one_mail_from_stdin_points_at_the_offending_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # what b4's per-patch check commands run: one mail on stdin, no mbox From_ line
    from reviewbot.cli import main

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(s.PATCH1.encode())))
    status = main(["check", "--format", "checkpatch", "-"])
    out, err = capsys.readouterr()
    assert status == 1, err
    assert err == ""  # b4 turns any stderr line into a failure
    (line,) = [ln for ln in out.splitlines() if "[qom-realize-reaches-machine]" in ln]
    n = int(line.split(":")[1])
    assert line.startswith(f"-:{n}: WARNING: ")
    assert s.PATCH1.split("\n")[n - 1] == "+" + s.MACHINE_CODE
