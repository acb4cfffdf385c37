"""`reviewbot followup PREVIOUS NEW` and `check --previous` on the real two-version threads of
../shared/corpus-versions: the documented JSON, a changelog and an email that read back, exit
codes, and one-line errors for inputs that do not fit."""

from __future__ import annotations

import json
import mailbox
from email import message_from_string
from pathlib import Path

import pytest

from reviewbot.cli import main

ARM_GIC = "arm-gic-running-priority-v1-v2.mbox"
STM32 = "stm32l4x5-usart-ack-v1-v2.mbox"

POINT_FIELDS = {"id", "reviewer", "message_id", "date", "patch", "path", "line", "end_line",
                "function", "side", "kind", "request", "quote", "comment", "asks", "status",
                "evidence", "after_new", "new_patch", "new_path", "new_line", "answer"}


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_json_document(corpus_versions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    thread = str(corpus_versions / STM32)
    status, out, _ = _run(capsys, "followup", thread, thread, "--format", "json")
    assert status == 1  # two points are open
    doc = json.loads(out)
    assert (doc["version"], doc["kind"]) == (1, "followup")
    assert (doc["previous"]["version"], doc["new"]["version"]) == (1, 2)
    assert doc["patches"] == [{"previous": 1, "new": [1], "how": "subject+diff",
                               "similarity": 1.0}]
    assert doc["summary"] == {"addressed": 1, "open": 2, "answered": 1, "unclear": 0,
                              "remark": 3}
    assert all(set(p) == POINT_FIELDS for p in doc["points"])
    quit_ = next(p for p in doc["points"] if "qtest_quit" in p["comment"])
    assert quit_["reviewer"] == "Peter Maydell <peter.maydell@linaro.org>"
    assert quit_["message_id"] == (
        "CAFEAcA9wP7f_yPYNJmaTDe1bB8cPifErAGpjtsNPKsR0s_65Sg@mail.gmail.com")
    assert (quit_["path"], quit_["line"], quit_["function"], quit_["status"]) == (
        "tests/qtest/stm32l4x5_usart-test.c", 306, "test_ack", "addressed")
    assert quit_["quote"] == "+    g_assert_true(isr & R_ISR_REACK_MASK);"
    assert (quit_["new_path"], quit_["new_line"]) == ("tests/qtest/stm32l4x5_usart-test.c", 336)
    # reviewbot's own findings on both versions, paired by fingerprint
    assert set(doc["findings"]) == {"fixed", "still", "new"}


def test_text_report(corpus_versions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    thread = str(corpus_versions / ARM_GIC)
    status, out, _ = _run(capsys, "followup", thread, thread, "--no-findings")
    assert status == 0
    assert "  v1 patch 1 -> v2 patches 1, 2 (subject+diff)\n" in out
    assert ("[addressed] Peter Maydell <peter.maydell@linaro.org> on v1 patch 1 "
            "hw/intc/arm_gic.c:1665-1667 (gic_cpu_read)\n") in out
    assert "  now: v2 patch 1 hw/intc/arm_gic.c:1666\n" in out
    assert out.endswith("3 point(s): 3 addressed, 0 open, 0 answered, 0 unclear, 0 remark\n")


def test_changelog_credits_the_reviewer(corpus_versions: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    thread = str(corpus_versions / ARM_GIC)
    status, out, _ = _run(capsys, "followup", thread, thread, "--format", "changelog",
                          "--no-findings")
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "Changes in v2:"
    assert lines[1] == "- Split into 2 patches (per Peter's review)"
    rest = " ".join(ln.strip() for ln in lines[2:])
    assert rest == ("- hw/intc/arm_gic.c (gic_cpu_read): use `if (s->revision == "
                    "REV_11MPCORE) {` (per Peter's review)")


def test_email_reads_back_with_mailbox(corpus_versions: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    thread = str(corpus_versions / STM32)
    target = tmp_path / "reply.mbox"
    status, _, _ = _run(capsys, "followup", thread, thread, "--format", "email",
                        "--no-findings", "-o", str(target))
    assert status == 1
    (msg,) = list(mailbox.mbox(str(target)))
    v2 = "20240907214602.96920-1-satur9nine@gmail.com"  # the v2 patch (no cover letter)
    assert msg["In-Reply-To"] == f"<{v2}>"
    assert msg["Subject"].startswith("Re: [PATCH v2] hw/char/stm32l4x5_usart.c")
    assert "satur9nine@gmail.com" in msg["To"]
    assert "philmd@linaro.org" in msg["Cc"]
    payload = msg.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert "Still open:" in body and "Answered on the list:" in body
    assert ("* Philippe on v1 patch 1 hw/char/stm32l4x5_usart.c:534-541 (open, after\n"
            "  v2 was posted):\n  > +        .min_access_size = 2,\n") in body
    assert "* Peter on v1 patch 1 hw/char/stm32l4x5_usart.c:157-177\n  (stm32l4x5_update_isr)" \
        in body
    assert message_from_string(target.read_text())["Message-ID"]


def test_check_previous_adds_open_points(corpus_versions: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    thread = str(corpus_versions / STM32)
    status, out, _ = _run(capsys, "check", thread, "--previous", thread, "--format", "json")
    assert status == 1
    found = [f for f in json.loads(out)["findings"] if f["rule"] == "followup-open-point"]
    assert [(f["severity"], f["path"], f["line"]) for f in found] == [
        ("warning", None, None), ("warning", "hw/char/stm32l4x5_usart.c", 541)]
    assert found[0]["message"].startswith("Philippe's point on v1 looks still open: Jacob, "
                                          "for clarity, can you split this patch")


def test_check_previous_nothing_open(corpus_versions: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    thread = str(corpus_versions / ARM_GIC)
    _, out, _ = _run(capsys, "check", thread, "--previous", thread, "--format", "json")
    assert not [f for f in json.loads(out)["findings"] if f["rule"] == "followup-open-point"]


def test_mismatched_inputs_one_line_exit_2(corpus_versions: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    stm = str(corpus_versions / STM32)
    arm = str(corpus_versions / ARM_GIC)
    cases = [
        (["followup", stm, stm, "--previous-version", "2", "--new-version", "1"],
         "NEW is v1, older than PREVIOUS v2"),
        (["followup", arm, stm, "--no-findings"], "does not look like a version of PREVIOUS"),
        (["followup", stm, stm, "--previous-version", "2"], "NEW is the same v2 as PREVIOUS"),
        (["followup", str(tmp_path / "missing.mbox"), stm], "no such file or directory"),
    ]
    for argv, words in cases:
        status, out, err = _run(capsys, *argv)
        assert status == 2, argv
        assert out == ""
        assert err.count("\n") == 1 and err.startswith("reviewbot: error: "), err
        assert words in err, err


def _schema() -> dict[str, object]:
    import re

    doc = (Path(__file__).resolve().parents[2] / "docs" / "followup.md").read_text("utf-8")
    (block,) = re.findall(r"```json\n(.*?)```", doc, re.S)
    loaded = json.loads(block)
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("name", [ARM_GIC, STM32])
def test_json_valid_against_the_documented_schema(
        name: str, corpus_versions: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    thread = str(corpus_versions / name)
    _, out, _ = _run(capsys, "followup", thread, thread, "--format", "json")
    doc = json.loads(out)
    jsonschema.validate(doc, _schema())
    assert doc["points"], name


def test_previous_by_message_id_from_a_public_inbox(
        corpus_versions: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """PREVIOUS given as a message-id is fetched the way `reviewbot lore` fetches (here from a
    server on 127.0.0.1), then read like a file."""
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    thread = corpus_versions / STM32
    msgid = "20240902061944.526873-1-satur9nine@gmail.com"  # the v1 patch
    body = gzip.compress(thread.read_bytes())
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            found = self.path == f"/qemu-devel/{msgid}/t.mbox.gz"
            self.send_response(200 if found else 404)
            self.send_header("Content-Length", str(len(body) if found else 0))
            self.end_headers()
            if found:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server = threading.Thread(target=httpd.serve_forever, daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}/qemu-devel"
        status, out, err = _run(capsys, "followup", f"<{msgid}>", str(thread), "--base", base,
                                "--format", "json", "--no-findings")
    finally:
        httpd.shutdown()
        httpd.server_close()
        server.join(5)
    assert hits == [f"/qemu-devel/{msgid}/t.mbox.gz"]
    assert status == 1, err
    doc = json.loads(out)
    assert (doc["previous"]["version"], doc["new"]["version"]) == (1, 2)
    assert doc["summary"]["open"] == 2


def test_check_previous_is_for_one_series(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _run(capsys, "check", str(tmp_path), "--jobs", "1", "--previous", "x.mbox")
    assert status == 2
    assert err == ("reviewbot: error: --previous follows up one series; it does not go with "
                   "--jobs\n")
