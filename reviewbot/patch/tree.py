"""A checkout to read from: a directory (``--tree DIR``), a git revision, or the git index.

Every Tree is read-only: git objects are read with ``git cat-file --batch`` / ``git ls-tree``
/ ``git ls-files``, which never touch the work tree, the index or the refs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.errors import InputError

if TYPE_CHECKING:
    from reviewbot.model import Series

DEFAULT_PREFIXES = ("hw/", "include/", "system/")
C_SUFFIXES = (".c", ".h")


def _matches(path: str, prefixes: Sequence[str], suffixes: Sequence[str]) -> bool:
    return (not prefixes or path.startswith(tuple(prefixes))) and (
        not suffixes or path.endswith(tuple(suffixes)))


class Tree:
    """Files of one checkout by repository-relative path (``hw/mem/pc-dimm.c``)."""

    root: Path | None = None

    def read_bytes(self, path: str) -> bytes | None:
        raise NotImplementedError

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """Contents of several files at once (missing ones left out)."""
        out = {}
        for p in paths:
            data = self.read_bytes(p)
            if data is not None:
                out[p] = data
        return out

    def list_files(self, prefixes: Sequence[str] = DEFAULT_PREFIXES,
                   suffixes: Sequence[str] = C_SUFFIXES) -> list[str]:
        raise NotImplementedError

    def blob_ids(self, prefixes: Sequence[str] = DEFAULT_PREFIXES,
                 suffixes: Sequence[str] = C_SUFFIXES) -> dict[str, str] | None:
        """path -> an id that changes with the file's content (git's blob ids), for the
        files ``list_files`` would give, when the tree knows them without reading the files;
        None otherwise."""
        return None

    def describe(self) -> str:
        return str(self.root) if self.root else "tree"

    def stat(self, path: str) -> tuple[int, int] | None:
        """(size, mtime in ns) when the tree can tell cheaply whether a file changed."""
        return None

    def read_text(self, path: str) -> str | None:
        data = self.read_bytes(path)
        return None if data is None else data.decode("utf-8", "surrogateescape")

    def exists(self, path: str) -> bool:
        return self.read_bytes(path) is not None

    def is_dir(self, path: str) -> bool:
        """Is ``path`` a directory of this tree (at its revision, for a repository)?"""
        raise NotImplementedError

    def version(self) -> str | None:
        text = self.read_text("VERSION")
        return text.strip() or None if text is not None else None

    def maintainers_text(self) -> str | None:
        return self.read_text("MAINTAINERS")


class DirTree(Tree):
    """A directory on disk, e.g. an unpacked QEMU source tree.

    Nothing outside the directory is read: ``..`` and absolute paths are refused, and a path
    that goes through a symbolic link is read only when the link resolves inside the tree.
    Files found by ``list_files`` were vetted while walking, so bulk reads skip the check.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self._vetted: set[str] = set()

    def _inside(self, full: str) -> bool:
        root = str(self.root)
        return full == root or full.startswith(root + os.sep)

    def _full(self, path: str) -> Path | None:
        assert self.root is not None
        parts = path.replace("\\", "/").split("/")
        if not path or path.startswith("/") or ".." in parts:
            return None  # ../ escapes and absolute paths are not part of the tree
        full = self.root / path
        if path not in self._vetted and not self._inside(os.path.realpath(full)):
            return None  # a symbolic link out of the tree
        return full

    def read_bytes(self, path: str) -> bytes | None:
        full = self._full(path)
        if full is None:
            return None
        try:
            with open(full, "rb") as fh:  # noqa: PTH123 - one syscall fewer than Path.read_bytes
                return fh.read()
        except OSError:  # absent, a directory, unreadable
            return None

    def is_dir(self, path: str) -> bool:
        full = self._full(path.rstrip("/"))
        return full is not None and full.is_dir()

    def stat(self, path: str) -> tuple[int, int] | None:
        if path in self._vetted:  # found by list_files: no path checks (a warm index stats
            full: str | Path | None = f"{self.root}/{path}"  # every file of the tree)
        else:
            full = self._full(path)
        if full is None:
            return None
        try:
            st = os.stat(full)  # noqa: PTH116 - a warm index stats every file
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def list_files(self, prefixes: Sequence[str] = DEFAULT_PREFIXES,
                   suffixes: Sequence[str] = C_SUFFIXES) -> list[str]:
        assert self.root is not None
        out: list[str] = []
        tops = sorted({p.split("/", 1)[0] for p in prefixes}) if prefixes else [""]
        for top in tops:
            base = self.root / top
            if not base.is_dir() or not self._inside(os.path.realpath(base)):
                continue
            # os.walk does not descend into symbolic links to directories
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                rel_dir = os.path.relpath(dirpath, self.root)
                for name in filenames:
                    rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                    if not _matches(rel, prefixes, suffixes):
                        continue
                    full = os.path.join(dirpath, name)  # noqa: PTH118 - hot loop
                    if os.path.islink(full) and not self._inside(  # noqa: PTH114
                            os.path.realpath(full)):
                        continue
                    out.append(rel)
        self._vetted.update(out)
        return sorted(out)


    def list_stats(self, prefixes: Sequence[str] = DEFAULT_PREFIXES,
                   suffixes: Sequence[str] = C_SUFFIXES,
                   ) -> dict[str, tuple[int, int] | None]:
        """``list_files`` with each file's ``stat`` (None when it cannot be read), in one
        walk of only the directories the prefixes name (the tree index stats every file on
        every run). The walk a ``list_stats_soon`` started for the same listing is taken
        when it worked; else the directories are walked here."""
        return self.list_stats_from(self.take_listing(prefixes, suffixes), prefixes, suffixes)

    def list_stats_from(self, printed: bytes | None, prefixes: Sequence[str],
                        suffixes: Sequence[str]) -> dict[str, tuple[int, int] | None]:
        """``list_stats`` from what ``take_listing`` gave (None: walk the directories)."""
        found = None if printed is None else self._parse_listing(
            printed, tuple(prefixes), tuple(suffixes))
        if found is None:
            found = self._walk_stats(prefixes, suffixes)
        self._vetted.update(found)
        return dict(sorted(found.items()))

    def take_listing(self, prefixes: Sequence[str], suffixes: Sequence[str]) -> bytes | None:
        """What the ``find`` that ``list_stats_soon`` started for this listing printed, once;
        None when none was started or it failed."""
        assert self.root is not None
        pending = _SOON.pop((str(self.root), tuple(prefixes), tuple(suffixes)), None)
        return None if pending is None else pending.output()

    def vet(self, paths: Iterable[str]) -> None:
        """``paths`` were listed (by an earlier run, unchanged since): read without checks."""
        self._vetted.update(paths)

    def _starts(self, prefixes: Sequence[str]) -> list[str]:
        """The directories to walk for ``prefixes`` (none inside another), without the
        hidden ones and those that are not directories inside the tree."""
        assert self.root is not None
        root = str(self.root)
        starts: list[str] = []
        for p in sorted({p if p.endswith("/") else p.rpartition("/")[0] + "/"
                         for p in prefixes} if prefixes else {"/"}):
            start = p.strip("/")
            if not any(start == s or start.startswith(s + "/") or not s for s in starts):
                starts.append(start)
        out = []
        for start in starts:
            if any(part.startswith(".") for part in start.split("/") if part):
                continue  # list_files does not enter hidden directories
            base = f"{root}/{start}" if start else root
            if Path(base).is_dir() and self._inside(os.path.realpath(base)):
                out.append(start)
        return out

    def _walk_stats(self, prefixes: Sequence[str], suffixes: Sequence[str],
                    ) -> dict[str, tuple[int, int] | None]:
        assert self.root is not None
        root = str(self.root)
        out: dict[str, tuple[int, int] | None] = {}
        wanted_prefixes, wanted_suffixes = tuple(prefixes), tuple(suffixes)
        by_name = bool(wanted_suffixes) and not any("/" in x for x in wanted_suffixes)
        for start in self._starts(prefixes):
            base = f"{root}/{start}" if start else root
            stack = [(base, start)]
            while stack:
                full_dir, rel_dir = stack.pop()
                try:
                    entries = list(os.scandir(full_dir))
                except OSError:
                    continue
                for entry in entries:
                    name = entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if not name.startswith("."):
                            stack.append((entry.path, f"{rel_dir}/{name}" if rel_dir else name))
                        continue
                    # the suffix first, on the name: most files of a source tree are not C
                    if by_name and not name.endswith(wanted_suffixes):
                        continue
                    rel = f"{rel_dir}/{name}" if rel_dir else name
                    if not _matches(rel, wanted_prefixes, wanted_suffixes):
                        continue
                    if entry.is_symlink() and not self._inside(os.path.realpath(entry.path)):
                        continue
                    try:
                        st = entry.stat()
                        out[rel] = (st.st_size, st.st_mtime_ns)
                    except OSError:
                        out[rel] = None
        return out

    def _parse_listing(self, printed: bytes, prefixes: tuple[str, ...],
                       suffixes: tuple[str, ...]) -> dict[str, tuple[int, int] | None] | None:
        """What ``find`` printed, as ``_walk_stats`` gives it; None when it cannot be read."""
        assert self.root is not None
        import sys

        root = str(self.root)
        head = os.fsencode(root) + b"/"
        cut = len(head)
        encoding, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()
        every = all(p.endswith("/") for p in prefixes)  # find's start directories are them
        out: dict[str, tuple[int, int] | None] = {}
        try:
            for record in printed.split(b"\0"):
                if not record:
                    continue
                kind, size, mtime, full = record.split(b"\t", 3)
                if not full.startswith(head):
                    return None
                rel = full[cut:].decode(encoding, errors)
                if not every and not _matches(rel, prefixes, suffixes):
                    continue
                if kind != b"l":
                    out[rel] = (int(size), _nanoseconds(mtime))
                    continue
                # a symbolic link: followed, as os.scandir's entry.stat() does, when it
                # stays inside the tree
                if not self._inside(os.path.realpath(f"{root}/{rel}")):
                    continue
                try:
                    st = os.stat(f"{root}/{rel}")  # noqa: PTH116
                    out[rel] = (st.st_size, st.st_mtime_ns)
                except OSError:
                    out[rel] = None
        except ValueError:
            return None
        return out


