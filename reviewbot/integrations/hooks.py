"""Hooks that run ``reviewbot check`` from git and pre-commit.

``sendemail-validate``: git send-email runs the hook once per mail, cover letter included,
before it sends anything; a non-zero exit aborts the whole send. Git 2.42 and later pass the
SMTP header file as ``$2`` and number the mails in ``GIT_SENDEMAIL_FILE_COUNTER`` /
``GIT_SENDEMAIL_FILE_TOTAL``; older git passes only ``$1``. Either way the mails are
collected in a spool directory and the series is checked as a whole when its last mail
arrives: by the counters when git gives them, else by the ``n/N`` of ``[PATCH n/N]``
(a mail without one is checked on its own).

Installing the hook is the one time reviewbot writes into a repository, and only on the
explicit ``reviewbot hook install`` command.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from pathlib import Path

from reviewbot.errors import InputError, UsageError

HOOKS = ("sendemail-validate",)
MARKER = "written by `reviewbot hook install"
COUNTER_ENV = "GIT_SENDEMAIL_FILE_COUNTER"
TOTAL_ENV = "GIT_SENDEMAIL_FILE_TOTAL"

CheckFn = Callable[[Sequence[str]], int]


def hook_script(name: str, check_args: Sequence[str] = (), python: str | None = None) -> str:
    if name not in HOOKS:
        raise UsageError(f"unknown hook {name!r} (known: {', '.join(HOOKS)})")
    interpreter = shlex.quote(python or sys.executable)
    extra = f" --check-args={shlex.quote(shlex.join(check_args))}" if check_args else ""
    return (
        "#!/bin/sh\n"
        f"# {name} hook {MARKER} {name}`.\n"
        "# git send-email runs it for every mail before sending; a non-zero exit aborts\n"
        "# the send.\n"
        f'exec {interpreter} -m reviewbot hook run {name} "$@"{extra}\n'
    )


def git_hooks_dir(cwd: str | None = None) -> Path:
    """``$(git rev-parse --git-path hooks)``: honours core.hooksPath and worktrees."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-path", "hooks"],
            cwd=cwd, capture_output=True, text=True, check=False,
        )
    except OSError as exc:
        raise InputError(f"git: cannot run: {exc.strerror}") from None
    if done.returncode != 0:
        where = cwd or str(Path.cwd())
        raise InputError(f"{where}: not a git repository ({done.stderr.strip()})")
    return Path(done.stdout.strip())


def install(name: str, *, cwd: str | None = None, check_args: Sequence[str] = (),
            force: bool = False) -> Path:
    """Write the hook into the repository's hooks directory; returns its path."""
    script = hook_script(name, check_args)
    target = git_hooks_dir(cwd) / name
    ours = not target.exists() or MARKER in target.read_text(encoding="utf-8", errors="replace")
    if not ours and not force:
        raise InputError(f"{target}: a hook that reviewbot did not write is already "
                             "there; use --force to replace it, or --print and merge by hand")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(script, encoding="utf-8")
    target.chmod(0o755)
    return target


def _spool_dir() -> Path:
    """One spool per repository and user, outside the repository."""
    git_dir = os.environ.get("GIT_DIR") or str(Path.cwd())
    key = hashlib.sha256(str(Path(git_dir).resolve()).encode()).hexdigest()[:16]
    base = Path(tempfile.gettempdir()) / f"reviewbot-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    return base / f"sendemail-{key}"


def _subject_counter(mail: bytes) -> tuple[int, int] | None:
    from reviewbot.ingest.subject import parse_subject

    raw = BytesHeaderParser().parsebytes(mail).get("Subject")
    if raw is None:
        return None
    subject = parse_subject(str(make_header(decode_header(str(raw)))))
    if subject.counter is None or not subject.total:
        return None
    return subject.counter, subject.total


