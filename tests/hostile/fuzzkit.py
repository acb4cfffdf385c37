"""Shared pieces of the hostile-input suite: real mails to mutate, mutation strategies, a hard
time limit, and a way to run the CLI in-process and judge how it ended."""

from __future__ import annotations

import contextlib
import io
import os
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FrameType

from hypothesis import strategies as st

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS_REAL = (REPO_ROOT / ".." / "shared" / "corpus-real").resolve()

# An example taking longer than this is a hang, whatever the machine load.
HANG_SECONDS = 30


class Hang(BaseException):
    """An example ran past HANG_SECONDS.

    A BaseException, so that reviewbot's own guards (which turn an Exception in a rule into a
    "could not analyse" finding) cannot swallow it and keep going.
    """


@contextlib.contextmanager
def no_hang(seconds: float = HANG_SECONDS) -> Iterator[None]:
    """Fail (raise Hang) if the block runs longer than ``seconds`` of wall time."""

    def expired(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@cache
def real_mails() -> tuple[tuple[str, bytes], ...]:
    """(file name, bytes) of every thread in corpus-real; empty when it is not there."""
    if not CORPUS_REAL.is_dir():
        return ()
    return tuple((p.name, p.read_bytes()) for p in sorted(CORPUS_REAL.glob("*.mbox")))


# ---------------------------------------------------------------- mutations

_NASTY_LINES = (
    b"Content-Transfer-Encoding: base64\n",
    b"Content-Transfer-Encoding: quoted-printable\n",
    b"Content-Type: multipart/mixed; boundary=\"never-closed\"\n",
    b"Content-Type: text/plain; charset=x-no-such-charset\n",
    b"Content-Type: text/plain; charset=utf-16\n",
    b"Subject: =?utf-8?B?!!!not-base64?= [PATCH 99999999999999999999/0]\n",
    b"Subject: [PATCH v0 3/2] x\n",
    b"Date: Mon, 32 Foo 99999 25:61:61 +9999\n",
    b"From: \"=?utf-8?q?unterminated\n",
    b"In-Reply-To: <<<<>>>>\n",
    b"Message-Id: <>\n",
    b"--- a/../../etc/passwd\n+++ b//etc/passwd\n",
    b"@@ -1,99999999999 +1,0 @@\n",
    b"@@ -0,0 +1 @@\n",
    b"diff --git a/x b/x\nGIT binary patch\nliteral 10\nzcmV?d00001\n",
    b"\\ No newline at end of file\n",
    b"From mboxrd@z Thu Jan  1 00:00:00 1970\n",
    b">From nobody\n",
    b"\x00\x00\x00\xff\xfe\n",
    b"\r\r\r\n",
    b"=\n=3\n=XY\n",
    b"Signed-off-by: \n",
    b"Reviewed-by: <@>\n",
)


def _apply(draw: st.DrawFn, blob: bytes) -> bytes:
    op = draw(st.integers(0, 8))
    size = len(blob)
    at = draw(st.integers(0, size)) if size else 0
    if op == 0:  # truncate
        return blob[:at]
    if op == 1:  # delete a slice
        end = draw(st.integers(at, min(size, at + 4000)))
        return blob[:at] + blob[end:]
    if op == 2:  # duplicate a slice
        end = draw(st.integers(at, min(size, at + 4000)))
        return blob[:end] + blob[at:end] + blob[end:]
    if op == 3:  # insert random bytes
        return blob[:at] + draw(st.binary(max_size=64)) + blob[at:]
    if op == 4:  # insert a line known to upset parsers, at a line start
        start = blob.rfind(b"\n", 0, at) + 1
        return blob[:start] + draw(st.sampled_from(_NASTY_LINES)) + blob[start:]
    if op == 5:  # line ends
        return draw(st.sampled_from((
            blob.replace(b"\n", b"\r\n"), blob.replace(b"\r\n", b"\n"), blob.replace(b"\n", b"\r"),
        )))
    if op == 6:  # flip bytes
        out = bytearray(blob)
        for _ in range(draw(st.integers(1, 16))):
            if out:
                out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return bytes(out)
    if op == 7:  # one huge line
        return blob[:at] + b"+" + b"x" * draw(st.sampled_from((5000, 200_000))) + b"\n" + blob[at:]
    # renumber hunk headers
    return blob.replace(b"@@ -", draw(st.sampled_from((b"@@ -9", b"@@ -0", b"@@ --", b"@@ -1,"))))


@st.composite
def mutated(draw: st.DrawFn, blobs: Sequence[bytes]) -> bytes:
    """One of ``blobs`` with one to four mutations applied."""
    blob = draw(st.sampled_from(blobs))
    for _ in range(draw(st.integers(1, 4))):
        blob = _apply(draw, blob)
    return blob


def mutated_real_mails() -> st.SearchStrategy[bytes]:
    mails = [data for _, data in real_mails()]
    return mutated(mails) if mails else st.nothing()


# ---------------------------------------------------------------- the CLI in-process


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str


def run_cli(argv: Sequence[str], seconds: float = HANG_SECONDS) -> Outcome:
    """``reviewbot.cli.main(argv)`` with its output captured; SystemExit is a return."""
    from reviewbot.cli import main

    out, err = io.StringIO(), io.StringIO()
    os.environ.pop("REVIEWBOT_DEBUG", None)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), no_hang(seconds):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = int(exc.code or 0) if not isinstance(exc.code, str) else 2
    return Outcome(code, out.getvalue(), err.getvalue())


def assert_orderly(outcome: Outcome, what: str = "") -> None:
    """Findings (exit 0/1) or exactly one error line with exit 2; never an internal error."""
    where = f" on {what}" if what else ""
    assert "Traceback" not in outcome.err, f"traceback{where}:\n{outcome.err}"
    assert outcome.code != 3, f"internal error{where}: {outcome.err.strip()}"
    assert outcome.code in (0, 1, 2), f"exit {outcome.code}{where}: {outcome.err.strip()}"
    if outcome.code == 2:
        lines = outcome.err.strip().splitlines()
        assert len(lines) == 1, f"exit 2 with {len(lines)} lines on stderr{where}: {lines}"
        assert lines[0].startswith("reviewbot: error: "), lines[0]
