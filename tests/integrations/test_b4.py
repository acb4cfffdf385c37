"""reviewbot as b4's per-patch check command, run by the real b4 (offline) in a scratch repo.

b4 pipes one patch mail to the command from the repository top: `b4 prep --check` and
`b4 am -k` read checkpatch-style lines, `b4 review` reads its JSON check protocol.
"""

from __future__ import annotations

import gzip
import json
import re
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import qemu_like as q

B4 = shutil.which("b4", path=str(Path(sys.executable).parent))
pytestmark = pytest.mark.skipif(B4 is None, reason="b4 is not installed in this venv "
                                "(it is in the project's test extras)")

CHECKPATCH_CMD = shlex.join([sys.executable, "-m", "reviewbot", "check", "--format",
                             "checkpatch", "-"])
REVIEW_CMD = shlex.join([sys.executable, "-m", "reviewbot", "check", "--format", "b4-review",
                         "-"])
SERIES_CMD = shlex.join([sys.executable, "-m", "reviewbot", "hook", "run", "b4-review-series"])
TOOL = Path(sys.executable).name  # b4 names a result after the command's program


@pytest.fixture
def repo(git_repo: Callable[..., Any], tmp_path: Path) -> Any:
    repo = git_repo()
    # b4 prep finds its cover letter among the configured user's commits of the last year:
    # real dates, and Ada commits her own work
    env = {k: v for k, v in repo.env.items() if not k.endswith("_DATE")}
    repo.env = q.reviewbot_env({
        **env,
        "GIT_COMMITTER_NAME": "Ada Author",
        "GIT_COMMITTER_EMAIL": "ada@example.org",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),  # b4 caches check results there
        "XDG_DATA_HOME": str(tmp_path / "data"),
    })
    repo.git("config", "user.name", "Ada Author")
    repo.git("config", "user.email", "ada@example.org")
    repo.commit("initial import", {"MAINTAINERS": q.MAINTAINERS_BASE, "README": "x\n"})
    return repo


def _b4(repo: Any, *args: str) -> subprocess.CompletedProcess[str]:
    assert B4 is not None
    return subprocess.run([B4, "--offline-mode", *args], cwd=repo.path, env=repo.env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          check=False, timeout=300)


def _series(repo: Any, foo: str) -> None:
    repo.commit(q.commit_message("hw/misc: add the foo device"), {q.FOO: foo})
    repo.commit(q.commit_message("MAINTAINERS: add the foo device"),
                {"MAINTAINERS": q.MAINTAINERS_FOO})


def _prep(repo: Any, foo: str) -> subprocess.CompletedProcess[str]:
    made = _b4(repo, "prep", "-n", "foo", "-f", "main")
    assert made.returncode == 0, made.stderr
    _series(repo, foo)
    # .b4-config in the repository top is read for prep-*-check-cmd
    (repo.path / ".b4-config").write_text(
        f"[b4]\n\tprep-perpatch-check-cmd = {CHECKPATCH_CMD}\n", encoding="utf-8")
    return _b4(repo, "prep", "--check")


def test_prep_check_from_b4_config_reports_the_finding(repo: Any) -> None:
    done = _prep(repo, q.BAD_FOO)
    out = done.stdout + done.stderr
    assert CHECKPATCH_CMD in out
    found = [ln for ln in out.splitlines() if "[qom-realize-reaches-machine]" in ln]
    assert len(found) == 1, out
    assert re.search(r": \d+: WARNING: foo_realize\(\) reaches the machine", found[0])
    assert "Success: 1, Warning: 1, Error: 0" in out


def test_prep_check_passes_a_clean_series(repo: Any) -> None:
    done = _prep(repo, q.CLEAN_FOO)
    out = done.stdout + done.stderr
    assert "Success: 2, Warning: 0, Error: 0" in out, out


