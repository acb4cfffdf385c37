"""A git revision range, a single commit, ``-N``, or the index (``--staged``) -> mails.

Only read-only git commands run here (rev-parse, format-patch --stdout, diff-index, var), with
GIT_OPTIONAL_LOCKS=0 so that not even the index's stat cache gets refreshed. The patches
are exactly what ``git format-patch`` would mail, with fixed a/ b/ prefixes.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

from reviewbot.errors import InputError
from reviewbot.ingest.mail import parse_mail, problem, split_mbox
from reviewbot.ingest.subject import parse_subject
from reviewbot.ingest.trailers import parse_person
from reviewbot.model import InputProblem, Mail, Person

_COUNT = re.compile(r"^-(\d+)$")
_SHA_LINE = re.compile(r"^From ([0-9a-f]{40,64}) ")
_DIFF_OPTIONS = ("--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/")


@dataclass(frozen=True)
class GitInput:
    mails: tuple[Mail, ...]
    problems: tuple[InputProblem, ...]
    commits: dict[str, str]  # message-id -> commit id
    repo: str
    base: str | None


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def run_git(args: list[str], cwd: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", "-c", "core.quotePath=false", *args], cwd=cwd, env=_env(),
            stdin=subprocess.DEVNULL, capture_output=True, check=False,
        )
    except FileNotFoundError:
        raise InputError("git: not found on PATH (needed to read a revision range)") from None
    except NotADirectoryError:
        raise InputError(f"{cwd}: not a directory") from None


def _err(done: subprocess.CompletedProcess[bytes]) -> str:
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1].removeprefix("fatal: ").strip() if lines else f"exit {done.returncode}"


def repo_root(cwd: str) -> str:
    if not Path(cwd).is_dir():
        raise InputError(f"{cwd}: no such directory")
    done = run_git(["rev-parse", "--show-toplevel"], cwd)
    if done.returncode != 0:
        raise InputError(f"{cwd}: not a git repository")
    return done.stdout.decode().strip()


def resolve(rev: str, root: str, *, shown: str) -> str:
    """Commit id of ``rev``; InputError naming ``shown`` when it is not a commit."""
    if rev.startswith("-"):
        raise InputError(f"{shown}: a revision may not begin with '-' "
                         "(only -N, the last N commits, does)")
    done = run_git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
                   root)
    if done.returncode != 0:
        raise InputError(f"{shown}: unknown revision {rev!r} in {root}")
    return done.stdout.decode().strip()


def _parent(commit: str, root: str) -> str | None:
    done = run_git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{commit}^"], root)
    return done.stdout.decode().strip() if done.returncode == 0 else None


def load_range(source: str, cwd: str) -> GitInput:
    root = repo_root(cwd)
    m = _COUNT.match(source)
    if m is not None:
        count = int(m.group(1))
        if count == 0:
            raise InputError(f"{source}: asks for no commit")
        head = resolve("HEAD", root, shown=source)
        opts, revs = [f"-{count}"], [head]
        base = _parent_n(head, count, root)
    elif source.startswith("-"):
        raise InputError(f"{source}: not a revision range (of arguments beginning with '-', "
                         "only -N, the last N commits, is one)")
    elif "..." in source:
        raise InputError(f"{source}: symmetric ranges (A...B) are not supported; use A..B")
    elif ".." in source:
        left, right = source.split("..", 1)
        start = resolve(left or "HEAD", root, shown=source)
        end = resolve(right or "HEAD", root, shown=source)
        opts, revs = [], [f"{start}..{end}"]
        base = start
    else:
        try:
            commit = resolve(source, root, shown=source)
        except InputError:
            raise InputError(f"{source}: neither a file nor a revision in {root}") from None
        opts, revs = ["-1"], [commit]
        base = _parent(commit, root)
    # revisions are resolved commit ids by now; --end-of-options is belt and braces
    # the user's format.* config may ask for a cover letter, attachments or an upstream base;
    # none of that is the patches themselves
    done = run_git(["format-patch", "--stdout", "--no-cover-letter", "--no-attach", "--no-base",
                    *_DIFF_OPTIONS, *opts, "--end-of-options", *revs], root)
    if done.returncode != 0:
        raise InputError(f"{source}: git format-patch failed: {_err(done)}")
    raws = split_mbox(done.stdout, f"git:{source}")
    if not raws:
        raise InputError(f"{source}: no commits in the range (merges are skipped)")
    mails: list[Mail] = []
    problems: list[InputProblem] = []
    commits: dict[str, str] = {}
    for raw in raws:
        sha_m = _SHA_LINE.match(raw.from_line or "")
        sha = sha_m.group(1) if sha_m else None
        named = replace(raw, origin=f"git:{sha[:12]}") if sha else raw
        try:
            mail = parse_mail(named)
        except InputError as exc:
            problems.append(problem(named.origin, exc))
            continue
        mails.append(mail)
        if sha:
            commits[mail.message_id] = sha
    return GitInput(tuple(mails), tuple(problems), commits, root, base)


def _parent_n(head: str, count: int, root: str) -> str | None:
    done = run_git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{head}~{count}"],
                   root)
    return done.stdout.decode().strip() if done.returncode == 0 else None


def load_staged(cwd: str) -> GitInput:
    root = repo_root(cwd)
    head_done = run_git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], root)
    base: str | None = None
    if head_done.returncode == 0:
        against = base = head_done.stdout.decode().strip()
    else:  # unborn branch: everything staged is new; compare with the empty tree
        against = run_git(["hash-object", "-t", "tree", "--stdin"], root).stdout.decode().strip()
    done = run_git(["diff-index", "--cached", "-p", "-M", "--binary", *_DIFF_OPTIONS,
                    against, "--"], root)
    if done.returncode != 0:
        raise InputError(f"--staged: git diff-index failed: {_err(done)}")
    if not done.stdout.strip():
        raise InputError(f"--staged: nothing staged in {root}")
    try:
        text = done.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"--staged: the staged diff is not UTF-8 (offset {exc.start})") from None
    ident = run_git(["var", "GIT_AUTHOR_IDENT"], root).stdout.decode("utf-8", "replace")
    author = parse_person(re.sub(r"\s+\d+\s+[-+]\d{4}\s*$", "", ident)) or Person("", "")
    mail = Mail(
        message_id="reviewbot-staged@synthetic", subject=parse_subject("staged changes"),
        sender=author, author=author, date=None, in_reply_to=None, references=(), to=(),
        cc=(), body=text.replace("\r\n", "\n"), origin="--staged", body_offset=1,
    )
    return GitInput((mail,), (), {}, root, base)