def _nanoseconds(printed: bytes) -> int:
    """find's ``%T@`` (seconds, a dot, the fraction: ``1787772685.0123456780``) as the
    integer ``st_mtime_ns`` is."""
    digits = printed[:-1].replace(b".", b"", 1)
    if printed[-11:-10] == b"." and digits.isdigit():
        # what GNU find prints: ten digits after the dot, the last always 0
        return int(digits)
    sign = -1 if printed.startswith(b"-") else 1
    whole, _, fraction = printed.lstrip(b"-").partition(b".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        raise ValueError(printed)
    return sign * (int(whole) * 1_000_000_000 + int((fraction + b"000000000")[:9]))


class _Find:
    """A ``find`` walking the tree's directories in its own process (see ``list_stats_soon``)."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd

    def output(self) -> bytes | None:
        """All it printed, or None when it failed (a find without GNU's -printf, a directory
        it could not read: the walk in this process then says what it finds)."""
        chunks = []
        try:
            while chunk := os.read(self.fd, 1 << 18):
                chunks.append(chunk)
        finally:
            status = self._end()
        return b"".join(chunks) if status == 0 else None

    def discard(self) -> None:
        if self.fd >= 0:
            os.kill(self.pid, 15)
            self._end()

    def _end(self) -> int:
        os.close(self.fd)
        self.fd = -1
        return os.waitpid(self.pid, 0)[1]


_SOON: dict[tuple[str, tuple[str, ...], tuple[str, ...]], _Find] = {}


def list_stats_soon(root: str | Path, prefixes: Sequence[str],
                    suffixes: Sequence[str] = C_SUFFIXES) -> None:
    """Start listing what ``DirTree(root).list_stats(prefixes, suffixes)`` will give, in a
    ``find`` process of its own; ``list_stats`` takes its output.

    A warm check with a tree stats every C file of it (about 3,000 on QEMU): 15 ms of system
    calls that a thread of this process cannot overlap with the rest of the check (it needs
    the interpreter lock back after each one), while another process, started before the
    mail is read and the rules are loaded, does them on another core. Nothing happens where
    there is no ``find`` or no ``posix_spawn``; a ``find`` that fails is ignored."""
    spawn = getattr(os, "posix_spawnp", None)
    tree = DirTree(root)
    starts = tree._starts(prefixes)
    key = (str(tree.root), tuple(prefixes), tuple(suffixes))
    old = _SOON.pop(key, None)
    if old is not None:
        old.discard()
    if spawn is None or not starts or not suffixes or any("/" in x for x in suffixes):
        return
    names: list[str] = []
    for suffix in suffixes:
        names += ["-o", "-name", f"*{suffix}"] if names else ["-name", f"*{suffix}"]
    argv = ["find", "-H", *(f"{tree.root}/{s}" if s else str(tree.root) for s in starts),
            "-mindepth", "1", "(", "-type", "d", "-name", ".*", "-prune", ")", "-o",
            "(", "!", "-type", "d", "(", *names, ")", "-printf", "%y\t%s\t%T@\t%p\\0", ")"]
    read_end, write_end = os.pipe()
    with contextlib.suppress(ImportError, OSError, AttributeError):
        # room for all it prints (about 250 kB on QEMU), so that it ends without waiting
        # for this process to read (Linux; elsewhere it waits, which is only slower)
        import fcntl

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 1 << 20)
    try:
        pid = spawn("find", argv, {"PATH": os.environ.get("PATH", os.defpath), "LC_ALL": "C"},
                    file_actions=[(os.POSIX_SPAWN_DUP2, write_end, 1),
                                  (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                                  (os.POSIX_SPAWN_CLOSE, read_end)])
    except OSError:
        os.close(read_end)
        return
    finally:
        os.close(write_end)
    _SOON[key] = _Find(pid, read_end)


def drop_listings() -> None:
    """End the ``find``s started and never taken (a check that did not need the index)."""
    while _SOON:
        _SOON.popitem()[1].discard()


def _git(repo: Path, *args: str, input_: bytes | None = None) -> bytes:
    import subprocess

    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], input=input_,
                              capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError(f"{repo}: git is not installed") from None
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"{repo}: git {args[0]}: {msg[-1] if msg else 'failed'}")
    return proc.stdout


def read_across(wanted: Iterable[tuple[GitTree, str]]) -> None:
    """Read files of one repository at several revisions with one ``git cat-file --batch``
    into each tree's cache (a missing file is cached as None)."""
    todo = [(tree, p) for tree, p in dict.fromkeys(wanted)
            if p not in tree._cache and "\n" not in p]
    if not todo:
        return
    root = todo[0][0].root
    assert root is not None and all(tree.root == root for tree, _ in todo)
    batch = "".join(tree._spec(p) + "\n" for tree, p in todo).encode()
    out = _git(root, "cat-file", "--batch", input_=batch)
    pos = 0
    for tree, p in todo:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].split(b" ")
        pos = eol + 1
        if len(header) != 3 or not header[2].isdigit():
            tree._cache[p] = None  # "<spec> missing" or "<spec> ambiguous"
            continue
        size = int(header[2])
        tree._cache[p] = out[pos:pos + size] if header[1] == b"blob" else None
        pos += size + 1


