"""Shared fixtures: the real-mail corpus beside the checkout, and throwaway git repositories."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# The real mail beside the checkout; REVIEWBOT_SHARED names that directory elsewhere (a
# git worktree one level deeper than the main checkout).
SHARED = Path(os.environ.get("REVIEWBOT_SHARED") or REPO_ROOT / ".." / "shared")
CORPUS_REAL = SHARED / "corpus-real"
CORPUS_VERSIONS = SHARED / "corpus-versions"

# Pinned identities and dates so commit ids are the same on every run and machine.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Author",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_AUTHOR_DATE": "2025-01-02T03:04:05+00:00",
    "GIT_COMMITTER_NAME": "Carl Committer",
    "GIT_COMMITTER_EMAIL": "carl@example.org",
    "GIT_COMMITTER_DATE": "2025-01-02T03:04:05+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
    "TZ": "UTC",
}


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reviewbot-cache")


@pytest.fixture(autouse=True)
def _own_cache_dir(request: pytest.FixtureRequest, _session_cache: Path,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests keep the tree indexes and the rule cache they make in a directory of this test
    session, not in the user's ~/.cache/reviewbot (a check with --tree of a scratch tree
    leaves a database there). The real-tree tests use the user's cache as a user's checks
    would: the index of a real QEMU tree takes a quarter of a minute to build."""
    if request.node.get_closest_marker("realtree") is None:
        monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(_session_cache))
    # A check server the developer left running would answer the suite's `reviewbot check`
    # subprocesses (with the same output, but not the process under test); tests/server/
    # starts its own.
    monkeypatch.setenv("REVIEWBOT_SERVER", "0")


@pytest.fixture
def corpus_real() -> Path:
    """Directory of real qemu-devel threads (../shared/corpus-real); skips when absent."""
    path = CORPUS_REAL.resolve()
    if not (path / "README.md").is_file():
        pytest.skip(f"corpus-real not found at {path}")
    return path


@pytest.fixture
def corpus_versions() -> Path:
    """Real series posted twice with the reviews between (../shared/corpus-versions); skips
    when absent."""
    path = CORPUS_VERSIONS.resolve()
    if not (path / "README.md").is_file():
        pytest.skip(f"corpus-versions not found at {path}")
    return path


@dataclass
class GitRepo:
    """A scratch repository; every git call runs with the pinned environment."""

    path: Path
    env: dict[str, str]
    commits: list[str] = field(default_factory=list)

    def git(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=self.env, check=check,
            capture_output=True, text=True,
        )
        return done.stdout

    def write(self, relpath: str, content: str | bytes) -> Path:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def commit(self, message: str, files: dict[str, str | bytes] | None = None) -> str:
        """Write ``files``, stage everything and commit; returns the new commit id."""
        for relpath, content in (files or {}).items():
            self.write(relpath, content)
        self.git("add", "-A")
        self.git("commit", "-q", "--no-verify", "-m", message)
        sha = self.git("rev-parse", "HEAD").strip()
        self.commits.append(sha)
        return sha


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Pin git's identity/dates and isolate HOME and the global config for this test.

    The environment is also set in ``os.environ`` so git run by reviewbot itself sees it.
    """
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n", encoding="utf-8"
    )
    values = {**GIT_ENV, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(gitconfig),
              "XDG_CONFIG_HOME": str(home / ".config")}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return dict(os.environ)


@pytest.fixture
def git_repo(tmp_path: Path, git_env: dict[str, str]) -> Iterator[Callable[..., GitRepo]]:
    """Factory: ``git_repo()`` or ``git_repo("name")`` -> a fresh, empty GitRepo."""
    made: list[GitRepo] = []

    def make(name: str = "repo") -> GitRepo:
        path = tmp_path / name
        path.mkdir()
        repo = GitRepo(path=path, env=git_env)
        repo.git("init", "-q", "-b", "main")
        made.append(repo)
        return repo

    yield make
