"""Git input in scratch repositories: ranges, one commit, -N, -C, --staged; read-only."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main
from reviewbot.errors import InputError
from reviewbot.ingest import load

C_V1 = '#include "qemu/osdep.h"\n\nstatic int widget_count;\n'
C_V2 = '#include "qemu/osdep.h"\n\n/* widgets */\nstatic int widget_count;\n'


def _three_commits(git_repo: Callable[..., Any]) -> Any:
    repo = git_repo()
    repo.commit("base: start", {"README": "widget\n"})
    repo.commit("hw/misc: add widget.c\n\nStart it.\n\nSigned-off-by: Ada Author "
                "<ada@example.org>", {"hw/misc/widget.c": C_V1})
    repo.commit("hw/misc: comment the counter\n\nSigned-off-by: Ada Author "
                "<ada@example.org>\nReviewed-by: Rita <rita@example.org>",
                {"hw/misc/widget.c": C_V2})
    return repo


def snapshot(root: Path) -> str:
    """Hash of every file and directory under ``root`` (.git included): names, modes,
    contents and modification times."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in [*sorted(filenames), ""]:
            path = Path(dirpath) / name
            st = path.lstat()
            h.update(f"{path.relative_to(root)}\0{st.st_mode}\0{st.st_mtime_ns}\0".encode())
            if name and path.is_file() and not path.is_symlink():
                h.update(path.read_bytes())
    return h.hexdigest()


