"""Fetch a thread from a public-inbox server (lore.kernel.org and the like) as an mbox.

``<base>/<message-id>/t.mbox.gz`` is public-inbox's whole-thread download. What comes back is
untrusted: the download is capped, the gzip stream is inflated with a cap of its own (a small
file can inflate to gigabytes), the connection has a timeout, and only the host of the base
URL is contacted (a redirect elsewhere is refused). Threads are cached under the XDG cache
directory, keyed by URL.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from reviewbot import __version__
from reviewbot.errors import InputError, UsageError

if TYPE_CHECKING:
    # http.client and urllib.request cost ~20 ms to import; only a fetch needs them
    import urllib.request
    from http.client import HTTPMessage

DEFAULT_BASE = "https://lore.kernel.org/qemu-devel"
BASE_ENV = "REVIEWBOT_LORE_BASE"
MiB = 1024 * 1024
MAX_DOWNLOAD = 32 * MiB  # the compressed thread; large qemu-devel threads are a few MB
MAX_INFLATED = 256 * MiB
TIMEOUT = 30.0
_CHUNK = 64 * 1024
# public-inbox leaves these unescaped in message-id URLs; everything else is %-encoded
_MSGID_SAFE = "-._~!$&'()*+,;=:@"


@dataclass(frozen=True)
class Limits:
    max_download: int = MAX_DOWNLOAD
    max_inflated: int = MAX_INFLATED
    timeout: float = TIMEOUT


def normalize_msgid(text: str) -> str:
    """``<id@host>``, ``id:id@host``, ``mid:...`` or a thread URL -> ``id@host``."""
    msgid = text.strip()
    if msgid.startswith(("http://", "https://")):
        parts = [p for p in urllib.parse.urlsplit(msgid).path.split("/") if p]
        found = [urllib.parse.unquote(p) for p in parts if "@" in urllib.parse.unquote(p)]
        msgid = found[-1] if found else ""
    for prefix in ("id:", "mid:"):
        if msgid.lower().startswith(prefix):
            msgid = msgid[len(prefix):]
    msgid = msgid.strip().strip("<>").strip()
    # A message-id always has an "@" (RFC 5322 msg-id), which also keeps "." and ".." - path
    # segments a server would resolve - from ever being the id.
    if ("@" not in msgid or any(c.isspace() for c in msgid) or "<" in msgid
            or ">" in msgid):
        raise UsageError(f"{text!r}: not a message-id (expected something like id@host)")
    return msgid


def thread_url(base: str, msgid: str) -> str:
    parts = urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{base}: the public-inbox base must be an http(s) URL")
    return f"{base.rstrip('/')}/{urllib.parse.quote(msgid, safe=_MSGID_SAFE)}/t.mbox.gz"


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "reviewbot" / "lore"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def _same_host_redirects(allowed: tuple[str, str, int | None],
                         ) -> urllib.request.HTTPRedirectHandler:
    import urllib.request

    class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(  # noqa: PLR0917 - urllib's signature
            self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
            headers: HTTPMessage, newurl: str,
        ) -> urllib.request.Request | None:
            target = urllib.parse.urljoin(req.full_url, newurl)
            if _origin(target) != allowed:
                raise InputError(f"{req.full_url}: redirected to {target}, which is not the "
                                 "configured server; refusing to follow")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return _SameHostRedirects()


def _download(url: str, limits: Limits) -> bytes:
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(_same_host_redirects(_origin(url)))
    request = urllib.request.Request(url, headers={
        "User-Agent": f"reviewbot/{__version__}", "Accept-Encoding": "identity"})
    try:
        with opener.open(request, timeout=limits.timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > limits.max_download:
                raise InputError(f"{url}: response is {int(length)} bytes, over the download "
                                 f"limit of {limits.max_download}")
            data = bytearray()
            while chunk := response.read(_CHUNK):
                data += chunk
                if len(data) > limits.max_download:
                    raise InputError(f"{url}: response is over the download limit of "
                                     f"{limits.max_download} bytes")
            return bytes(data)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise InputError(f"{url}: not found (HTTP 404): the server has no thread with "
                             "that message-id") from None
        raise InputError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise InputError(f"{url}: cannot fetch: {exc.reason}") from None
    except TimeoutError:
        raise InputError(f"{url}: no answer within {limits.timeout:g} s") from None
    except OSError as exc:
        raise InputError(f"{url}: cannot fetch: {exc}") from None


def inflate(data: bytes, origin: str, max_inflated: int) -> bytes:
    """Gunzip ``data`` (one or more members) without ever holding more than the cap."""
    import zlib

    out = bytearray()
    rest = data
    while rest:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while pending and not inflater.eof:
                out += inflater.decompress(pending, max_inflated + 1 - len(out))
                if len(out) > max_inflated:
                    raise InputError(f"{origin}: inflates to more than {max_inflated} bytes; "
                                     "refusing it")
                pending = inflater.unconsumed_tail
        except zlib.error as exc:
            raise InputError(f"{origin}: not a valid gzip stream ({exc})") from None
        if not inflater.eof:
            raise InputError(f"{origin}: truncated gzip stream (the download was cut short?)")
        rest = inflater.unused_data
    return bytes(out)


def _write_atomic(path: Path, data: bytes) -> None:
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch_thread(msgid: str, base: str = DEFAULT_BASE, *, limits: Limits | None = None,
                 cache: Path | None = None, refresh: bool = False,
                 log: Callable[[str], None] | None = None) -> Path:
    """The thread of ``msgid`` as an mbox file in the cache; downloaded when not cached."""
    import hashlib

    limits = limits or Limits()
    url = thread_url(base, normalize_msgid(msgid))
    target = (cache or cache_dir()) / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".mbox")
    if target.is_file() and not refresh:
        if log:
            log(f"using cached {url} ({target})")
        return target
    if log:
        log(f"fetching {url}")
    mbox = inflate(_download(url, limits), url, limits.max_inflated)
    if not mbox.strip():
        raise InputError(f"{url}: the server sent an empty thread")
    _write_atomic(target, mbox)
    return target
