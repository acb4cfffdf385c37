"""The mail front end (reviewbot.ingest.load) on hostile bytes: a Series or an InputError."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from fuzzkit import mutated_real_mails, no_hang, real_mails
from hypothesis import given
from hypothesis import strategies as st

from reviewbot.errors import InputError
from reviewbot.model import Series

ingest = pytest.importorskip("reviewbot.ingest")
if not hasattr(ingest, "load"):
    pytest.skip("reviewbot.ingest.load is not there yet", allow_module_level=True)

needs_corpus = pytest.mark.skipif(not real_mails(), reason="../shared/corpus-real not found")


def load_bytes(data: bytes) -> Series | InputError:
    """Load ``data`` as standard input; the InputError is returned, anything else raises."""
    with no_hang():
        try:
            return ingest.load("-", stdin=io.BytesIO(data))
        except InputError as exc:
            return exc


def one_line(exc: InputError) -> None:
    text = str(exc)
    assert text and "\n" not in text, f"error message is not one line: {text!r}"


def shape(series: Series) -> list[tuple[str, tuple[int, ...]]]:
    """What the diffs say: per file, the post-image lines added."""
    return [(f.path, tuple(sorted(f.added_lines))) for p in series.patches for f in p.files]


@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data: bytes) -> None:
    got = load_bytes(data)
    if isinstance(got, InputError):
        one_line(got)


@given(st.binary(max_size=512).map(lambda b: b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + b))
def test_arbitrary_bytes_after_an_mbox_separator(data: bytes) -> None:
    got = load_bytes(data)
    if isinstance(got, InputError):
        one_line(got)


@needs_corpus
@given(mutated_real_mails())
def test_mutated_real_threads(data: bytes) -> None:
    got = load_bytes(data)
    if isinstance(got, InputError):
        one_line(got)
    else:
        for problem in got.problems:
            assert problem.origin and problem.message


@needs_corpus
@pytest.mark.parametrize("name", [n for n, _ in real_mails()])
def test_real_thread_keeps_its_diffs_with_crlf_line_ends(name: str) -> None:
    data = dict(real_mails())[name]
    plain = load_bytes(data)
    assert isinstance(plain, Series), plain
    assert plain.patches, f"{name}: no patch found"
    crlf = load_bytes(data.replace(b"\n", b"\r\n"))
    assert isinstance(crlf, Series), crlf
    assert shape(crlf) == shape(plain)


@needs_corpus
@given(st.sampled_from([d for _, d in real_mails()] or [b""]), st.integers(0, 10**6))
def test_real_thread_cut_anywhere(data: bytes, cut: int) -> None:
    got = load_bytes(data[: cut % (len(data) + 1)])
    if isinstance(got, InputError):
        one_line(got)


def test_huge_header_line_does_not_hang() -> None:
    mail = (b"From: a@example.org\nSubject: [PATCH] " + b"x" * 4_000_000
            + b"\n\nbody\n---\n" + _NEW_FILE_DIFF)
    got = load_bytes(mail)
    assert isinstance(got, (Series, InputError))


def test_ten_thousand_received_headers() -> None:
    mail = (b"Received: from a by b\n" * 10_000
            + b"From: a@example.org\nSubject: [PATCH] hw: x\n\nbody\n---\n" + _NEW_FILE_DIFF)
    got = load_bytes(mail)
    assert isinstance(got, Series), got
    assert [f.path for p in got.patches for f in p.files] == ["hw/misc/foo.c"]


def test_deeply_nested_multipart() -> None:
    depth = 2000
    head = b"From: a@example.org\nSubject: [PATCH] deep\n"
    parts = [head]
    for i in range(depth):
        parts.append(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n'.encode())
    parts.append(b"Content-Type: text/plain\n\nhello\n")
    for i in reversed(range(depth)):
        parts.append(f"--b{i}--\n".encode())
    got = load_bytes(b"".join(parts))
    if isinstance(got, InputError):
        one_line(got)


def test_many_small_mails() -> None:
    one = (b"From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: a@example.org\n"
           b"Subject: Re: [PATCH] x\nMessage-Id: <m%d@x>\nIn-Reply-To: <m%d@x>\n\nok\n\n")
    data = b"".join(one % (i, i - 1) for i in range(5000))
    got = load_bytes(data)
    assert isinstance(got, (Series, InputError))


_NEW_FILE_DIFF = (
    b"diff --git a/hw/misc/foo.c b/hw/misc/foo.c\nnew file mode 100644\n"
    b"--- /dev/null\n+++ b/hw/misc/foo.c\n@@ -0,0 +1,3 @@\n+int foo(void)\n+{\n+}\n"
)


# ---------------------------------------------------------------- gzip inputs


def _load_file(path: Path) -> Series | InputError:
    with no_hang():
        try:
            return ingest.load(str(path))
        except InputError as exc:
            return exc


@needs_corpus
def test_gzipped_thread_loads_like_the_plain_one(tmp_path: Path) -> None:
    name, data = real_mails()[0]
    target = tmp_path / (name + ".gz")
    target.write_bytes(gzip.compress(data))
    got, plain = _load_file(target), load_bytes(data)
    assert isinstance(got, Series) and isinstance(plain, Series), (got, plain)
    assert shape(got) == shape(plain)


@given(st.integers(10, 2000))
def test_truncated_gzip_is_refused(cut: int) -> None:
    packed = gzip.compress(b"From: a@example.org\nSubject: x\n\n" + b"body line\n" * 500)
    got = load_bytes(packed[: min(cut, len(packed) - 9)])
    assert isinstance(got, InputError), "a cut gzip stream must be refused"
    one_line(got)


def test_gzip_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .mbox.gz that inflates past limits.MAX_INFLATED_BYTES is refused, not inflated.

    The limit is lowered for the test so that the bomb stays small (64 MiB inflated).
    """
    from reviewbot.util import limits

    monkeypatch.setattr(limits, "MAX_INFLATED_BYTES", 1024 * 1024)
    bomb = tmp_path / "bomb.mbox.gz"
    bomb.write_bytes(gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9))
    got = _load_file(bomb)
    assert isinstance(got, InputError)
    one_line(got)
    assert "bomb.mbox.gz" in str(got) and "limit" in str(got), str(got)


