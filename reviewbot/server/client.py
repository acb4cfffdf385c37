"""The client side of the check server: hand a ``reviewbot check`` to it, or say it cannot.

``check_through_server(words)`` returns the check's exit status when a server ran it, and None
when there is no server for this configuration or it refused (reviewbot changed since it
started, another configuration): the caller then checks in its own process. Once a worker has
started, the check is the worker's: the client forwards SIGINT, SIGTERM and SIGHUP to it,
stops it with itself on ^Z and returns its status; a worker that ends without one is an
internal error, never a second run (it may have written half a report already).
"""

from __future__ import annotations

import os
import struct
import sys
from _socket import AF_UNIX, SCM_RIGHTS, SOCK_STREAM, SOL_SOCKET, socket

from reviewbot.server import (
    CHECK,
    EXIT,
    INFO,
    REFUSED,
    WORKER,
    key_material,
    pack,
    read_frame,
    socket_path,
)

TYPE_CHECKING = False  # typing itself costs 9 ms of a served check's start
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

EXIT_INTERNAL = 3  # reviewbot.cli's, not imported here (it is what imports this module)
# The resource limits a worker takes from its client (lowering a soft limit needs no privilege).
LIMITS = ("RLIMIT_AS", "RLIMIT_DATA", "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_NOFILE",
          "RLIMIT_STACK")


def _stream_fields(stream: TextIO | None) -> list[str]:
    # The worker's Python made its own choice at its start; it rebuilds sys.stdin, stdout
    # and stderr with this process's (PYTHONIOENCODING, the locale, utf-8 mode).
    return [getattr(stream, "encoding", None) or "utf-8",
            getattr(stream, "errors", None) or "strict"]


def _limits() -> str:
    import resource

    return ",".join(f"{name}={resource.getrlimit(getattr(resource, name))[0]}"
                    for name in LIMITS if hasattr(resource, name))


def request(words: Sequence[str], material: str) -> bytes:
    """The check request for ``words`` from this process, whose key material is
    ``material`` (the layout: ``reviewbot.server``; the server reads it back in
    ``daemon.Request.parse``)."""
    umask = os.umask(0)
    os.umask(umask)
    env = [f"{name}={value}" for name, value in os.environ.items()]
    return pack(CHECK, [material, os.getcwd(), str(umask), _limits(),
                        *_stream_fields(sys.stdin), *_stream_fields(sys.stdout),
                        *_stream_fields(sys.stderr), sys.argv[0] if sys.argv else "reviewbot",
                        str(len(words)), *words, *env])


def ask(path: str, kind: bytes) -> str | None:
    """The answer of the server at ``path`` to a status or stop request (``STATUS``,
    ``STOP``); None when none answers there."""
    try:
        conn = socket(AF_UNIX, SOCK_STREAM)
        try:
            conn.settimeout(10)
            conn.connect(path)
            conn.sendall(pack(kind, []))
            tag, text = read_frame(conn)
        finally:
            conn.close()
    except (OSError, EOFError):
        return None
    return text if tag == INFO else None


class _Forward:
    """SIGINT, SIGTERM and SIGHUP of this process, for the worker: held until the server says
    which process that is, sent to it from then on. A terminal's stop (^Z) stops the worker
    and then this process, and SIGCONT continues both, as the shell's job control expects of
    one process. The handlers this process had come back when it is done."""

    def __init__(self) -> None:
        import _signal  # type: ignore[import-not-found]  # signal's enums cost 4 ms

        self.worker: int | None = None
        self.held: list[int] = []
        self._signal = _signal
        caught = [_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP]
        if hasattr(_signal, "SIGTSTP"):
            caught += [_signal.SIGTSTP, _signal.SIGCONT]
        self.previous = {signum: _signal.signal(signum, self) for signum in caught}

    def __call__(self, signum: int, _frame: object) -> None:
        if signum == getattr(self._signal, "SIGTSTP", None):
            self._stop()
        elif signum == getattr(self._signal, "SIGCONT", None):
            if self.worker is not None:
                self._send(signum)
        elif self.worker is None:
            self.held.append(signum)
        else:
            self._send(signum)

    def _stop(self) -> None:
        sig = self._signal
        if self.worker is not None:
            self._send(sig.SIGSTOP)
        sig.signal(sig.SIGTSTP, sig.SIG_DFL)
        os.kill(os.getpid(), sig.SIGTSTP)  # stops here until SIGCONT
        sig.signal(sig.SIGTSTP, self)

    def _send(self, signum: int) -> None:
        try:  # noqa: SIM105 - contextlib's import is 3 ms of a served check
            os.kill(self.worker, signum)  # type: ignore[arg-type]
        except OSError:  # the worker has ended
            pass

    def start(self, worker: int) -> None:
        self.worker = worker
        for signum in self.held:
            self._send(signum)

    def restore(self) -> int | None:
        """Put the handlers back; for a signal that came before any worker, what it means
        here: 130 for an interrupt, the default action for the others."""
        for signum, handler in self.previous.items():
            self._signal.signal(signum, handler)
        if self.worker is None and self.held:
            if self.held[0] == self._signal.SIGINT:
                return 130
            os.kill(os.getpid(), self.held[0])
        return None


def start_in_background(path: str) -> None:
    """``reviewbot server run`` in a session of its own, for the checks after this one
    (REVIEWBOT_SERVER=auto); this check does not wait for it. A second one started at the
    same time finds the first one's lock and ends."""
    log = path[:-len(".sock")] + ".log"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        os.posix_spawn(sys.executable, [sys.executable, "-m", "reviewbot", "server", "run"],
                       dict(os.environ), setsid=True, file_actions=[
                           (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                           (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                           (os.POSIX_SPAWN_OPEN, 2, log,
                            os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)])
    except (OSError, AttributeError, NotImplementedError):  # no posix_spawn here
        pass


def check_through_server(words: Sequence[str]) -> int | None:
    """The exit status of ``reviewbot check`` ``words`` run by a check server, or None."""
    material = key_material(os.environ)
    path = socket_path(os.environ, material)
    if path is None:
        return None
    conn = socket(AF_UNIX, SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        # no socket, or one left by a server that was killed: nobody listens there
        conn.close()
        if os.environ.get("REVIEWBOT_SERVER") == "auto":
            start_in_background(path)
        return None
    try:
        message = request(words, material)
    except OSError:  # the working directory is gone: let the check itself say so
        conn.close()
        return None
    forward = _Forward()
    worker = None
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        standard = struct.pack("3i", 0, 1, 2)  # C ints, as SCM_RIGHTS carries descriptors
        sent = conn.sendmsg([message[:1]], [(SOL_SOCKET, SCM_RIGHTS, standard)])
        conn.sendall(message[sent:])
        while True:
            tag, text = read_frame(conn)
            if tag == REFUSED and worker is None:
                if os.environ.get("REVIEWBOT_DEBUG"):
                    sys.stderr.write(f"reviewbot: check server: {text}\n")
                break
            if tag == WORKER and worker is None:
                worker = int(text)
                forward.start(worker)
            elif tag == EXIT and worker is not None:
                return int(text)
            else:
                raise EOFError
    except (OSError, EOFError, ValueError):
        if worker is not None:
            sys.stderr.write("reviewbot: internal error: the check server's worker ended "
                             "without an exit status (REVIEWBOT_SERVER=0 checks without the "
                             "server)\n")
            return EXIT_INTERNAL
    finally:
        conn.close()
        interrupted = forward.restore()
    return interrupted  # None: nothing ran, the check runs here
