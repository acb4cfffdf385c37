"""reviewbot.integrations.hooks: what a pre-push hook checks, from the variables pre-commit sets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reviewbot.errors import UsageError
from reviewbot.ingest import load
from reviewbot.integrations.hooks import pre_push_range


@pytest.fixture
def three_commits(git_repo: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("PRE_COMMIT_FROM_REF", "PRE_COMMIT_TO_REF", "PRE_COMMIT_LOCAL_BRANCH"):
        monkeypatch.delenv(name, raising=False)
    repo = git_repo()
    for n in range(3):
        repo.commit(f"commit {n}", {f"file{n}": f"{n}\n"})
    return repo


def test_a_range_pre_commit_gives(three_commits: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _, last = three_commits.commits
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", first)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", last)
    assert pre_push_range(str(three_commits.path)) == f"{first}..{last}"
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "0" * 40)  # a new branch
    assert pre_push_range(str(three_commits.path)) == last


def test_a_whole_new_history_is_every_commit_of_the_branch(
        three_commits: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # pre-commit's first push of a new repository: no refs, all files, the local branch
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
    source = pre_push_range(str(three_commits.path))
    assert source == "-3"
    series = load(source, cwd=str(three_commits.path))
    assert [p.subject.title for p in series.patches] == ["commit 0", "commit 1", "commit 2"]


def test_a_whole_branch_that_is_not_checked_out_is_refused(
        three_commits: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    three_commits.git("branch", "other", three_commits.commits[1])
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/other")
    with pytest.raises(UsageError, match=r"refs/heads/other is pushed whole .* not checked out"):
        pre_push_range(str(three_commits.path))
    monkeypatch.delenv("PRE_COMMIT_LOCAL_BRANCH")
    with pytest.raises(UsageError, match="PRE_COMMIT_TO_REF is not set"):
        pre_push_range(str(three_commits.path))
