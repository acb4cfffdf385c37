"""The check server process: warm up once, then fork a worker for every check handed to it.

A worker is a fork of a process that has imported everything a check imports, loaded the
rule packs and run one small check (``_WARM_PATCH``): it starts where a fresh process would
be after 60 ms. It takes on the client's standard streams, working directory, environment,
umask and resource limits, rebuilds ``sys.stdin``/``stdout``/``stderr`` with the client's
encodings, and runs ``reviewbot.cli.main`` on the client's words. Forking keeps checks apart
(each worker's caches, open index and failures are its own), lets checks run at once, and
keeps the server itself free of anything a check opened: it never opens a tree or its
database, so no SQLite connection crosses a fork.

The server answers only checks of the configuration it was started in (the key material of
``reviewbot.server``) and only while reviewbot's code is what it imported: before every fork
it compares the size and mtime of every module it loaded and every module of the package with
what they were at start; on a change it refuses (the client checks by itself) and ends, so
the next ``reviewbot server start`` runs the new code. It ends after ``idle`` seconds with no
request and no worker, on ``reviewbot server stop`` and on SIGTERM or SIGINT.
"""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import select
import signal
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

from reviewbot.server import (
    CHECK,
    EXIT,
    HEADER,
    INFO,
    REFUSED,
    STATUS,
    STOP,
    WORKER,
    frame,
    key_material,
    recv_exactly,
    unpack_fields,
    unpack_header,
)
from reviewbot.server.client import LIMITS
from reviewbot.util.quick_exit import wind_up

REQUEST_SECONDS = 5.0  # a client that has not sent its whole request by then is dropped

# A new device file: it takes the check through mail parsing, C facts, the QOM graph, the
# language rules (ast-grep) and the text report, so that their modules and rule packs are
# loaded before the first worker is forked.
_WARM_PATCH = """\
From: Warm Up <warm@example.invalid>
Subject: [PATCH] hw/misc: warm-up device

Signed-off-by: Warm Up <warm@example.invalid>
---
diff --git a/hw/misc/warm-up.c b/hw/misc/warm-up.c
new file mode 100644
--- /dev/null
+++ b/hw/misc/warm-up.c
@@ -0,0 +1,27 @@
+#include "qemu/osdep.h"
+#include "hw/qdev-core.h"
+#include "qapi/error.h"
+
+static void warm_realize(DeviceState *dev, Error **errp)
+{
+    if (!dev) {
+        error_setg(errp, "no device");
+    }
+}
+
+static void warm_class_init(ObjectClass *klass, void *data)
+{
+    DeviceClass *dc = DEVICE_CLASS(klass);
+
+    dc->realize = warm_realize;
+}
+
+static const TypeInfo warm_types[] = {
+    {
+        .name = "warm-up",
+        .parent = TYPE_DEVICE,
+        .class_init = warm_class_init,
+    },
+};
+
+DEFINE_TYPES(warm_types)
"""
# Imported by a check of a tree or a git range, which the warm-up check does not reach.
_TREE_MODULES = ("reviewbot.c.index", "reviewbot.c.graphdb", "reviewbot.c.partial",
                 "reviewbot.c.store", "reviewbot.patch.tree", "reviewbot.qemu.maintainers",
                 "reviewbot.ingest.git", "sqlite3", "subprocess")


def code_paths() -> list[str]:
    """Every module this process loaded outside the standard library, every module of the
    package (an edited module not imported yet counts too) and the package's directories (a
    module added or removed changes its directory's mtime; not ``__pycache__``, which a
    worker's import may write to)."""
    stdlib = str(Path(os.__file__).parent) + os.sep
    paths = {f for f in (getattr(m, "__file__", None) for m in list(sys.modules.values()))
             if isinstance(f, str) and not f.startswith(stdlib)}
    package = Path(__file__).resolve().parents[1]
    paths.add(str(package))
    paths.update(str(p) for p in package.rglob("*") if "__pycache__" not in p.parts
                 and (p.suffix == ".py" or p.is_dir()))
    return sorted(paths)


