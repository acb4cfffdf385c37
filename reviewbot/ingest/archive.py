"""public-inbox v2 archives: git epochs in, threads of messages out.

A public-inbox v2 inbox (what lore serves and mirrors) is a directory ``git/0.git``,
``git/1.git``, ... of bare repositories, the *epochs*; each commit adds one message as the
blob ``m`` at the top of its tree (a deletion commits ``d`` instead). ARCHIVE may be such an
inbox, a directory of ``N.git`` epochs, or one epoch repository.

Reading goes through git itself: ``git log`` lists the commits with their author dates (the
messages' dates), and one ``git cat-file --batch`` process per epoch hands back each
``COMMIT:m`` blob, whose object id is checked against its bytes (git streams a loose object
without checking it). A bad epoch (not a git repository, no ``m`` anywhere) or a bad blob
(missing, corrupt) is one line in ``Scan.problems`` and the rest is still read.

Messages are grouped into threads by Message-ID, In-Reply-To and References (every message a
thread links to, directly or through others), kept in SQLite: in memory for a one-off run, in
the cache directory with ``incremental=True``, where each epoch's last commit read is kept
too, so that the next run reads only the commits added since and hands back just the threads
those touched, whole (their older messages by blob id). Each thread is then put together by
``reviewbot.ingest.series.assemble``, as an mbox of that thread would be.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reviewbot.errors import InputError

_EPOCH_NAME = re.compile(r"^(\d+)\.git$")
_MSGID = re.compile(rb"<([^<>\s]+)>")
STATE_VERSION = 1


@dataclass(frozen=True)
class Epoch:
    """One epoch repository: its git directory and the name shown for it."""

    path: str  # absolute git directory
    name: str  # "git/0.git", or the directory's own name for a single epoch


@dataclass(frozen=True)
class Message:
    """What the scan keeps of one message: where its blob is, and its thread links."""

    epoch: str  # git directory
    oid: str  # blob id of ``m``
    message_id: str
    links: tuple[str, ...]  # In-Reply-To and References ids
    date: int  # author time (the message's date), seconds since the epoch


@dataclass(frozen=True)
class Thread:
    """A thread to hand to a worker: its root id and its messages' blobs in archive order."""

    root: str
    blobs: tuple[tuple[str, str], ...]  # (epoch git directory, blob id)


@dataclass
class Scan:
    """The result of reading an archive."""

    threads: list[Thread]
    messages: int = 0  # messages read in this run
    epochs: int = 0
    problems: list[str] = field(default_factory=list)  # one line each
    seconds: float = 0.0


# --- finding the epochs ----------------------------------------------------------------------

def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def _epoch_dirs(path: Path) -> list[Path]:
    found = [p for p in path.iterdir() if _EPOCH_NAME.match(p.name) and p.is_dir()]
    return sorted(found, key=lambda p: int(p.name.split(".", 1)[0]))


def is_archive(path: Path) -> bool:
    """An epoch repository, an inbox with ``git/N.git``, or a directory of ``N.git``."""
    if not path.is_dir():
        return False
    if _is_git_dir(path) and not (path / "git").is_dir():
        return path.name.endswith(".git") or _has_m(path)
    return bool((path / "git").is_dir() and _epoch_dirs(path / "git")) or bool(
        _epoch_dirs(path))


def _has_m(git_dir: Path) -> bool:
    done = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "-e", "HEAD:m"],
                          capture_output=True, check=False)
    return done.returncode == 0


def find_epochs(source: str) -> list[Epoch]:
    """The epochs of ARCHIVE in order. InputError when it is none of the three shapes."""
    path = Path(source)
    if not path.exists():
        raise InputError(f"{source}: no such file or directory")
    if not path.is_dir():
        raise InputError(f"{source}: not a public-inbox archive (a directory of git/N.git "
                         "epochs, or one epoch repository)")
    if (path / "git").is_dir() and _epoch_dirs(path / "git"):
        return [Epoch(str(p.resolve()), f"git/{p.name}") for p in _epoch_dirs(path / "git")]
    if _epoch_dirs(path):
        return [Epoch(str(p.resolve()), p.name) for p in _epoch_dirs(path)]
    if _is_git_dir(path):
        return [Epoch(str(path.resolve()), path.name)]
    raise InputError(f"{source}: not a public-inbox archive (no git/N.git epochs in it, and "
                     "not a git repository)")


# --- reading blobs ---------------------------------------------------------------------------

class BlobError(Exception):
    """One object could not be read: missing or corrupt (the message says which)."""


