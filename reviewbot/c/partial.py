"""What the graph is given for a file whose post-image is known only from its hunks.

When a patch's hunks do not apply to the tree's file (the series is against another
revision of QEMU), its post-image is rebuilt from the hunks alone: the functions and
file-scope declarations the hunks show, nothing else. Those facts are what the rules read on
the file's lines. But laid over the tree's graph as they are, they would take every other
function of the file out of the graph: calls to them from the rest of the tree would stop
resolving (and every file making one would be redone, which on a core file such as
hw/core/machine.c is most of the board code), registrations the hunks do not show would be
lost, and chains through the file would break.

``complete`` gives the graph the tree's facts of the file with what the hunks show put in
place: the facts inside a function the hunks show (on either side, or name in their ``@@``
headers) come from the post-image, as they would without a tree; a function whose definition
they show only before is gone; every other one is the tree's, and a function whose start the
hunks do not show keeps the tree's definition. File-scope TypeInfos, defines, globals and macro
uses the hunks show replace the tree's of the same name. Line numbers of what comes from the
tree are the tree's.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from reviewbot.c.facts import FileFacts, TypeInfoFact

if TYPE_CHECKING:
    from reviewbot.patch.diff import FileDiff

_T = TypeVar("_T")

# facts that belong to the function named by the attribute (None: at file scope)
_OWNED = (("calls", "caller"), ("assignments", "function"), ("notifiers", "function"),
          ("dispatches", "function"), ("phase_checks", "function"),
          ("global_uses", "function"))


def _owners(ff: FileFacts) -> set[str]:
    """Functions ``ff`` defines or has facts inside of (a hunk shows part of their body)."""
    names = {f.name for f in ff.functions}
    for table, owner in _OWNED:
        names.update(n for x in getattr(ff, table) if (n := getattr(x, owner)) is not None)
    names.update(t.function for t in ff.typeinfos if t.function is not None)
    return names


def _keyed(base: Iterable[_T], before: Iterable[_T], after: Iterable[_T],
           key: Callable[[_T], Hashable]) -> tuple[_T, ...]:
    """``base`` without the items the hunks show before (the patch changes or removes them)
    or after (it changes or adds them), then what they show after."""
    shown = {key(x) for x in before} | {key(x) for x in after}
    return (*(x for x in base if key(x) not in shown), *after)


def complete(base: FileFacts, before: FileFacts, after: FileFacts,
             named: Iterable[str] = ()) -> FileFacts:
    """The facts of ``base`` (the whole file before the patch) with what the patch's hunks
    show replaced: ``before`` are the facts of the hunks' old lines, ``after`` those of the
    rebuilt post-image, ``named`` the functions their ``@@`` headers name. The result has
    ``after``'s path, comments and enums (the rules read those from ``after`` itself) and is
    marked partial."""
    replaced = _owners(before) | _owners(after) | set(named)
    path = after.path
    changes: dict[str, Any] = {}
    for table, owner in _OWNED:
        changes[table] = (*(x for x in getattr(base, table)
                            if getattr(x, owner) is None or getattr(x, owner) not in replaced),
                          *getattr(after, table))
    # A function whose definition the hunks show only before is gone (or moved out); one
    # they show only part of the body of is still defined where the tree has it.
    defined = {f.name for f in after.functions}
    gone = {f.name for f in before.functions} - _owners(after) - set(named)
    changes["functions"] = (*(replace(f, path=path) if f.path != path else f
                              for f in base.functions
                              if f.name not in defined and f.name not in gone),
                            *after.functions)

    def typeinfo_key(t: TypeInfoFact) -> Hashable:
        return t.var, t.name.strip()  # the elements of one TypeInfo array share its var

    kept_types = [t for t in base.typeinfos
                  if t.function is None or t.function not in replaced]
    changes["typeinfos"] = _keyed(kept_types, (t for t in before.typeinfos if t.function is None),
                                  after.typeinfos, typeinfo_key)
    changes["defines"] = _keyed(base.defines, before.defines, after.defines,
                                lambda d: d.name)
    changes["globals"] = _keyed(base.globals, before.globals, after.globals,
                                lambda g: g.name)
    changes["macro_uses"] = _keyed(base.macro_uses, before.macro_uses, after.macro_uses,
                                   lambda u: (u.name, u.args))
    return replace(base, path=path, partial=True, comments=after.comments, enums=after.enums,
                   error_lines=after.error_lines, **changes)


def complete_hunks(base: FileFacts, fd: FileDiff, after: FileFacts) -> FileFacts:
    """``complete`` for patch file ``fd``, whose post-image rebuilt from its hunks has the
    facts ``after``, over ``base`` (the file before it)."""
    from reviewbot.c.facts import extract
    from reviewbot.patch.source import function_in_section, hunk_pre_image

    text, enclosing = hunk_pre_image(fd)
    named = {n for h in fd.hunks if (n := function_in_section(h.section)) is not None}
    shown = extract(fd.source_path or fd.path, text, partial=True, enclosing=enclosing)
    return complete(base, shown, after, named)