def code_stats(paths: list[str]) -> list[tuple[int, int] | None]:
    """Size and mtime of each of ``paths`` (None: gone); 0.2 ms for what a server loaded."""
    stats: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            st = os.stat(path)  # noqa: PTH116 - before every check the server answers
        except OSError:
            stats.append(None)
        else:
            stats.append((st.st_size, st.st_mtime_ns))
    return stats


def warm() -> None:
    """Load what a check loads, by running one, its output thrown away."""
    import importlib

    from reviewbot.cli import main
    from reviewbot.rules import cache

    with tempfile.TemporaryDirectory(prefix="reviewbot-warm-") as scratch:
        patch = Path(scratch) / "warm-up.patch"
        patch.write_text(_WARM_PATCH, encoding="utf-8")
        with Path(os.devnull).open("w", encoding="utf-8") as sink, \
                contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            main(["check", str(patch)])
    for name in _TREE_MODULES:
        importlib.import_module(name)
    cache.open_cache().save()  # written now, not by every worker at its exit


MAX_MAINTAINERS = 16 * 1024 * 1024


def tree_of(words: list[str], cwd: str) -> Path | None:
    """The tree a check of ``words`` run in ``cwd`` most likely reads: its ``--tree``, else
    the git work tree around ``-C DIR`` or ``cwd``. A guess: what is warmed for it is found
    by its content, so a wrong guess costs only the warming."""
    base = Path(cwd)
    for i, word in enumerate(words):
        if word == "--tree" and i + 1 < len(words):
            return base / words[i + 1]
        if word.startswith("--tree="):
            return base / word.removeprefix("--tree=")
        if word == "-C" and i + 1 < len(words):
            base = base / words[i + 1]
    for directory in (base, *base.parents):
        if (directory / ".git").exists():
            return directory
    return None


def warm_tree(root: Path) -> bool:
    """Parse and file ``root``'s MAINTAINERS in this process (by its text: a worker whose
    tree has the same text takes it, any other parses its own); False when there is none."""
    from reviewbot.qemu.maintainers import parse_maintainers_cached

    try:
        with (root / "MAINTAINERS").open("rb") as fh:
            data = fh.read(MAX_MAINTAINERS + 1)
    except OSError:
        return False
    if len(data) > MAX_MAINTAINERS:
        return False
    maintainers = parse_maintainers_cached(data.decode("utf-8", "surrogateescape"))
    _ = maintainers._candidates  # the sections filed by directory, built once here
    return True


class Request:
    """A check request's fields read back (the layout: ``reviewbot.server``; written by
    ``client.request``)."""

    def __init__(self, fields: list[bytes]) -> None:
        text = [os.fsdecode(f) for f in fields]
        count = int(text[11])
        if count < 0 or len(text) < 12 + count:
            raise ValueError("fewer arguments than it says")
        self.material = fields[0]
        self.cwd, self.umask, self.limits = text[1], int(text[2]), text[3]
        self.encodings = [(text[i], text[i + 1]) for i in (4, 6, 8)]
        self.argv0 = text[10]
        self.words = text[12:12 + count]
        self.env = dict(item.split("=", 1) for item in text[12 + count:] if "=" in item)

    @classmethod
    def parse(cls, fields: list[bytes]) -> Request | None:
        """The request of ``fields``; None when they are not one."""
        try:
            return cls(fields) if len(fields) >= 12 else None
        except ValueError:
            return None