def _check_spool(spool: Path, check: CheckFn, check_args: Sequence[str]) -> int:
    mails = sorted(spool.glob("*.eml"))
    mbox = spool / "series.mbox"
    with mbox.open("wb") as out:
        for path in mails:
            data = path.read_bytes()
            if not data.startswith(b"From "):
                out.write(b"From reviewbot-sendemail-validate Thu Jan  1 00:00:00 1970\n")
            out.write(data.rstrip(b"\n") + b"\n\n")
    try:
        return check([str(mbox), *check_args])
    finally:
        shutil.rmtree(spool, ignore_errors=True)


def sendemail_validate(mail_file: str, header_file: str | None, check: CheckFn,
                       check_args: Sequence[str] = ()) -> int:
    """Spool one mail; check the series when it is complete. Returns the exit status."""
    del header_file  # the recipients git will use; the review does not depend on them
    try:
        data = Path(mail_file).read_bytes()
    except OSError as exc:
        raise InputError(f"{mail_file}: cannot read: {exc.strerror}") from None
    spool = _spool_dir()
    counter, total = os.environ.get(COUNTER_ENV), os.environ.get(TOTAL_ENV)
    if counter and total and counter.isdigit() and total.isdigit():
        number, last = int(counter), int(total)
        if number == 1:
            shutil.rmtree(spool, ignore_errors=True)
    else:
        found = _subject_counter(data)
        if found is None:  # a lone patch: nothing to wait for
            shutil.rmtree(spool, ignore_errors=True)
            number, last = 1, 1
        else:
            number, last = found
            fresh = number == 0 or (number == 1 and not (spool / "0000.eml").exists())
            if fresh:
                shutil.rmtree(spool, ignore_errors=True)
    spool.mkdir(mode=0o700, parents=True, exist_ok=True)
    (spool / f"{number:04d}.eml").write_bytes(data)
    if number < last:
        return 0
    return _check_spool(spool, check, check_args)


def pre_push_range(cwd: str = ".") -> str:
    """``FROM..TO`` from the variables pre-commit sets for a pre-push hook.

    When a push takes a branch whose history starts at a root commit the remote lacks (the
    first push of a new repository), pre-commit sets no refs, only the local branch, and runs
    hooks on all files: then every commit of that branch is checked (``-N``)."""
    from_ref = os.environ.get("PRE_COMMIT_FROM_REF", "")
    to_ref = os.environ.get("PRE_COMMIT_TO_REF", "")
    if not to_ref:
        local = os.environ.get("PRE_COMMIT_LOCAL_BRANCH", "")
        if local:
            return _whole_branch(local, cwd)
        raise UsageError("pre-push: PRE_COMMIT_TO_REF is not set (run this from pre-commit's "
                         "pre-push stage, or give --from-ref/--to-ref to `pre-commit run`)")
    if not from_ref or set(from_ref) == {"0"}:
        return to_ref
    return f"{from_ref}..{to_ref}"


def _whole_branch(branch: str, cwd: str) -> str:
    """``-N`` for every commit of ``branch``, which must be the one checked out (``-N``
    counts back from HEAD)."""
    from reviewbot.ingest.git import repo_root, resolve, run_git

    root = repo_root(cwd)
    tip = resolve(branch, root, shown=f"pre-push: {branch}")
    if tip != resolve("HEAD", root, shown="pre-push: HEAD"):
        raise UsageError(f"pre-push: {branch} is pushed whole (the remote has none of its "
                         "history) but is not checked out; check it out and push again, or "
                         "run `reviewbot check -N` on it")
    done = run_git(["rev-list", "--count", tip], root)
    return f"-{int(done.stdout.decode().strip() or 0)}"


def thread_of_stdin_mail() -> Path:
    """The thread of the mail on standard input (b4 gives a series check the cover letter),
    fetched from the public-inbox server; its cached mbox."""
    from reviewbot.ingest.lore import BASE_ENV, DEFAULT_BASE, fetch_thread

    head = BytesHeaderParser().parse(sys.stdin.buffer)
    msgid = head.get("Message-ID")
    if not msgid:
        raise InputError("<stdin>: the mail has no Message-ID to find its thread by")
    base = os.environ.get(BASE_ENV) or DEFAULT_BASE
    return fetch_thread(str(msgid), base)
