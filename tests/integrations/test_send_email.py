"""The sendemail-validate hook, driven by the real `git send-email --validate --dry-run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import qemu_like as q

from reviewbot.integrations import hooks


def _have_send_email() -> bool:
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                               check=False).stdout.strip()
    return bool(exec_path) and (Path(exec_path) / "git-send-email").exists()


needs_send_email = pytest.mark.skipif(
    not _have_send_email(),
    reason="git send-email is not installed (Debian package git-email; `make sysdeps`)")


def _reviewbot(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reviewbot", *args], cwd=cwd,
                          env=q.reviewbot_env(env), capture_output=True, text=True, check=False)


@pytest.fixture
def series_repo(git_repo: Callable[..., Any], tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Callable[[str], tuple[Any, list[Path]]]:
    """``make(foo_text)``: a repo with a base commit and a two-patch series on top, and the
    mails of that series (cover letter first) as `git format-patch` writes them."""
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # the hook's spool stays in the test
    (tmp_path / "tmp").mkdir()

    def make(foo: str, numbered: bool = True) -> tuple[Any, list[Path]]:
        repo = git_repo()
        repo.commit("initial import", {"MAINTAINERS": q.MAINTAINERS_BASE, "README": "x\n"})
        repo.commit(q.commit_message("hw/misc: add the foo device"), {q.FOO: foo})
        repo.commit(q.commit_message("MAINTAINERS: add the foo device"),
                    {"MAINTAINERS": q.MAINTAINERS_FOO})
        out = tmp_path / "outgoing"
        repo.git("format-patch", "-q", "--cover-letter", "-2", "-o", str(out),
                 *(() if numbered else ("--no-numbered",)))
        mails = sorted(out.glob("*.patch"))
        cover = mails[0]
        cover.write_text(cover.read_text().replace("*** SUBJECT HERE ***", "hw/misc: foo device")
                         .replace("*** BLURB HERE ***", "Adds the foo device."))
        return repo, mails

    return make


def _send(repo: Any, mails: list[Path]) -> subprocess.CompletedProcess[str]:
    env = q.reviewbot_env(repo.env)
    return subprocess.run(
        ["git", "send-email", "--dry-run", "--validate", "--confirm=never", "--quiet",
         "--from=Ada Author <ada@example.org>", "--to=qemu-devel@example.org",
         "--smtp-server=/bin/false", *map(str, mails)],
        cwd=repo.path, env=env, capture_output=True, text=True, check=False,
    )


def _install(repo: Any, *check_args: str) -> Path:
    extra = [f"--check-args={' '.join(check_args)}"] if check_args else []
    done = _reviewbot(["hook", "install", "sendemail-validate", *extra],
                      repo.path, repo.env)
    assert done.returncode == 0, done.stderr
    hook = Path(done.stdout.split("installed ", 1)[1].strip())
    assert hook == repo.path / ".git" / "hooks" / "sendemail-validate"
    return hook


@needs_send_email
def test_send_is_refused_with_the_finding(series_repo: Callable[..., tuple[Any, list[Path]]]
                                          ) -> None:
    repo, mails = series_repo(q.BAD_FOO)
    _install(repo)
    done = _send(repo, mails)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "[qom-realize-reaches-machine]" in out
    assert "hw/misc/foo.c:12" in out  # the MACHINE(qdev_get_machine()) line
    assert "rejected by sendemail-validate hook" in out
    assert "Dry-Sent" not in out


@needs_send_email
def test_the_series_is_checked_once_as_a_whole(
        series_repo: Callable[..., tuple[Any, list[Path]]], tmp_path: Path) -> None:
    repo, mails = series_repo(q.BAD_FOO)
    report = tmp_path / "report.json"
    _install(repo, "--format", "json", "-o", str(report))
    done = _send(repo, mails)
    assert done.returncode != 0, done.stdout + done.stderr
    assert report.is_file(), done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["series"]["patches"] == 2
    assert data["series"]["cover_letter"] is True
    reach = [f for f in data["findings"] if f["rule"] == "qom-realize-reaches-machine"]
    assert [(f["path"], f["line"], f["patch"]["index"]) for f in reach] == [(q.FOO, 12, 1)]


@needs_send_email
def test_clean_series_is_sent(series_repo: Callable[..., tuple[Any, list[Path]]]) -> None:
    repo, mails = series_repo(q.CLEAN_FOO)
    _install(repo)
    done = _send(repo, mails)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert out.count("Dry-Sent") == 3


def _run_hook(hook: Path, repo: Any, mail: Path, *, counter: int | None = None,
              total: int | None = None, header: Path | None = None
              ) -> subprocess.CompletedProcess[str]:
    env = q.reviewbot_env(repo.env)
    env["GIT_DIR"] = str(repo.path / ".git")
    if counter is not None:
        env[hooks.COUNTER_ENV] = str(counter)
        env[hooks.TOTAL_ENV] = str(total)
    args = [str(hook), str(mail), *([str(header)] if header else [])]
    return subprocess.run(args, cwd=repo.path, env=env, capture_output=True,
                          text=True, check=False)


def test_newer_git_form_counters_and_header_file(
        series_repo: Callable[..., tuple[Any, list[Path]]], tmp_path: Path) -> None:
    # git >= 2.42 passes the SMTP headers as $2 and numbers the files; driven directly
    # here so that it is tested whatever git the machine has. Subjects carry no n/N, so
    # only the counters can tell when the series is complete.
    repo, mails = series_repo(q.BAD_FOO, numbered=False)
    assert "[PATCH]" in mails[1].read_text()
    hook = _install(repo)
    header = tmp_path / "header"
    header.write_text("To: qemu-devel@example.org\nFrom: Ada Author <ada@example.org>\n")
    results = [_run_hook(hook, repo, m, counter=i, total=len(mails), header=header)
               for i, m in enumerate(mails, 1)]
    assert [r.returncode for r in results] == [0, 0, 1]
    assert results[0].stdout == results[1].stdout == ""
    assert "[qom-realize-reaches-machine]" in results[2].stdout
    assert "2 patches" in results[2].stdout


def test_older_git_form_uses_the_subject_counter(
        series_repo: Callable[..., tuple[Any, list[Path]]]) -> None:
    repo, mails = series_repo(q.BAD_FOO)
    hook = _install(repo)
    results = [_run_hook(hook, repo, m) for m in mails]
    assert [r.returncode for r in results] == [0, 0, 1]
    assert "[qom-realize-reaches-machine]" in results[2].stdout
    # a re-run starts afresh at the cover letter instead of appending to the old spool
    again = [_run_hook(hook, repo, m) for m in mails]
    assert [r.returncode for r in again] == [0, 0, 1]
    assert "2 patches" in again[2].stdout


def test_lone_patch_is_checked_on_its_own(
        series_repo: Callable[..., tuple[Any, list[Path]]]) -> None:
    repo, mails = series_repo(q.BAD_FOO)
    single = mails[0].parent / "single.patch"
    single.write_text(repo.git("format-patch", "--stdout", "-1", "HEAD~1"))
    done = _run_hook(_install(repo), repo, single)
    assert done.returncode == 1
    assert "[qom-realize-reaches-machine]" in done.stdout


def test_install_print_writes_nothing_and_foreign_hooks_are_kept(
        git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    hooks_dir = repo.path / ".git" / "hooks"
    printed = _reviewbot(["hook", "install", "sendemail-validate", "--print",
                          "--check-args=--fail-on error"], repo.path, repo.env)
    assert printed.returncode == 0
    assert printed.stdout.startswith("#!/bin/sh\n")
    assert "hook run sendemail-validate \"$@\" --check-args='--fail-on error'\n" in printed.stdout
    assert not (hooks_dir / "sendemail-validate").exists()
    hooks_dir.mkdir(exist_ok=True)
    (hooks_dir / "sendemail-validate").write_text("#!/bin/sh\nexit 0\n")
    refused = _reviewbot(["hook", "install", "sendemail-validate"], repo.path, repo.env)
    assert refused.returncode == 2
    assert refused.stderr.startswith("reviewbot: error: ")
    assert "did not write" in refused.stderr
    assert (hooks_dir / "sendemail-validate").read_text() == "#!/bin/sh\nexit 0\n"
    forced = _reviewbot(["hook", "install", "sendemail-validate", "--force"],
                        repo.path, repo.env)
    assert forced.returncode == 0
    hook = hooks_dir / "sendemail-validate"
    assert hooks.MARKER in hook.read_text()
    assert os.access(hook, os.X_OK)


def test_install_honours_core_hooks_path(git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    repo.git("config", "core.hooksPath", "custom-hooks")
    done = _reviewbot(["hook", "install", "sendemail-validate"], repo.path, repo.env)
    assert done.returncode == 0, done.stderr
    assert (repo.path / "custom-hooks" / "sendemail-validate").is_file()