class Server:
    """One check server, listening at ``path`` until ``idle`` seconds pass with nothing to do;
    its log is its standard error."""

    def __init__(self, path: str, idle: float) -> None:
        self.path = path
        self.idle = idle
        self.log = sys.stderr
        self.material = key_material(os.environ).encode("utf-8", "surrogateescape")
        self.code_paths: list[str] = []
        self.code: list[tuple[int, int] | None] = []
        self.workers: set[int] = set()
        self.served = 0
        self.started = time.time()
        self.stopping = False
        self.listener: socket.socket | None = None
        self.lock_fd: int | None = None

    # ------------------------------------------------------------------ life

    def serve(self) -> int:
        """Take the lock, warm up, listen, answer until told to stop or idle; 0 at a clean end.
        InputError when another server already holds this configuration's lock."""
        if not self._lock():
            from reviewbot.errors import InputError

            raise InputError("a check server already runs for this configuration "
                             "(reviewbot server status)")
        try:
            warm()
            self.code_paths = code_paths()
            self.code = code_stats(self.code_paths)
            gc.freeze()  # what the warm-up made is never collected, nor copied by a worker's gc
            self.listener = self._listen()
            os.chdir("/")  # a worker takes its client's; the server holds no directory busy
            self._say(f"listening on {self.path} (pid {os.getpid()})")
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self._stop_signal)
            self._loop()
        finally:
            self._close()
        return 0

    def _lock(self) -> bool:
        import fcntl

        directory = Path(self.path).parent
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            directory.chmod(0o700)
            fd = os.open(Path(self.path).with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            from reviewbot.errors import InputError

            raise InputError(f"cannot use {directory} for a check server: "
                             f"{exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.lock_fd = fd
        return True

    def _listen(self) -> socket.socket:
        # a socket left by a server that did not end cleanly (the lock says none runs)
        Path(self.path).unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(self.path)
        except OSError as exc:
            listener.close()
            from reviewbot.errors import InputError

            raise InputError(f"cannot listen on {self.path}: {exc.strerror or exc}") from exc
        finally:
            os.umask(old)
        listener.listen(64)
        return listener

    def _close(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):
                Path(self.path).unlink()
            self.listener.close()
            self.listener = None
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None
        self._say(f"stopped after {self.served} checks")

    def _stop_signal(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def _say(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} reviewbot server: {text}\n")
            self.log.flush()

    def _loop(self) -> None:
        assert self.listener is not None
        poller = select.poll()
        poller.register(self.listener, select.POLLIN)
        last = time.monotonic()
        while not self.stopping:
            self._reap()
            if self.workers:
                last = time.monotonic()
            left = self.idle - (time.monotonic() - last)
            if left <= 0:
                self._say(f"idle for {self.idle:.0f} s")
                return
            if not poller.poll(min(left, 1.0) * 1000):
                continue
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            last = time.monotonic()
            with conn:
                try:
                    self._answer(conn)
                except (OSError, ValueError, EOFError) as exc:  # EOFError: cut short
                    self._say(f"dropped a request: {exc}")

    def _reap(self) -> None:
        for pid in list(self.workers):
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
            self.workers.discard(pid)

    # ------------------------------------------------------------------ requests

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(REQUEST_SECONDS)
        if hasattr(socket, "SO_PEERCRED"):
            _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(
                socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
            if uid != os.getuid():
                raise ValueError(f"a client of uid {uid}")
        kind, fields, fds = self._receive(conn)
        try:
            if kind == STATUS:
                conn.sendall(frame(INFO, self.describe()))
            elif kind == STOP:
                self.stopping = True
                conn.sendall(frame(INFO, f"stopping (pid {os.getpid()})"))
            elif kind == CHECK:
                request = Request.parse(fields)
                why = self._refusal(request, fds)
                if why is not None or request is None:
                    conn.sendall(frame(REFUSED, why or ""))
                    return
                self._fork(conn, request, fds)
        finally:
            for fd in fds:
                os.close(fd)

    def _receive(self, conn: socket.socket) -> tuple[bytes, list[bytes], list[int]]:
        fds: list[int] = []
        int_size = struct.calcsize("i")
        data, ancillary, _flags, _addr = conn.recvmsg(HEADER, socket.CMSG_SPACE(3 * int_size))
        for level, what, payload in ancillary:
            if level == socket.SOL_SOCKET and what == socket.SCM_RIGHTS:
                usable = len(payload) - len(payload) % int_size
                fds.extend(struct.unpack(f"{usable // int_size}i", payload[:usable]))
        try:
            kind, length = unpack_header(data + recv_exactly(conn, HEADER - len(data)))
            return kind, unpack_fields(recv_exactly(conn, length)), fds
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise

    def _refusal(self, request: Request | None, fds: list[int]) -> str | None:
        if len(fds) != 3 or request is None:
            return "a check request without its three standard streams and fields"
        if request.material != self.material:
            return "this server was started in another configuration"
        if code_stats(self.code_paths) != self.code:
            self.stopping = True
            return "reviewbot changed since this server started; it stops"
        return None

    def _fork(self, conn: socket.socket, request: Request, fds: list[int]) -> None:
        pid = os.fork()
        if pid:
            self.workers.add(pid)
            self.served += 1
            self._warm_after(request)
            return
        status = 3
        try:
            status = self._work(conn, request, fds)
        except KeyboardInterrupt:  # an interrupt forwarded before or after main's own handling
            status = 130
        finally:
            with contextlib.suppress(OSError):
                conn.sendall(frame(EXIT, str(status)))
            os._exit(status)

    def _warm_after(self, request: Request) -> None:
        """While the worker runs: warm what the next check of its tree can take from here."""
        try:
            root = tree_of(request.words, request.cwd)
            if root is not None and warm_tree(root):
                gc.freeze()
        except Exception as exc:  # never the server's end: the check itself is unaffected
            self._say(f"warming for a tree failed: {type(exc).__name__}: {exc}")

    def describe(self) -> str:
        from reviewbot import __version__

        self._reap()
        return (f"pid {os.getpid()}, reviewbot {__version__} from "
                f"{Path(__file__).resolve().parents[1]}, up {time.time() - self.started:.0f} s, "
                f"{self.served} checks served, {len(self.workers)} running, ends after "
                f"{self.idle:.0f} s idle; socket {self.path}")

    # ------------------------------------------------------------------ the worker

    def _work(self, conn: socket.socket, request: Request, fds: list[int]) -> int:
        """In the forked worker: become the client's check and run it."""
        conn.settimeout(None)  # the check may take minutes; the client waits for its status
        for signum in (signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if self.listener is not None:
            self.listener.close()
        if self.lock_fd is not None:
            os.close(self.lock_fd)
        for target, fd in enumerate(fds):
            if fd != target:
                os.dup2(fd, target)
                os.close(fd)
        fds.clear()
        _take_limits(request.limits)
        os.chdir(request.cwd)
        os.umask(request.umask)
        os.environ.clear()
        os.environ.update(request.env)
        time.tzset()
        tempfile.tempdir = None
        _rebuild_streams(request.encodings)
        sys.argv = [request.argv0, *request.words]
        conn.sendall(frame(WORKER, str(os.getpid())))
        from reviewbot.cli import main

        try:
            status = main(request.words)
        except SystemExit as exc:
            status = _exit_status(exc)
        wind_up()
        return status


def _take_limits(given: str) -> None:
    """Take the client's soft resource limits (``NAME=soft`` items; a limit the server's hard
    limit is below stays the server's, which only privilege could raise)."""
    for item in given.split(","):
        name, _, soft = item.partition("=")
        if name not in LIMITS or not soft.lstrip("-").isdigit():
            continue
        which = getattr(resource, name)
        _, hard = resource.getrlimit(which)
        wanted = int(soft)
        if hard == resource.RLIM_INFINITY or (wanted != resource.RLIM_INFINITY and wanted <= hard):
            with contextlib.suppress(ValueError, OSError):
                resource.setrlimit(which, (wanted, hard))


def _rebuild_streams(encodings: list[tuple[str, str]]) -> None:
    (in_enc, in_err), (out_enc, out_err), (err_enc, err_err) = encodings
    sys.stdin = open(0, encoding=in_enc, errors=in_err, closefd=False)  # noqa: SIM115
    out_tty = os.isatty(1)
    sys.stdout = open(1, "w", encoding=out_enc, errors=out_err, closefd=False,  # noqa: SIM115
                      buffering=-1)
    sys.stdout.reconfigure(line_buffering=out_tty)
    sys.stderr = open(2, "w", encoding=err_enc, errors=err_err, closefd=False,  # noqa: SIM115
                      buffering=-1)
    sys.stderr.reconfigure(line_buffering=True)
    # sys.__stdout__ and the others stay the server's objects, on descriptors 0, 1 and 2, which
    # are now the client's (cli._columns asks the terminal of sys.__stdout__.fileno())


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    sys.stderr.write(f"{exc.code}\n")
    return 1
