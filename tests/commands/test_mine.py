"""`reviewbot mine THREAD`: JSONL and text output, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.cli import main

REPO = Path(__file__).resolve().parents[2]
QAPI_THREAD = REPO / "corpus" / "qapi" / "spm-nodes.mbox"

FIELDS = {"reviewer", "reply_message_id", "patch_message_id", "patch", "path", "side",
          "line_start", "line_end", "quoted", "comment", "kind", "trailers", "reply_line"}


def test_jsonl_one_object_a_comment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mine", str(QAPI_THREAD), "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 4
    assert all(set(r) == FIELDS for r in rows)
    first = rows[0]
    assert first["reviewer"] == "Marta Quill <mquill@qapi-review.example>"
    assert first["reply_message_id"] == "87plq3v0xk.fsf@quill-laptop.qapi-review.example"
    assert first["patch_message_id"] == "20250915110000.7731-1-tkr@hollow-node.example"
    assert (first["path"], first["side"], first["line_start"], first["line_end"]) == (
        "qapi/machine.json", "new", 28, 30)
    assert first["quoted"].splitlines()[-1].endswith("(since 9.2)")
    assert first["comment"] == "9.2 is long out; the first release this can land in is 10.2."


def test_trailers_only_replies_are_opt_in(corpus_real: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    thread = str(corpus_real / "pcie-hotplug-fixes.mbox")
    assert main(["mine", thread, "--format", "jsonl"]) == 0
    plain = capsys.readouterr().out.splitlines()
    assert main(["mine", thread, "--format", "jsonl", "--with-trailers"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(plain) == 1
    assert [r["kind"] for r in rows].count("trailers") == 2
    assert {r["trailers"][0] for r in rows if r["kind"] == "trailers"} == {
        "Reviewed-by: Philippe Mathieu-Daudé <philmd@redhat.com>",
        "Reviewed-by: Marcel Apfelbaum <marcel.apfelbaum@gmail.com>",
    }


def test_text_output_names_place_and_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mine", str(QAPI_THREAD)]) == 0
    out = capsys.readouterr().out
    assert "Marta Quill <mquill@qapi-review.example> on patch 1 qapi/machine.json:28-30 (new)" \
        in out
    assert "  > +#     use it as ordinary RAM (default: false) (since 9.2)" in out
    assert out.rstrip().endswith("4 comment(s) in 2 reply(ies)")


def test_missing_thread_is_one_line_and_exit_2(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mine", str(tmp_path / "nope.mbox")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("reviewbot: error: ") and err.count("\n") == 1
    assert "nope.mbox" in err


def test_unknown_format_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["mine", str(QAPI_THREAD), "--format", "xml"])
    assert exc.value.code == 2