class BlobReader:
    """``git cat-file --batch`` on one repository, started again after git gives up on a
    corrupt object. Every blob read is checked against its id."""

    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(
                ["git", "--git-dir", self.git_dir, "cat-file", "--batch"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return self._proc

    def read(self, spec: str) -> tuple[str, bytes]:
        """``(blob id, bytes)`` of ``spec`` (a blob id or ``COMMIT:m``)."""
        self._request(spec)
        return self._answer(spec)

    def read_object(self, spec: str) -> tuple[str, str, bytes]:
        """``(object id, type, bytes)`` of any object, unchecked; BlobError when git cannot
        hand it out (the message says "missing" when git says so)."""
        self._request(spec)
        return self._object(spec)

    def _request(self, spec: str) -> None:
        proc = self._start()
        assert proc.stdin is not None
        try:
            proc.stdin.write(spec.encode("ascii") + b"\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._restart()
            raise BlobError(f"{spec}: git could not read the object") from None

    def _answer(self, spec: str) -> tuple[str, bytes]:
        oid, kind, data = self._object(spec)
        if kind != "blob":
            raise BlobError(f"{spec}: a {kind}, not a message blob")
        if _blob_id(data, len(oid)) != oid:
            raise BlobError(f"{spec}: corrupt object {oid} (its content does not match its id)")
        return oid, data

    def _object(self, spec: str) -> tuple[str, str, bytes]:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        try:
            header = proc.stdout.readline()
        except OSError:
            header = b""
        if not header:
            self._restart()
            raise BlobError(f"{spec}: git could not read the object")
        parts = header.split()
        if len(parts) == 2 and parts[1] == b"missing":
            raise BlobError(f"{spec}: missing")
        if len(parts) != 3:
            self._restart()
            raise BlobError(f"{spec}: unexpected answer from git cat-file: {header[:80]!r}")
        oid, kind, size = parts[0].decode("ascii"), parts[1].decode("ascii"), int(parts[2])
        data = proc.stdout.read(size + 1)
        if len(data) != size + 1:
            self._restart()
            raise BlobError(f"{spec}: corrupt object {oid} (git stopped reading it)")
        return oid, kind, data[:size]

    def read_many(self, specs: Sequence[str]
                  ) -> Iterator[tuple[str, tuple[str, bytes] | BlobError]]:
        """Each spec with its ``(blob id, bytes)`` or its BlobError, in order. Requests are
        written by a second thread while answers are read, which saves a round trip per
        message; when git gives up on a corrupt object, the rest goes to a new process."""
        import threading

        rest = list(specs)
        while rest:
            self.close()
            proc = self._start()
            assert proc.stdin is not None
            stdin = proc.stdin

            def feed(todo: list[str] = rest, pipe: Any = stdin) -> None:
                try:
                    for spec in todo:
                        pipe.write(spec.encode("ascii") + b"\n")
                    pipe.flush()
                except (BrokenPipeError, OSError, ValueError):
                    pass  # git stopped; the reader sees it and starts again

            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            done = 0
            for spec in rest:
                try:
                    yield spec, self._answer(spec)
                except BlobError as exc:
                    yield spec, exc
                done += 1
                if self._proc is None:  # git died on this object: the others, anew
                    break
            writer.join()
            rest = rest[done:]
        self.close()

    def tree_entries(self, commit: str) -> dict[str, str]:
        """Names -> object ids at the top of ``commit``'s tree (empty when unreadable)."""
        try:
            _, kind, data = self.read_object(f"{commit}^{{tree}}")
        except BlobError:
            return {}
        entries: dict[str, str] = {}
        pos = 0
        width = 32 if len(commit) == 64 else 20
        while pos < len(data) and kind == "tree":
            nul = data.find(b"\0", pos)
            if nul < 0:
                break
            name = data[pos:nul].split(b" ", 1)[-1].decode("utf-8", "replace")
            entries[name] = data[nul + 1:nul + 1 + width].hex()
            pos = nul + 1 + width
        return entries

    def _restart(self) -> None:
        self.close()

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        if proc.stdout is not None:
            proc.stdout.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _blob_id(data: bytes, hex_length: int) -> str:
    algo = hashlib.sha256 if hex_length == 64 else hashlib.sha1
    digest = algo(b"blob %d\0" % len(data))
    digest.update(data)
    return digest.hexdigest()


class Readers:
    """One BlobReader per epoch, started when first asked for; close() ends them."""

    def __init__(self) -> None:
        self._by_dir: dict[str, BlobReader] = {}

    def reader(self, git_dir: str) -> BlobReader:
        reader = self._by_dir.get(git_dir)
        if reader is None:
            reader = self._by_dir[git_dir] = BlobReader(git_dir)
        return reader

    def read(self, git_dir: str, spec: str) -> tuple[str, bytes]:
        return self.reader(git_dir).read(spec)

    def close(self) -> None:
        for reader in self._by_dir.values():
            reader.close()
        self._by_dir.clear()

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def raw_mails(thread: Thread, readers: Readers) -> tuple[list[object], list[str]]:
    """The thread's messages as ``reviewbot.ingest.mail.RawMail``, and the blobs that could
    not be read (one line each)."""
    from reviewbot.ingest.mail import RawMail

    raws: list[object] = []
    problems: list[str] = []
    for git_dir, oid in thread.blobs:
        origin = f"{Path(git_dir).name}:{oid[:12]}"
        try:
            _, data = readers.read(git_dir, oid)
        except BlobError as exc:
            problems.append(f"{Path(git_dir).name}: {exc}")
            continue
        raws.append(RawMail(origin=origin, data=data))
    return raws, problems


# --- headers the grouping needs --------------------------------------------------------------

def thread_headers(data: bytes) -> tuple[str | None, tuple[str, ...], str | None]:
    """Message-ID, the ids it links to (In-Reply-To, then References nearest first) and the
    List-Id, from the header block alone. Plain byte searches on the lower-cased header
    block: a regular expression over every header line costs twice as much (bench/)."""
    ends = [i for i in (data.find(b"\n\n"), data.find(b"\r\n\r\n")) if i >= 0]
    low = b"\n" + (data[:min(ends)] if ends else data).lower()

    def values(name: bytes, first: bool) -> list[bytes]:
        out: list[bytes] = []
        key = b"\n" + name + b":"
        pos = low.find(key)
        while pos >= 0:
            start = pos + len(key)
            end = low.find(b"\n", start)
            while end >= 0 and low[end + 1:end + 2] in (b" ", b"\t"):
                end = low.find(b"\n", end + 1)
            out.append(data[start - 1:(end if end >= 0 else len(low)) - 1])
            if first:
                break
            pos = low.find(key, start)
        return out

    def ids(name: bytes, first: bool = False) -> list[str]:
        return [x.decode("utf-8", "replace") for v in values(name, first)
                for x in _MSGID.findall(v)]

    found = ids(b"message-id", True)
    lists = ids(b"list-id", True)
    links = ids(b"in-reply-to") + ids(b"references")[::-1]
    return (found[0] if found else None, tuple(dict.fromkeys(links)),
            lists[0] if lists else None)


# --- the state: messages, threads and each epoch's last commit -------------------------------

def state_path(source: str, cache_dir: str | Path | None = None) -> Path:
    """Where an incremental run keeps what it knows of ARCHIVE (never inside it)."""
    from reviewbot.util.cachedir import default_cache_dir

    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = hashlib.blake2b(str(Path(source).resolve()).encode("utf-8", "surrogateescape"),
                          digest_size=8).hexdigest()
    return base / "archive" / f"inbox-v{STATE_VERSION}-{key}.sqlite"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS epoch (path TEXT PRIMARY KEY, head TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS msg (seq INTEGER PRIMARY KEY, mid TEXT NOT NULL, epoch TEXT NOT NULL,
    oid TEXT NOT NULL, date INTEGER NOT NULL, thread INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS msg_thread ON msg (thread);
CREATE TABLE IF NOT EXISTS link (id TEXT PRIMARY KEY, thread INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS link_thread ON link (thread);
"""


class _State:
    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(str(path) if path is not None else ":memory:")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{path}: the archive state is unreadable ({exc}); "
                             "delete it to read the archive from the start") from None

    def head(self, epoch: str) -> str | None:
        row = self.db.execute("SELECT head FROM epoch WHERE path = ?", (epoch,)).fetchone()
        return str(row[0]) if row else None

    def add(self, messages: Sequence[Message]) -> list[int]:
        """Record ``messages`` and merge their threads; the threads they touched, in the
        order of their first message read in this run."""
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while parent.get(x, x) != root:
                parent[x], x = root, parent[x]
            return root

        def union(a: str, b: str) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

        cur = self.db.cursor()
        for msg in messages:
            node = "m:" + msg.message_id
            parent.setdefault(node, node)
            for ident in (msg.message_id, *msg.links):
                other = "m:" + ident
                parent.setdefault(other, other)
                union(node, other)
                row = cur.execute("SELECT thread FROM link WHERE id = ?", (ident,)).fetchone()
                if row is not None:
                    known = f"t:{int(row[0]):012d}"
                    parent.setdefault(known, known)
                    union(node, known)
        # each group: the threads known before that it joins, merged into the oldest
        groups: dict[str, list[int]] = {}
        for node in parent:
            if node.startswith("t:"):
                groups.setdefault(find(node), []).append(int(node[2:]))
        key_of: dict[str, int] = {}
        next_key = int(cur.execute("SELECT COALESCE(MAX(thread), 0) FROM link").fetchone()[0])
        for root, keys in groups.items():
            keep = min(keys)
            key_of[root] = keep
            others = [k for k in keys if k != keep]
            if others:
                marks = ",".join("?" * len(others))
                cur.execute(f"UPDATE link SET thread = ? WHERE thread IN ({marks})",
                            (keep, *others))
                cur.execute(f"UPDATE msg SET thread = ? WHERE thread IN ({marks})",
                            (keep, *others))
        touched: dict[int, None] = {}
        for msg in messages:
            root = find("m:" + msg.message_id)
            key = key_of.get(root)
            if key is None:
                next_key += 1
                key = key_of[root] = next_key
            touched.setdefault(key, None)
            cur.execute("INSERT INTO msg (mid, epoch, oid, date, thread) VALUES (?, ?, ?, ?, ?)",
                        (msg.message_id, msg.epoch, msg.oid, msg.date, key))
        rows = [(node[2:], key_of[find(node)]) for node in parent if node.startswith("m:")]
        cur.executemany("INSERT INTO link (id, thread) VALUES (?, ?) "
                        "ON CONFLICT(id) DO UPDATE SET thread = excluded.thread", rows)
        return list(touched)

    def threads(self, keys: Sequence[int]) -> list[Thread]:
        out: list[Thread] = []
        for key in keys:
            rows = self.db.execute("SELECT mid, epoch, oid FROM msg WHERE thread = ? "
                                   "ORDER BY seq", (key,)).fetchall()
            out.append(Thread(root=str(rows[0][0]),
                              blobs=tuple((str(e), str(o)) for _, e, o in rows)))
        return out

    def set_head(self, epoch: str, head: str) -> None:
        self.db.execute("INSERT INTO epoch (path, head) VALUES (?, ?) "
                        "ON CONFLICT(path) DO UPDATE SET head = excluded.head", (epoch, head))

    def close(self, commit: bool) -> None:
        if commit:
            self.db.commit()
        self.db.close()


# --- the scan --------------------------------------------------------------------------------

def _git(git_dir: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", "--git-dir", git_dir, *args], capture_output=True,
                          check=False)


def _commits(epoch: Epoch, since_commit: str | None) -> tuple[str | None, list[tuple[str, int]],
                                                              str | None]:
    """(HEAD, [(commit, author time)] oldest first, a problem line or None)."""
    check = _git(epoch.path, "rev-parse", "--git-dir")
    if check.returncode != 0:
        return None, [], f"{epoch.name}: not a git repository; skipped"
    head_run = _git(epoch.path, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    if head_run.returncode != 0:
        return None, [], None  # an epoch without commits yet: nothing to read
    head = head_run.stdout.decode("ascii").strip()
    rev = head
    note = None
    if since_commit is not None:
        if since_commit == head:
            return head, [], None
        known = _git(epoch.path, "merge-base", "--is-ancestor", since_commit, head)
        if known.returncode == 0:
            rev = f"{since_commit}..{head}"
        else:
            note = (f"{epoch.name}: the commit read last time ({since_commit[:12]}) is no "
                    "longer in its history; read again from the start")
    log = _git(epoch.path, "log", "--reverse", "--format=%H %at", rev)
    if log.returncode != 0:
        first = log.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
        return None, [], f"{epoch.name}: git log failed: {first[0] if first else 'no message'}"
    commits = []
    for line in log.stdout.decode("ascii", "replace").splitlines():
        sha, _, when = line.partition(" ")
        commits.append((sha, int(when) if when.isdigit() else 0))
    return head, commits, note


def parse_date(text: str, flag: str) -> int:
    """``--since``/``--until`` DATE (YYYY-MM-DD, or ISO 8601 with a time) -> seconds (UTC
    when no zone is given). InputError naming the flag otherwise."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{flag}: expected a date like 2024-06-01 or 2024-06-01T12:00, "
                         f"got {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp())


def scan(source: str, *, since: int | None = None, until: int | None = None,
         incremental: bool = False, cache_dir: str | Path | None = None,
         progress: Callable[[int, str], None] | None = None) -> Scan:
    """Read ARCHIVE (the commits new since the last run with ``incremental``) and group
    what was read into threads. ``since``/``until`` (seconds) select messages by date.
    ``progress(messages read, epoch name)`` is called every few hundred messages."""
    started = time.perf_counter()
    epochs = find_epochs(source)
    state = _State(state_path(source, cache_dir) if incremental else None)
    problems: list[str] = []
    messages: list[Message] = []
    heads: dict[str, str] = {}
    ok = False
    try:
        with Readers() as readers:
            for epoch in epochs:
                read = _scan_epoch(epoch, state.head(epoch.path) if incremental else None,
                                   readers, since=since, until=until, problems=problems,
                                   progress=progress, before=len(messages))
                if read is None:
                    continue
                head, found = read
                messages.extend(found)
                if head is not None:
                    heads[epoch.path] = head
        keys = state.add(messages)
        threads = state.threads(keys)
        for path, head in heads.items():
            state.set_head(path, head)
        ok = True
    finally:
        state.close(commit=ok and incremental)
    return Scan(threads=threads, messages=len(messages), epochs=len(epochs),
                problems=problems, seconds=time.perf_counter() - started)


def _scan_epoch(epoch: Epoch, last: str | None, readers: Readers, *, since: int | None,
                until: int | None, problems: list[str],
                progress: Callable[[int, str], None] | None,
                before: int) -> tuple[str | None, list[Message]] | None:
    head, commits, note = _commits(epoch, last)
    if note is not None:
        problems.append(note)
    if head is None:
        return None
    found: list[Message] = []
    without_m = 0
    wanted = [(commit, when) for commit, when in commits
              if (since is None or when >= since) and (until is None or when <= until)]
    dates = dict(wanted)
    reader = readers.reader(epoch.path)
    answers = reader.read_many([f"{commit}:m" for commit, _ in wanted])
    trees = BlobReader(epoch.path)  # the trees of commits whose m git does not hand out
    for number, (spec, answer) in enumerate(answers, 1):
        commit = spec[:-2]
        when = dates[commit]
        if isinstance(answer, BlobError):
            problem = _tail(str(answer))
            if problem == "missing":
                blob = trees.tree_entries(commit).get("m")
                if blob is None:
                    without_m += 1  # a deletion (``d``) or not a message commit
                    continue
                problem = f"blob {blob} of m is missing or unreadable (corrupt?)"
            problems.append(f"{epoch.name}: commit {commit[:12]}: {problem}")
            continue
        oid, data = answer
        message_id, links, _ = thread_headers(data)
        found.append(Message(epoch=epoch.path, oid=oid,
                             message_id=message_id or f"{oid}@blob.reviewbot",
                             links=links, date=when))
        if progress is not None and number % 256 == 0:
            progress(before + len(found), epoch.name)
    trees.close()
    if wanted and not found and without_m == len(wanted) and last is None:
        problems.append(f"{epoch.name}: none of its {len(commits)} commit(s) holds a message "
                        "blob 'm': not a public-inbox v2 epoch; skipped")
    return head, found


def _tail(text: str) -> str:
    """A BlobError's message without the ``COMMIT:m`` it starts with."""
    return text.split(": ", 1)[1] if ": " in text else text


# --- writing epochs (tests and the bench) ----------------------------------------------------

def append_messages(git_dir: str | Path, messages: Iterable[bytes],
                    dates: Iterable[int] | None = None) -> int:
    """Append each message as one commit whose tree is the blob ``m``, as public-inbox v2
    does, through ``git fast-import``; creates the bare repository when missing. ``dates``
    (seconds) become the author dates. Returns the number of commits written."""
    path = Path(git_dir)
    if not (path / "HEAD").exists():
        subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)
    parent = _git(str(path), "rev-parse", "--verify", "-q", "refs/heads/master")
    has_parent = parent.returncode == 0
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.Popen(["git", "--git-dir", str(path), "fast-import", "--quiet"],
                            stdin=subprocess.PIPE, env=env)
    assert proc.stdin is not None
    count = 0
    date_iter: Iterator[int] | None = iter(dates) if dates is not None else None
    for data in messages:
        when = next(date_iter) if date_iter is not None else int(time.time())
        count += 1
        stream = [b"commit refs/heads/master\n",
                  b"author A U Thor <a@example.org> %d +0000\n" % when,
                  b"committer public-inbox <pi@example.org> %d +0000\n" % when,
                  b"data 0\n"]
        if count == 1 and has_parent:
            stream.append(b"from refs/heads/master^0\n")
        stream.append(b"M 100644 inline m\ndata %d\n" % len(data))
        proc.stdin.write(b"".join(stream) + data + b"\n")
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError(f"git fast-import failed on {path}")
    _git(str(path), "symbolic-ref", "HEAD", "refs/heads/master")
    return count
