"""``reviewbot check``: options, formats, output file, exit status 0/1/2, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.cli import main

ROOT = Path(__file__).resolve().parents[2]
MBOX = str(ROOT / "corpus" / "memdev" / "v1.mbox")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["check", *args])
    cap = capsys.readouterr()
    return status, cap.out, cap.err


def test_findings_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, MBOX)
    assert status == 1 and err == ""
    assert "hw/mem/memdev-window.c:22: warning: file-global" in out


def test_one_check_runs_without_cyclic_collections_and_restores_them(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A single check pauses the cyclic garbage collector from reading the series to
    writing the report (reference counting frees what a check makes), and gives it back;
    the findings are those of a run with it."""
    import gc

    from reviewbot import engine

    seen: list[bool] = []
    real = engine.run_check

    def recording(*args: object, **kwargs: object) -> engine.CheckResult:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "run_check", recording)
    assert gc.isenabled()
    status, out, _ = run(capsys, MBOX)
    assert seen == [False] and gc.isenabled()
    import io

    from reviewbot.context import Options
    from reviewbot.ingest import load
    from reviewbot.report import text

    buf = io.StringIO()
    text.write(real(load(MBOX), Options()), buf)
    assert status == 1 and out == buf.getvalue()


def test_fail_on_error_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, MBOX, "--fail-on", "error")
    assert status == 0
    assert "[qom-realize-reaches-machine]" in out  # still reported, just not failing


def test_enable_only_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, MBOX, "--enable", "qom-walk-whole-tree", "--format", "json")
    data = json.loads(out)
    assert [f["rule"] for f in data["findings"]] == ["qom-walk-whole-tree"]
    assert [r["id"] for r in data["rules"]] == ["qom-walk-whole-tree"]
    assert status == 0  # an info finding is below the default --fail-on warning


def test_disable(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, MBOX, "--disable", "qom-walk-whole-tree",
                    "--disable", "series-split-patch", "--format", "json")
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert "qom-walk-whole-tree" not in rules and "series-split-patch" not in rules
    assert "qom-realize-reaches-machine" in rules


def test_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    status, out, _ = run(capsys, MBOX, "--format", "json", "-o", str(target))
    assert status == 1 and out == ""
    assert json.loads(target.read_text())["version"] == 1


def test_extra_rules_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pack = tmp_path / "local"
    (pack / "examples").mkdir(parents=True)
    (pack / "examples" / "local-no-qlist.c").write_text("/* ok: local-no-qlist */\nint x;\n")
    (pack / "local-no-qlist.yaml").write_text(
        "id: local-no-qlist\nseverity: error\n"
        "match: {pattern: 'static $TYPE $NAME = $INIT;', has: {field: type, regex: ^QLIST_HEAD}}\n"
        "message: 'no $TYPE here'\nrationale: house rule\n"
        "fix: keep it in the device\norigin: local\nexamples: [examples/local-no-qlist.c]\n")
    status, out, _ = run(capsys, MBOX, "--rules", str(pack), "--enable", "local-no-qlist")
    assert status == 1
    assert out.startswith("hw/mem/memdev-window.c:22: error: no QLIST_HEAD(, MemdevWindowState) "
                          "here [local-no-qlist]")


@pytest.mark.parametrize(("args", "message"), [
    (["/nonexistent/thread.mbox"], "/nonexistent/thread.mbox"),
    ([MBOX, "--enable", "no-such-rule"], "unknown rule id 'no-such-rule'"),
    ([MBOX, "--qemu-version", "ten"], "--qemu-version: expected X.Y or X.Y.Z"),
    ([MBOX, "--rules", "/nonexistent/rules"], "/nonexistent/rules: rules directory not found"),
    ([MBOX, "--tree", "/nonexistent/qemu"], "/nonexistent/qemu: --tree is not a directory"),
    ([MBOX, "-o", "/nonexistent/dir/out.txt"], "/nonexistent/dir/out.txt: cannot write"),
])
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], args: list[str],
                                      message: str) -> None:
    status, _, err = run(capsys, *args)
    assert status == 2
    assert err.startswith("reviewbot: error: ") and message in err
    assert err.count("\n") == 1


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", MBOX, "--format", "yaml"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["check", MBOX, "--fail-on", "fatal"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 2


