"""The check server, end to end: a real server process, real `reviewbot` command lines.

What a served check must be is what the same command line prints and returns without a server
(REVIEWBOT_SERVER=0): the same bytes on standard output and standard error and the same exit
status, for every input kind. The server's own count of checks it forked proves a run went
through it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reviewbot.server import MAGIC, REFUSED, frame_header, pack, socket_path
from tests.ingest.test_ingest_git import snapshot

ROOT = Path(__file__).resolve().parents[2]
MBOX = ROOT / "corpus" / "memdev" / "v1.mbox"
SCRIPT = Path(sys.executable).parent / "reviewbot"

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX") or not SCRIPT.exists(),
                                reason="needs Unix sockets and the installed console script")


class Served:
    """A check server of its own cache directory, and the environment that reaches it."""

    def __init__(self, cache: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "REVIEWBOT_SERVER"}
        self.env["REVIEWBOT_CACHE_DIR"] = str(cache)
        path = socket_path(self.env)
        assert path is not None
        self.path = path

    def run(self, *args: str, cwd: Path = ROOT, stdin: bytes | None = None, served: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        use = {**self.env, **(env or {})}
        if not served:
            use["REVIEWBOT_SERVER"] = "0"
        return subprocess.run([str(SCRIPT), *args], cwd=cwd, env=use, input=stdin,
                              capture_output=True, check=False, timeout=120)

    def served(self) -> int:
        status = self.run("server", "status", served=False)
        assert status.returncode == 0, status
        found = re.search(rb"(\d+) checks served", status.stdout)
        assert found, status.stdout
        return int(found.group(1))

    def same_with_and_without(self, *args: str,
                              **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        """Run ``args`` through the server and without it; assert the same result; the
        served run's result."""
        before = self.served()
        through = self.run(*args, **kwargs)
        assert self.served() == before + 1, "the check did not go through the server"
        alone = self.run(*args, served=False, **kwargs)
        assert (through.returncode, through.stdout, through.stderr) == \
            (alone.returncode, alone.stdout, alone.stderr)
        return through


@pytest.fixture(scope="module")
def server() -> Iterator[Served]:
    # a short directory: a socket's path is at most about a hundred bytes
    cache = Path(tempfile.mkdtemp(prefix="rbsrv-"))
    served = Served(cache)
    started = served.run("server", "start", "--idle", "5", served=False)
    assert started.returncode == 0, started.stderr
    assert b"check server started" in started.stdout
    try:
        yield served
    finally:
        served.run("server", "stop", served=False)
        shutil.rmtree(cache, ignore_errors=True)


def test_a_served_check_is_the_same_check(server: Served) -> None:
    done = server.same_with_and_without("check", str(MBOX))
    assert done.returncode == 1
    assert b"qom-realize-reaches-machine" in done.stdout
    for fmt in ("json", "sarif", "checkpatch"):
        server.same_with_and_without("check", "--format", fmt, str(MBOX))


def test_standard_input_working_directory_and_errors(server: Served) -> None:
    # the patch on the client's standard input, a path relative to the client's directory
    done = server.same_with_and_without("check", "-", stdin=MBOX.read_bytes())
    assert b"qom-realize-reaches-machine" in done.stdout
    done = server.same_with_and_without("check", "v1.mbox", cwd=MBOX.parent)
    assert b"qom-realize-reaches-machine" in done.stdout
    # a bad input is the same one-line error and exit 2; a bad option argparse's
    done = server.same_with_and_without("check", "no-such-file.mbox")
    assert done.returncode == 2 and done.stderr.count(b"\n") == 1 and not done.stdout
    # a file name and an environment value that are not UTF-8 travel as the bytes they are
    done = server.same_with_and_without("check", os.fsdecode(b"no-such-\xff.mbox"),
                                        env={"UNRELATED_X": os.fsdecode(b"\xfe")})
    assert done.returncode == 2 and b"no-such-" in done.stderr
    done = server.same_with_and_without("check", "--no-such-option", str(MBOX))
    assert done.returncode == 2 and b"unrecognized arguments" in done.stderr


def test_the_environment_is_the_clients(server: Served) -> None:
    # COLUMNS is read in the worker, from the client's environment
    narrow = server.same_with_and_without("check", "--help", env={"COLUMNS": "50"})
    wide = server.same_with_and_without("check", "--help", env={"COLUMNS": "150"})
    assert len(narrow.stdout.splitlines()) > len(wide.stdout.splitlines())
    assert max(map(len, wide.stdout.splitlines())) > 100


