"""``reviewbot graph SOURCE``: draw the device model a series adds or changes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from reviewbot.commands.common import add_source_arguments

if TYPE_CHECKING:
    from reviewbot.c.digraph import DiGraph
    from reviewbot.c.facts import FileFacts
    from reviewbot.model import Series
    from reviewbot.patch.source import PostImages
    from reviewbot.patch.tree import Tree

HELP = ("draw the functions, QOM types and registrations a series adds or changes, and what "
        "they reach through calls (dot, json, graphml, svg, png)")
FORMATS = ("dot", "json", "graphml", "svg", "png")
JSON_FORMAT_VERSION = 1
# Calls a device should not make; chains from realize/unrealize to them are drawn in red.
MACHINE_ACCESS = ("qdev_get_machine", "memory_device_pre_plug", "memory_device_plug",
                  "qemu_add_machine_init_done_notifier")


def configure(parser: argparse.ArgumentParser) -> None:
    add_source_arguments(parser)
    parser.add_argument("--tree", metavar="DIR",
                        help="a checkout to apply the series to (in memory) and to index, so "
                        "that calls into other files are followed (implicit for a git range)")
    parser.add_argument("--focus", metavar="FUNCTION",
                        help="keep only the part of the graph around this function")
    parser.add_argument("--depth", type=int, default=3, metavar="N",
                        help="how many calls deep to follow from the series' functions "
                        "(default: 3)")
    parser.add_argument("--format", choices=FORMATS, default="dot",
                        help="dot (default), json, graphml; svg and png need Graphviz's dot")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE instead of standard output")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="where the tree index is cached (default: ~/.cache/reviewbot)")


def run(args: argparse.Namespace) -> int:
    import shutil

    from reviewbot.commands.common import load_series
    from reviewbot.errors import InputError, UsageError
    from reviewbot.patch.tree import open_tree

    if args.depth < 0:
        raise UsageError("--depth must be 0 or more")
    if args.format in ("svg", "png") and shutil.which("dot") is None:
        raise UsageError(f"--format {args.format} needs Graphviz's 'dot' program, which is not "
                         "installed (install graphviz, or use --format dot|json|graphml)")
    series = load_series(args)
    tree = open_tree(series, args.tree)
    g = series_graph(series, tree, focus_on=args.focus, depth=args.depth,
                     cache_dir=args.cache_dir)
    data = render(g, args.format, source=series.source)
    if args.output:
        from pathlib import Path

        try:
            Path(args.output).write_bytes(data)
        except OSError as exc:
            raise InputError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


def _touched_paths(series: Series) -> list[str]:
    return sorted({fd.path for p in series.patches for fd in p.files
                   if not fd.is_deleted and fd.path.endswith((".c", ".h"))})


def series_graph(series: Series, tree: Tree | None, *, focus_on: str | None = None,
                 depth: int = 3, cache_dir: str | None = None) -> DiGraph:
    """The graph of the series' post-images (after its last patch), followed into the tree's
    index when there is one, cut to what the series' own functions reach."""
    from reviewbot.c.graph import build_graph, focus
    from reviewbot.errors import InputError
    from reviewbot.patch.source import PostImages
    from reviewbot.util.limits import LimitExceeded

    if not series.patches:
        raise InputError(f"{series.source or 'input'}: no patches to draw")
    images = PostImages(series, tree)
    touched = _touched_paths(series)
    facts: dict[str, FileFacts] = {}
    if tree is not None:
        from reviewbot.c.index import index_tree

        facts.update((ff.path, ff) for ff in index_tree(tree, cache_dir=cache_dir))
    for path in touched:
        try:
            found = _after_series(series, images, path, facts.get(path))
        except LimitExceeded as exc:
            sys.stderr.write(f"reviewbot: note: {exc}\n")
            found = None
        facts.pop(path, None)  # the tree's version is replaced, not drawn beside it
        if found is not None:
            facts[path] = found
    for fd in (f for p in series.patches for f in p.files):
        gone = fd.source_path if fd.is_deleted or fd.source_path != fd.path else None
        if gone is not None and gone not in touched:
            facts.pop(gone, None)  # deleted or renamed away by the series
    for problem in images.problems:
        if not problem.message.startswith(tuple(f"{p}:" for p in touched)):
            continue  # only the C files drawn
        sys.stderr.write(f"reviewbot: note: {problem.origin}: {problem.message}\n")
    full = build_graph(facts.values())
    if focus_on:
        if focus_on not in full and not any(d["kind"] == "function" and d["name"] == focus_on
                                            for _, d in full.nodes(data=True)):
            raise InputError(f"--focus {focus_on}: no such function in the graph")
        g = focus(full, focus_on, depth=depth)
    else:
        g = _around(full, set(touched), depth)
    _mark_machine_chains(full, g)
    return g


