"""``reviewbot lore`` against a hostile public-inbox server on 127.0.0.1: a download over the
cap, a body that is not gzip, a gzip bomb, a cut stream, a redirect elsewhere and a server that
never answers are each refused with one clear line, and nothing is cached for them."""

from __future__ import annotations

import contextlib
import gzip
import http.server
import posixpath
import re
import threading
import time
import tracemalloc
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fuzzkit import real_mails, run_cli
from hypothesis import given
from hypothesis import strategies as st

from reviewbot.errors import InputError

lore = pytest.importorskip("reviewbot.ingest.lore")

MiB = 1024 * 1024
THREAD = (b"From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: A <a@example.org>\n"
          b"Subject: [PATCH] hw/misc: x\nMessage-Id: <good@example.org>\n\nbody\n")
BOMB = gzip.compress(b"\0" * (64 * MiB), compresslevel=9)  # about 64 KB on the wire


def _routes(port: int) -> dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]]:
    def send(body: bytes, length: bool = True) -> Callable[[http.server.BaseHTTPRequestHandler],
                                                          None]:
        def answer(h: http.server.BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/gzip")
            if length:
                h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        return answer

    def redirect(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", f"http://localhost:{port}/list/good@example.org/t.mbox.gz")
        h.send_header("Content-Length", "0")
        h.end_headers()

    def silent(h: http.server.BaseHTTPRequestHandler) -> None:
        time.sleep(3)

    big = b"\x1f\x8b" + b"x" * (3 * MiB)
    return {
        "good@example.org": send(gzip.compress(THREAD)),
        "big@example.org": send(big),
        "big-unannounced@example.org": send(big, length=False),
        "plain@example.org": send(THREAD),
        "bomb@example.org": send(BOMB),
        "cut@example.org": send(_cut(gzip.compress(THREAD))),
        "empty@example.org": send(gzip.compress(b"")),
        "redirect@example.org": redirect,
        "silent@example.org": silent,
    }


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A public-inbox look-alike; yields its base URL."""
    routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # no Content-Length means: body until close

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            answer = routes.get(parts[1]) if len(parts) == 3 else None
            if answer is None:
                self.send_error(404)
                return
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                answer(self)  # the client may give up early, as it should

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    routes.update(_routes(httpd.server_address[1]))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/list"
    httpd.shutdown()
    httpd.server_close()


def fetch(server: str, msgid: str, cache: Path, **limits: float) -> Path | InputError:
    bounds = lore.Limits(**{"max_download": 1 * MiB, "max_inflated": 1 * MiB, "timeout": 1.0,
                            **limits})
    try:
        return lore.fetch_thread(msgid, server, limits=bounds, cache=cache)
    except InputError as exc:
        return exc


def refused(got: Path | InputError, *words: str) -> str:
    assert isinstance(got, InputError), f"accepted: {got}"
    text = str(got)
    assert "\n" not in text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    return text


def test_good_thread_is_fetched_and_cached(server: str, tmp_path: Path) -> None:
    got = fetch(server, "<good@example.org>", tmp_path)
    assert isinstance(got, Path), got
    assert got.read_bytes() == THREAD
    assert got.parent == tmp_path


@pytest.mark.skipif(not real_mails(), reason="../shared/corpus-real not found")
def test_real_thread_round_trips(server: str, tmp_path: Path) -> None:
    name, data = real_mails()[0]
    assert lore.inflate(gzip.compress(data), name, 10 * MiB) == data


@pytest.mark.parametrize(("msgid", "words"), [
    ("big@example.org", ("big@example.org", "download limit")),
    ("big-unannounced@example.org", ("big-unannounced@example.org", "download limit")),
    ("plain@example.org", ("plain@example.org", "gzip")),
    ("bomb@example.org", ("bomb@example.org", "inflates to more than")),
    ("cut@example.org", ("cut@example.org", "truncated")),
    ("empty@example.org", ("empty@example.org", "empty")),
    ("redirect@example.org", ("localhost", "refusing")),
    ("silent@example.org", ("silent@example.org", "no answer")),
    ("absent@example.org", ("absent@example.org", "404")),
])
def test_hostile_answers_are_refused(server: str, tmp_path: Path, msgid: str,
                                     words: tuple[str, ...]) -> None:
    started = time.monotonic()
    refused(fetch(server, msgid, tmp_path), *words)
    assert time.monotonic() - started < 10
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "a refused thread was cached"


def test_bomb_is_never_inflated_past_the_cap() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="inflates to more than"):
            lore.inflate(BOMB, "bomb", 1 * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB while refusing a 1 MiB cap"


def test_cli_refuses_a_bomb_in_one_line(server: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line has no option for the inflate cap (256 MiB); the 64 MiB bomb is
    under it, so the cap is lowered in the Limits the command builds."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(lore.Limits, "__init__", _limits_init(lore.Limits.__init__))
    outcome = run_cli(["lore", "bomb@example.org", "--base", server, "--timeout", "5"])
    assert outcome.code == 2, outcome
    errors = [ln for ln in outcome.err.splitlines() if ln.startswith("reviewbot: error: ")]
    assert len(errors) == 1 and "inflates to more than" in errors[0], outcome.err
    assert "Traceback" not in outcome.err


def test_cli_refuses_an_oversized_download(server: str, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    outcome = run_cli(["lore", "big@example.org", "--base", server, "--max-download", "1"])
    assert outcome.code == 2, outcome
    errors = [ln for ln in outcome.err.splitlines() if ln.startswith("reviewbot: error: ")]
    assert len(errors) == 1 and "download limit" in errors[0], outcome.err


def _cut(packed: bytes) -> bytes:
    """The gzip stream without its last 12 bytes: data, but no end."""
    return packed[:-12]


def _limits_init(original: Callable[..., None]) -> Callable[..., None]:
    def init(self: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max_inflated", 1 * MiB)
        original(self, *args, **kwargs)
    return init


@given(st.one_of(st.text(max_size=40),
                 st.sampled_from(["..", ".", "../..", "a/../../b@x", "%2e%2e", "<..>", "id:..",
                                  "mid:../evil@x", "x@y/../../z", "@", "a@b#frag", "a@b?q=1"])))
def test_message_id_cannot_leave_the_list(text: str) -> None:
    """Whatever is given as MSGID, the URL fetched stays under the list's base path."""
    base = "https://lore.example.org/qemu-devel"
    try:
        url = lore.thread_url(base, lore.normalize_msgid(text))
    except InputError:
        return
    parts = urllib.parse.urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.query, parts.fragment) == (
        "https", "lore.example.org", "", "")
    # A server resolves "." and ".." segments, also when spelt %2e (RFC 3986, 6.2.2.2).
    path = posixpath.normpath(re.sub("%2[eE]", ".", parts.path))
    assert path.startswith("/qemu-devel/") and path.endswith("/t.mbox.gz"), (text, url)
    assert path.count("/") == 3, (text, url)
