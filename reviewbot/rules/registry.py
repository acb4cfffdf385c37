"""Check primitives registered by name; a rule file names one and gives its parameters.

A primitive is ``fn(ctx, rule) -> Iterable[Finding]`` where ``ctx`` is a
:class:`reviewbot.context.PatchContext` (scope "patch": called once per patch) or a
:class:`reviewbot.context.SeriesContext` (scope "series": called once per series).
Primitives build findings with ``rule.finding(...)`` so that id, severity and fix come
from the rule's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from reviewbot.finding import Finding
from reviewbot.util.frozen import frozen

CheckFn = Callable[[Any, Any], Iterable[Finding]]


@frozen
class Primitive:
    name: str
    scope: str  # "patch" or "series"
    fn: CheckFn
    params: frozenset[str]  # parameter names a rule may give
    required: frozenset[str]  # parameter names a rule must give
    doc: str
    # checks a rule of one's own (``--rules DIR``) when it is loaded, raising RuleError; the
    # built-in rules are checked by the test suite
    prepare: Callable[[Any], None] | None = None


_PRIMITIVES: dict[str, Primitive] = {}

# Modules that register primitives; imported on first lookup.
PRIMITIVE_MODULES = (
    "reviewbot.checks.core",
    "reviewbot.checks.qom",
    "reviewbot.checks.comments",
    "reviewbot.checks.series",
    "reviewbot.checks.qapi",
    "reviewbot.checks.spec",
    "reviewbot.checks.code",
    "reviewbot.checks.lang",
    "reviewbot.checks.practice",
)


def primitive(
    name: str, *, scope: str = "patch", params: Iterable[str] = (), required: Iterable[str] = (),
    prepare: Callable[[Any], None] | None = None,
) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as check primitive ``name`` (``prepare``: see ``Primitive``)."""
    if scope not in ("patch", "series"):
        raise ValueError(f"scope must be 'patch' or 'series', not {scope!r}")

    def register(fn: CheckFn) -> CheckFn:
        if name in _PRIMITIVES and _PRIMITIVES[name].fn is not fn:
            raise ValueError(f"check primitive {name!r} registered twice")
        req = frozenset(required)
        _PRIMITIVES[name] = Primitive(
            name=name, scope=scope, fn=fn, params=frozenset(params) | req, required=req,
            doc=(fn.__doc__ or "").strip(), prepare=prepare,
        )
        return fn

    return register


def _load_all() -> None:
    import importlib

    for mod in PRIMITIVE_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


def get(name: str) -> Primitive | None:
    if name not in _PRIMITIVES:
        _load_all()
    return _PRIMITIVES.get(name)


def all_primitives() -> dict[str, Primitive]:
    _load_all()
    return dict(sorted(_PRIMITIVES.items()))
