"""The tree index database: one SQLite file per tree location under the cache directory.

Tables (``SCHEMA_VERSION``; ``PRAGMA application_id`` names the file as reviewbot's):

  meta(key, value)            facts version, the graph's code key and prefixes, the base's
                              fingerprint
  facts(key, path, data)      a file's facts (JSON, ``encode_facts``) by content key (path +
                              content hash): files of other revisions stay until a rebase drops them
  stats(root, path, size, mtime, key)
                              a directory tree's files as last seen: an unchanged size and mtime
                              lets a warm run skip reading the file
  base(path, key)             the files the stored graph is of
  nodes(id, seq, name, attrs) the graph's nodes (``seq``: the order a full build made them in;
                              ``name`` is indexed: ``find_functions``)
  out_edges(u, seq, v, dispatch, attrs)
                              u's out-edges in order (``dispatch`` flags a dispatch edge:
                              ``dispatch_handlers`` reads only those)
  in_edges(v, seq, u)         v's in-edges in order (the attributes are the out_edges row's)
  state(tab, key, value)      ``GraphState``'s bookkeeping tables, a row a key, so a patch's
                              overlay reads only the rows of the names and files it changes

Every value is JSON: nothing read back from the file can run code. A file that is not such a
database (garbage, truncated, another schema version, another application's SQLite file) is
noticed when opened and rebuilt, with a one-line note on stderr.

Concurrency: WAL journal, so readers never wait for the writer; a check holds one read
transaction from open to close, so what it faults in lazily is one consistent snapshot even
when another process moves the database to another base meanwhile. Writes happen in one
``BEGIN IMMEDIATE`` transaction (one writer at a time; a second waits up to ``BUSY_SECONDS``).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from reviewbot.c import facts as cfacts
from reviewbot.c.facts import FileFacts

SCHEMA_VERSION = 1
APPLICATION_ID = 0x72766274  # "rvbt"
BUSY_SECONDS = 120.0

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE facts (key BLOB PRIMARY KEY, path TEXT NOT NULL, data TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE stats (root TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL,
                    mtime INTEGER NOT NULL, key BLOB NOT NULL,
                    PRIMARY KEY (root, path)) WITHOUT ROWID;
CREATE TABLE base (path TEXT PRIMARY KEY, key BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE nodes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, name TEXT NOT NULL,
                    attrs TEXT NOT NULL);
CREATE INDEX nodes_name ON nodes (name);
CREATE TABLE out_edges (u TEXT NOT NULL, seq INTEGER NOT NULL, v TEXT NOT NULL,
                        dispatch INTEGER NOT NULL, attrs TEXT NOT NULL,
                        PRIMARY KEY (u, seq)) WITHOUT ROWID;
CREATE INDEX out_edges_uv ON out_edges (u, v);
CREATE INDEX out_edges_dispatch ON out_edges (u) WHERE dispatch;
CREATE TABLE in_edges (v TEXT NOT NULL, seq INTEGER NOT NULL, u TEXT NOT NULL,
                       PRIMARY KEY (v, seq)) WITHOUT ROWID;
CREATE TABLE state (tab TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                    PRIMARY KEY (tab, key)) WITHOUT ROWID;
"""
_TABLES = ("meta", "facts", "stats", "base", "nodes", "out_edges", "in_edges", "state")


class Damaged(Exception):
    """The database is not one reviewbot wrote, or not whole."""


def note(message: str) -> None:
    sys.stderr.write(f"reviewbot: note: {message}\n")


# --------------------------------------------------------------------------- facts as JSON

_D = TypeVar("_D")
# class -> [(field name, element class of a tuple of dataclasses, or None)]
_LAYOUT: dict[type, list[tuple[str, type | None]]] = {}


def _layout(cls: type) -> list[tuple[str, type | None]]:
    found = _LAYOUT.get(cls)
    if found is None:
        found = []
        for f in fields(cls):
            elem: type | None = None
            text = str(f.type)
            if text.startswith("tuple[") and text.endswith(", ...]"):
                inner = getattr(cfacts, text[6:-6], None)
                if isinstance(inner, type) and is_dataclass(inner):
                    elem = inner
            found.append((f.name, elem))
        _LAYOUT[cls] = found
    return found


def _to_plain(obj: Any) -> list[Any]:
    out: list[Any] = []
    for name, elem in _layout(type(obj)):
        value = getattr(obj, name)
        if elem is not None:
            out.append([_to_plain(v) for v in value])
        elif isinstance(value, tuple):
            out.append(list(value))
        else:
            out.append(value)
    return out


_SCALARS = (str, int, float, bool, type(None))


