"""Run the rules over a series: primitives -> diff-aware filter -> suppressions -> sort."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from reviewbot.context import Options, PatchContext, SeriesContext
from reviewbot.errors import IndexDamaged, RuleError, UsageError
from reviewbot.finding import Finding, Severity, sort_findings
from reviewbot.model import Series
from reviewbot.rules import registry
from reviewbot.rules.builtin import BUILTIN_RULES, COULD_NOT_ANALYSE
from reviewbot.rules.model import Rule
from reviewbot.util.frozen import frozen

# Reported when a primitive raises on some input: the run goes on with the other rules.
_SUPPRESS = re.compile(r"reviewbot:\s*ignore(?:\[([A-Za-z0-9_,\s-]*)\])?")


@frozen
class CheckResult:
    series: Series
    findings: tuple[Finding, ...]  # sorted, filtered
    rules: tuple[Rule, ...]  # the rules that ran
    options: Options

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def fails(self) -> bool:
        """Is anything at or above ``options.fail_on``?"""
        return any(f.severity >= self.options.fail_on for f in self.findings)


def select_rules(rules: Sequence[Rule], options: Options) -> tuple[Rule, ...]:
    """Apply --enable (only these) and --disable; unknown ids are a usage error."""
    known = {r.id for r in rules} | {r.id for r in BUILTIN_RULES}
    for rid in sorted(options.enabled | options.disabled):
        if rid not in known:
            raise UsageError(f"unknown rule id {rid!r} (see `reviewbot rules`)")
    return tuple(
        r for r in rules
        if (not options.enabled or r.id in options.enabled) and r.id not in options.disabled
    )


def run_check(
    series: Series, options: Options, rules: Sequence[Rule] | None = None,
    *, context: SeriesContext | None = None,
) -> CheckResult:
    if rules is None:
        from reviewbot.rules.loader import load_rules

        rules = load_rules(())
    chosen = select_rules(rules, options)
    sctx = context if context is not None else SeriesContext(series, options)
    if options.tree is not None:
        _ = sctx.tree  # a bad --tree is a usage error, not something each rule trips over
    raw: list[Finding] = []
    try:
        results = _run_rules(chosen, sctx)
    except IndexDamaged as exc:
        # what the rules saw so far may be wrong: all of them again over a rebuilt index
        sctx.drop_index(str(exc))
        results = _run_rules(chosen, sctx)
    for found in results:
        raw.extend(found)
    kept = [f for f in raw if _keep(f, sctx) and not _suppressed(f, sctx)]
    kept = [f for f in kept if _selected(f.rule, options)]
    return CheckResult(series=series, findings=tuple(sort_findings(kept)), rules=chosen,
                       options=options)


def _selected(rule_id: str, options: Options) -> bool:
    if rule_id in options.disabled:
        return False
    return not options.enabled or rule_id in options.enabled or rule_id == COULD_NOT_ANALYSE.id


def _primitive(rule: Rule) -> registry.Primitive:
    prim = registry.get(rule.check)
    if prim is None:
        from reviewbot.rules import loader

        prim = loader._primitive(rule.check)
    if prim is None:
        raise UsageError(f"{rule.path}: unknown check primitive {rule.check!r}")
    return prim


def _run_rules(chosen: Sequence[Rule], sctx: SeriesContext) -> list[list[Finding]]:
    """Each rule's findings, in rule order. Patch rules run patch by patch, all rules on one
    patch before the next, so the shared tree graph moves to each patch once."""
    prims = [_primitive(rule) for rule in chosen]
    out: list[list[Finding]] = [[] for _ in chosen]
    for i, (rule, prim) in enumerate(zip(chosen, prims, strict=True)):
        if prim.scope == "series":
            out[i] = _guarded(rule, sctx, prim.fn, "the series")
    for pctx in sctx.patch_contexts:
        for i, (rule, prim) in enumerate(zip(chosen, prims, strict=True)):
            if prim.scope != "series":
                out[i].extend(_guarded(rule, pctx, prim.fn, f"patch {pctx.ref.index}"))
    return out


def _guarded(rule: Rule, ctx: SeriesContext | PatchContext, fn: registry.CheckFn,
             what: str) -> list[Finding]:
    import os

    try:
        result: Iterable[Finding] = fn(ctx, rule)
        return list(result)
    except (RuleError, IndexDamaged):
        raise
    except Exception as exc:
        if os.environ.get("REVIEWBOT_DEBUG"):
            raise
        detail = str(exc).splitlines()[0] if str(exc) else ""
        error = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        return [COULD_NOT_ANALYSE.finding(ctx, rule=rule.id, what=what, error=error,
                                          anchor=f"{rule.id}:{what}")]


def _patch_ctx(f: Finding, sctx: SeriesContext) -> PatchContext | None:
    if f.patch is None:
        return None
    for pctx in sctx.patch_contexts:
        if pctx.ref.message_id == f.patch.message_id:
            return pctx
    return None


def _keep(f: Finding, sctx: SeriesContext) -> bool:
    """Diff-aware filter: keep what points at lines the series adds (or at removed text)."""
    if sctx.options.all_files or f.path is None or f.line is None or f.side == "old":
        return True
    pctx = _patch_ctx(f, sctx)
    candidates = [pctx] if pctx is not None else list(sctx.patch_contexts)
    return any(p.changed(f.path, f.line) for p in candidates)


def _suppressed(f: Finding, sctx: SeriesContext) -> bool:
    if f.path is None or f.line is None or f.side == "old":
        return False
    pctx = _patch_ctx(f, sctx)
    if pctx is None:
        if not sctx.patch_contexts:
            return False
        pctx = sctx.patch_contexts[-1]
    try:
        src = pctx.source(f.path)
    except Exception:
        return False
    if src is None:
        return False
    lines = src.lines
    for no in (f.line, f.line - 1):
        if 1 <= no <= len(lines) and _suppresses(lines[no - 1], f.rule):
            return True
    return False


def _suppresses(text: str, rule_id: str) -> bool:
    for m in _SUPPRESS.finditer(text):
        if m.group(1) is None:
            return True
        ids = {part.strip() for part in m.group(1).split(",")}
        if rule_id in ids:
            return True
    return False