def test_range_reads_patches_as_format_patch_writes_them(git_repo: Callable[..., Any]) -> None:
    repo = _three_commits(git_repo)
    path: Path = repo.path
    commits: list[str] = repo.commits
    s = load("HEAD~2..HEAD", cwd=str(path))
    assert s.repo == str(path) and s.base == commits[0]
    assert [p.commit for p in s.patches] == commits[1:]
    assert [(p.subject.counter, p.subject.total) for p in s.patches] == [(1, 2), (2, 2)]
    first, second = s.patches
    assert first.subject.title == "hw/misc: add widget.c"
    assert str(first.mail.author) == "Ada Author <ada@example.org>"
    assert first.commit_message == "Start it.\n\nSigned-off-by: Ada Author <ada@example.org>"
    assert [(f.path, f.is_new, f.added_count) for f in first.files] == [
        ("hw/misc/widget.c", True, 3)]
    assert [(t.key, t.value) for t in second.trailers] == [
        ("Signed-off-by", "Ada Author <ada@example.org>"),
        ("Reviewed-by", "Rita <rita@example.org>"),
    ]
    assert second.files[0].added_lines == frozenset({3})
    # the diff's line in the mail, counted the way git format-patch writes the mail
    out = subprocess.run(["git", "format-patch", "--stdout", "-1", commits[2]], cwd=path,
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[second.mail_diff_line - 1].startswith("diff --git a/hw/misc/widget.c")


def test_single_commit_and_last_n(git_repo: Callable[..., Any]) -> None:
    repo = _three_commits(git_repo)
    cwd = str(repo.path)
    commits: list[str] = repo.commits
    one = load(commits[1], cwd=cwd)
    assert [p.commit for p in one.patches] == [commits[1]] and one.base == commits[0]
    last = load("-2", cwd=cwd)
    assert [p.commit for p in last.patches] == commits[1:] and last.base == commits[0]
    everything = load("-3", cwd=cwd)
    assert len(everything.patches) == 3 and everything.base is None  # root commit included


def test_dash_c_runs_in_another_repository(git_repo: Callable[..., Any],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo = _three_commits(git_repo)
    assert main(["show", "-C", str(repo.path), "-1", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"commit": "' + repo.commits[2] + '"' in out


def test_binary_and_renamed_files(git_repo: Callable[..., Any]) -> None:
    repo = _three_commits(git_repo)
    repo.write("pic.png", b"\x89PNG\r\n\x1a\n\x00\x00binary")
    repo.git("mv", "README", "README.md")
    repo.commit("add a picture, rename the readme")
    (patch,) = load("-1", cwd=str(repo.path)).patches
    by_path = {f.path: f for f in patch.files}
    assert by_path["pic.png"].is_binary and by_path["pic.png"].hunks == ()
    readme = by_path["README.md"]
    assert readme.is_rename and readme.source_path == "README" and readme.hunks == ()


def test_staged_is_one_patch_with_the_index_diff(git_repo: Callable[..., Any]) -> None:
    repo = _three_commits(git_repo)
    path: Path = repo.path
    repo.write("hw/misc/widget.c", C_V2 + "static int staged;\n")
    repo.git("add", "hw/misc/widget.c")
    repo.write("hw/misc/widget.c", C_V2 + "static int staged;\nstatic int unstaged;\n")
    s = load(None, cwd=str(path), staged=True)
    assert s.staged and s.repo == str(path) and s.base == repo.commits[-1]
    (patch,) = s.patches
    (fd,) = patch.files
    assert fd.path == "hw/misc/widget.c"
    assert [ln.text for ln in fd.hunks[0].added] == ["static int staged;"]
    assert str(patch.mail.author) == "Ada Author <ada@example.org>"


def test_staged_on_an_unborn_branch(git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    repo.write("new.c", "int x;\n")
    repo.git("add", "new.c")
    s = load(None, cwd=str(repo.path), staged=True)
    assert s.base is None
    assert [(f.path, f.is_new) for f in s.patches[0].files] == [("new.c", True)]


def test_nothing_staged_is_an_input_error(git_repo: Callable[..., Any]) -> None:
    repo = _three_commits(git_repo)
    with pytest.raises(InputError, match=r"^--staged: nothing staged in "):
        load(None, cwd=str(repo.path), staged=True)


@pytest.mark.parametrize("source", ["--output=pwned", "--stdout", "-p", "HEAD..--output=x",
                                    "--end-of-options"])
def test_arguments_beginning_with_dash_are_never_git_options(
        git_repo: Callable[..., Any], source: str) -> None:
    repo = _three_commits(git_repo)
    path: Path = repo.path
    with pytest.raises(InputError, match="begin"):
        load(source, cwd=str(path))
    assert not (path / "pwned").exists() and not (path / "x").exists()


def test_repository_is_byte_for_byte_unchanged(git_repo: Callable[..., Any],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    repo = _three_commits(git_repo)
    path: Path = repo.path
    repo.git("config", "user.name", "Local Config")
    repo.git("branch", "topic", "HEAD~1")
    # a staged change, then the same file touched again: the index's stat data is stale,
    # which is exactly when a careless `git diff`/`git status` rewrites the index
    repo.write("hw/misc/widget.c", C_V2 + "static int staged;\n")
    repo.git("add", "hw/misc/widget.c")
    os.utime(path / "hw/misc/widget.c", ns=(10**18, 10**18))
    repo.write("untracked.txt", "left alone\n")
    before = snapshot(path)
    load("HEAD~2..HEAD", cwd=str(path))
    load("-1", cwd=str(path))
    load("topic", cwd=str(path))
    load(None, cwd=str(path), staged=True)
    assert main(["show", "-C", str(path), "--staged"]) == 0
    assert main(["show", "-C", str(path), "HEAD~2..topic", "--format", "json"]) == 0
    capsys.readouterr()
    assert snapshot(path) == before


def test_unknown_revision_exit_2_one_line(git_repo: Callable[..., Any],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    repo = _three_commits(git_repo)
    assert main(["show", "-C", str(repo.path), "nosuchbranch..HEAD"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("reviewbot: error: nosuchbranch..HEAD: unknown revision 'nosuchbranch'")


def test_not_a_repository_exit_2_one_line(tmp_path: Path, git_env: dict[str, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["show", "-C", str(plain), "HEAD~1..HEAD"]) == 2
    err = capsys.readouterr().err
    assert err == (f"reviewbot: error: HEAD~1..HEAD: no such file, and {plain} is not a git "
                   "repository to read it as a revision range from\n")
    assert main(["show", "-C", str(plain), "--staged"]) == 2
    assert capsys.readouterr().err == f"reviewbot: error: {plain}: not a git repository\n"


def test_user_config_does_not_change_what_is_read(git_repo: Callable[..., Any]) -> None:
    repo = _three_commits(git_repo)
    for key, value in [("format.coverLetter", "true"), ("format.attach", "true"),
                       ("format.useAutoBase", "true"), ("diff.noprefix", "true"),
                       ("diff.mnemonicPrefix", "true"), ("color.ui", "always"),
                       ("core.quotePath", "true")]:
        repo.git("config", key, value)
    s = load("HEAD~2..HEAD", cwd=str(repo.path))
    assert s.cover is None
    assert [(f.path, f.added_count) for p in s.patches for f in p.files] == [
        ("hw/misc/widget.c", 3), ("hw/misc/widget.c", 1)]


def test_commit_with_non_utf8_text_is_a_problem_the_others_load(
        git_repo: Callable[..., Any]) -> None:
    repo = _three_commits(git_repo)
    repo.commit("docs: latin-1 notes", {"notes.txt": b"caf\xe9\n"})
    repo.commit("hw/misc: one more", {"hw/misc/widget.c": C_V2 + "int more;\n"})
    s = load("HEAD~2..HEAD", cwd=str(repo.path))
    assert [p.subject.title for p in s.patches] == ["hw/misc: one more"]
    (problem,) = s.problems
    assert problem.origin == f"git:{repo.commits[3][:12]}"
    assert problem.message.startswith(
        "body is not UTF-8 and declares no other charset (byte 0xe9 at offset ")


def test_single_revision_with_a_slash_and_one_that_is_nothing(
        git_repo: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    repo = _three_commits(git_repo)
    repo.git("branch", "topic/widget", "HEAD~1")
    s = load("topic/widget", cwd=str(repo.path))
    assert [p.commit for p in s.patches] == [repo.commits[1]]
    assert main(["show", "-C", str(repo.path), "topic/nothing"]) == 2
    assert capsys.readouterr().err == (
        f"reviewbot: error: topic/nothing: neither a file nor a revision in {repo.path}\n")