def _thread(repo: Any, tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "outgoing"
    repo.git("format-patch", "-q", "--thread", "--cover-letter", "-2", "-o", str(out))
    mails = sorted(out.glob("*.patch"))
    mbox = tmp_path / "thread.mbox"
    mbox.write_text("".join(m.read_text() for m in mails), encoding="utf-8")
    match = re.search(r"(?im)^message-id: <([^>]+)>", mails[0].read_text())
    assert match is not None
    return mbox, match.group(1)


def test_am_check_from_git_config(repo: Any, tmp_path: Path) -> None:
    _series(repo, q.BAD_FOO)
    mbox, cover_id = _thread(repo, tmp_path)
    repo.git("config", "b4.am-perpatch-check-cmd", CHECKPATCH_CMD)
    done = _b4(repo, "am", "-k", "-m", str(mbox), "-o", str(tmp_path / "am"), cover_id)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    section = out.split("[PATCH 1/2] hw/misc: add the foo device", 1)[1].split("[PATCH 2/2]")[0]
    assert "[qom-realize-reaches-machine]" in section
    assert "WARNING: foo_realize() reaches the machine" in section
    assert "[qom-realize-reaches-machine]" not in out.split("[PATCH 2/2]", 1)[1]


def test_am_check_is_not_read_from_b4_config(repo: Any, tmp_path: Path) -> None:
    _series(repo, q.BAD_FOO)
    mbox, cover_id = _thread(repo, tmp_path)
    (repo.path / ".b4-config").write_text(
        f"[b4]\n\tam-perpatch-check-cmd = {CHECKPATCH_CMD}\n", encoding="utf-8")
    done = _b4(repo, "am", "-k", "-m", str(mbox), "-o", str(tmp_path / "am"), cover_id)
    assert done.returncode == 0, done.stderr
    assert "qom-realize-reaches-machine" not in done.stdout + done.stderr


# b4 review is a terminal UI; its checks run through these functions, driven here as the UI
# drives them, with b4's own config loading (git config, in the repository top).
_REVIEW_DRIVER = """
import argparse, json, sys
from email import message_from_bytes
import b4
from b4.review import checks
b4.setup_config(argparse.Namespace(config=[]))  # what b4's command line does first
perpatch, series = checks.load_check_cmds()
msgs = [message_from_bytes(open(p, "rb").read(), policy=b4.emlpolicy) for p in sys.argv[1:]]
pairs = [(m["Message-ID"].strip("<>"), m) for m in msgs]
results = checks.run_perpatch_checks(pairs[1:], perpatch, b4.git_get_toplevel())
series_results = checks.run_series_checks(pairs[0], series, b4.git_get_toplevel())
print(json.dumps({"perpatch": perpatch, "series": series, "results": results,
                  "series_results": series_results}))
"""


class _Archive(BaseHTTPRequestHandler):
    """A public-inbox stand-in: serves one thread's t.mbox.gz."""

    threads: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.threads.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def archive() -> Iterator[tuple[str, type[_Archive]]]:
    handler = type("Archive", (_Archive,), {"threads": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/qemu-devel", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def _review(repo: Any, tmp_path: Path,
            archive: tuple[str, type[_Archive]] | None = None) -> dict[str, Any]:
    out = tmp_path / "outgoing"
    repo.git("format-patch", "-q", "--thread", "--cover-letter", "-2", "-o", str(out))
    mails = [str(p) for p in sorted(out.glob("*.patch"))]
    if archive is not None:
        base, handler = archive
        cover_id = re.search(r"(?im)^message-id: <([^>]+)>", Path(mails[0]).read_text())
        assert cover_id is not None
        thread = "".join(Path(m).read_text() + "\n" for m in mails)
        handler.threads[f"/qemu-devel/{cover_id.group(1)}/t.mbox.gz"] = gzip.compress(
            thread.encode())
        repo.env = {**repo.env, "REVIEWBOT_LORE_BASE": base}
    done = subprocess.run([sys.executable, "-c", _REVIEW_DRIVER, *mails], cwd=repo.path,
                          env=repo.env, capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return data


def test_review_checks_speak_the_json_protocol(
        repo: Any, tmp_path: Path, archive: tuple[str, type[_Archive]]) -> None:
    _series(repo, q.BAD_FOO)
    repo.git("config", "b4.review-perpatch-check-cmd", REVIEW_CMD)
    repo.git("config", "b4.review-series-check-cmd", SERIES_CMD)
    data = _review(repo, tmp_path, archive)
    assert (data["perpatch"], data["series"]) == ([REVIEW_CMD], [SERIES_CMD])
    first, second = data["results"].values()
    (result,) = first
    assert result["tool"] == "reviewbot"
    assert result["status"] == "warn"
    assert result["summary"] == "1 warning"
    details = json.loads(result["details"])
    assert details[0]["status"] == "warn"
    assert details[0]["description"].startswith("hw/misc/foo.c:12: foo_realize()")
    assert details[0]["description"].count("[qom-realize-reaches-machine]") == 1
    assert details[0]["srcline"] == q.MACHINE_CALL.strip()
    assert [r["status"] for r in second] == ["pass"]
    # the series command gets the cover letter, fetches the thread and checks all of it
    (whole,) = data["series_results"]
    assert (whole["tool"], whole["status"]) == ("reviewbot", "warn"), whole
    assert "[qom-realize-reaches-machine]" in whole["details"]


def test_review_check_cmds_are_not_read_from_b4_config(repo: Any, tmp_path: Path) -> None:
    _series(repo, q.BAD_FOO)
    (repo.path / ".b4-config").write_text(
        f"[b4]\n\treview-perpatch-check-cmd = {REVIEW_CMD}\n"
        f"\treview-series-check-cmd = {REVIEW_CMD}\n", encoding="utf-8")
    data = _review(repo, tmp_path)
    assert (data["perpatch"], data["series"]) == ([], [])
