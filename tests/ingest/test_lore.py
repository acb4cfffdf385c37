"""`reviewbot lore` against a real HTTP server on 127.0.0.1 serving fixture threads."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from reviewbot.cli import main
from reviewbot.errors import InputError, UsageError
from reviewbot.ingest import lore

THREAD = (
    "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
    "From: Ada Author <ada@example.org>\n"
    "Subject: [PATCH] hw/misc: add foo\n"
    "Message-ID: <20250102.1-ada@example.org>\n"
    "Date: Thu, 02 Jan 2025 03:04:05 +0000\n"
    "\n"
    "Body.\n"
    "\n"
)
MSGID = "20250102.1-ada@example.org"
SLASHED = "a/b+c@example.org"


class _Handler(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path.startswith("/slow/"):
            time.sleep(1)
        status, headers, body = self.routes.get(self.path, (404, {}, b"no such thread\n"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if "Content-Length" not in headers and status != 302:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hanging up on an oversized response is expected here


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {"routes": {}, "hits": []})
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # never the real default server from a test: port 9 (discard) on loopback refuses
    monkeypatch.setenv(lore.BASE_ENV, "http://127.0.0.1:9/nowhere")
    return tmp_path / "cache"


def _serve(handler: type[_Handler], path: str, body: bytes, **headers: str) -> None:
    handler.routes[path] = (200, {"Content-Type": "application/gzip", **headers}, body)


def test_fetches_inflates_and_caches(server: tuple[str, type[_Handler]], _cache: Path) -> None:
    base, handler = server
    _serve(handler, f"/qemu-devel/{MSGID}/t.mbox.gz", gzip.compress(THREAD.encode()))
    path = lore.fetch_thread(f"<{MSGID}>", f"{base}/qemu-devel")
    assert path.read_text() == THREAD
    assert path.parent == _cache / "reviewbot" / "lore"
    again = lore.fetch_thread(f"id:{MSGID}", f"{base}/qemu-devel/")
    assert again == path
    assert handler.hits == [f"/qemu-devel/{MSGID}/t.mbox.gz"]  # second call from the cache
    lore.fetch_thread(MSGID, f"{base}/qemu-devel", refresh=True)
    assert len(handler.hits) == 2


def test_message_id_is_escaped_like_public_inbox(server: tuple[str, type[_Handler]]) -> None:
    base, handler = server
    _serve(handler, "/list/a%2Fb+c@example.org/t.mbox.gz", gzip.compress(THREAD.encode()))
    assert lore.fetch_thread(SLASHED, f"{base}/list").read_text() == THREAD


def test_cli_fetch_prints_the_cached_path(server: tuple[str, type[_Handler]],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    base, handler = server
    _serve(handler, f"/qemu-devel/{MSGID}/t.mbox.gz", gzip.compress(THREAD.encode()))
    url = f"{base}/qemu-devel/{MSGID}/"
    assert main(["lore", url, "--base", f"{base}/qemu-devel", "--then", "fetch"]) == 0
    out, err = capsys.readouterr()
    assert Path(out.strip()).read_text() == THREAD
    assert f"fetching {base}/qemu-devel/{MSGID}/t.mbox.gz" in err


def test_404_is_one_line_error_exit_2(server: tuple[str, type[_Handler]],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = server
    assert main(["lore", "missing@example.org", "--base", base, "--then", "fetch"]) == 2
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert lines[-1] == (f"reviewbot: error: {base}/missing@example.org/t.mbox.gz: not found "
                         "(HTTP 404): the server has no thread with that message-id")
    assert "Traceback" not in err


def test_truncated_gzip_is_refused_and_not_cached(server: tuple[str, type[_Handler]],
                                                  _cache: Path) -> None:
    base, handler = server
    whole = gzip.compress(THREAD.encode() * 50)
    _serve(handler, f"/{MSGID}/t.mbox.gz", whole[: len(whole) // 2])
    with pytest.raises(InputError, match="truncated gzip stream"):
        lore.fetch_thread(MSGID, base)
    assert not list(_cache.rglob("*.mbox"))


def test_not_gzip_is_refused(server: tuple[str, type[_Handler]]) -> None:
    base, handler = server
    _serve(handler, f"/{MSGID}/t.mbox.gz", b"<html>rate limited</html>")
    with pytest.raises(InputError, match="not a valid gzip stream"):
        lore.fetch_thread(MSGID, base)


def test_oversized_response_is_refused(server: tuple[str, type[_Handler]],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    base, handler = server
    big = gzip.compress(b"x" * 10) + b"\0" * (2 * lore.MiB)
    _serve(handler, f"/{MSGID}/t.mbox.gz", big)
    assert main(["lore", MSGID, "--base", base, "--max-download", "1", "--then", "fetch"]) == 2
    assert "over the download limit" in capsys.readouterr().err
    # without a Content-Length the cap holds while reading
    _serve(handler, f"/{MSGID}/t.mbox.gz", big, **{"Content-Length": ""})
    with pytest.raises(InputError, match="over the download limit"):
        lore.fetch_thread(MSGID, base, limits=lore.Limits(max_download=lore.MiB))


def test_gzip_bomb_is_refused(server: tuple[str, type[_Handler]]) -> None:
    base, handler = server
    bomb = gzip.compress(b"\0" * (8 * lore.MiB))  # about 8 KB on the wire
    assert len(bomb) < 64 * 1024
    _serve(handler, f"/{MSGID}/t.mbox.gz", bomb)
    with pytest.raises(InputError, match="inflates to more than 1048576 bytes"):
        lore.fetch_thread(MSGID, base, limits=lore.Limits(max_inflated=lore.MiB))


def test_redirect_to_another_host_is_refused(server: tuple[str, type[_Handler]]) -> None:
    base, handler = server
    port = base.rsplit(":", 1)[1]
    handler.routes[f"/{MSGID}/t.mbox.gz"] = (
        302, {"Location": f"http://localhost:{port}/elsewhere/t.mbox.gz",
              "Content-Length": "0"}, b"")
    _serve(handler, "/elsewhere/t.mbox.gz", gzip.compress(THREAD.encode()))
    with pytest.raises(InputError, match="not the configured server; refusing to follow"):
        lore.fetch_thread(MSGID, base)
    assert handler.hits == [f"/{MSGID}/t.mbox.gz"]


def test_redirect_on_the_same_host_is_followed(server: tuple[str, type[_Handler]]) -> None:
    base, handler = server
    handler.routes[f"/qemu-devel/{MSGID}/t.mbox.gz"] = (
        302, {"Location": f"/all/{MSGID}/t.mbox.gz", "Content-Length": "0"}, b"")
    _serve(handler, f"/all/{MSGID}/t.mbox.gz", gzip.compress(THREAD.encode()))
    assert lore.fetch_thread(MSGID, f"{base}/qemu-devel").read_text() == THREAD


def test_timeout(server: tuple[str, type[_Handler]]) -> None:
    base, _ = server
    with pytest.raises(InputError, match=r"no answer within 0\.3 s|timed out"):
        lore.fetch_thread(MSGID, f"{base}/slow", limits=lore.Limits(timeout=0.3))


@pytest.mark.parametrize("bad", ["", "  ", "<>", "two words@x", "https://example.org/list/"])
def test_bad_message_ids_are_usage_errors(bad: str) -> None:
    with pytest.raises(UsageError, match="not a message-id"):
        lore.normalize_msgid(bad)


def test_base_must_be_http() -> None:
    with pytest.raises(UsageError, match="must be an http"):
        lore.thread_url("file:///etc", MSGID)


def test_then_check_runs_on_a_real_thread(server: tuple[str, type[_Handler]],
                                          corpus_real: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    base, handler = server
    mbox = (corpus_real / "spapr-drop-qdev-get-machine.mbox").read_bytes()
    msgid = "20201209170052.1431440-1-groug@kaod.org"
    _serve(handler, f"/qemu-devel/{msgid}/t.mbox.gz", gzip.compress(mbox))
    status = main(["lore", msgid, "--base", f"{base}/qemu-devel", "--then", "show"])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "spapr" in out


def test_args_go_to_check(server: tuple[str, type[_Handler]],
                                                 corpus_real: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    base, handler = server
    mbox = (corpus_real / "spapr-drop-qdev-get-machine.mbox").read_bytes()
    msgid = "20201209170052.1431440-5-groug@kaod.org"  # patch 4/6: any mail of the thread
    _serve(handler, f"/qemu-devel/{msgid}/t.mbox.gz", gzip.compress(mbox))
    status = main(["lore", f"<{msgid}>", "--base", f"{base}/qemu-devel",
                   "--args=--format json --fail-on error"])
    out, err = capsys.readouterr()
    assert status in (0, 1), err
    report = json.loads(out)
    assert report["fail_on"] == "error"
    assert report["series"]["patches"] == 1
    assert report["series"]["cover_letter"] is True
    assert report["series"]["source"].endswith(".mbox")