def _after_series(series: Series, images: PostImages, path: str,
                  base: FileFacts | None) -> FileFacts | None:
    """The facts of ``path`` after the series' last patch, patch by patch from the tree's
    (``base``): a post-image rebuilt from hunks that do not apply to the file is completed
    from what the graph had for the file before it (reviewbot.c.partial), as a check does."""
    from reviewbot.c.facts import extract
    from reviewbot.c.partial import complete_hunks

    ff = base
    for i, patch in enumerate(series.patches):
        fd = next((f for f in patch.files if f.path == path and not f.is_binary), None)
        if fd is None:
            continue
        src = images.after(i, path)
        if src is None:
            ff = None
            continue
        after = extract(path, src.text, src.partial, enclosing=images.sections(i, path))
        ff = complete_hunks(ff, fd, after) if src.partial and ff is not None else after
    return ff


def _around(g: DiGraph, paths: set[str], depth: int) -> DiGraph:
    """Nodes defined in ``paths``, what their functions reach in ``depth`` calls, and the
    types and registrars attached to them."""
    from reviewbot.c.graph import CALL_KINDS

    # constant tables (TypeInfo, Property[], VMState...) are data, not device-model state
    keep = {n for n, d in g.nodes(data=True) if d.get("path") in paths
            and not (d["kind"] == "global" and d["gkind"] == "other" and d["const"])}
    frontier = {n for n in keep if g.nodes[n]["kind"] == "function"}
    for _ in range(depth):
        nxt = {v for u in frontier for v in g.successors(u)
               if g.edges[u, v]["kind"] in CALL_KINDS} - keep
        keep |= nxt
        frontier = nxt
    for n in list(keep):
        for u, _ in g.in_edges(n):
            if g.edges[u, n]["kind"] in ("register", "typeinfo"):
                keep.add(u)
        for _, v in g.out_edges(n):
            if g.edges[n, v]["kind"] in ("register", "typeinfo", "parent", "interface"):
                keep.add(v)
    return g.subgraph(keep).copy()


def _mark_machine_chains(full: DiGraph, g: DiGraph) -> None:
    """Flag (``highlight``) the edges of the shortest chain from each realize/unrealize in
    ``g`` to a machine-level call, as found in ``full``."""
    from itertools import pairwise

    from reviewbot.c.graph import chains_to

    for n, d in list(g.nodes(data=True)):
        if d["kind"] != "function" or not {"realize", "unrealize"} & set(d["roles"]):
            continue
        for chain in chains_to(full, n, MACHINE_ACCESS, max_depth=6):
            nodes = chain.nodes
            for u, v in pairwise(nodes):
                for node in (u, v):
                    if node not in g:
                        g.add_node(node, **full.nodes[node])
                if not g.has_edge(u, v):
                    g.add_edge(u, v, **full.edges[u, v])
                g.edges[u, v]["highlight"] = True
            g.nodes[nodes[-1]]["highlight"] = True


# --- output ------------------------------------------------------------------------------

def render(g: DiGraph, fmt: str, *, source: str = "") -> bytes:
    if fmt == "json":
        return to_json_text(g, source).encode()
    if fmt == "graphml":
        return to_graphml(g)
    dot = to_dot(g)
    if fmt == "dot":
        return dot.encode()
    return _graphviz(dot, fmt)


def to_json_text(g: DiGraph, source: str = "") -> str:
    import json

    from reviewbot.c.graph import to_json

    data: dict[str, Any] = {"version": JSON_FORMAT_VERSION, "source": source, **to_json(g)}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_graphml(g: DiGraph) -> bytes:
    import io

    import networkx as nx

    flat = nx.DiGraph()
    for n, d in g.nodes(data=True):
        flat.add_node(n, **{k: _scalar(v) for k, v in d.items()})
    for u, v, d in g.edges(data=True):
        flat.add_edge(u, v, **{k: _scalar(val) for k, val in d.items()})
    out = io.BytesIO()
    nx.write_graphml(flat, out, encoding="utf-8")
    return out.getvalue()