def _from_plain(cls: type[_D], row: list[Any]) -> _D:
    layout = _layout(cls)
    if not isinstance(row, list) or len(row) != len(layout):
        raise ValueError(f"not a {cls.__name__}")
    args: list[Any] = []
    for (_, elem), value in zip(layout, row, strict=True):
        if elem is not None:
            if not isinstance(value, list):
                raise ValueError(f"not a {cls.__name__}")
            if _plain_fields(elem):  # thousands of calls a file: no loop a field
                if not all(type(v) is list and len(v) == len(_LAYOUT[elem])
                           and all(type(x) in _SCALARS for x in v) for v in value):
                    raise ValueError(f"not a {elem.__name__}")
                args.append(tuple(elem(*v) for v in value))
            else:
                args.append(tuple(_from_plain(elem, v) for v in value))
        elif isinstance(value, list):
            if not all(type(x) in _SCALARS for x in value):
                raise ValueError(f"not a {cls.__name__}")
            args.append(tuple(value))
        elif type(value) in _SCALARS:
            args.append(value)
        else:
            raise ValueError(f"not a {cls.__name__}")
    return cls(*args)


_PLAIN: dict[type, bool] = {}


def _plain_fields(cls: type) -> bool:
    """Is every field of ``cls`` a scalar (no tuple, no nested fact)?"""
    found = _PLAIN.get(cls)
    if found is None:
        found = _PLAIN[cls] = all(elem is None and not str(f.type).startswith("tuple")
                                  for f, (_, elem) in zip(fields(cls), _layout(cls),
                                                          strict=True))
    return found


def encode_facts(ff: FileFacts) -> str:
    return _ENCODE(_to_plain(ff))


_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode


def decode_facts(text: str) -> FileFacts:
    """ValueError (or TypeError) for anything that is not a file's facts."""
    return _from_plain(FileFacts, json.loads(text))


# --------------------------------------------------------------------------- the database


