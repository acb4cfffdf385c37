"""``reviewbot server start|stop|status|run``: the check server (reviewbot/server/)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from reviewbot.server import STATUS, STOP
from reviewbot.server.client import ask

HELP = ("keep a warm reviewbot process that answers `reviewbot check` and the hooks without "
        "starting Python each time (start, stop, status, run)")
IDLE_MINUTES = 30.0
START_SECONDS = 60.0  # the warm-up and, on a first run, the rule packs' cache


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="server_command", metavar="ACTION", required=True)
    start = sub.add_parser(
        "start", help="start a check server in the background for this configuration",
        description="Start a check server and return once it answers. A `reviewbot check` "
        "(or `reviewbot hook run`) in the same configuration - the same reviewbot, Python, "
        "cache directory and REVIEWBOT_*/PYTHON*/locale variables - is then run by a fork of "
        "it, with the same output and exit status. REVIEWBOT_SERVER=0 checks without it; "
        "REVIEWBOT_SERVER=auto starts one in the background when a check finds none. The "
        "server ends after --idle minutes with nothing to do, on `reviewbot server stop`, and "
        "by itself when reviewbot's code changes. Its log is SOCKET.log in CACHE/server/.")
    start.add_argument("--idle", type=float, default=IDLE_MINUTES, metavar="MINUTES",
                       help=f"end after this many minutes without a check "
                       f"(default {IDLE_MINUTES:g})")
    sub.add_parser("stop", help="stop the check server of this configuration")
    sub.add_parser("status", help="say whether a check server runs for this configuration "
                   "(exit 0) or not (exit 1)")
    run = sub.add_parser("run", help="serve in the foreground (for a service manager)",
                         description="Serve in this process until stopped or idle; the log "
                         "goes to standard error.")
    run.add_argument("--idle", type=float, default=IDLE_MINUTES, metavar="MINUTES",
                     help=f"end after this many minutes without a check "
                     f"(default {IDLE_MINUTES:g})")


def run(args: argparse.Namespace) -> int:
    from reviewbot.errors import UsageError

    if getattr(args, "idle", 1.0) <= 0:
        raise UsageError("--idle must be a positive number of minutes")
    path = _path()
    if args.server_command == "run":
        from reviewbot.server.daemon import Server

        return Server(path, args.idle * 60).serve()
    if args.server_command == "status":
        said = ask(path, STATUS)
        if said is None:
            print("reviewbot: no check server runs for this configuration")
            return 1
        print(f"reviewbot: check server running: {said}")
        return 0
    if args.server_command == "stop":
        said = ask(path, STOP)
        if said is None:
            print("reviewbot: no check server runs for this configuration")
            return 0
        _wait_gone(path)
        print(f"reviewbot: check server {said}")
        return 0
    return _start(path, args.idle)


def _path() -> str:
    from reviewbot.errors import InputError
    from reviewbot.server import socket_path

    path = socket_path(os.environ)
    if path is None:
        raise InputError("no check server for this configuration: the cache directory is "
                         "relative or its path too long for a socket (REVIEWBOT_CACHE_DIR)")
    return path


def _wait_gone(path: str, seconds: float = 10.0) -> None:
    end = time.monotonic() + seconds
    while Path(path).exists() and time.monotonic() < end:
        time.sleep(0.02)


def _start(path: str, idle: float) -> int:
    from reviewbot.errors import InputError

    said = ask(path, STATUS)
    if said is not None:
        print(f"reviewbot: check server already running: {said}")
        return 0
    log_path = Path(path).with_suffix(".log")
    try:
        log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with log_path.open("w", encoding="utf-8") as log:
            log_path.chmod(0o600)
            proc = subprocess.Popen(
                [sys.executable, "-m", "reviewbot", "server", "run", "--idle", str(idle)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                start_new_session=True)
    except OSError as exc:
        raise InputError(f"cannot use {log_path.parent} for a check server: "
                         f"{exc.strerror or exc}") from exc
    end = time.monotonic() + START_SECONDS
    while time.monotonic() < end:
        said = ask(path, STATUS)
        if said is not None:
            print(f"reviewbot: check server started: {said}")
            return 0
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    else:
        proc.terminate()
    last = (log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            or ["no message"])[-1]
    raise InputError(f"the check server did not start ({log_path}): {last}")