def test_oversized_input_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file over limits.MAX_INPUT_BYTES is refused before it is read whole."""
    from reviewbot.util import limits

    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 1024 * 1024)
    big = tmp_path / "big.mbox"
    big.write_bytes(b"From: a@example.org\nSubject: [PATCH] x\n\n" + b"y" * (3 * 1024 * 1024))
    got = _load_file(big)
    assert isinstance(got, InputError)
    assert "big.mbox" in str(got) and "limit" in str(got), str(got)


@needs_corpus
def test_maildir_with_broken_mails_keeps_the_good_ones(tmp_path: Path) -> None:
    """Broken messages in a maildir become problems; the patches of the good ones load."""
    name, data = next((n, d) for n, d in real_mails() if n.startswith("sgx"))
    for part in ("cur", "new", "tmp"):
        (tmp_path / "md" / part).mkdir(parents=True)
    good = data.split(b"\nFrom mboxrd@z", 1)[0].split(b"\n", 1)[1]  # first message, no From_
    (tmp_path / "md" / "cur" / "0-good").write_bytes(good)
    for i, junk in enumerate((b"", b"\xff\xfe\x00", b"Subject: only a subject\n\nno diff\n",
                              b"Content-Type: text/plain; charset=x-nope\nFrom: a@b\n\nx\n")):
        (tmp_path / "md" / "new" / f"{i + 1}-junk").write_bytes(junk)
    (tmp_path / "md" / "cur" / "sub").mkdir()  # a directory where a mail should be
    got = _load_file(tmp_path / "md")
    assert isinstance(got, Series), got
    paths = [f.path for p in got.patches for f in p.files]
    assert paths == ["hw/i386/sgx-epc.c"], (name, paths)


def test_endless_stream_is_cut_at_the_input_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A SOURCE whose size stat() cannot tell (a pipe, /dev/zero, process substitution) is
    read only up to limits.MAX_INPUT_BYTES, then refused.

    The stream here is a pipe fed 64 MiB (not endless, so that a reader without the cap
    ends too, and fails this test instead of eating the machine's memory).
    """
    import contextlib
    import os
    import threading

    from reviewbot.util import limits

    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 1024 * 1024)
    read_end, write_end = os.pipe()

    def feed() -> None:
        chunk = b"From: a@example.org\nSubject: x\n\n" + b"y" * (1024 * 1024)
        with contextlib.suppress(BrokenPipeError, OSError), os.fdopen(write_end, "wb") as out:
            for _ in range(64):
                out.write(chunk)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        got = _load_file(Path(f"/dev/fd/{read_end}"))
    finally:
        os.close(read_end)
        feeder.join(timeout=10)
    assert isinstance(got, InputError)
    assert "limit" in str(got), str(got)
