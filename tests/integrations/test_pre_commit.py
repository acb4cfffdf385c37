"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit from a repository config.

pre-commit installs a hook repository at a revision, so the tests point a
``.pre-commit-config.yaml`` at a clone of this checkout's HEAD: what is tested is the
committed hook definition and package, installed the way users get it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import qemu_like as q

PRE_COMMIT = shutil.which("pre-commit", path=str(Path(sys.executable).parent))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PRE_COMMIT is None, reason="pre-commit is not installed in this venv "
                       "(it is in the project's test extras)"),
]


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A clone of this checkout at HEAD: (path, revision)."""
    if not (q.REPO_ROOT / ".git").exists():
        pytest.skip(f"{q.REPO_ROOT} is not a git checkout; pre-commit needs one to clone")
    dest = tmp_path_factory.mktemp("hook-source") / "reviewbot"
    subprocess.run(["git", "clone", "-q", str(q.REPO_ROOT), str(dest)], check=True)
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, check=True,
                         capture_output=True, text=True).stdout.strip()
    return dest, rev


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # one hook environment for the whole session: installing it takes a while
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(git_repo: Callable[..., Any], hook_repo: tuple[Path, str],
            pre_commit_home: Path) -> Any:
    repo = git_repo("project")
    path, rev = hook_repo
    repo.write(".pre-commit-config.yaml", (
        "repos:\n"
        f"  - repo: {path}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: reviewbot\n"
        "      - id: reviewbot-push\n"
    ))
    repo.commit("initial import", {"MAINTAINERS": q.MAINTAINERS_BASE, "README": "x\n"})
    repo.env = {**repo.env, "PRE_COMMIT_HOME": str(pre_commit_home)}
    return repo


def _pre_commit(repo: Any, *args: str) -> subprocess.CompletedProcess[str]:
    assert PRE_COMMIT is not None
    return subprocess.run([PRE_COMMIT, *args], cwd=repo.path, env=repo.env,
                          capture_output=True, text=True, check=False, timeout=900)


def test_bad_staged_change_fails_with_the_finding(project: Any) -> None:
    project.write(q.FOO, q.BAD_FOO)
    project.git("add", q.FOO)
    done = _pre_commit(project, "run", "reviewbot")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "reviewbot (staged change)" in out
    assert "Failed" in out
    assert "hw/misc/foo.c:12" in out
    assert "[qom-realize-reaches-machine]" in out
    # the staged change was checked, not the work tree: the file is still only staged
    assert project.git("status", "--porcelain").splitlines() == [f"A  {q.FOO}"]


def test_clean_staged_change_passes(project: Any) -> None:
    project.write(q.FOO, q.CLEAN_FOO)
    project.git("add", q.FOO)
    done = _pre_commit(project, "run", "reviewbot")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "reviewbot (staged change)" in out
    assert "Passed" in out


def test_unstaged_bad_code_is_not_what_is_checked(project: Any) -> None:
    # pre-commit stashes unstaged changes while hooks run: only the staged text counts
    project.write(q.FOO, q.CLEAN_FOO)
    project.git("add", q.FOO)
    project.write(q.FOO, q.BAD_FOO)
    done = _pre_commit(project, "run", "reviewbot")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project.path / q.FOO).read_text() == q.BAD_FOO  # put back afterwards


def test_installed_hook_blocks_git_commit(project: Any) -> None:
    installed = _pre_commit(project, "install")
    assert installed.returncode == 0, installed.stderr
    project.write(q.FOO, q.BAD_FOO)
    project.git("add", q.FOO)
    done = subprocess.run(["git", "commit", "-q", "-m", "hw/misc: add foo"], cwd=project.path,
                          env=project.env, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "[qom-realize-reaches-machine]" in done.stdout + done.stderr
    assert project.git("rev-list", "--count", "HEAD").strip() == "1"


def test_push_stage_checks_the_pushed_range(project: Any) -> None:
    base = project.commits[-1]
    project.commit(q.commit_message("hw/misc: add the foo device"), {q.FOO: q.BAD_FOO})
    bad = project.commit(q.commit_message("MAINTAINERS: add the foo device"),
                         {"MAINTAINERS": q.MAINTAINERS_FOO})
    done = _pre_commit(project, "run", "--hook-stage", "pre-push", "--from-ref", base,
                       "--to-ref", bad, "reviewbot-push")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "reviewbot (commits being pushed)" in out
    assert "[qom-realize-reaches-machine]" in out
    assert "hw/misc/foo.c:12" in out


def test_push_stage_passes_a_clean_range(project: Any) -> None:
    base = project.commits[-1]
    project.commit(q.commit_message("hw/misc: add the foo device"), {q.FOO: q.CLEAN_FOO})
    head = project.commit(q.commit_message("MAINTAINERS: add the foo device"),
                          {"MAINTAINERS": q.MAINTAINERS_FOO})
    done = _pre_commit(project, "run", "--hook-stage", "pre-push", "--from-ref", base,
                       "--to-ref", head, "reviewbot-push")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "Passed" in out


def test_first_push_of_a_new_repository_checks_every_commit(project: Any,
                                                             tmp_path: Path) -> None:
    # The remote has none of the history: pre-commit sets no FROM/TO refs, only the branch.
    installed = _pre_commit(project, "install", "--hook-type", "pre-push")
    assert installed.returncode == 0, installed.stderr
    project.commit(q.commit_message("hw/misc: add the foo device"), {q.FOO: q.BAD_FOO})
    project.commit(q.commit_message("MAINTAINERS: add the foo device"),
                   {"MAINTAINERS": q.MAINTAINERS_FOO})
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    done = subprocess.run(["git", "push", str(remote), "HEAD:refs/heads/main"],
                          cwd=project.path, env=project.env, capture_output=True, text=True,
                          check=False, timeout=900)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "reviewbot (commits being pushed)" in out
    assert "[qom-realize-reaches-machine]" in out and "hw/misc/foo.c:12" in out
    assert "PRE_COMMIT_TO_REF is not set" not in out
    refs = subprocess.run(["git", "for-each-ref"], cwd=remote, capture_output=True, text=True,
                          check=True).stdout
    assert refs == ""  # the push was refused



def _server_ask(sock: Path, kind: bytes) -> str | None:
    """The answer of the check server at ``sock`` to a status (S) or stop (T) request:
    pre-commit's reviewbot is another installation, so not `reviewbot server status`."""
    from reviewbot.server.client import ask

    return ask(str(sock), kind)


