"""Archive runs: check/mine/eval over a public-inbox epoch, locally and on a Dask cluster,
giving what the same threads give as mbox files."""

from __future__ import annotations

import json
import shutil
import sys
import zlib
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from reviewbot import cli
from reviewbot.batch import archive as run
from reviewbot.batch import bulk
from reviewbot.batch.distributed import run_on_cluster
from reviewbot.context import Options
from reviewbot.errors import UsageError
from reviewbot.ingest import archive
from reviewbot.ingest.mail import raw_mails
from reviewbot.rules.loader import load_rules


def _messages(corpus: Path) -> list[tuple[bytes, int]]:
    out = []
    for path in sorted(corpus.glob("*.mbox")):
        for raw in raw_mails(path.read_bytes(), str(path)):
            head = raw.data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
            date = next(line[5:].strip() for line in head.splitlines()
                        if line.lower().startswith("date:"))
            out.append((raw.data, int(parsedate_to_datetime(date).timestamp())))
    return out


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 31 corpus-real messages as one public-inbox epoch, git/0.git."""
    corpus = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus-real").resolve()
    if not (corpus / "README.md").is_file():
        pytest.skip(f"corpus-real not found at {corpus}")
    top = tmp_path_factory.mktemp("archive") / "inbox"
    msgs = _messages(corpus)
    archive.append_messages(top / "git" / "0.git", [m for m, _ in msgs], [d for _, d in msgs])
    return top


def _findings(doc: dict[str, object]) -> tuple[object, ...]:
    return tuple((f["rule"], f["path"], f["line"]) for f in doc["findings"])  # type: ignore[index, attr-defined]


def test_check_over_the_archive_finds_what_the_mbox_files_give(
        inbox: Path, corpus_real: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["check", "--jobs", "2", "--format", "json", "--fail-on", "info",
                       str(inbox)])
    out, err = capsys.readouterr()
    from_archive = {d["series"]["title"]: _findings(d)
                    for d in map(json.loads, out.splitlines())}
    items = bulk.check_many([str(corpus_real)], Options(), jobs=1, progress=False)
    from reviewbot.report.json import document

    from_files = {item.result.series.title: _findings(document(item.result))
                  for item in items if item.result is not None}
    assert len(from_archive) == 8
    assert from_archive == from_files
    assert any(from_archive.values())  # some thread has findings: the check really ran
    assert status == 1
    summary = err.strip().splitlines()[-1]
    assert summary.startswith(f"reviewbot: {inbox}: 31 message(s) read from 1 epoch(s)")
    assert "8 thread(s): 8 with a series, 0 without a patch, 0 refused" in summary


def test_text_reports_come_in_thread_order_under_their_root(
        inbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["check", "--jobs", "1", str(inbox)])
    out = capsys.readouterr().out
    heads = [line for line in out.splitlines() if line.startswith("==> ")]
    roots = [t.root for t in archive.scan(str(inbox)).threads]
    assert heads == [f"==> {root} <==" for root in roots]


def test_check_without_jobs_says_how_to_check_an_archive(
        inbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", str(inbox)]) == 2
    err = capsys.readouterr().err
    assert err == (f"reviewbot: error: {inbox}: a public-inbox archive, which holds many "
                   "threads: check them with --jobs N, or use mine / eval --reviews\n")


def test_archive_options_refused_for_other_sources(
        corpus_real: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "--jobs", "1", "--since", "2020-01-01", str(corpus_real)]) == 2
    assert "take a public-inbox archive as SOURCE" in capsys.readouterr().err


def _mine_rows(inbox: Path, tmp_path: Path, *extra: str) -> list[dict[str, object]]:
    target = tmp_path / "reviews.jsonl"
    assert cli.main(["mine", str(inbox), "--format", "jsonl", "-o", str(target), *extra]) == 0
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]


def test_mine_writes_each_comment_with_date_list_and_rule_hits(
        inbox: Path, tmp_path: Path, corpus_real: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    rows = _mine_rows(inbox, tmp_path, "--jobs", "1")
    # the same comments as mining each thread file
    singles = []
    for path in sorted(corpus_real.glob("*.mbox")):
        cli.main(["mine", "--format", "jsonl", str(path)])
        singles.extend(json.loads(x) for x in capsys.readouterr().out.splitlines())
    key = ("reply_message_id", "patch", "path", "line_start", "line_end", "comment")
    assert sorted(tuple(str(r[k]) for k in key) for r in rows) == sorted(
        tuple(str(r[k]) for k in key) for r in singles)
    peter = [r for r in rows if str(r["reviewer"]).startswith("Peter Maydell")]
    assert len(peter) == 1 and peter[0]["list"] == "qemu-devel.nongnu.org"
    assert peter[0]["date"] == "2019-10-17T13:07:35+01:00"
    assert peter[0]["thread"] == "cover.1568157545.git.DirtY.iCE.hu@gmail.com"
    gerd = [r for r in rows if r["list"] == "kvm.vger.kernel.org"]  # the kvm@vger copy
    assert [str(r["reviewer"]).split(" <")[0] for r in gerd] == ["Gerd Hoffmann"]
    # the eval --reviews figures of the same archive are these rows' hits
    hit = [r for r in rows if r["rules"]]
    assert hit, "no comment is hit by a finding"
    capsys.readouterr()
    assert cli.main(["eval", "--reviews", "--jobs", "1", str(inbox)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith(
        f"coverage: {len(hit)} of {len(rows)} review comments hit by a finding")


def test_mine_parquet_holds_the_jsonl_rows(inbox: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (reviewbot[data]) not installed")
    rows = _mine_rows(inbox, tmp_path, "--jobs", "1")
    target = tmp_path / "reviews.parquet"
    assert cli.main(["mine", str(inbox), "--jobs", "1", "--format", "parquet",
                     "-o", str(target)]) == 0
    table = pq.read_table(target).to_pylist()
    assert len(table) == len(rows)
    for got, want in zip(table, rows, strict=True):
        assert {k: got[k] for k in want} == want


def test_missing_optional_packages_are_one_line(
        inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "distributed", None)
    assert cli.main(["mine", str(inbox), "--format", "parquet", "-o",
                     str(tmp_path / "x.parquet")]) == 2
    assert capsys.readouterr().err == ("reviewbot: error: --format parquet needs pyarrow: "
                                       "pip install 'reviewbot[data]'\n")
    assert cli.main(["check", "--scheduler", "tcp://127.0.0.1:1", str(inbox)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == ("reviewbot: error: --scheduler needs the Dask 'distributed' package: "
                       "pip install 'reviewbot[dask]'")


def test_an_unreadable_blob_is_reported_and_the_other_threads_checked(
        tmp_path: Path, inbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "inbox"
    shutil.copytree(inbox, copy)
    threads = archive.scan(str(copy)).threads
    _, oid = threads[1].blobs[1]  # the igvm thread's patch 1/3
    loose = copy / "git" / "0.git" / "objects" / oid[:2] / oid[2:]
    if not loose.is_file():
        pytest.skip("git fast-import packed this small import; no loose object to damage")
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(zlib.decompress(loose.read_bytes())[:-40] + b"x" * 40))
    status = cli.main(["check", "--jobs", "1", "--format", "json", str(copy)])
    out, err = capsys.readouterr()
    warnings = [line for line in err.splitlines() if line.startswith("reviewbot: warning: ")]
    assert len(warnings) == 1
    assert warnings[0].startswith("reviewbot: warning: git/0.git: commit ")
    assert warnings[0].endswith(f"corrupt object {oid} (its content does not match its id)")
    docs = [json.loads(line) for line in out.splitlines()]
    assert len(docs) == 8  # every thread is checked; igvm without the broken patch
    igvm = next(d for d in docs if d["source"] == threads[1].root)
    assert igvm["series"]["patches"] == 2
    assert status == 0  # a damaged message is a warning; these threads have info findings only


@pytest.mark.slow
def test_a_dask_local_cluster_gives_the_local_run_s_findings(
        inbox: Path, capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("distributed", reason="reviewbot[dask] not installed")
    rules = load_rules(())
    job = run.Job(run.KIND_CHECK, Options(), rules, "json")
    threads = archive.scan(str(inbox)).threads
    local = run.run_local(job, threads, 1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=50) as cluster:
        with distributed.Client(cluster) as client:
            on_cluster = run_on_cluster(client, job, threads)
            assert len(client.nthreads()) == 2
            mine = run.Job(run.KIND_MINE, Options(), rules)
            mined = run_on_cluster(client, mine, threads)
            assert mined == run.run_local(mine, threads, 1)
            assert sum(len(o.rows) for o in mined) == 14
        # and through the command line, as a user would point it at a scheduler
        status = cli.main(["check", "--scheduler", cluster.scheduler_address, "--format",
                           "json", str(inbox)])
    assert on_cluster == local
    assert [o.root for o in on_cluster] == [t.root for t in threads]
    out, err = capsys.readouterr()
    assert out == "".join(o.report for o in local), err
    assert status == run.exit_status(local)
    assert f"threads/s on {cluster.scheduler_address}" in err.splitlines()[-1]


def test_an_unreachable_scheduler_is_one_line(inbox: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("distributed", reason="reviewbot[dask] not installed")
    with pytest.raises(UsageError, match="expected an address like tcp://HOST:PORT"):
        run_on_cluster("127.0.0.1", run.Job(run.KIND_CHECK, Options(), ()), [])


def test_progress_and_summary_on_a_terminal(inbox: Path) -> None:
    import io

    err = io.StringIO()
    summary = run.run_archive(str(inbox), run.Job(run.KIND_MINE, Options(), load_rules(())),
                              jobs=1, progress=True, err=err)
    shown = err.getvalue()
    assert "\r[8/8 threads] " in shown and "/s, ETA 0:00" in shown
    assert shown.endswith("\r")  # the progress line is wiped at the end
    line = summary.line()
    assert line.startswith("31 message(s) read from 1 epoch(s) (")
    assert "8 thread(s): 8 with a series, 0 without a patch, 0 refused; " in line
    assert f", {sum(len(o.rows) for o in summary.outcomes)} review comment(s); " in line
    assert "threads/s in 1 process(es)" in line


def test_an_archive_with_nothing_readable_is_one_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    code = tmp_path / "code.git"  # a repository of code, not of mail
    subprocess.run(["git", "init", "-q", "--bare", str(code)], check=True)
    archive.append_messages(code, [b"not a mail, and the blob is not named m"], [0])
    subprocess.run(["git", "--git-dir", str(code), "filter-branch", "-f", "--index-filter",
                    "git update-index --add --cacheinfo 100644,$(git rev-parse HEAD:m),main.c "
                    "&& git update-index --force-remove m", "HEAD"],
                   check=True, capture_output=True, env={"PATH": "/usr/bin:/bin",
                                                         "FILTER_BRANCH_SQUELCH_WARNING": "1"})
    assert cli.main(["check", "--jobs", "1", str(code)]) == 2
    err = capsys.readouterr().err
    assert err == (f"reviewbot: error: {code}: nothing could be read: code.git: none of its 1 "
                   "commit(s) holds a message blob 'm': not a public-inbox v2 epoch; skipped\n")


def test_incremental_through_the_command_line(
        inbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "inbox"
    shutil.copytree(inbox, copy)
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    argv = ["check", "--jobs", "1", "--incremental", "--format", "json", str(copy)]
    cli.main(argv)
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 8 and " 31 message(s) read" in err
    assert list((tmp_path / "cache" / "archive").glob("inbox-v*.sqlite"))
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[-1].startswith(f"reviewbot: {copy}: 0 message(s) read from 1 epoch")
    # one more reply to the sgx thread: only it is read, and that thread alone is checked
    sgx = next(t for t in archive.scan(str(copy)).threads if len(t.blobs) == 2)
    git_dir, oid = sgx.blobs[1]
    with archive.Readers() as readers:
        reply = readers.read(git_dir, oid)[1]
    again = reply.replace(b"Message-ID: <", b"Message-ID: <again-", 1)
    assert again != reply
    archive.append_messages(copy / "git" / "0.git", [again], [1_700_000_000])
    cli.main(argv)
    out, err = capsys.readouterr()
    assert [json.loads(line)["source"] for line in out.splitlines()] == [sgx.root]
    assert " 1 message(s) read" in err.splitlines()[-1]
