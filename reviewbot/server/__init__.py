"""The check server: ``reviewbot check`` answered by a process that has reviewbot imported.

A check of a median patch mail spends more time starting Python and importing reviewbot, its
rule packs, tree-sitter and ast-grep than checking. ``reviewbot server start`` leaves a process
that has done all that once (``daemon.py``); a ``reviewbot check`` typed later hands it its
command line, working directory, environment and its three standard streams, and the server
forks a worker that runs the check as that process would have, writing to those streams
(``client.py``). Without a server, or when it refuses, the check runs in its own process as
always: the server is a cache of a started interpreter, never a different answer.

One server per installation and configuration: the socket's name is a digest of what the
forked worker cannot change afterwards (the interpreter, where reviewbot was imported from,
the cache directory, the ``REVIEWBOT_*`` and ``PYTHON*`` variables and the locale), and the
server compares the whole of it on every request. It lives in ``<cache>/server/``, a directory
only its owner can enter; the server also asks the kernel who connected (SO_PEERCRED).

The protocol, one request per connection on a Unix stream socket:

* request: ``MAGIC``, one kind byte (``C`` check, ``S`` status, ``T`` stop), a 4-byte length,
  then that many bytes of fields, each a 4-byte length and the bytes. A check's fields are
  the key material, the working directory, the umask, the encodings and error handlers of
  stdin, stdout and stderr, argv[0], the number of arguments and the arguments, then the
  environment as ``NAME=value`` fields. The three standard streams travel as SCM_RIGHTS with
  the first byte.
* replies: frames of one tag byte, a 4-byte length and the bytes: ``X`` refused (the reason;
  the client checks by itself), ``P`` the worker's pid, ``S`` the exit status, ``I`` text
  for a status or stop request.

This module is imported by every ``reviewbot check`` a shell runs: it imports nothing that
Python has not already loaded at start-up besides ``struct`` and ``binascii``.
"""

from __future__ import annotations

import os
import struct
import sys
from binascii import crc32

TYPE_CHECKING = False  # typing itself costs 9 ms of a served check's start
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

MAGIC = b"RBS1"
CHECK, STATUS, STOP = b"C", b"S", b"T"
REFUSED, WORKER, EXIT, INFO = b"X", b"P", b"S", b"I"
_LENGTH = struct.Struct("!I")
HEADER = len(MAGIC) + 1 + _LENGTH.size
MAX_REQUEST = 4 * 1024 * 1024  # a command line and an environment; anything larger is refused
# What a Unix socket's path may hold (sun_path: 108 bytes on Linux, 104 on the BSDs and macOS).
MAX_SOCKET_PATH = 100
# The locale variables Python reads at start-up to choose its encodings.
_LOCALE = ("LANG", "LC_ALL", "LC_CTYPE")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cache_dir(environ: Mapping[str, str]) -> str:
    """reviewbot.util.cachedir.default_cache_dir for ``environ``, without pathlib."""
    given = environ.get("REVIEWBOT_CACHE_DIR")
    if given:
        return given
    xdg = environ.get("XDG_CACHE_HOME")
    home = environ.get("HOME") or os.path.expanduser("~")
    return os.path.join(xdg if xdg else os.path.join(home, ".cache"), "reviewbot")


def key_material(environ: Mapping[str, str]) -> str:
    """What a server must share with a check it answers, as one string."""
    from reviewbot import __version__

    settings = sorted(f"{name}={value}" for name, value in environ.items()
                      if (name.startswith(("REVIEWBOT_", "PYTHON")) or name in _LOCALE)
                      and name not in ("REVIEWBOT_SERVER", "REVIEWBOT_DEBUG"))
    return "\0".join([__version__, sys.version, sys.executable, _PACKAGE,
                      repr(tuple(sys.flags)), cache_dir(environ), *settings])


def socket_path(environ: Mapping[str, str], material: str | None = None) -> str | None:
    """Where the server for ``environ`` (whose ``key_material`` is ``material``, when the
    caller has it already) listens; None when there can be none (a relative cache
    directory, whose meaning changes with the working directory, or a path too long for a
    socket)."""
    base = cache_dir(environ)
    if not os.path.isabs(base):
        return None
    if material is None:
        material = key_material(environ)
    digest = crc32(material.encode("utf-8", "surrogateescape"))
    path = os.path.join(base, "server", f"{digest:08x}.sock")
    return path if len(os.fsencode(path)) <= MAX_SOCKET_PATH else None


def pack(kind: bytes, fields: Sequence[str | bytes]) -> bytes:
    """A request of ``kind`` with ``fields`` (str fields encoded as the file system does)."""
    body = b"".join(_LENGTH.pack(len(raw)) + raw
                    for raw in (f if isinstance(f, bytes) else os.fsencode(f) for f in fields))
    return MAGIC + kind + _LENGTH.pack(len(body)) + body


def unpack_header(header: bytes) -> tuple[bytes, int]:
    """The kind and body length of a request's first ``HEADER`` bytes; ValueError when they
    are not a request of this protocol."""
    if len(header) != HEADER or header[:len(MAGIC)] != MAGIC:
        raise ValueError("not a reviewbot check server request")
    kind = header[len(MAGIC):len(MAGIC) + 1]
    (length,) = _LENGTH.unpack_from(header, len(MAGIC) + 1)
    if kind not in (CHECK, STATUS, STOP) or length > MAX_REQUEST:
        raise ValueError("not a reviewbot check server request")
    return kind, length


def unpack_fields(body: bytes) -> list[bytes]:
    """The fields of a request body; ValueError when it does not divide into them."""
    fields = []
    at = 0
    while at < len(body):
        if at + _LENGTH.size > len(body):
            raise ValueError("a truncated field")
        (size,) = _LENGTH.unpack_from(body, at)
        at += _LENGTH.size
        if at + size > len(body):
            raise ValueError("a truncated field")
        fields.append(body[at:at + size])
        at += size
    return fields


def frame(tag: bytes, text: str) -> bytes:
    raw = text.encode("utf-8", "surrogateescape")
    return tag + _LENGTH.pack(len(raw)) + raw


def frame_header(header: bytes) -> tuple[bytes, int]:
    """The tag and length of a reply frame's first five bytes."""
    (length,) = _LENGTH.unpack_from(header, 1)
    return header[:1], length


def recv_exactly(conn: Any, size: int) -> bytes:
    """``size`` bytes from socket ``conn``; EOFError when it closes before."""
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError("the other side closed the connection")
        data += chunk
    return data


def read_frame(conn: Any) -> tuple[bytes, str]:
    """The tag and text of the next reply frame on ``conn``; EOFError when there is none."""
    tag, length = frame_header(recv_exactly(conn, 5))
    return tag, recv_exactly(conn, length).decode("utf-8", "surrogateescape")
