"""reviewbot.batch.bulk: many series in a pool, in order; one bad series never stops the rest."""

from __future__ import annotations

import io
import shutil
import time
from pathlib import Path

import pytest

from reviewbot.batch import bulk
from reviewbot.context import Options
from reviewbot.errors import InputError
from reviewbot.finding import Severity
from reviewbot.util import limits

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "corpus"


def _summary(item: bulk.BulkItem) -> tuple[str, object]:
    if item.result is None:
        return (Path(item.source).name, item.error)
    return (Path(item.source).name,
            tuple((f.rule, f.path, f.line) for f in item.result.findings))


@pytest.fixture
def inbox(tmp_path: Path, corpus_real: Path) -> Path:
    """corpus-real threads, the repo's corpus series, one garbage file, one non-series file."""
    box = tmp_path / "inbox"
    box.mkdir()
    for src in sorted(corpus_real.glob("*.mbox")):
        shutil.copyfile(src, box / src.name)
    for src in sorted(CORPUS.rglob("*.mbox"))[:4]:
        shutil.copyfile(src, box / f"corpus-{src.parent.name}-{src.name}")
    (box / "zz-garbage.mbox").write_bytes(b"\x00\x01 not a mail at all \xff\n")
    (box / "README.md").write_text("not a series\n", encoding="utf-8")
    return box


def test_expand_sources_walks_directories_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b.patch").write_text("x", encoding="utf-8")
    (tmp_path / "a.mbox").write_text("x", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / ".hidden.mbox").write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.eml").write_text("x", encoding="utf-8")
    (tmp_path / "sub" / "d.mbox.gz").write_bytes(b"x")
    for part in ("cur", "new", "tmp"):
        (tmp_path / "md" / part).mkdir(parents=True)
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    got = [str(Path(p).relative_to(tmp_path)) for p in bulk.expand_sources([str(tmp_path)])]
    assert got == ["a.mbox", "b.patch", "md", "sub/c.eml", "sub/d.mbox.gz"]


def test_expand_sources_refuses_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"absent: no such file or directory$"):
        bulk.expand_sources([str(tmp_path / "absent")])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: no series in this directory"):
        bulk.expand_sources([str(tmp_path / "empty")])


def test_pool_gives_the_same_results_as_one_process_in_source_order(inbox: Path) -> None:
    options = Options()
    one = bulk.check_many([str(inbox)], options, jobs=1, progress=False)
    many = bulk.check_many([str(inbox)], options, jobs=2, progress=False)
    names = sorted(p.name for p in inbox.iterdir() if p.suffix == ".mbox")
    assert [Path(i.source).name for i in many] == names
    assert [_summary(i) for i in many] == [_summary(i) for i in one]
    by_name = {Path(i.source).name: i for i in many}
    garbage = by_name.pop("zz-garbage.mbox")
    assert garbage.result is None and not garbage.internal
    assert garbage.error is not None and "zz-garbage.mbox" in garbage.error
    assert "\n" not in garbage.error
    for name, item in by_name.items():
        assert item.result is not None, f"{name}: {item.error}"
        assert item.result.series.patches, name
    # the real threads are not all clean: some rule fires somewhere in them
    assert any(i.result.findings for i in by_name.values() if i.result is not None)
    assert bulk.exit_status(many) == 2  # the garbage file was refused