def test_missing_formatter_module_is_a_clear_error(capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.commands import check

    real = check.formatter

    def fake(name: str) -> object:
        return real("no-such-format")

    monkeypatch.setattr(check, "formatter", fake)
    status, _, err = run(capsys, MBOX, "--format", "email")
    assert status == 2
    assert err == "reviewbot: error: output format 'no-such-format' is not available in this " \
                  "build\n"


def test_as_a_program_a_check_ends_without_teardown_but_with_its_exit_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`reviewbot check` as a program ends at once when the check is done (no interpreter
    teardown: util/quick_exit.py), yet its atexit work is done (the rule cache, written on
    a first run, is there) and its whole report is out, with the in-process status."""
    import os

    cache = tmp_path / "cache"
    env = {**os.environ, "REVIEWBOT_CACHE_DIR": str(cache), "REVIEWBOT_SERVER": "0"}
    done = subprocess.run([sys.executable, "-m", "reviewbot", "check", MBOX],
                          capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    status, out, _ = run(capsys, MBOX)
    assert status == done.returncode == 1 and done.stdout == out and done.stderr == ""
    written = [p for p in cache.rglob("*") if p.is_file()]
    assert written and all(p.stat().st_size for p in written)
    # an atexit handler runs; an object a teardown would free is never freed
    probe = subprocess.run(
        [sys.executable, "-c",
         "import atexit, sys\n"
         "atexit.register(lambda: sys.stderr.write('atexit ran\\n'))\n"
         "class Kept:\n"
         "    def __del__(self): sys.stderr.write('teardown ran\\n')\n"
         "kept = Kept()\n"
         "sys.argv = ['reviewbot', 'check', sys.argv[1]]\n"
         "from reviewbot.cli import main\n"
         "main()\n", MBOX],
        capture_output=True, text=True, cwd=ROOT, env=env, check=False)
    assert probe.returncode == 1 and probe.stdout == out
    assert probe.stderr == "atexit ran\n"


def test_as_a_program_in_a_terminal_free_pipe() -> None:
    done = subprocess.run([sys.executable, "-m", "reviewbot", "check", MBOX, "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 1
    assert json.loads(done.stdout)["summary"]["warning"] == 7


def test_with_a_tree_the_listing_comes_from_find_and_changes_nothing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from reviewbot import context
    from reviewbot.c import index
    from reviewbot.patch import tree as trees

    tree = tmp_path / "qemu"
    shutil.copytree(ROOT / "tests" / "fixtures" / "c", tree)
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    # the reference: no early listing, the directories walked in this process
    monkeypatch.setattr(trees, "list_stats_soon", lambda *args: None)
    walked = run(capsys, MBOX, "--tree", str(tree), "--format", "json")
    monkeypatch.undo()
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(tmp_path / "cache"))
    index.forget()  # as a new process starts
    context._TREE_STATES.clear()

    def no_walk(self: trees.DirTree, *args: object) -> None:
        raise AssertionError("the tree was walked, though find had listed it")

    monkeypatch.setattr(trees.DirTree, "_walk_stats", no_walk)
    listed = run(capsys, MBOX, "--tree", str(tree), "--format", "json")
    assert not trees._SOON  # the find started by check was taken by the index
    assert listed[2] == "", listed[2]
    assert listed == walked and listed[0] == 1
    assert "qom-realize-reaches-machine" in listed[1]


def test_a_find_the_check_did_not_need_is_ended(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from reviewbot.patch import tree as trees

    tree = tmp_path / "qemu"
    shutil.copytree(ROOT / "tests" / "fixtures" / "c", tree)
    docs = tmp_path / "docs.patch"
    docs.write_text(
        "From: A <a@example.org>\nSubject: [PATCH] docs: a word\n\nA word.\n\n"
        "Signed-off-by: A <a@example.org>\n---\n"
        "diff --git a/docs/a.rst b/docs/a.rst\n--- a/docs/a.rst\n+++ b/docs/a.rst\n"
        "@@ -1 +1,2 @@\n Title\n+A word.\n", encoding="utf-8")
    started: list[object] = []
    soon = trees.list_stats_soon

    def spy(*args: object) -> None:
        soon(*args)  # type: ignore[arg-type]
        started.extend(trees._SOON.values())

    monkeypatch.setattr(trees, "list_stats_soon", spy)
    status, _, err = run(capsys, str(docs), "--tree", str(tree))
    assert (status, err) == (0, "")
    assert started and not trees._SOON  # started, never taken (no C file), ended
    assert all(f.fd == -1 for f in started)  # type: ignore[attr-defined]