def test_auto_gives_pre_commits_reviewbot_a_server_of_its_own(project: Any,
                                                               tmp_path: Path) -> None:
    # REVIEWBOT_SERVER=auto in the committer's environment: the first run checks by itself
    # and starts a server of pre-commit's installation, without holding pre-commit's pipes
    # open (the run ends); the second is answered by that server, with the same result.
    import time

    cache = tmp_path / "c"
    project.env = {**project.env, "REVIEWBOT_SERVER": "auto", "REVIEWBOT_CACHE_DIR": str(cache)}
    project.write(q.FOO, q.BAD_FOO)
    project.git("add", q.FOO)
    first = _pre_commit(project, "run", "reviewbot")
    assert first.returncode == 1 and "[qom-realize-reaches-machine]" in first.stdout
    deadline = time.monotonic() + 120
    socks: list[Path] = []
    while not socks or _server_ask(socks[0], b"S") is None:
        assert time.monotonic() < deadline, "pre-commit's reviewbot started no server"
        time.sleep(0.2)
        socks = sorted((cache / "server").glob("*.sock")) if (cache / "server").is_dir() else []
    try:
        assert len(socks) == 1
        assert ", 0 checks served" in (_server_ask(socks[0], b"S") or "")
        again = _pre_commit(project, "run", "reviewbot")

        def report(out: str) -> list[str]:  # less pre-commit's own [INFO] lines
            return [line for line in out.splitlines() if not line.startswith("[INFO]")]

        assert (again.returncode, report(again.stdout)) == (first.returncode,
                                                            report(first.stdout))
        assert ", 1 checks served" in (_server_ask(socks[0], b"S") or "")
    finally:
        _server_ask(socks[0], b"T")
