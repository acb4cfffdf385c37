"""What a check primitive sees: the series, one patch, post-images, C facts and the call graph.

Everything is computed on first use and cached per run, so a rule that only reads commit
messages never pays for tree-sitter or the tree index.

The tree a series is read against is the state before its first patch: ``--tree DIR``, or
for git input the range's start (HEAD for ``--staged``). Patch i's graph is the tree's graph
with every C file patches 1..i touched laid over it, each as it is after patch i (a file one
of them deletes is gone), so a patch never sees what later patches do.

With a tree, the tree's facts and graph live in the tree index database
(``reviewbot.c.index``, ``reviewbot.c.graphdb``): built once for a tree's content, then read
lazily, a node or a table row at a time, as far as the rules walk (``graph.GraphState`` over
``graphdb.load_state``). ``PatchContext.graph`` switches the one shared graph to its patch,
so a graph is valid until another patch's graph is asked for (the engine runs the patch
rules patch by patch).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.finding import PatchRef, Severity
from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from reviewbot.c.digraph import DiGraph
    from reviewbot.c.facts import FileFacts
    from reviewbot.c.graph import GraphState
    from reviewbot.c.index import TreeIndex
    from reviewbot.model import Patch, Series
    from reviewbot.patch.source import PostImages, SourceFile
    from reviewbot.patch.tree import Tree

C_SUFFIXES = (".c", ".h")
# Parts of a tree whose facts feed the graph when a tree is given.
TREE_PREFIXES = ("hw/", "include/hw/", "system/", "accel/", "target/", "backends/")


@frozen
class Options:
    all_files: bool = False  # --all: report on whole files, not only on what the series changes
    tree: str | None = None  # --tree DIR
    qemu_version: str | None = None  # --qemu-version, else the tree's VERSION
    enabled: frozenset[str] = frozenset()  # --enable: when given, only these rules run
    disabled: frozenset[str] = frozenset()  # --disable
    fail_on: Severity = Severity.WARNING
    per_series: bool = False  # --per-series: formatters that write per patch write one report
    index_tree: bool = True  # feed the whole tree's facts into the graph when a tree is known


def patch_ref(series: Series, position: int) -> PatchRef:
    """PatchRef of ``series.patches[position]``: its n of n/N, or its place in the series."""
    patch = series.patches[position]
    index = patch.subject.counter if patch.subject.counter else position + 1
    return PatchRef(index=index, subject=patch.subject.raw or patch.subject.title,
                    message_id=patch.mail.message_id)


def cover_ref(series: Series) -> PatchRef | None:
    if series.cover is None:
        return None
    return PatchRef(index=0, subject=series.cover.subject.raw or series.cover.subject.title,
                    message_id=series.cover.message_id)


class SeriesContext:
    """Shared by every rule for one run over one series."""

    def __init__(self, series: Series, options: Options, tree: Tree | None = None,
                 *, open_tree: bool = True, rebuild_graphs: bool = False) -> None:
        self.series = series
        self.options = options
        self._tree = tree
        self._tree_opened = tree is not None or not open_tree
        self._facts: dict[tuple[int, str], FileFacts | None] = {}
        self._indexed: TreeIndex | None = None
        self._indexed_done = False
        self._tree_facts: list[FileFacts] | None = None
        # the slow reference: every patch's graph built from scratch (tests compare the two)
        self.rebuild_graphs = rebuild_graphs
        self._graphs: dict[int, DiGraph] = {}  # rebuild_graphs: one built graph per patch
        self._state: GraphState | None = None  # no tree index: the series' files only
        self._overlays: dict[int, dict[str, FileFacts | None]] = {}
        self._facts_failed: dict[tuple[int, str], Exception] = {}
        self._completed: dict[tuple[int, str], FileFacts] = {}  # _graph_facts

    @property
    def ref(self) -> PatchRef | None:
        """Series-level findings belong to the cover letter (or nothing without one)."""
        return cover_ref(self.series)

    @property
    def tree(self) -> Tree | None:
        if not self._tree_opened:
            from reviewbot.patch.tree import open_base_tree

            self._tree = open_base_tree(self.series, self.options.tree)
            self._tree_opened = True
        return self._tree

    @cached_property
    def post_images(self) -> PostImages:
        from reviewbot.patch.source import PostImages

        return PostImages(self.series, self.tree)

    @cached_property
    def patch_contexts(self) -> tuple[PatchContext, ...]:
        return tuple(PatchContext(self, i) for i in range(len(self.series.patches)))

    @property
    def qemu_version(self) -> str | None:
        if self.options.qemu_version:
            return self.options.qemu_version
        tree = self.tree
        return tree.version() if tree is not None else None

    def prefetch_facts(self, position: int, path: str) -> bool:
        """Extract the facts of ``path`` after patch ``position`` ahead of the rules; False
        when that fails, in which case the first rule to ask meets the error, as it would
        have without this."""
        try:
            self.facts_after(position, path)
        except Exception as exc:  # kept for the rule that asks next
            self._facts_failed[position, path] = exc
            return False
        return True

    def prefetched(self, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str],
                                                                 FileFacts | None]:
        """The facts extracted for ``keys`` (position, path), for ``adopt_facts``."""
        return {key: self._facts[key] for key in keys if key in self._facts}

    def adopt_facts(self, facts: Mapping[tuple[int, str], FileFacts | None]) -> None:
        """Take the facts another process extracted from the same series (a split check's
        child gets its parent's: engine._run_split)."""
        self._facts.update(facts)

    def facts_after(self, position: int, path: str) -> FileFacts | None:
        key = (position, path)
        failed = self._facts_failed.pop(key, None)
        if failed is not None:
            raise failed
        if key not in self._facts:
            self._facts[key] = None
            src = self.post_images.after(position, path)
            if src is not None and path.endswith(C_SUFFIXES):
                found = None if src.partial else self._indexed_facts(path, src.text)
                if found is None:
                    from reviewbot.c.facts import extract

                    found = extract(path, src.text, partial=src.partial,
                                    enclosing=self.post_images.sections(position, path))
                self._facts[key] = found
        return self._facts[key]

    def _indexed_facts(self, path: str, text: str) -> FileFacts | None:
        """The tree index's facts of ``path`` when ``text`` is byte for byte the file the
        index parsed (a new-file patch of a file the tree already has, a re-posted file):
        what ``extract`` gives for it (the index stores them losslessly), without parsing,
        and the very object the tree's graph holds, so that laying it over the graph changes
        nothing. Only under hw/, where the rules read the graph (and so open the index)
        anyway."""
        if not path.startswith(("hw/", "include/hw/")):
            return None
        indexed = self.indexed_tree()
        if indexed is None or path not in indexed.keys or not indexed.same_content(
                path, text.encode("utf-8", "surrogateescape")):
            return None
        from reviewbot.c.facts import FileFacts

        found = indexed.facts_for_key(indexed.keys[path], path)
        if found is None or found == FileFacts(path=path, error_lines=(1,)):
            return None  # a file the index could not analyse: extract says why
        return found

    def indexed_tree(self) -> TreeIndex | None:
        """The index of the tree's device-model code (a database under the cache directory),
        its facts decoded only when asked for; None without a tree (or with ``index_tree``
        off)."""
        if not self._indexed_done:
            self._indexed_done = True
            tree = self.tree
            if tree is not None and tree.root is not None and self.options.index_tree:
                from sqlite3 import DatabaseError

                from reviewbot.c.index import open_index
                from reviewbot.errors import IndexDamaged

                try:
                    # a first run builds the tree's graph from the facts it parses
                    indexed = open_index(tree, TREE_PREFIXES, keep_parsed=True)
                except DatabaseError as exc:
                    raise IndexDamaged(str(exc)) from None
                if indexed.keys:
                    self._indexed = indexed
        return self._indexed

    def drop_index(self, why: str) -> None:
        """The index database is damaged: remove it (with a note), so that the tree's facts
        and graph are built again when next asked for."""
        tree = self.tree
        if tree is not None:
            from reviewbot.c.index import discard

            discard(tree, why)
        _TREE_STATES.clear()
        self._indexed = None
        self._indexed_done = False
        self._tree_facts = None
        self._overlays.clear()
        self._completed.clear()

    def tree_facts(self) -> list[FileFacts]:
        """Facts of the tree's device-model code (cached on disk by the index)."""
        if self._tree_facts is None:
            indexed = self.indexed_tree()
            self._tree_facts = indexed.all_facts() if indexed is not None else []
        return self._tree_facts

    def overlay(self, position: int) -> dict[str, FileFacts | None]:
        """The C files patches 0..``position`` change: path -> facts after patch
        ``position``, or None for a file one of them deletes (or renames away) and no later
        one brings back. Files whose post-image is unknown are left out."""
        got = self._overlays.get(position)
        if got is None:
            got = self._overlays[position] = self._overlay(position)
        return dict(got)

    def _overlay(self, position: int) -> dict[str, FileFacts | None]:
        last: dict[str, tuple[int, bool]] = {}  # path -> (last patch touching it, is there)
        for i in range(position + 1):
            for f in self.series.patches[i].files:
                if f.is_binary:
                    continue
                if f.source_path and f.source_path != f.target_path and \
                        f.source_path.endswith(C_SUFFIXES):
                    last[f.source_path] = (i, False)
                if not f.is_deleted and f.path.endswith(C_SUFFIXES):
                    last[f.path] = (i, True)
        out: dict[str, FileFacts | None] = {}
        for path, (i, there) in sorted(last.items()):
            if not there:
                out[path] = None
                continue
            # the file as the last patch touching it left it: what it is after ``position``
            facts = self._graph_facts(i, path)
            if facts is not None:
                out[path] = facts
        return out

    def _graph_facts(self, position: int, path: str) -> FileFacts | None:
        """The facts the graph is given for ``path`` after patch ``position`` (the last one
        touching it): ``facts_after``, but for a post-image rebuilt from hunks that do not
        apply to the tree's file, the tree's facts with what the hunks show put in place
        (``reviewbot.c.partial``)."""
        facts = self.facts_after(position, path)
        if facts is None or not facts.partial or self.indexed_tree() is None:
            return facts
        key = (position, path)
        done = self._completed.get(key)
        if done is not None:
            return done
        fd = next((f for f in self.series.patches[position].files
                   if f.path == path and not f.is_binary), None)
        pre = self.post_images.before(position, path)
        if fd is None or fd.source_path is None or pre is None:
            return facts
        from reviewbot.c.facts import extract
        from reviewbot.c.partial import complete_hunks

        if pre.partial:
            # an earlier patch's hunks did not apply either: these go over what the graph
            # had for the file after it (nothing earlier: the tree has no such file)
            earlier = next((i for i in range(position - 1, -1, -1)
                            if any(f.path == fd.source_path and not f.is_binary
                                   for f in self.series.patches[i].files)), None)
            base = None if earlier is None else self._graph_facts(earlier, fd.source_path)
        else:
            base = self._indexed_facts(fd.source_path, pre.text) or extract(
                fd.source_path, pre.text)
        if base is None:
            return facts
        done = self._completed[key] = complete_hunks(base, fd, facts)
        return done

    def graph_for(self, position: int) -> DiGraph:
        """The graph after patch ``position``: the tree's graph with the C files of patches
        0..``position`` replaced (the same graph object for every patch when a tree is
        indexed)."""
        changes = self.overlay(position)
        indexed = self.indexed_tree()
        if indexed is None and not self.rebuild_graphs:
            # no tree index: the series' own files, laid over nothing one patch at a time
            if self._state is None:
                from reviewbot.c.graph import GraphState

                self._state = GraphState()
            return self._state.overlay(changes)
        if indexed is None or self.rebuild_graphs:
            if position not in self._graphs:
                from reviewbot.c.graph import build_graph

                merged = {ff.path: ff for ff in self.tree_facts()}
                for path, ff in changes.items():
                    if ff is None:
                        merged.pop(path, None)
                    else:
                        merged[path] = ff
                self._graphs[position] = build_graph(merged.values())
            return self._graphs[position]
        from sqlite3 import DatabaseError

        from reviewbot.errors import IndexDamaged

        try:
            return tree_graph_state(indexed).overlay(changes)
        except DatabaseError as exc:
            raise IndexDamaged(str(exc)) from None


# One tree graph per process: a bulk run over many series against one tree reads it once.
# (the state, the database's graph-base it was read at)
_TREE_STATES: dict[str, tuple[GraphState, str | None]] = {}


_CODE_KEY: list[str] = []
# A stored graph of the same tree location whose files differ in at most this many is moved
# to the new content (a git range with another base) rather than rebuilt.
MAX_REBASE = 400
# Moved by at most this many files, the moved graph is not written back: the next run moves
# the stored one again (cheap), and the database keeps the old files' facts it needs for that.
SAVE_AFTER_REBASE = 40


def _code_key() -> str:
    """What a stored tree graph depends on besides the tree's content: the facts' format and
    the code that builds the graph."""
    if not _CODE_KEY:
        import hashlib

        from reviewbot.c import digraph, graph, graphdb
        from reviewbot.c.facts import FACTS_VERSION

        code = hashlib.blake2b(digest_size=8)
        for module in (graph, digraph, graphdb):
            code.update(Path(module.__file__ or "").read_bytes())
        _CODE_KEY.append(f"facts-v{FACTS_VERSION}:graph-{code.hexdigest()}"
                         f":{'/'.join(TREE_PREFIXES)}")
    return _CODE_KEY[0]


def tree_graph_state(indexed: TreeIndex) -> GraphState:
    """The graph of a tree's facts: from this process, else the one in the index database
    (read lazily; moved to this content when the tree changed a little), else built and
    stored for the next run. Keyed by the tree's content, so an edited tree gets a new graph."""
    key = f"{_code_key()}:{indexed.fingerprint}"
    store = indexed.store
    for old_key, (_, seen) in list(_TREE_STATES.items()):
        # one at a time; and one whose stored graph another process replaced is read again
        if old_key != key or store.meta("graph-base") != seen:
            del _TREE_STATES[old_key]
    found = _TREE_STATES.get(key)
    if found is not None:
        return found[0]
    from reviewbot.c.graph import GraphState
    from reviewbot.c.graphdb import dump_state, load_state, move_base, write_back

    def facts(path: str, content: bytes) -> FileFacts | None:
        return indexed.facts_for_key(content, path)

    code = _code_key()
    stored = store.base() if store.meta("graph") == code else None
    changed = [] if stored is None else sorted(
        p for p in stored.keys() | indexed.keys.keys() if stored.get(p) != indexed.keys.get(p))
    if stored is not None and (not stored or len(changed) > MAX_REBASE or any(
            p in stored and indexed.facts_for_key(stored[p]) is None for p in changed)):
        stored = None  # empty, too far away, or the old facts of a changed file are gone
    if stored is None:
        state = GraphState(indexed.all_facts())
        with store.write():
            dump_state(store, state, indexed.keys)
            store.set_meta("graph", code)
            store.set_meta("graph-base", indexed.fingerprint)
            store.drop_unused_facts(indexed.keys.values())
        store.begin_read()
        if store.meta("graph-base") == indexed.fingerprint:
            # read back lazily like any later run; the built one is garbage from here on
            state = load_state(store, facts)
    else:
        state = load_state(store, facts)
        if changed:
            seen = store.meta("graph-base")
            move_base(state, {p: indexed.facts(p) if p in indexed.keys else None
                              for p in changed})
            if len(changed) > SAVE_AFTER_REBASE:
                with store.write():
                    if store.meta("graph-base") == seen:  # nobody moved it meanwhile
                        write_back(store, state, indexed.keys)
                        store.set_meta("graph-base", indexed.fingerprint)
                        store.drop_unused_facts(indexed.keys.values())
                store.begin_read()
    _TREE_STATES[key] = (state, store.meta("graph-base"))
    return state


@dataclass
class PatchContext:
    """One patch of the series, seen after it is applied on top of the ones before it."""

    parent: SeriesContext
    position: int  # 0-based place in series.patches

    @property
    def series(self) -> Series:
        return self.parent.series

    @property
    def options(self) -> Options:
        return self.parent.options

    @property
    def tree(self) -> Tree | None:
        return self.parent.tree

    @property
    def patch(self) -> Patch:
        return self.series.patches[self.position]

    @cached_property
    def ref(self) -> PatchRef:
        return patch_ref(self.series, self.position)

    @cached_property
    def touched(self) -> tuple[str, ...]:
        """Paths this patch leaves in the post-image (deleted files excluded)."""
        return tuple(f.path for f in self.patch.files if not f.is_deleted and not f.is_binary)

    def source(self, path: str) -> SourceFile | None:
        return self.parent.post_images.after(self.position, path)

    def pre_source(self, path: str) -> SourceFile | None:
        return self.parent.post_images.before(self.position, path)

    def facts(self, path: str) -> FileFacts | None:
        return self.parent.facts_after(self.position, path)

    @property
    def graph(self) -> DiGraph:
        """Post-images of the C files this patch touches over the tree's facts (a file the
        patch deletes is gone). Valid until another patch's graph is asked for."""
        return self.parent.graph_for(self.position)

    def changed(self, path: str, line: int) -> bool:
        """Does this patch add post-image line ``line`` of ``path``?"""
        return any(line in f.added_lines for f in self.patch.files
                   if f.target_path == path)

    def removed(self, path: str, line: int) -> bool:
        """Does this patch remove pre-image line ``line`` of ``path``?"""
        return any(line in f.removed_lines for f in self.patch.files
                   if f.source_path == path)
