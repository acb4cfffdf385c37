"""JSON output: valid against the schema published in docs/json-schema.md, with the fields
the issue promises, and stable."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reviewbot.context import Options
from reviewbot.engine import CheckResult, run_check
from reviewbot.ingest import load
from reviewbot.report.json import write

ROOT = Path(__file__).resolve().parents[2]
MBOX = ROOT / "corpus" / "memdev" / "v1.mbox"


def schema() -> dict[str, Any]:
    doc = (ROOT / "docs" / "json-schema.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", doc, re.S)
    return json.loads(blocks[0])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def result() -> CheckResult:
    return run_check(load(str(MBOX)), Options())


def dump(result: CheckResult) -> dict[str, Any]:
    out = io.StringIO()
    write(result, out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def test_valid_against_the_documented_schema(result: CheckResult) -> None:
    jsonschema.validate(dump(result), schema())


def test_the_documented_example_is_valid_too() -> None:
    doc = (ROOT / "docs" / "json-schema.md").read_text(encoding="utf-8")
    example = re.findall(r"```json\n(.*?)```", doc, re.S)[1]
    jsonschema.validate(json.loads(example), schema())


def test_fields(result: CheckResult) -> None:
    data = dump(result)
    assert data["version"] == 1
    assert data["series"]["patches"] == 1 and data["series"]["source"] == str(MBOX)
    assert data["summary"] == {"error": 0, "warning": 7, "info": 3}
    assert data["failed"] is True and data["fail_on"] == "warning"
    reach = next(f for f in data["findings"] if f["rule"] == "qom-realize-reaches-machine")
    assert reach["path"] == "hw/mem/memdev-window.c" and reach["line"] == 72
    assert reach["patch"] == {
        "index": 1, "subject": "[PATCH] hw/mem: add memdev-window, a host memory window device",
        "message_id": "20260303101500.4242-1-jo.contributor@example.org"}
    assert reach["evidence"][0].startswith("memdev_window_realize -> memdev_window_check_node")
    split = next(f for f in data["findings"] if f["rule"] == "series-split-patch")
    assert split["path"] is None and split["line"] is None
    comment = next(f for f in data["findings"] if f["rule"] == "comments-deleted-comment")
    assert (comment["side"], comment["line"], comment["end_line"]) == ("old", 32, 38)


def test_deterministic(result: CheckResult) -> None:
    again = run_check(load(str(MBOX)), Options())
    assert dump(result) == dump(again)
