"""Run the rules over a series: primitives -> diff-aware filter -> suppressions -> sort."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from reviewbot.context import C_SUFFIXES, Options, PatchContext, SeriesContext
from reviewbot.errors import IndexDamaged, RuleError, UsageError
from reviewbot.finding import Finding, Severity, sort_findings
from reviewbot.model import Series
from reviewbot.rules import registry
from reviewbot.rules.builtin import BUILTIN_RULES, COULD_NOT_ANALYSE
from reviewbot.rules.model import Rule
from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    import threading

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
    *, context: SeriesContext | None = None, parallel: bool = False,
) -> CheckResult:
    """The findings of ``rules`` (the built-in packs when None) on ``series``.

    With ``parallel`` (the command line's single check), a series with many added lines of C
    and no tree has its language rules run in a forked process alongside the primitives
    (``_run_split``); the findings are the same either way."""
    if rules is None:
        from reviewbot.rules.loader import load_rules

        rules = load_rules(())
    chosen = select_rules(rules, options)
    sctx = context if context is not None else SeriesContext(series, options)
    if options.tree is not None:
        _ = sctx.tree  # a bad --tree is a usage error, not something each rule trips over
    raw: list[Finding] = []
    try:
        results = _run_rules(chosen, sctx, parallel=parallel)
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


def _run_rules(chosen: Sequence[Rule], sctx: SeriesContext, *,
               parallel: bool = False) -> list[list[Finding]]:
    """Each rule's findings, in rule order."""
    prims = [_primitive(rule) for rule in chosen]
    if parallel and _split_worth(sctx, prims):
        split = _run_split(chosen, prims, sctx)
        if split is not None:
            return split
    return _run_some(chosen, prims, sctx, range(len(chosen)))


def _run_some(chosen: Sequence[Rule], prims: Sequence[registry.Primitive],
              sctx: SeriesContext, which: Iterable[int], *,
              before: Callable[[PatchContext], None] | None = None) -> list[list[Finding]]:
    """The findings of the rules at indexes ``which`` (the others get none). Patch rules run
    patch by patch, all rules on one patch before the next, so the shared tree graph moves
    to each patch once; ``before`` is called with each patch before its rules."""
    wanted = sorted(set(which))
    out: list[list[Finding]] = [[] for _ in chosen]
    for i in wanted:
        if prims[i].scope == "series":
            out[i] = _guarded(chosen[i], sctx, prims[i].fn, "the series")
    for pctx in sctx.patch_contexts:
        if before is not None:
            before(pctx)
        for i in wanted:
            if prims[i].scope != "series":
                out[i].extend(_guarded(chosen[i], pctx, prims[i].fn,
                                       f"patch {pctx.ref.index}"))
    return out


# Added lines of C past which a check forks for its language rules (below it, the fork and
# the duplicated parse cost about what running them in turn does).
SPLIT_LINES = 2000


def _split_worth(sctx: SeriesContext, prims: Sequence[registry.Primitive]) -> bool:
    import os

    if not hasattr(os, "fork") or sctx.tree is not None:
        # a tree (--tree, or a git range's own repository) brings the index's SQLite
        # connection, which must not cross a fork
        return False
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    if cores < 2 or not any(p.name == "language" for p in prims):
        return False  # (the rules split off are language rules with a C match)
    added = sum(len(fd.added_lines) for p in sctx.series.patches for fd in p.files
                if fd.path.endswith(C_SUFFIXES))
    return added >= SPLIT_LINES


def _run_split(chosen: Sequence[Rule], prims: Sequence[registry.Primitive],
               sctx: SeriesContext) -> list[list[Finding]] | None:
    """The language rules over C in a forked child, the others here, at the same time.

    The fork comes first: while this process extracts the facts of the C files the series
    touches, the child parses them for ast-grep and runs the rules' searches
    (checks.lang.presearch); the facts then go down a pipe to the child, which applies
    the conditions that need them, while the primitives run here. The child's findings
    come back pickled through another pipe (between two processes of this run: no file is
    read back). None when the fork fails or a file's facts cannot be had; a child that
    fails has its rules run here afterwards."""
    import os
    import pickle

    # the rules that parse C for ast-grep; those over lines (no parse) stay here
    language = [i for i, p in enumerate(prims) if p.name == "language"
                and "match" in chosen[i].params]
    split_off = set(language)
    others = [i for i in range(len(chosen)) if i not in split_off]
    _before_fork(sctx, [chosen[i] for i in language])
    try:
        facts_read, facts_write = os.pipe()
        read_end, write_end = os.pipe()
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:  # the child: its rules, its findings down the pipe, and out
        os.close(facts_write)
        os.close(read_end)
        _run_child(chosen, prims, sctx, language, facts_read=facts_read, write_end=write_end)
    os.close(facts_read)
    os.close(write_end)
    facts = _prefetch_facts(sctx)
    if facts is None:  # a file over a limit: every rule runs here, the first to read it says so
        import signal

        os.kill(pid, signal.SIGKILL)
        os.close(facts_write)
        os.close(read_end)
        os.waitpid(pid, 0)
        return None
    sender = _send(facts_write, pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))
    try:
        mine = _run_some(chosen, prims, sctx, others)
    finally:
        sender.join()
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(pid, 0)
    theirs: list[list[Finding]] | None = None
    if status == 0 and data:
        try:
            theirs = pickle.loads(data)  # written by this run's own child, never a file
        except Exception:  # a child cut short: run its rules here
            theirs = None
    if theirs is None or len(theirs) != len(chosen):
        theirs = _run_some(chosen, prims, sctx, language)
    for i in language:
        mine[i] = theirs[i]
    return mine