def remove_database(file: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{file}{suffix}").unlink(missing_ok=True)


class Store:
    """An open index database. ``close()`` ends its read transaction."""

    def __init__(self, file: Path, *, quiet: bool = False) -> None:
        self.file = file
        self.quiet = quiet
        self.db = self._open()
        # content key -> facts decoded in this process (every index of this database shares it)
        self.decoded: dict[bytes, FileFacts] = {}
        self._base: dict[str, bytes] | None = None  # base() within the current snapshot

    # -- opening
    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.file, timeout=BUSY_SECONDS, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    def _ready(self) -> sqlite3.Connection:
        """A connection to a validated database. Another process opening the same new file at
        the same moment can hold the lock that switching to WAL needs, and SQLite answers that
        at once, without its busy timeout: "database is locked" is waiting, not damage."""
        import time

        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                db = self._connect()
                self._validate(db)
                return db
            except sqlite3.OperationalError as exc:
                text = str(exc)
                if ("locked" not in text and "busy" not in text) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _open(self) -> sqlite3.Connection:
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            db = self._ready()
        except (sqlite3.DatabaseError, Damaged, OSError) as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if isinstance(exc, (Damaged, sqlite3.DatabaseError)) and self.file.is_file():
                if not self.quiet:
                    note(f"the tree index {self.file} is damaged or not reviewbot's ({why}); "
                         "building it again")
                self._remove()
            try:
                db = self._ready()
            except (sqlite3.DatabaseError, Damaged, OSError) as again:
                # a cache directory that cannot be written only costs time: this run keeps
                # the index in memory
                why = str(again).splitlines()[0] if str(again) else type(again).__name__
                if not self.quiet:
                    note(f"cannot keep the tree index in {self.file} ({why}); "
                         "it lasts for this run only")
                self.file = Path(":memory:")
                db = self._connect()
                self._validate(db)
        return db

    def _remove(self) -> None:
        with contextlib.suppress(OSError):  # opening it again says what is wrong
            remove_database(self.file)

    def _validate(self, db: sqlite3.Connection) -> None:
        """Creates the schema in a new file; Damaged (or sqlite3.DatabaseError) when the file
        is not a whole database of this schema."""
        if self._is_empty(db):
            db.execute("BEGIN IMMEDIATE")  # another process may be creating it too
            try:
                if self._is_empty(db):
                    for statement in _SCHEMA.split(";\n"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("COMMIT")
            finally:
                if db.in_transaction:
                    db.execute("ROLLBACK")
        app = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if app != APPLICATION_ID:
            raise Damaged("not a reviewbot index")
        if version != SCHEMA_VERSION:
            raise Damaged(f"schema version {version}, not {SCHEMA_VERSION}")
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not set(_TABLES) <= names:
            raise Damaged("tables missing")
        if str(self.file) == ":memory:":
            return
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        size = db.execute("PRAGMA page_size").fetchone()[0]
        wal = Path(f"{self.file}-wal")
        on_disk = self.file.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
        if pages * size > on_disk:
            raise Damaged("truncated")

    @staticmethod
    def _is_empty(db: sqlite3.Connection) -> bool:
        return bool(db.execute("PRAGMA application_id").fetchone()[0] == 0
                    and db.execute("PRAGMA user_version").fetchone()[0] == 0
                    and db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0)

    def begin_read(self) -> None:
        """One snapshot for everything read until ``end_read`` (or ``close``)."""
        if not self.db.in_transaction:
            self._base = None
            self.db.execute("BEGIN")
            self.db.execute("SELECT 1 FROM meta LIMIT 1").fetchall()  # takes the snapshot

    def end_read(self) -> None:
        self._base = None
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def close(self) -> None:
        try:
            self.end_read()
            self.db.close()
        except sqlite3.Error:
            pass

    def check_integrity(self) -> bool:
        """SQLite's own check of the whole file (slow on a large index: tests and repairs)."""
        result: str = self.db.execute("PRAGMA quick_check").fetchone()[0]
        return result == "ok"

    # -- meta
    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        """Set ``key`` (None: remove it), in the current write transaction."""
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # -- facts
    def facts_rows(self, keys: Iterable[bytes]) -> dict[bytes, str]:
        out: dict[bytes, str] = {}
        wanted = list(keys)
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for key, data in self.db.execute(
                    f"SELECT key, data FROM facts WHERE key IN ({marks})", chunk):
                out[bytes(key)] = str(data)
        return out

    def has_facts(self, keys: Iterable[bytes]) -> set[bytes]:
        return set(self.facts_rows(keys))

    def put_facts(self, rows: Iterable[tuple[bytes, str, str]]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?)", rows)

    # -- stats
    def stats(self, root: str) -> dict[str, tuple[int, int, bytes]]:
        return {p: (s, m, k) for p, s, m, k in self.db.execute(
            "SELECT path, size, mtime, key FROM stats WHERE root = ?", (root,))}

    def put_stats(self, root: str, table: dict[str, tuple[int, int, bytes]]) -> None:
        self.db.execute("DELETE FROM stats WHERE root = ?", (root,))
        self.db.executemany("INSERT INTO stats VALUES (?, ?, ?, ?, ?)",
                            ((root, p, s, m, k) for p, (s, m, k) in table.items()))

    # -- writing
    def write(self) -> _Writing:
        """``with store.write():`` one write transaction (the read snapshot ends first)."""
        return _Writing(self)

    # -- the graph's base
    def base(self) -> dict[str, bytes]:
        """path -> content key of the files the stored graph is of (read once a snapshot:
        a check asks three times)."""
        found = self._base
        if found is None:
            found = {str(p): bytes(k) for p, k in self.db.execute("SELECT path, key FROM base")}
            if self.db.in_transaction:
                self._base = found
        return dict(found)

    def clear_graph(self) -> None:
        for table in ("base", "nodes", "out_edges", "in_edges", "state"):
            self.db.execute(f"DELETE FROM {table}")

    def drop_unused_facts(self, keep_keys: Iterable[bytes]) -> None:
        """Facts neither the base, the stat table nor the files just indexed name."""
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (key BLOB PRIMARY KEY)")
        self.db.execute("DELETE FROM keep")
        self.db.execute("INSERT OR IGNORE INTO keep SELECT key FROM base")
        self.db.execute("INSERT OR IGNORE INTO keep SELECT key FROM stats")
        self.db.executemany("INSERT OR IGNORE INTO keep VALUES (?)",
                            ((k,) for k in keep_keys))
        self.db.execute("DELETE FROM facts WHERE key NOT IN (SELECT key FROM keep)")


class _Writing:
    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store.end_read()
        self.store.db.execute("BEGIN IMMEDIATE")
        return self.store.db

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        self.store._base = None
        db = self.store.db
        if not db.in_transaction:
            return
        db.execute("COMMIT" if kind is None else "ROLLBACK")


# --------------------------------------------------------------------------- lazy tables

_K = TypeVar("_K")
_V = TypeVar("_V")
_ABSENT: Any = object()


class LazyMap(MutableMapping[_K, _V]):
    """A dict whose entries are fetched from the database on first look-up.

    ``one(key)`` gives a key's value (or ``_ABSENT``); ``every()`` yields every stored
    ``(key, value)`` in stored order, called only when the whole map is iterated. Changes stay
    in memory (``loaded()`` and ``removed()`` say what a write-back must store).
    """

    __slots__ = ("_all", "_every", "_gone", "_mem", "_missing", "_one", "_some")

    def __init__(self, one: Callable[[_K], _V], every: Callable[[], Iterable[tuple[_K, _V]]],
                 some: Callable[[set[_K]], bool] | None = None) -> None:
        self._one = one
        self._every = every
        self._some = some  # is there a stored key outside the given ones? (for bool())
        self._mem: dict[_K, _V] = {}
        self._gone: set[_K] = set()  # deleted here (stored rows to delete)
        self._missing: set[_K] = set()  # looked up, not stored
        self._all = False

    def _fault(self, key: _K) -> Any:
        if self._all or key in self._gone or key in self._missing:
            return _ABSENT
        value = self._one(key)
        if value is _ABSENT:
            self._missing.add(key)
        else:
            self._mem[key] = value
        return value

    def __getitem__(self, key: _K) -> _V:
        try:
            return self._mem[key]
        except KeyError:
            pass
        value = self._fault(key)
        if value is _ABSENT:
            raise KeyError(key)
        result: _V = value
        return result

    def get(self, key: _K, default: Any = None) -> Any:
        try:
            return self._mem[key]
        except KeyError:
            pass
        value = self._fault(key)
        return default if value is _ABSENT else value

    def __contains__(self, key: object) -> bool:
        if key in self._mem:
            return True
        return self._fault(key) is not _ABSENT  # type: ignore[arg-type]

    def __setitem__(self, key: _K, value: _V) -> None:
        self._mem[key] = value
        self._missing.discard(key)

    def __delitem__(self, key: _K) -> None:
        if key not in self:
            raise KeyError(key)
        del self._mem[key]
        self._gone.add(key)

    def pop(self, key: _K, default: Any = _ABSENT) -> Any:
        if key in self:
            value = self._mem.pop(key)
            self._gone.add(key)
            return value
        if default is _ABSENT:
            raise KeyError(key)
        return default

    def setdefault(self, key: _K, default: Any = None) -> Any:
        if key in self:
            return self._mem[key]
        self[key] = default
        return default

    def _load_all(self) -> None:
        if self._all:
            return
        ordered: dict[_K, _V] = {}
        for key, value in self._every():
            if key in self._gone:
                continue
            ordered[key] = self._mem.pop(key) if key in self._mem else value
        ordered.update(self._mem)  # made here, not stored
        self._mem = ordered
        self._all = True

    def __iter__(self) -> Iterator[_K]:
        self._load_all()
        return iter(self._mem)

    def __len__(self) -> int:
        self._load_all()
        return len(self._mem)

    def __bool__(self) -> bool:
        """Has the map an entry? One made or fetched here, else the first stored one not
        removed here (``every()`` is walked only that far; nothing is loaded)."""
        if self._mem or self._all:
            return bool(self._mem)
        if self._some is not None:
            return self._some(self._gone)
        return any(key not in self._gone for key, _ in self._every())

    def keys(self) -> Any:
        self._load_all()
        return self._mem.keys()

    def items(self) -> Any:
        self._load_all()
        return self._mem.items()

    def values(self) -> Any:
        self._load_all()
        return self._mem.values()

    def prefetch(self, keys: Iterable[_K],
                 many: Callable[[list[_K]], Iterable[tuple[_K, _V]]]) -> None:
        """Fetch the entries of ``keys`` not in memory yet with one call of ``many`` (which
        yields the stored ones), instead of one look-up each later."""
        if self._all:
            return
        wanted = [k for k in dict.fromkeys(keys)
                  if k not in self._mem and k not in self._gone and k not in self._missing]
        if not wanted:
            return
        found = dict(many(wanted))
        for k in wanted:
            if k in found:
                self._mem[k] = found[k]
            else:
                self._missing.add(k)

    def copy(self) -> LazyMap[_K, _V]:
        """The same entries, sharing the loaders (and the values in memory)."""
        other: LazyMap[_K, _V] = LazyMap(self._one, self._every, self._some)
        other._mem = dict(self._mem)
        other._gone = set(self._gone)
        other._missing = set(self._missing)
        other._all = self._all
        return other

    # -- what a write-back stores
    def loaded(self) -> dict[_K, _V]:
        """Every entry in memory: fetched (and perhaps changed in place) or set here."""
        return self._mem

    def removed(self) -> set[_K]:
        return self._gone

    def in_memory(self, key: _K) -> bool:
        return key in self._mem