def test_a_git_range_through_the_server_leaves_the_repository_alone(
        server: Served, git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    repo.commit("base: start", {"README": "x\n"})
    repo.commit("hw/misc: add a device\n\nSigned-off-by: Ada Author <ada@example.org>",
                {"hw/misc/dev.c": "#include \"qemu/osdep.h\"\n\nvoid dev_init(void)\n{\n"
                 "    int *p = g_malloc(sizeof(int));\n}\n"})
    before = snapshot(repo.path)
    done = server.same_with_and_without("check", "HEAD~1..HEAD", cwd=repo.path)
    assert b"hw/misc/dev.c:5: warning: g_malloc(sizeof(int))" in done.stdout
    assert snapshot(repo.path) == before


def test_a_hook_is_served_too(server: Served, git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    repo.commit("base: start", {"README": "x\n"})
    repo.write("hw/misc/dev.c", "static int counter;\n")
    repo.git("add", "-A")
    before = snapshot(repo.path)
    server.same_with_and_without("hook", "run", "pre-commit", cwd=repo.path)
    assert snapshot(repo.path) == before


def test_another_configuration_is_not_served(server: Served) -> None:
    before = server.served()
    other = server.run("check", str(MBOX), env={"REVIEWBOT_RULE_CACHE": "0"})
    assert other.returncode == 1 and server.served() == before
    # a request that claims to be of this configuration but is not is refused before any fork
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(server.path)
        fields = ["not this configuration", "/", "18", "", *["utf-8", "strict"] * 3,
                  "reviewbot", "1", "check"]
        message = pack(b"C", fields)
        conn.sendmsg([message[:1]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, _fds(0, 1, 2))])
        conn.sendall(message[1:])
        reply = conn.recv(4096)
    tag, length = frame_header(reply[:5])
    assert tag == REFUSED and b"another configuration" in reply[5:5 + length]
    assert server.served() == before


def _fds(*fds: int) -> bytes:
    import struct

    return struct.pack(f"{len(fds)}i", *fds)


def test_garbage_on_the_socket_is_dropped_and_serving_goes_on(server: Served) -> None:
    for junk in (b"GET / HTTP/1.0\r\n\r\n", MAGIC + b"C\xff\xff\xff\xff", b""):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(server.path)
            conn.sendall(junk)
            conn.shutdown(socket.SHUT_WR)
            try:
                answer = conn.recv(100)
            except ConnectionResetError:  # closed with bytes it did not read
                answer = b""
            assert answer == b""
    server.same_with_and_without("check", str(MBOX))


def _worker_of(server: Served) -> int:
    """The pid of the one worker the server is running (Linux's /proc; not a worker of an
    earlier test that has ended and is not reaped yet)."""
    status = server.run("server", "status", served=False).stdout.decode()
    pid = int(re.search(r"pid (\d+)", status).group(1))  # type: ignore[union-attr]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]
        live = []
        for child in children:
            with contextlib.suppress(OSError):
                if "State:\tZ" not in Path(f"/proc/{child}/status").read_text():
                    live.append(child)
        if live:
            return live[0]
        time.sleep(0.01)
    raise AssertionError("no worker started")


def _reading_stdin(server: Served) -> subprocess.Popen[bytes]:
    """A served ``check -``: its worker waits on standard input, which the test holds."""
    return subprocess.Popen([str(SCRIPT), "check", "-"], env=server.env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


_PROC = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux's /proc")


@_PROC
def test_interrupt_reaches_the_worker(server: Served) -> None:
    # the worker reads the patch from the client's standard input, which stays open
    client = _reading_stdin(server)
    try:
        worker = _worker_of(server)
        client.send_signal(signal.SIGINT)
        # standard input stays open until the client has ended (communicate() would close it
        # at once, and a worker the signal had not reached yet would read an empty patch)
        client.wait(timeout=30)
        err = client.stderr.read() if client.stderr is not None else b""
    finally:
        client.kill()
        client.communicate()
    assert client.returncode == 130, err  # main's KeyboardInterrupt, in the worker
    assert not Path(f"/proc/{worker}/status").exists() or "zombie" in Path(
        f"/proc/{worker}/status").read_text()


@_PROC
def test_a_worker_that_dies_is_an_internal_error_not_a_second_run(server: Served) -> None:
    client = _reading_stdin(server)
    try:
        os.kill(_worker_of(server), signal.SIGKILL)
        out, err = client.communicate(timeout=30)
    finally:
        client.kill()
    assert client.returncode == 3 and not out
    assert err.decode().startswith("reviewbot: internal error: the check server's worker ended")
    assert err.count(b"\n") == 1
    server.same_with_and_without("check", str(MBOX))  # the server itself goes on


# Run in a fresh interpreter as the console script does: what a served check imports.
_CLIENT = """
import sys
from reviewbot.cli import main
sys.argv = ["reviewbot", *sys.argv[1:]]
status = main()
sys.stdout.flush()
sys.stderr.write("\\n".join(["%d" % status, *sorted(sys.modules)]))
"""


def test_a_served_check_starts_nothing_it_does_not_need(server: Served) -> None:
    before = server.served()
    done = subprocess.run([sys.executable, "-c", _CLIENT, "check", str(MBOX)], env=server.env,
                          capture_output=True, text=True, check=False)
    assert server.served() == before + 1
    # the worker wrote the report (on the same standard output); the client only its modules
    assert "qom-realize-reaches-machine" in done.stdout
    status, *modules = done.stderr.splitlines()
    assert int(status) == 1
    # each of these once cost a served check 2-9 ms before it reached the socket
    for heavy in ("typing", "argparse", "pathlib", "contextlib", "signal", "enum", "json",
                  "socket", "reviewbot.commands.parser", "reviewbot.engine", "reviewbot.finding",
                  "tree_sitter"):
        assert heavy not in modules, heavy
    assert "reviewbot.server.client" in modules


def test_checks_at_once_are_each_their_own(server: Served, git_repo: Callable[..., Any]) -> None:
    # three clients at the same time: three workers, each with its own input and output
    repo = git_repo()
    repo.commit("base: start", {"README": "x\n"})
    repo.commit("hw/misc: add a device\n\nSigned-off-by: Ada Author <ada@example.org>",
                {"hw/misc/dev.c": "void dev_init(void)\n{\n"
                 "    int *p = g_malloc(sizeof(int));\n}\n"})
    jobs = [(["check", str(MBOX)], ROOT), (["check", "--format", "json", str(MBOX)], ROOT),
            (["check", "HEAD~1..HEAD"], repo.path)]
    alone = [server.run(*args, cwd=cwd, served=False) for args, cwd in jobs]
    before = server.served()
    clients = [subprocess.Popen([str(SCRIPT), *args], cwd=cwd, env=server.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for args, cwd in jobs]
    results = [(*c.communicate(timeout=120), c.returncode) for c in clients]
    results = [(status, out, err) for out, err, status in results]
    assert server.served() == before + len(jobs)
    assert results == [(a.returncode, a.stdout, a.stderr) for a in alone]


def test_auto_starts_a_server_for_the_next_check() -> None:
    served = Served(Path(tempfile.mkdtemp(prefix="rbsrv-")))
    auto = {"REVIEWBOT_SERVER": "auto"}
    try:
        first = served.run("check", str(MBOX), env=auto)  # by itself, and starts one
        assert first.returncode == 1
        deadline = time.monotonic() + 60
        while served.run("server", "status", served=False).returncode != 0:
            assert time.monotonic() < deadline, "no server started"
            time.sleep(0.1)
        before = served.served()
        second = served.run("check", str(MBOX), env=auto)
        assert served.served() == before + 1
        assert (second.returncode, second.stdout, second.stderr) == \
            (first.returncode, first.stdout, first.stderr)
    finally:
        served.run("server", "stop", served=False)
        shutil.rmtree(Path(served.path).parents[1], ignore_errors=True)


def _state(pid: int) -> str:
    status = Path(f"/proc/{pid}/status").read_text()
    return re.search(r"State:\s+(\w)", status).group(1)  # type: ignore[union-attr]


def _until(what: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20
    while not what():
        assert time.monotonic() < deadline
        time.sleep(0.01)


@_PROC
def test_a_terminal_stop_stops_the_worker_and_continue_continues_it(server: Served) -> None:
    client = _reading_stdin(server)
    try:
        worker = _worker_of(server)
        _until(lambda: _state(worker) == "S")  # waiting on the client's standard input
        time.sleep(0.2)  # and the client has read the worker's pid, sent before that
        client.send_signal(signal.SIGTSTP)  # ^Z
        _until(lambda: _state(client.pid) == "T" and _state(worker) == "T")
        client.send_signal(signal.SIGCONT)  # fg
        _until(lambda: _state(client.pid) != "T" and _state(worker) != "T")
        out, err = client.communicate(MBOX.read_bytes(), timeout=60)
    finally:
        client.kill()
    alone = server.run("check", "-", stdin=MBOX.read_bytes(), served=False)
    assert (client.returncode, out, err) == (alone.returncode, alone.stdout, alone.stderr)


def test_auto_replaces_a_server_that_was_killed() -> None:
    served = Served(Path(tempfile.mkdtemp(prefix="rbsrv-")))
    try:
        assert served.run("server", "start", served=False).returncode == 0
        status = served.run("server", "status", served=False).stdout.decode()
        os.kill(int(re.search(r"pid (\d+)", status).group(1)), signal.SIGKILL)  # type: ignore[union-attr]
        _until(lambda: served.run("server", "status", served=False).returncode == 1)
        assert Path(served.path).exists()  # its socket stays behind, with nobody listening
        done = served.run("check", str(MBOX), env={"REVIEWBOT_SERVER": "auto"})
        assert done.returncode == 1  # checked by itself, and a new server started
        _until(lambda: served.run("server", "status", served=False).returncode == 0)
    finally:
        served.run("server", "stop", served=False)
        shutil.rmtree(Path(served.path).parents[1], ignore_errors=True)
