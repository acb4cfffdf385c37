"""``reviewbot server start|stop|status|run``: the life of a check server, and its errors."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from reviewbot.server import socket_path
from tests.server.test_daemon import MBOX, SCRIPT, Served, pytestmark  # noqa: F401


def test_start_status_stop(tmp_path: Path) -> None:
    served = Served(Path(tempfile.mkdtemp(prefix="rbsrv-")))
    try:
        assert served.run("server", "status", served=False).returncode == 1
        assert served.run("server", "start", served=False).returncode == 0
        again = served.run("server", "start", served=False)
        assert again.returncode == 0 and b"already running" in again.stdout
        assert served.run("server", "status", served=False).returncode == 0
        assert Path(served.path).exists()
        stopped = served.run("server", "stop", served=False)
        assert stopped.returncode == 0 and b"stopping" in stopped.stdout
        assert not Path(served.path).exists()
        assert served.run("server", "status", served=False).returncode == 1
        # without a server the check runs by itself
        assert served.run("check", str(MBOX)).returncode == 1
        assert b"stopped after 0 checks" in Path(served.path).with_suffix(".log").read_bytes()
    finally:
        served.run("server", "stop", served=False)
        shutil.rmtree(Path(served.path).parents[1], ignore_errors=True)


def test_an_idle_server_ends_by_itself() -> None:
    served = Served(Path(tempfile.mkdtemp(prefix="rbsrv-")))
    try:
        done = served.run("server", "run", "--idle", "0.01", served=False)  # 0.6 s
        assert done.returncode == 0
        assert b"idle for 1 s" in done.stderr or b"idle for 0 s" in done.stderr
        assert not Path(served.path).exists()
    finally:
        shutil.rmtree(Path(served.path).parents[1], ignore_errors=True)


def test_bad_command_lines_are_one_line_errors() -> None:
    served = Served(Path(tempfile.mkdtemp(prefix="rbsrv-")))
    try:
        done = served.run("server", "start", "--idle", "0", served=False)
        assert done.returncode == 2 and done.stderr.count(b"\n") == 1
        long = {**served.env, "REVIEWBOT_CACHE_DIR": str(Path(served.path).parents[1] / (
            "x" * 120))}
        assert socket_path(long) is None
        done = subprocess.run([str(SCRIPT), "server", "start"], env=long, capture_output=True,
                              check=False)
        assert done.returncode == 2 and b"too long for a socket" in done.stderr
        assert done.stderr.count(b"\n") == 1
    finally:
        shutil.rmtree(Path(served.path).parents[1], ignore_errors=True)


def test_a_cache_directory_it_cannot_use_is_a_one_line_error() -> None:
    served = Served(Path(tempfile.mkdtemp(prefix="rbsrv-")))
    try:
        Path(served.path).parent.write_text("not a directory\n", encoding="utf-8")
        done = served.run("server", "run", served=False)
        assert done.returncode == 2, done.stderr
        assert done.stderr.decode().startswith("reviewbot: error: cannot use ")
        assert done.stderr.count(b"\n") == 1
        started = served.run("server", "start", served=False)
        assert started.returncode == 2 and started.stderr.count(b"\n") == 1
    finally:
        shutil.rmtree(Path(served.path).parents[1], ignore_errors=True)


def test_a_second_server_of_one_configuration_is_refused() -> None:
    served = Served(Path(tempfile.mkdtemp(prefix="rbsrv-")))
    try:
        assert served.run("server", "start", served=False).returncode == 0
        second = served.run("server", "run", served=False)
        assert second.returncode == 2
        assert second.stderr == (b"reviewbot: error: a check server already runs for this "
                                 b"configuration (reviewbot server status)\n")
        assert served.run("server", "status", served=False).returncode == 0  # the first goes on
    finally:
        served.run("server", "stop", served=False)
        shutil.rmtree(Path(served.path).parents[1], ignore_errors=True)
