"""What a check primitive sees: the series, one patch, post-images, C facts and the call graph.

Everything is computed on first use and cached per run, so a rule that only reads commit
messages never pays for tree-sitter or the tree index.

With a tree, the tree's graph is built once per process (``graph.GraphState``) and each patch's
graph is that graph with the patch's post-images laid over it: ``PatchContext.graph`` switches
the one shared graph to its patch, so a graph is valid until another patch's graph is asked
for (the engine runs the patch rules patch by patch).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from reviewbot.finding import PatchRef, Severity

if TYPE_CHECKING:
    import networkx as nx

    from reviewbot.cfacts import FileFacts
    from reviewbot.graph import GraphState
    from reviewbot.model import Patch, Series
    from reviewbot.source import PostImages, SourceFile
    from reviewbot.tree import Tree

C_SUFFIXES = (".c", ".h")
# Parts of a tree whose facts feed the graph when a tree is given.
TREE_PREFIXES = ("hw/", "include/hw/", "system/", "accel/", "target/", "backends/")


@dataclass(frozen=True)
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
        self._tree_facts: list[FileFacts] | None = None
        self._tree_key = ""
        # the slow reference: every patch's graph built from scratch (tests compare the two)
        self.rebuild_graphs = rebuild_graphs
        self._graphs: dict[int, nx.DiGraph] = {}

    @property
    def ref(self) -> PatchRef | None:
        """Series-level findings belong to the cover letter (or nothing without one)."""
        return cover_ref(self.series)

    @property
    def tree(self) -> Tree | None:
        if not self._tree_opened:
            from reviewbot.tree import open_tree

            self._tree = open_tree(self.series, self.options.tree)
            self._tree_opened = True
        return self._tree

    @cached_property
    def post_images(self) -> PostImages:
        from reviewbot.source import PostImages

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

    def facts_after(self, position: int, path: str) -> FileFacts | None:
        key = (position, path)
        if key not in self._facts:
            self._facts[key] = None
            src = self.post_images.after(position, path)
            if src is not None and path.endswith(C_SUFFIXES):
                from reviewbot.cfacts import extract

                self._facts[key] = extract(path, src.text, partial=src.partial,
                                           enclosing=self.post_images.sections(position, path))
        return self._facts[key]

    def tree_facts(self) -> list[FileFacts]:
        """Facts of the tree's device-model code (cached on disk by the index)."""
        if self._tree_facts is None:
            self._tree_facts = []
            tree = self.tree
            if tree is not None and tree.root is not None and self.options.index_tree:
                from reviewbot.index import IndexStats, index_tree

                stats = IndexStats()
                self._tree_facts = list(index_tree(tree, TREE_PREFIXES, None, None,
                                                   stats=stats))
                self._tree_key = f"{tree.describe()}\0{stats.fingerprint}"
        return self._tree_facts

    def overlay(self, position: int) -> dict[str, FileFacts | None]:
        """The C files patch ``position`` changes: path -> post-image facts, or None for a
        file it deletes (or renames away). Files whose post-image is unknown are left out."""
        out: dict[str, FileFacts | None] = {}
        for f in self.series.patches[position].files:
            if f.is_binary:
                continue
            if f.source_path and f.source_path != f.target_path and \
                    f.source_path.endswith(C_SUFFIXES):
                out[f.source_path] = None
        for f in self.series.patches[position].files:
            if f.is_binary or f.is_deleted or not f.path.endswith(C_SUFFIXES):
                continue
            facts = self.facts_after(position, f.path)
            if facts is not None:
                out[f.path] = facts
        return out

    def graph_for(self, position: int) -> nx.DiGraph:
        """The graph after patch ``position``: the tree's graph with that patch's C files
        replaced (the same graph object for every patch when a tree is indexed)."""
        tree_facts = self.tree_facts()
        changes = self.overlay(position)
        if not tree_facts or self.rebuild_graphs or (
                self._tree_key not in _TREE_STATES and self._c_patches() <= 1):
            if position not in self._graphs:
                from reviewbot.graph import build_graph

                merged = {ff.path: ff for ff in tree_facts}
                for path, ff in changes.items():
                    if ff is None:
                        merged.pop(path, None)
                    else:
                        merged[path] = ff
                self._graphs[position] = build_graph(merged.values())
            return self._graphs[position]
        return tree_graph_state(self._tree_key, tree_facts).overlay(changes)

    def _c_patches(self) -> int:
        """How many patches touch C files: with one, a plain build is cheaper than making
        the tree's graph ready for overlays."""
        return sum(1 for p in self.series.patches
                   if any(f.path.endswith(C_SUFFIXES) for f in p.files))


# One tree graph per process: a bulk run over many series against one tree builds it once.
_TREE_STATES: dict[str, GraphState] = {}


def tree_graph_state(key: str, facts: list[FileFacts]) -> GraphState:
    """The graph of a tree's facts, built on first use; ``key`` names the tree and its
    content (the index's fingerprint), so an edited tree gets a new graph."""
    state = _TREE_STATES.get(key)
    if state is None:
        from reviewbot.graph import GraphState

        _TREE_STATES.clear()  # keep one: a tree's graph is large
        state = GraphState(facts)
        _TREE_STATES[key] = state
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
    def graph(self) -> nx.DiGraph:
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