class GitTree(Tree):
    """A repository at one revision (``rev``), or its index when ``rev`` is None.

    ``meta``, when given, is where ``version()`` and ``maintainers_text()`` read instead:
    a series' base tree answers those from the state the series leaves.
    """

    def __init__(self, repo: str | Path, rev: str | None, *, meta: Tree | None = None) -> None:
        self.root = Path(repo).resolve()
        self.rev = rev
        self.meta = meta
        self._cache: dict[str, bytes | None] = {}
        self._dirs: frozenset[str] | None = None

    def version(self) -> str | None:
        return self.meta.version() if self.meta is not None else super().version()

    def maintainers_text(self) -> str | None:
        if self.meta is not None:
            return self.meta.maintainers_text()
        return super().maintainers_text()

    def describe(self) -> str:
        return f"{self.root}@{self.rev}" if self.rev else f"{self.root} (index)"

    def _spec(self, path: str) -> str:
        return f"{self.rev}:{path}" if self.rev else f":{path}"

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        paths = list(paths)
        read_across([(self, p) for p in paths])
        return {p: d for p in paths if (d := self._cache.get(p)) is not None}

    def read_bytes(self, path: str) -> bytes | None:
        return self.read_many([path]).get(path)

    def is_dir(self, path: str) -> bool:
        if self._dirs is None:
            dirs = set()
            for name in self.list_files(prefixes=(), suffixes=()):
                parent = name
                while "/" in parent:
                    parent = parent.rsplit("/", 1)[0]
                    if parent in dirs:
                        break
                    dirs.add(parent)
            self._dirs = frozenset(dirs)
        return path.rstrip("/") in self._dirs

    def list_files(self, prefixes: Sequence[str] = DEFAULT_PREFIXES,
                   suffixes: Sequence[str] = C_SUFFIXES) -> list[str]:
        assert self.root is not None
        dirs = sorted({p.rstrip("/") for p in prefixes})
        if self.rev:
            out = _git(self.root, "ls-tree", "-r", "-z", "--name-only", self.rev, "--", *dirs)
        else:
            out = _git(self.root, "ls-files", "-z", "--cached", "--", *dirs)
        names = [n.decode("utf-8", "surrogateescape") for n in out.split(b"\0") if n]
        return sorted(n for n in names if _matches(n, prefixes, suffixes))

    def blob_ids(self, prefixes: Sequence[str] = DEFAULT_PREFIXES,
                 suffixes: Sequence[str] = C_SUFFIXES) -> dict[str, str] | None:
        assert self.root is not None
        dirs = sorted({p.rstrip("/") for p in prefixes})
        if self.rev:
            out = _git(self.root, "ls-tree", "-r", "-z", self.rev, "--", *dirs)
        else:
            out = _git(self.root, "ls-files", "-z", "--stage", "--", *dirs)
        found: dict[str, str] = {}
        for entry in out.split(b"\0"):
            # "<mode> blob <id>\t<path>" (ls-tree) / "<mode> <id> <stage>\t<path>" (ls-files)
            head, tab, name = entry.partition(b"\t")
            fields = head.split(b" ")
            if not tab or len(fields) != 3:
                continue
            if self.rev:
                if fields[1] != b"blob":
                    continue
                blob = fields[2]
            else:
                if fields[2] != b"0":
                    continue  # an unmerged entry has no single content
                blob = fields[1]
            path = name.decode("utf-8", "surrogateescape")
            if _matches(path, prefixes, suffixes):
                found[path] = blob.decode("ascii", "replace")
        return dict(sorted(found.items()))


