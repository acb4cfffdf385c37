"""C facts of a whole tree (``hw/``, ``include/``, ``system/``...), cached on disk.

A file's facts are cached under a key made of its path and its content hash, in one file
per tree and ``cfacts.FACTS_VERSION``, so a second run parses only the files that changed (or
all of them after an upgrade that changes the facts). The first run spreads the parsing over
every core. A file whose size and mtime have not changed is not even read again.

Cache directory: ``cache_dir`` if given, else ``$REVIEWBOT_CACHE_DIR``, else
``$XDG_CACHE_HOME/reviewbot``, else ``~/.cache/reviewbot``. It never lives in the tree.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewbot.cfacts import FACTS_VERSION, FileFacts, extract
from reviewbot.tree import C_SUFFIXES, DEFAULT_PREFIXES, Tree

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


def _cache_file(cache_dir: Path, tree: Tree) -> Path:
    """One file per tree (a directory, or a repository whatever its revision)."""
    where = hashlib.blake2b(str(tree.root or "").encode("utf-8", "surrogateescape"),
                            digest_size=8).hexdigest()
    return cache_dir / f"facts-v{FACTS_VERSION}-{where}.pickle"


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
            data = pickle.load(fh)
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


def _keys(tree: Tree, paths: list[str], cache: _Cache,
          ) -> tuple[dict[str, bytes], dict[str, bytes], StatTable]:
    """Content keys of ``paths``; the contents read to get them; the fresh stat table.

    A file whose size and mtime match the table is not read again, unless its mtime is too
    close to the time the table was written to be trusted (it may have changed within the
    same clock tick, as git's racy-index rule has it).
    """
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
    from reviewbot.limits import LimitExceeded

    try:
        return extract(path, data.decode("utf-8", "surrogateescape"))
    except LimitExceeded:
        # too big or too slow: the file stays in the index, without facts
        return FileFacts(path=path, error_lines=(1,))


def _extract_batch(batch: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    gc.disable()
    try:
        return [(path, pickle.dumps(_extract_one(path, data), protocol=pickle.HIGHEST_PROTOCOL))
                for path, data in batch]
    finally:
        gc.enable()


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
    started = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    paths = tree.list_files(prefixes, suffixes)
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    was_enabled = gc.isenabled()
    gc.disable()  # loading many small objects: the collector would only slow it down
    try:
        cache_file = _cache_file(directory, tree)
        loaded: dict[bytes, FileFacts] = {}
        memo = _MEMO.get(cache_file) if use_cache else None
        if memo is not None and memo[0] == _stamp(cache_file):
            _, cache, loaded = memo
        else:
            cache = _load_cache(cache_file) if use_cache else _Cache({}, {})
        keys, contents, stat_table = _keys(tree, paths, cache)
        blobs = {p: cache.facts[k] for p, k in keys.items() if k in cache.facts}
        missing = [(p, contents.get(p) or tree.read_bytes(p) or b"")
                   for p in keys if p not in blobs]
        parsed = parse_files(missing, jobs) if missing else []
        blobs.update(parsed)
        found: dict[str, FileFacts] = {}
        for p, blob in blobs.items():
            known = loaded.get(keys[p])
            if known is not None:
                found[p] = known
                continue
            try:
                found[p] = pickle.loads(blob)
            except Exception:  # a damaged entry: parse that file again
                found[p] = _extract_one(p, tree.read_bytes(p) or b"")
        stats_changed = any(cache.stats.get(k) != v for k, v in stat_table.items())
        if use_cache and (parsed or stats_changed):
            fresh = {keys[p]: blob for p, blob in blobs.items()}
            room = len(fresh) + int(len(keys) * KEEP_OLD_SHARE)
            for k, blob in cache.facts.items():
                if len(fresh) >= room:
                    break
                fresh.setdefault(k, blob)
            cache = _Cache(fresh, stat_table)
            _save_cache(cache_file, cache)
        if use_cache:
            stamp = _stamp(cache_file)
            _MEMO.clear()  # one tree's facts at a time: they are large
            if stamp is not None:
                _MEMO[cache_file] = (stamp, cache, {keys[p]: ff for p, ff in found.items()})
    finally:
        if was_enabled:
            gc.enable()

    if stats is not None:
        digest = hashlib.blake2b(digest_size=16)
        for p in sorted(keys):
            digest.update(keys[p])
        stats.fingerprint = digest.hexdigest()
        stats.files = len(keys)
        root = str(tree.root)
        stats.bytes = sum(stat_table[(root, p)][0] if (root, p) in stat_table
                          else len(contents.get(p, b"")) for p in keys)
        stats.parsed = len(parsed)
        stats.cached = len(keys) - len(parsed)
        stats.seconds = time.perf_counter() - started
        stats.jobs = jobs
    return [found[p] for p in sorted(found)]
