"""b4 review's check protocol: one JSON object with tool, status, summary, url, details."""

from __future__ import annotations

import io
import json
from typing import Any

import outputs_series as s
import pytest

from reviewbot.finding import Severity
from reviewbot.report import b4_review


def _obj(result: object) -> dict[str, Any]:
    out = io.StringIO()
    b4_review.write(result, out)  # type: ignore[arg-type]
    text = out.getvalue()
    assert text.count("\n") == 1  # one JSON document on one line
    obj: dict[str, Any] = json.loads(text)
    return obj


def test_errors_fail_and_details_list_each_finding() -> None:
    obj = _obj(s.check_result())
    assert set(obj) == {"tool", "status", "summary", "url", "details"}
    assert obj["tool"] == "reviewbot"
    assert obj["status"] == "fail"
    assert obj["summary"] == "1 error, 2 warnings"
    details = json.loads(obj["details"])
    assert details[0] == {
        "status": "fail",
        "description": "hw/misc/foo.c:7: foo_realize reaches the machine through "
        "qdev_get_machine [qom-realize-reaches-machine] (foo_realize -> qdev_get_machine)",
        "srcline": s.MACHINE_CODE.strip(),
    }
    assert details[1] == {"status": "warn", "description":
                          "no Signed-off-by from the author [patch-missing-signoff]"}
    assert details[2]["description"].startswith("MAINTAINERS:16: ")


def test_warnings_only_warn_and_notes_pass() -> None:
    series = s.build_series()
    (_, signoff, _) = s.findings(series)
    assert _obj(s.check_result(series, (signoff,)))["status"] == "warn"
    note = s.rule("series-cover-note", Severity.INFO, "the cover letter could say more")
    obj = _obj(s.check_result(series, (note.finding(None, patch=s.ref(series, 0)),)))
    assert (obj["status"], obj["summary"]) == ("pass", "1 note")


def test_clean_series_passes() -> None:
    obj = _obj(s.check_result(found=()))
    assert obj == {"tool": "reviewbot", "status": "pass", "summary": "no findings",
                   "url": "", "details": ""}


def test_check_answers_b4_review_for_a_real_finding(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from reviewbot.cli import main

    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(s.PATCH1.encode())))
    main(["check", "--format", "b4-review", "-"])
    out, err = capsys.readouterr()
    assert err == ""
    obj = json.loads(out)
    assert obj["tool"] == "reviewbot"
    details = json.loads(obj["details"])
    reach = [d for d in details if "[qom-realize-reaches-machine]" in d["description"]]
    assert len(reach) == 1
    assert reach[0]["description"].startswith(f"hw/misc/foo.c:{s.MACHINE_LINE}: ")
    assert reach[0]["srcline"] == s.MACHINE_CODE.strip()