def open_tree(series: Series, tree_dir: str | None) -> Tree | None:
    """The tree a series is read against: ``--tree DIR`` when given, else for git input the
    repository at the range's end (the index for --staged), else None."""
    if tree_dir is not None:
        if not Path(tree_dir).is_dir():
            raise InputError(f"{tree_dir}: --tree is not a directory")
        return DirTree(tree_dir)
    if series.repo is None:
        return None
    if series.staged:
        return GitTree(series.repo, None)
    commits = [p.commit for p in series.patches if p.commit]
    if commits:
        return GitTree(series.repo, commits[-1])
    if series.base:
        return GitTree(series.repo, series.base)
    return GitTree(series.repo, "HEAD")


def empty_tree_id(repo: str | Path) -> str:
    """The id of the empty tree in ``repo``'s hash format (what a root commit starts from)."""
    return _git(Path(repo), "hash-object", "-t", "tree", "--stdin", input_=b"").decode().strip()


def open_base_tree(series: Series, tree_dir: str | None) -> Tree | None:
    """The tree a series is laid over, patch by patch: ``--tree DIR`` when given; for git
    input the state before its first patch (the range's start, HEAD for --staged, the empty
    tree before a root commit), reading VERSION and MAINTAINERS at the state the series
    leaves (the range's end, the index); None without either."""
    if tree_dir is not None or series.repo is None:
        return open_tree(series, tree_dir)
    end = open_tree(series, None)
    if series.staged:
        return GitTree(series.repo, series.base or empty_tree_id(series.repo), meta=end)
    commits = [p.commit for p in series.patches if p.commit]
    if not commits:
        return end
    base = series.base
    if base is None:
        first = commits[0]
        try:
            base = _git(Path(series.repo), "rev-parse", "--verify", "--quiet",
                        f"{first}^").decode().strip()
        except InputError:
            base = empty_tree_id(series.repo)
    return GitTree(series.repo, base, meta=end)
