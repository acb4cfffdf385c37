"""C facts of a whole tree (``hw/``, ``include/``, ``system/``...) in the tree index database.

One SQLite database per tree location (``reviewbot.c.store``) holds every file's facts under
a key made of its path and its content hash, so a second run parses only the files that
changed (or all of them after an upgrade that changes the facts: ``FACTS_VERSION`` is part of
the file name). The first run spreads the parsing over every core, writing the facts in
batches as they come, with progress on a terminal. A file whose size and mtime have not
changed is not even read again. The same database holds the tree's graph
(``reviewbot.c.graphdb``), which a check reads lazily.

Cache directory: ``cache_dir`` if given, else ``$REVIEWBOT_CACHE_DIR``, else
``$XDG_CACHE_HOME/reviewbot``, else ``~/.cache/reviewbot``. It never lives in the tree.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.c.facts import FACTS_VERSION, FileFacts, extract
from reviewbot.c.store import Store, decode_facts, encode_facts
from reviewbot.patch.tree import C_SUFFIXES, DEFAULT_PREFIXES, DirTree, Tree
from reviewbot.util.cachedir import default_cache_dir
from reviewbot.util.nogc import collector_paused

# Files parsed per batch handed to a worker (and written to the database as one transaction).
BATCH_FILES = 64
# Parsed facts kept in memory for the rest of the run, up to this many files (a cold check
# builds the tree's graph from them next); more are read back from the database when needed.
KEEP_PARSED = 20_000


@dataclass
class IndexStats:
    files: int = 0
    bytes: int = 0
    parsed: int = 0  # files parsed in this run
    cached: int = 0  # files whose facts came from the database
    seconds: float = 0.0
    jobs: int = 1
    fingerprint: str = ""  # changes when any file's content (or the set of files) does


def _location(tree: Tree) -> str:
    """A short name for where the tree is (a directory, or a repository whatever its
    revision)."""
    return hashlib.blake2b(str(tree.root or "").encode("utf-8", "surrogateescape"),
                           digest_size=8).hexdigest()


def database_file(cache_dir: Path, tree: Tree) -> Path:
    """One database per tree location and facts version."""
    return cache_dir / f"index-f{FACTS_VERSION}-{_location(tree)}.sqlite"


def _key(path: str, data: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    h.update(path.encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    h.update(data)
    return h.digest()


StatTable = dict[str, tuple[int, int, bytes]]  # path -> (size, mtime_ns, key)
# A file whose mtime is this close to when the stat table was written may have changed since
# within the same clock tick: it is read again rather than trusted (git's racy-index rule).
RACY_NS = 2_000_000_000
# meta "listing:<root>": the mark (digest of find's output, prefixes, suffixes) of the listing
# the root's stat table was written from, when every file in it was trusted; absent else. A
# warm check whose find prints the same takes the table as it is (no parse of the output, no
# comparison file by file): same paths, sizes and mtimes, all older than the table.
_LISTING = "listing:"


def _keys(tree: Tree, paths: list[str], store: Store, blob_ids: dict[str, str] | None,
          listed: dict[str, tuple[int, int] | None] | None = None,
          ) -> tuple[dict[str, bytes], dict[str, bytes], StatTable, bool]:
    """Content keys of ``paths``; the contents read to get them; the fresh stat table and
    whether it differs from the stored one.

    A git tree names its files' contents (blob ids), so nothing is read to key them. In a
    directory, a file whose size and mtime match the stored table is not read again, unless
    its mtime is too close to the time the table was written to be trusted (it may have
    changed within the same clock tick, as git's racy-index rule has it).
    """
    if blob_ids is not None:
        return {p: _key(p, b"git-blob:" + blob_ids[p].encode()) for p in paths}, {}, {}, False
    root = str(tree.root) if tree.root is not None else ""
    old = store.stats(root) if root else {}
    written = int(store.meta(f"stats-written:{root}") or 0)
    trusted_before = written - RACY_NS
    keys: dict[str, bytes] = {}
    stats: StatTable = {}
    unknown: list[str] = []
    for p in paths:
        st = (listed[p] if listed is not None else tree.stat(p)) if root else None
        if st is not None:
            entry = old.get(p)
            if entry is not None and entry[:2] == st and st[1] < trusted_before:
                keys[p] = entry[2]
                stats[p] = entry
                continue
        unknown.append(p)
    contents = tree.read_many(unknown)
    for p in unknown:
        if p not in contents:
            continue
        keys[p] = _key(p, contents[p])
        st = tree.stat(p) if root else None
        if st is not None:
            stats[p] = (st[0], st[1], keys[p])
    return keys, contents, stats, stats != old


def _extract_one(path: str, data: bytes) -> FileFacts:
    from reviewbot.util.limits import LimitExceeded

    try:
        return extract(path, data.decode("utf-8", "surrogateescape"))
    except LimitExceeded:
        # too big or too slow: the file stays in the index, without facts
        return FileFacts(path=path, error_lines=(1,))


Parsed = tuple[str, bytes | None, str, FileFacts | None]  # path, content key, JSON, facts


def _extract_batch(batch: list[tuple[str, bytes | None]], keep: bool = False,
                   root: str = "") -> list[Parsed]:
    """(path, content key, facts as JSON, facts when ``keep``) of each (path, content); a
    content of None is read from ``root``/path here (a cold index of a directory reads and
    hashes on the workers), and a file that cannot be read gets the key None. Kept facts
    travel back from a worker pickled (the pool's own transport), cheaper to rebuild than
    from JSON."""
    with collector_paused():
        out: list[Parsed] = []
        for path, given in batch:
            data = given
            if data is None:
                try:
                    with open(f"{root}/{path}", "rb") as fh:  # noqa: PTH123
                        data = fh.read()
                except OSError:
                    out.append((path, None, "", None))
                    continue
            ff = _extract_one(path, data)
            out.append((path, _key(path, data), encode_facts(ff), ff if keep else None))
        return out


def _batches(items: list[tuple[str, bytes | None]], size: int, sizes: dict[str, int],
             ) -> list[list[tuple[str, bytes | None]]]:
    """Batches of ``size`` files, largest files first (so that a slow one does not hold up
    the end)."""
    ordered = sorted(items, key=lambda it: -sizes.get(it[0], len(it[1] or b"")))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def parse_files(items: list[tuple[str, bytes | None]], jobs: int, keep: bool = False,
                root: str = "", sizes: dict[str, int] | None = None,
                ) -> Iterator[list[Parsed]]:
    """Batches of ``_extract_batch``'s results for (path, content) pairs, parsed on ``jobs``
    processes, as they are done."""
    sizes = sizes or {}
    if jobs <= 1 or len(items) < 8:
        for batch in _batches(items, BATCH_FILES, sizes):
            yield _extract_batch(batch, keep, root)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    size = max(1, min(BATCH_FILES, len(items) // (jobs * 4) or 1))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_extract_batch, b, keep, root)
                   for b in _batches(items, size, sizes)]
        for done in as_completed(futures):
            yield done.result()


class _Progress:
    """``indexing the tree: 1234/9876 files`` on a terminal's stderr, nothing elsewhere."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.done = 0
        self.enabled = enabled and total >= 50 and sys.stderr.isatty()
        self.last = 0.0

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.2 or self.done == self.total):
            self.last = now
            sys.stderr.write(f"\rreviewbot: indexing the tree: {self.done}/{self.total} files")
            if self.done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


@dataclass
class TreeIndex:
    """A tree's files and their facts in the index database, decoded when asked for."""

    store: Store
    keys: dict[str, bytes]  # path -> content key, in path order
    fingerprint: str
    tree: Tree | None = None
    location: str = ""  # names the tree's place (not its content)
    # content key -> facts decoded in this process
    loaded: dict[bytes, FileFacts] = field(default_factory=dict)

    def facts(self, path: str) -> FileFacts:
        """The facts of ``path`` (KeyError for a file not in the index)."""
        ff = self.facts_for_key(self.keys[path], path)
        assert ff is not None
        return ff

    def same_content(self, path: str, data: bytes) -> bool:
        """Is ``data`` exactly the content the index holds for ``path``? Keyed as the tree
        keys it: the bytes (a directory), or the git blob id (SHA-1 or SHA-256 repository)."""
        key = self.keys.get(path)
        if key is None:
            return False
        if key == _key(path, data):
            return True
        header = b"blob %d\0" % len(data)
        return any(key == _key(path, b"git-blob:" + h(header + data).hexdigest().encode())
                   for h in (hashlib.sha1, hashlib.sha256))

    def facts_for_key(self, key: bytes, path: str | None = None) -> FileFacts | None:
        """The facts of a content key, when the database has them (also for files of
        another revision of the tree). A damaged entry is parsed again from ``path``."""
        ff = self.loaded.get(key)
        if ff is not None:
            return ff
        row = self.store.db.execute("SELECT data FROM facts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            ff = decode_facts(row[0])
        except (ValueError, TypeError, KeyError):
            if path is None:
                return None
            data = self.tree.read_bytes(path) if self.tree is not None else None
            ff = _extract_one(path, data or b"")
        self.loaded[key] = ff
        return ff

    def all_facts(self) -> list[FileFacts]:
        with collector_paused():
            rows = self.store.facts_rows(k for k in self.keys.values()
                                         if k not in self.loaded)
            out = []
            for path, key in self.keys.items():
                ff = self.loaded.get(key)
                if ff is None:
                    try:
                        ff = decode_facts(rows[key])
                    except (ValueError, TypeError, KeyError):
                        data = self.tree.read_bytes(path) if self.tree is not None else None
                        ff = _extract_one(path, data or b"")
                    self.loaded[key] = ff
                out.append(ff)
            return out


# The index last opened in this process: a second index of the same tree in one process (a
# bulk run, a test session) reuses its connection and the facts it decoded.
_OPEN: dict[Path, Store] = {}


def forget() -> None:
    """Close the index this process has open (as a new process would start)."""
    for store in _OPEN.values():
        store.close()
    _OPEN.clear()


def discard(tree: Tree, why: str, cache_dir: str | Path | None = None) -> None:
    """The tree's index database was found damaged while in use: removed (with a one-line
    note), to be built again on the next ``open_index``."""
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    file = database_file(directory, tree)
    forget()
    from reviewbot.c.store import note, remove_database

    note(f"the tree index {file} is damaged ({why}); building it again")
    remove_database(file)


def _store(file: Path) -> Store:
    store = _OPEN.get(file)
    if store is not None and file.exists():
        return store
    for old in _OPEN.values():
        old.close()
    _OPEN.clear()
    if not file.exists():
        # the pickles earlier versions kept for this location (the facts, the saved graph)
        location = file.stem.rsplit("-", 1)[-1]
        for stale in (*file.parent.glob(f"facts-v*-{location}.pickle"),
                      file.parent / f"graph-{location}.pickle"):
            with contextlib.suppress(OSError):
                stale.unlink(missing_ok=True)
    store = _OPEN[file] = Store(file)
    return store


def index_tree(
    tree: Tree,
    prefixes: Sequence[str] = DEFAULT_PREFIXES,
    jobs: int | None = None,
    cache_dir: str | Path | None = None,
    *,
    suffixes: Sequence[str] = C_SUFFIXES,
    stats: IndexStats | None = None,
    progress: bool = False,
) -> list[FileFacts]:
    """Facts of every C file under ``prefixes`` in ``tree``, in path order."""
    return open_index(tree, prefixes, jobs, cache_dir, suffixes=suffixes, stats=stats,
                      progress=progress, keep_parsed=True).all_facts()


def open_index(
    tree: Tree,
    prefixes: Sequence[str] = DEFAULT_PREFIXES,
    jobs: int | None = None,
    cache_dir: str | Path | None = None,
    *,
    suffixes: Sequence[str] = C_SUFFIXES,
    stats: IndexStats | None = None,
    progress: bool = True,
    keep_parsed: bool = False,
) -> TreeIndex:
    """The tree's index, with every file under ``prefixes`` in it (files not in the database
    are parsed and stored first); facts are decoded only when asked for. ``keep_parsed``:
    keep the facts of the files parsed now in memory (whoever needs them all next)."""
    started = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    blob_ids = tree.blob_ids(prefixes, suffixes)
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    store = _store(database_file(directory, tree))
    # a new snapshot (another process may have written since), taken now: when nothing needs
    # writing, the check goes on reading in it and the graph's base read here is kept
    store.end_read()
    store.begin_read()
    root_dir = str(tree.root) if tree.root is not None else ""
    listed = None
    listing = None  # what find printed, as a mark (see _LISTING)
    same: StatTable | None = None  # the stored stat table, when find printed the same
    if blob_ids is not None:
        paths = list(blob_ids)
    elif isinstance(tree, DirTree):
        printed = tree.take_listing(prefixes, suffixes)
        # (a symbolic link's line has the link's own size and mtime, not its target's)
        if printed is not None and root_dir and not printed.startswith(b"l\t") \
                and b"\0l\t" not in printed:
            listing = (f"{hashlib.blake2b(printed, digest_size=16).hexdigest()}:"
                       f"{','.join(prefixes)}:{','.join(suffixes)}")
            if store.meta(_LISTING + root_dir) == listing:
                same = store.stats(root_dir)
        if same is not None:
            tree.vet(same)
            paths = list(same)
        else:
            listed = tree.list_stats_from(printed, prefixes, suffixes)
            paths = list(listed)
    else:
        paths = tree.list_files(prefixes, suffixes)

    with collector_paused():
        items: list[tuple[str, bytes | None]]
        keys: dict[str, bytes]
        contents: dict[str, bytes]
        stat_table: StatTable
        cold = bool(listed is not None and root_dir and store.db.execute(
            "SELECT 1 FROM facts LIMIT 1").fetchone() is None)
        if cold and listed is not None:
            # nothing to reuse: the workers read and hash every file as they parse it
            keys, contents, stat_table, stats_changed = {}, {}, {}, True
            items = [(p, None) for p, st in listed.items() if st is not None]
        else:
            if same is not None:
                # every file as the stat table has it, and each trusted (see _LISTING)
                keys, contents, stat_table, stats_changed = (
                    {p: e[2] for p, e in same.items()}, {}, same, False)
            else:
                keys, contents, stat_table, stats_changed = _keys(tree, paths, store,
                                                                  blob_ids, listed)
                if root_dir and not stats_changed and stat_table:
                    # files too new to trust when the table was written are read on every
                    # run until it is written again: once they are old enough, it is
                    written = int(store.meta(f"stats-written:{root_dir}") or 0)
                    newest = max(e[1] for e in stat_table.values())
                    stats_changed = written - RACY_NS <= newest < time.time_ns() - RACY_NS
            base = store.base()
            unsure = [k for p, k in keys.items() if base.get(p) != k]
            have = store.has_facts(unsure) if unsure else set()
            missing = sorted(p for p, k in keys.items() if base.get(p) != k and k not in have)
            if blob_ids is not None and missing:
                contents = tree.read_many(missing)
            items = [(p, contents.get(p) or tree.read_bytes(p) or b"") for p in missing]
        parsed = 0
        if items:
            sizes = {p: st[0] for p, st in (listed or {}).items() if st is not None}
            meter = _Progress(len(items), progress)
            keep = keep_parsed and len(items) <= KEEP_PARSED
            for batch in parse_files(items, jobs, keep, root_dir, sizes):
                # a git tree's keys name blobs: the ones computed here stand
                done = [(p, keys.get(p, k), data, ff) for p, k, data, ff in batch
                        if k is not None]
                with store.write() as db:
                    db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?, ?)",
                                   ((k, p, data) for p, k, data, _ in done))
                for p, k, _, ff in done:
                    keys[p] = k
                    if cold and listed is not None and listed.get(p) is not None:
                        st = listed[p]
                        assert st is not None
                        stat_table[p] = (st[0], st[1], k)
                    if ff is not None:  # the graph, built next from them, need not decode
                        store.decoded[k] = ff
                parsed += len(done)
                meter.add(len(batch))
        if root_dir and same is None and isinstance(tree, DirTree):
            # the find output the stat table is now of, when every file in it is trusted
            written = time.time_ns() if stats_changed else int(
                store.meta(f"stats-written:{root_dir}") or 0)
            trusted = (listing is not None and listed is not None
                       and len(stat_table) == len(listed)
                       and all(e[1] < written - RACY_NS for e in stat_table.values()))
            mark = listing if trusted else None
            if stats_changed or store.meta(_LISTING + root_dir) != mark:
                with store.write():
                    if stats_changed:
                        store.put_stats(root_dir, stat_table)
                        store.set_meta(f"stats-written:{root_dir}", str(written))
                    store.set_meta(_LISTING + root_dir, mark)
        elif stats_changed and root_dir:
            with store.write():
                store.put_stats(root_dir, stat_table)
                store.set_meta(f"stats-written:{root_dir}", str(time.time_ns()))
                store.set_meta(_LISTING + root_dir, None)
        if parsed:
            with store.write():  # other revisions' facts, but for the graph's base
                store.drop_unused_facts(keys.values())
        store.begin_read()

    ordered = {p: keys[p] for p in sorted(keys)}
    digest = hashlib.blake2b(digest_size=16)
    for key in ordered.values():
        digest.update(key)
    result = TreeIndex(store, ordered, digest.hexdigest(), tree, _location(tree),
                       store.decoded)
    if stats is not None:
        stats.fingerprint = result.fingerprint
        stats.files = len(keys)
        stats.bytes = sum(stat_table[p][0] if p in stat_table else len(contents.get(p, b""))
                          for p in keys)
        stats.parsed = parsed
        stats.cached = len(keys) - parsed
        stats.seconds = time.perf_counter() - started
        stats.jobs = jobs
    return result


def index_lazily(*args: object, **kwargs: object) -> TreeIndex:
    """``open_index`` (its older name)."""
    return open_index(*args, **kwargs)  # type: ignore[arg-type]


IndexedTree = TreeIndex