def _touched_c(sctx: SeriesContext) -> list[tuple[PatchContext, str]]:
    """Each patch with each C file it leaves in its post-image: what both sides of a split
    read."""
    return [(pctx, path) for pctx in sctx.patch_contexts for path in pctx.touched
            if path.endswith(C_SUFFIXES)]


def _before_fork(sctx: SeriesContext, rules: Sequence[Rule]) -> None:
    """What both sides of a split read, done once before the fork: the rules' compiled
    patterns (their cache file is written by this process only), each touched C file's
    post-image and, when there are no more of them than the blanked texts kept, its
    macro-blanked text (else each side's first files would push out those it needs later)."""
    from reviewbot.c.facts import BLANKED_KEPT, blank_macros
    from reviewbot.checks.lang import compile_rule

    for rule in rules:
        compile_rule(rule)
    texts = [src.text for pctx, path in _touched_c(sctx)
             if (src := pctx.source(path)) is not None]
    if len(texts) <= BLANKED_KEPT:
        for text in texts:
            blank_macros(text.encode("utf-8", "surrogateescape"))


def _run_child(chosen: Sequence[Rule], prims: Sequence[registry.Primitive],
               sctx: SeriesContext, language: list[int], *, facts_read: int,
               write_end: int) -> NoReturn:
    """The child of ``_run_split``: for each patch, the searches, then (the facts of the
    first patch's files awaited from the parent) the rules; the findings down
    ``write_end``. Exits with 0 when they are written, else 1."""
    import os
    import pickle

    from reviewbot.checks.lang import presearch

    status = 1
    try:
        rules = [chosen[i] for i in language]
        waiting = True

        def before(pctx: PatchContext) -> None:
            nonlocal waiting
            presearch(pctx, rules)
            if waiting:
                with os.fdopen(facts_read, "rb") as pipe:
                    data = pipe.read()
                if not data:
                    raise OSError("no facts")  # the parent ended: it runs every rule itself
                sctx.adopt_facts(pickle.loads(data))  # from this run's parent, never a file
                waiting = False

        data = pickle.dumps(_run_some(chosen, prims, sctx, language, before=before),
                            protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(data)
        status = 0
    finally:
        os._exit(status)  # no atexit handlers, no flush of the parent's buffers


def _prefetch_facts(sctx: SeriesContext) -> dict[tuple[int, str], Any] | None:
    """The facts of every C file the series touches, extracted here for both sides of a
    split; None when one cannot be had (no split then, so that the one "could not
    analyse" note comes from the rule that meets it first, as always)."""
    keys = [(pctx.position, path) for pctx, path in _touched_c(sctx)]
    for position, path in keys:
        if not sctx.prefetch_facts(position, path):
            return None
    return sctx.prefetched(keys)


def _send(fd: int, data: bytes) -> threading.Thread:
    """Write ``data`` to pipe ``fd`` and close it, from a thread: the reader takes it only
    when it is ready, and this process goes on meanwhile."""
    import os
    import threading

    def write() -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view):]
        except OSError:  # a child that ended early: its rules are run here
            pass
        finally:
            os.close(fd)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


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