def _scalar(value: object) -> str | int | bool | float:
    if isinstance(value, (list, tuple, set)):
        return ",".join(str(v) for v in value)
    if isinstance(value, (str, int, bool, float)):
        return value
    return "" if value is None else str(value)


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_ROLE_COLOURS = (
    ("realize", "#fde2e2"), ("unrealize", "#fde2e2"), ("machine_done_notifier", "#fff2cc"),
    ("machine_", "#e2ecfd"), ("class_init", "#e6f4e6"),
    ("instance_init", "#e6f4e6"),
)


def _short_roles(roles: list[str]) -> list[str]:
    return [r for r in roles if "." not in r]


def to_dot(g: DiGraph) -> str:
    lines = ["digraph reviewbot {", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for n in sorted(g.nodes):
        d = g.nodes[n]
        attrs: dict[str, str] = {}
        if d["kind"] == "function":
            roles = _short_roles(list(d.get("roles", [])))
            label = f"{d['name']}()"
            if roles:
                label += "\n[" + ", ".join(roles) + "]"
            if d.get("path"):
                label += f"\n{d['path']}:{d['line']}"
            attrs["shape"] = "box"
            attrs["style"] = "rounded,filled" if d.get("defined") else "rounded,dashed,filled"
            fill = "#ffffff"
            for prefix, colour in _ROLE_COLOURS:
                if any(r.startswith(prefix) for r in roles):
                    fill = colour
                    break
            attrs["fillcolor"] = fill
        elif d["kind"] == "type":
            label = d["name"] + (f"\n\"{d['value']}\"" if d.get("value") else "")
            attrs["shape"] = "ellipse"
            attrs["style"] = "filled"
            attrs["fillcolor"] = "#eeeeee"
        else:
            label = f"{d['name']}\n{d.get('type', '')} ({d.get('gkind', '')})"
            attrs["shape"] = "cylinder"
        if d.get("highlight"):
            attrs["color"] = "red"
            attrs["penwidth"] = "2"
        attrs["label"] = label
        lines.append(f"  {_q(n)} [" + ", ".join(f"{k}={_q(v)}" for k, v in attrs.items()) + "];")
    for u, v in sorted(g.edges):
        e = g.edges[u, v]
        kind = e["kind"]
        attrs = {}
        if kind == "dispatch":
            attrs["label"] = ", ".join(e.get("types", []))
            attrs["style"] = "bold"
        elif kind == "register":
            attrs["label"] = str(e.get("role", ""))
            attrs["style"] = "dashed"
        elif kind == "typeinfo":
            attrs["label"] = str(e.get("field", ""))
            attrs["style"] = "dotted"
        elif kind == "uses":
            attrs["style"] = "dashed"
            attrs["color"] = "gray40"
            attrs["arrowhead"] = "odot"
        elif kind in ("parent", "interface"):
            attrs["label"] = kind
            attrs["arrowhead"] = "empty"
            attrs["style"] = "dotted" if kind == "interface" else "solid"
        if e.get("highlight"):
            attrs["color"] = "red"
            attrs["penwidth"] = "2"
        body = ", ".join(f"{k}={_q(v)}" for k, v in attrs.items())
        lines.append(f"  {_q(u)} -> {_q(v)}" + (f" [{body}]" if body else "") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _graphviz(dot: str, fmt: str) -> bytes:
    import subprocess

    from reviewbot.errors import InputError

    try:
        done = subprocess.run(["dot", f"-T{fmt}"], input=dot.encode(), capture_output=True,
                              check=False, timeout=300)
    except FileNotFoundError:
        raise InputError(f"--format {fmt} needs Graphviz's 'dot' program, which is not "
                         "installed (install graphviz, or use --format dot|json|graphml)"
                         ) from None
    except subprocess.TimeoutExpired:
        raise InputError(f"--format {fmt}: Graphviz took too long; try --focus") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"--format {fmt}: dot failed: {message[-1] if message else '?'}")
    return done.stdout