def test_a_crash_in_one_series_does_not_stop_the_others(
        inbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reviewbot.engine

    real = reviewbot.engine.run_check

    def flaky(series, options, rules=None):  # type: ignore[no-untyped-def]
        if "audio" in series.source:
            raise RuntimeError("boom in a rule")
        return real(series, options, rules)

    monkeypatch.setattr(reviewbot.engine, "run_check", flaky)  # workers are forked: they see it
    items = bulk.check_many([str(inbox)], Options(), jobs=2, progress=False)
    crashed = [i for i in items if i.internal]
    assert [Path(i.source).name for i in crashed] == ["audio-pa-stream-name.mbox"]
    assert crashed[0].error is not None and "RuntimeError: boom in a rule" in crashed[0].error
    assert sum(i.result is not None for i in items) == len(items) - 2  # crash + garbage
    assert bulk.exit_status(items) == 3


def test_a_series_past_the_time_limit_is_reported_and_skipped(
        inbox: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reviewbot.engine

    real = reviewbot.engine.run_check

    def slow(series, options, rules=None):  # type: ignore[no-untyped-def]
        if "sgx" in series.source:
            time.sleep(30)
        return real(series, options, rules)

    monkeypatch.setattr(reviewbot.engine, "run_check", slow)
    monkeypatch.setattr(limits, "SERIES_SECONDS", 1.0)
    started = time.monotonic()
    items = bulk.check_many([str(inbox)], Options(), jobs=2, progress=False)
    assert time.monotonic() - started < 25
    (late,) = [i for i in items if Path(i.source).name == "sgx-epc-reset.mbox"]
    assert late.result is None and not late.internal
    assert late.error is not None and late.error.endswith("could not analyse within 1 s")


def test_progress_only_when_asked_or_on_a_terminal(inbox: Path) -> None:
    out = io.StringIO()
    bulk.check_many([str(inbox / "sgx-epc-reset.mbox")], Options(), jobs=1, out=out)
    assert out.getvalue() == ""  # a StringIO is not a terminal
    bulk.check_many([str(inbox / "sgx-epc-reset.mbox")], Options(), jobs=1, progress=True,
                    out=out)
    assert "[1/1]" in out.getvalue() and "sgx-epc-reset.mbox" in out.getvalue()


def test_exit_status_follows_fail_on(inbox: Path) -> None:
    src = [str(inbox / "spapr-drop-qdev-get-machine.mbox")]
    lenient = bulk.check_many(src, Options(fail_on=Severity.ERROR), jobs=1, progress=False)
    strict = bulk.check_many(src, Options(fail_on=Severity.INFO), jobs=1, progress=False)
    assert lenient[0].result is not None and strict[0].result is not None
    worst = strict[0].result.worst()
    assert bulk.exit_status(strict) == (1 if worst is not None else 0)
    assert bulk.exit_status(lenient) == (1 if worst == Severity.ERROR else 0)


def test_write_reports_puts_each_series_under_its_name(inbox: Path) -> None:
    items = bulk.check_many([str(inbox / "sgx-epc-reset.mbox"), str(inbox / "zz-garbage.mbox")],
                            Options(), jobs=1, progress=False)
    out, err = io.StringIO(), io.StringIO()
    bulk.write_reports(items, lambda result, o: o.write(f"{len(result.findings)} findings\n"),
                       out, err)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"==> {inbox / 'sgx-epc-reset.mbox'} <=="
    assert lines[1].endswith(" findings")
    assert err.getvalue().startswith("reviewbot: error: ")
    assert "zz-garbage.mbox" in err.getvalue() and err.getvalue().count("\n") == 1


def test_check_command_over_a_directory(inbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from reviewbot.cli import main

    code = main(["check", "--jobs", "2", str(inbox)])
    out, err = capsys.readouterr()
    assert code == 2  # zz-garbage.mbox is refused; the rest are still reported
    assert out.count("==> ") == len(list(inbox.glob("*.mbox"))) - 1
    assert err.count("reviewbot: error: ") == 1 and "zz-garbage.mbox" in err


def test_check_jobs_json_is_json_lines(inbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from reviewbot.cli import main

    code = main(["check", "--jobs", "2", "--format", "json", str(inbox)])
    out, err = capsys.readouterr()
    assert code == 2 and "zz-garbage.mbox" in err
    docs = [json.loads(line) for line in out.splitlines()]
    good = sorted(str(p) for p in inbox.glob("*.mbox") if p.name != "zz-garbage.mbox")
    assert sorted(d["source"] for d in docs) == good
    assert all(d["version"] == 1 and isinstance(d["findings"], list) for d in docs)


def test_check_jobs_refuses_document_formats(inbox: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from reviewbot.cli import main

    assert main(["check", "--jobs", "1", "--format", "sarif", str(inbox)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--jobs writes text, json" in err
