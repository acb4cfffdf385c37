"""C facts of a whole tree (``hw/``, ``include/``, ``system/``...), cached on disk.

A file's facts are cached under a key made of its path and its content hash, in one file
per tree and ``cfacts.FACTS_VERSION``, so a second run parses only the files that changed (or
all of them after an upgrade that changes the facts). The first run spreads the parsing over
every core. A file whose size and mtime have not changed is not even read again.

Cache directory: ``cache_dir`` if given, else ``$REVIEWBOT_CACHE_DIR``, else
``$XDG_CACHE_HOME/reviewbot``, else ``~/.cache/reviewbot``. It never lives in the tree.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.c.facts import FACTS_VERSION, FileFacts, extract
from reviewbot.patch.tree import C_SUFFIXES, DEFAULT_PREFIXES, Tree
from reviewbot.util import cachefile
from reviewbot.util.nogc import collector_paused

# Entries kept from earlier runs besides those of this run (other revisions of the same
# tree), as a share of this run's: a warm run loads the whole file, so it must stay small.
KEEP_OLD_SHARE = 0.5


@dataclass
class IndexStats:
    files: int = 0
    bytes: int = 0
    parsed: int = 0  # files parsed in this run
    cached: int = 0  # files whose facts came from the cache
    seconds: float = 0.0
    jobs: int = 1
    fingerprint: str = ""  # changes when any file's content (or the set of files) does


def default_cache_dir() -> Path:
    env = os.environ.get("REVIEWBOT_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "reviewbot"


def _location(tree: Tree) -> str:
    """A short name for where the tree is (a directory, or a repository whatever its
    revision)."""
    return hashlib.blake2b(str(tree.root or "").encode("utf-8", "surrogateescape"),
                           digest_size=8).hexdigest()


def _cache_file(cache_dir: Path, tree: Tree) -> Path:
    """One file per tree location."""
    return cache_dir / f"facts-v{FACTS_VERSION}-{_location(tree)}.pickle"


def _key(path: str, data: bytes) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    h.update(path.encode("utf-8", "surrogateescape"))
    h.update(b"\0")
    h.update(data)
    return h.digest()


# (tree root, path) -> (size, mtime_ns, key): lets a warm run skip reading unchanged files.
StatTable = dict[tuple[str, str], tuple[int, int, bytes]]


@dataclass
class _Cache:
    # key -> pickled FileFacts: workers send them pickled anyway, and entries of other
    # revisions are carried over without being unpickled
    facts: dict[bytes, bytes]
    stats: StatTable
    written_ns: int = 0


# The cache last used in this process, with the facts it gave: a second index of the same
# tree in one process (a bulk run, a test session) neither reloads nor unpickles them.
_MEMO: dict[Path, tuple[tuple[int, int], _Cache, dict[bytes, FileFacts]]] = {}


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _load_cache(cache_file: Path) -> _Cache:
    try:
        with cache_file.open("rb") as fh:
            data = cachefile.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            ValueError, TypeError, IndexError):
        return _Cache({}, {})  # absent or unreadable: start afresh
    if not isinstance(data, _Cache):
        return _Cache({}, {})
    return data


def _save_cache(cache_file: Path, cache: _Cache) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_file.parent, prefix=".facts-", suffix=".tmp")
        cache.written_ns = time.time_ns()
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(cache, fh, protocol=pickle.HIGHEST_PROTOCOL)
        Path(tmp).replace(cache_file)
    except OSError:
        pass  # a cache that cannot be written only costs time on the next run


def _keys(tree: Tree, paths: list[str], cache: _Cache, blob_ids: dict[str, str] | None,
          ) -> tuple[dict[str, bytes], dict[str, bytes], StatTable]:
    """Content keys of ``paths``; the contents read to get them; the fresh stat table.

    A git tree names its files' contents (blob ids), so nothing is read to key them. In a
    directory, a file whose size and mtime match the table is not read again, unless its
    mtime is too close to the time the table was written to be trusted (it may have changed
    within the same clock tick, as git's racy-index rule has it).
    """
    if blob_ids is not None:
        return {p: _key(p, b"git-blob:" + blob_ids[p].encode()) for p in paths}, {}, {}
    root = str(tree.root) if tree.root is not None else ""
    trusted_before = cache.written_ns - 2_000_000_000
    keys: dict[str, bytes] = {}
    stats: StatTable = {}
    unknown: list[str] = []
    for p in paths:
        st = tree.stat(p) if root else None
        if st is not None:
            old = cache.stats.get((root, p))
            if old is not None and old[:2] == st and st[1] < trusted_before:
                keys[p] = old[2]
                stats[(root, p)] = old
                continue
        unknown.append(p)
    contents = tree.read_many(unknown)
    for p in unknown:
        if p not in contents:
            continue
        keys[p] = _key(p, contents[p])
        st = tree.stat(p) if root else None
        if st is not None:
            stats[(root, p)] = (st[0], st[1], keys[p])
    return keys, contents, stats


def _extract_one(path: str, data: bytes) -> FileFacts:
    from reviewbot.util.limits import LimitExceeded

    try:
        return extract(path, data.decode("utf-8", "surrogateescape"))
    except LimitExceeded:
        # too big or too slow: the file stays in the index, without facts
        return FileFacts(path=path, error_lines=(1,))


def _extract_batch(batch: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    with collector_paused():
        return [(path, pickle.dumps(_extract_one(path, data), protocol=pickle.HIGHEST_PROTOCOL))
                for path, data in batch]


def _batches(items: list[tuple[str, bytes]], count: int) -> list[list[tuple[str, bytes]]]:
    """``count`` batches of similar total size (largest files dealt first)."""
    ordered = sorted(items, key=lambda it: -len(it[1]))
    batches: list[list[tuple[str, bytes]]] = [[] for _ in range(count)]
    sizes = [0] * count
    for item in ordered:
        i = sizes.index(min(sizes))
        batches[i].append(item)
        sizes[i] += len(item[1])
    return [b for b in batches if b]


def parse_files(items: list[tuple[str, bytes]], jobs: int) -> list[tuple[str, bytes]]:
    """(path, pickled facts) of (path, content) pairs, on ``jobs`` processes."""
    if jobs <= 1 or len(items) < 8:
        return _extract_batch(items)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Several small batches per worker so that a slow batch does not hold up the end.
    batches = _batches(items, jobs * 4)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        results = list(pool.map(_extract_batch, batches))
    return [ff for batch in results for ff in batch]


@dataclass
class IndexedTree:
    """A tree's facts as the cache holds them: pickled, unpickled only when asked for."""

    blobs: dict[str, bytes]  # path -> pickled FileFacts, in path order
    keys: dict[str, bytes]  # path -> content key
    fingerprint: str
    # content key -> facts unpickled in this process (shared by every index of the tree)
    loaded: dict[bytes, FileFacts]
    tree: Tree | None = None
    location: str = ""  # names the tree's place (not its content) in cache file names
    # content key -> pickled facts: every entry of the cache, other revisions' files too
    cached: dict[bytes, bytes] = field(default_factory=dict)

    def facts(self, path: str) -> FileFacts:
        """The facts of ``path`` (KeyError for a file not in the index)."""
        return self._unpickle(self.keys[path], self.blobs[path], path)

    def facts_for_key(self, key: bytes) -> FileFacts | None:
        """The facts of a content key, when the cache still has them (also for files of
        another revision of the tree)."""
        blob = self.cached.get(key)
        if blob is None:
            return None
        return self._unpickle(key, blob, None)

    def _unpickle(self, key: bytes, blob: bytes, path: str | None) -> FileFacts:
        ff = self.loaded.get(key)
        if ff is None:
            try:
                with collector_paused():
                    loaded = cachefile.loads(blob)
                if not isinstance(loaded, FileFacts):
                    raise pickle.UnpicklingError("not a file's facts")
                ff = loaded
            except Exception:  # a damaged entry: parse that file again
                if path is None:
                    ff = FileFacts(path="", error_lines=(1,))
                else:
                    data = self.tree.read_bytes(path) if self.tree is not None else None
                    ff = _extract_one(path, data or b"")
            self.loaded[key] = ff
        return ff

    def all_facts(self) -> list[FileFacts]:
        with collector_paused():
            return [self.facts(p) for p in self.blobs]


def index_tree(
    tree: Tree,
    prefixes: Sequence[str] = DEFAULT_PREFIXES,
    jobs: int | None = None,
    cache_dir: str | Path | None = None,
    *,
    suffixes: Sequence[str] = C_SUFFIXES,
    stats: IndexStats | None = None,
    use_cache: bool = True,
) -> list[FileFacts]:
    """Facts of every C file under ``prefixes`` in ``tree``, in path order."""
    return index_lazily(tree, prefixes, jobs, cache_dir, suffixes=suffixes, stats=stats,
                        use_cache=use_cache).all_facts()


def index_lazily(
    tree: Tree,
    prefixes: Sequence[str] = DEFAULT_PREFIXES,
    jobs: int | None = None,
    cache_dir: str | Path | None = None,
    *,
    suffixes: Sequence[str] = C_SUFFIXES,
    stats: IndexStats | None = None,
    use_cache: bool = True,
) -> IndexedTree:
    """``index_tree`` without unpickling: files are parsed (and cached) as there, but their
    facts are unpickled only when asked for (a warm run with a prebuilt graph needs few)."""
    started = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    blob_ids = tree.blob_ids(prefixes, suffixes)
    paths = list(blob_ids) if blob_ids is not None else tree.list_files(prefixes, suffixes)
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    with collector_paused():
        cache_file = _cache_file(directory, tree)
        loaded: dict[bytes, FileFacts] = {}
        memo = _MEMO.get(cache_file) if use_cache else None
        if memo is not None and memo[0] == _stamp(cache_file):
            _, cache, loaded = memo
        else:
            cache = _load_cache(cache_file) if use_cache else _Cache({}, {})
        keys, contents, stat_table = _keys(tree, paths, cache, blob_ids)
        blobs = {p: cache.facts[k] for p, k in keys.items() if k in cache.facts}
        missing = [p for p in keys if p not in blobs]
        if blob_ids is not None and missing:
            contents = tree.read_many(missing)
        parsed = parse_files([(p, contents.get(p) or tree.read_bytes(p) or b"")
                              for p in missing], jobs) if missing else []
        blobs.update(parsed)
        stats_changed = any(cache.stats.get(k) != v for k, v in stat_table.items())
        if use_cache and (parsed or stats_changed):
            fresh = {keys[p]: blob for p, blob in blobs.items()}
            room = len(fresh) + int(len(keys) * KEEP_OLD_SHARE)
            for k, blob in cache.facts.items():
                if len(fresh) >= room:
                    break
                fresh.setdefault(k, blob)
            cache = _Cache(fresh, stat_table or cache.stats)
            _save_cache(cache_file, cache)
        # facts this process already unpickled for the same content are reused
        result = IndexedTree({p: blobs[p] for p in sorted(blobs)}, keys, "", loaded, tree,
                             _location(tree), cache.facts)
        if use_cache:
            stamp = _stamp(cache_file)
            _MEMO.clear()  # one tree's facts at a time: they are large
            if stamp is not None:
                # shared with ``result``, so what it unpickles later is remembered too
                _MEMO[cache_file] = (stamp, cache, loaded)

    digest = hashlib.blake2b(digest_size=16)
    for p in sorted(keys):
        digest.update(keys[p])
    result.fingerprint = digest.hexdigest()
    if stats is not None:
        stats.fingerprint = result.fingerprint
        stats.files = len(keys)
        root = str(tree.root)
        stats.bytes = sum(stat_table[(root, p)][0] if (root, p) in stat_table
                          else len(contents.get(p, b"")) for p in keys)
        stats.parsed = len(parsed)
        stats.cached = len(keys) - len(parsed)
        stats.seconds = time.perf_counter() - started
        stats.jobs = jobs
    return result
