"""The engine: diff-aware filter, suppressions, --enable/--disable, crash isolation, input
problems, order and the exit decision."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from reviewbot.context import Options, PatchContext
from reviewbot.engine import run_check, select_rules
from reviewbot.errors import UsageError
from reviewbot.finding import Finding, Severity
from reviewbot.ingest import load
from reviewbot.model import InputProblem
from reviewbot.review.examples import synthetic_series
from reviewbot.rules.loader import load_rules
from reviewbot.rules.model import Rule
from reviewbot.rules.registry import primitive

RULES = {r.id: r for r in load_rules()}
REACH = RULES["qom-realize-reaches-machine"]

DEVICE = """\
#include "qemu/osdep.h"

static void gadget_realize(DeviceState *dev, Error **errp)
{
    GadgetState *s = GADGET(dev);

    s->ms = MACHINE(qdev_get_machine());
}

static void gadget_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = gadget_realize;
}
"""


def _series(text: str = DEVICE, path: str = "hw/misc/gadget.c") -> Any:
    return synthetic_series([(path, text)])


def test_finding_on_added_line_is_kept() -> None:
    result = run_check(_series(), Options(), [REACH])
    assert [(f.rule, f.path, f.line) for f in result.findings] == [
        ("qom-realize-reaches-machine", "hw/misc/gadget.c", 7)]
    assert result.rules == (REACH,)
    assert result.fails()


def test_existing_code_is_not_reported_unless_all(git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    repo.commit("add gadget", {"hw/misc/gadget.c": DEVICE})
    repo.commit("gadget: describe it", {
        "hw/misc/gadget.c": DEVICE.replace('#include "qemu/osdep.h"\n',
                                           '#include "qemu/osdep.h"\n/* A gadget. */\n')})
    series = load("HEAD~1..HEAD", cwd=str(repo.path))
    assert run_check(series, Options(), [REACH]).findings == ()
    every = run_check(series, Options(all_files=True), [REACH]).findings
    assert [(f.path, f.line) for f in every] == [("hw/misc/gadget.c", 8)]


def test_change_to_a_callee_reports_the_chain_at_the_changed_step(
        git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    base = DEVICE.replace("    s->ms = MACHINE(qdev_get_machine());\n",
                          "    gadget_setup(s);\n").replace(
        "static void gadget_realize", "static void gadget_setup(GadgetState *s)\n{\n}\n\n"
        "static void gadget_realize")
    repo.commit("add gadget", {"hw/misc/gadget.c": base})
    repo.commit("gadget: look at the machine", {"hw/misc/gadget.c": base.replace(
        "static void gadget_setup(GadgetState *s)\n{\n}",
        "static void gadget_setup(GadgetState *s)\n"
        "{\n    s->cpus = current_machine->smp.cpus;\n}")})
    series = load("HEAD~1..HEAD", cwd=str(repo.path))
    [f] = run_check(series, Options(), [REACH]).findings
    assert (f.path, f.line) == ("hw/misc/gadget.c", 5)
    assert f.evidence[0].startswith("gadget_realize -> gadget_setup -> current_machine")


@pytest.mark.parametrize("comment", [
    "/* reviewbot: ignore[qom-realize-reaches-machine] */",
    "/* reviewbot: ignore[qom-device-global-state, qom-realize-reaches-machine] */",
    "/* reviewbot: ignore */",
])
@pytest.mark.parametrize("above", [True, False])
def test_inline_suppression(comment: str, above: bool) -> None:
    line = "    s->ms = MACHINE(qdev_get_machine());"
    text = DEVICE.replace(line, f"    {comment}\n{line}" if above else f"{line} {comment}")
    assert run_check(_series(text), Options(), [REACH]).findings == ()


def test_suppression_of_another_rule_or_too_far_does_not_hide() -> None:
    line = "    s->ms = MACHINE(qdev_get_machine());"
    other = DEVICE.replace(line, f"{line} /* reviewbot: ignore[qom-walk-whole-tree] */")
    assert len(run_check(_series(other), Options(), [REACH]).findings) == 1
    far = DEVICE.replace(line, f"    /* reviewbot: ignore */\n\n{line}")
    assert len(run_check(_series(far), Options(), [REACH]).findings) == 1


def test_enable_and_disable() -> None:
    rules = list(RULES.values())
    only = select_rules(rules, Options(enabled=frozenset({REACH.id})))
    assert [r.id for r in only] == [REACH.id]
    rest = select_rules(rules, Options(disabled=frozenset({REACH.id})))
    assert REACH.id not in {r.id for r in rest} and len(rest) == len(rules) - 1
    found = run_check(_series(), Options(disabled=frozenset({REACH.id})), rules).findings
    assert REACH.id not in {f.rule for f in found}
    found = run_check(_series(), Options(enabled=frozenset({REACH.id})), rules).findings
    assert {f.rule for f in found} == {REACH.id}
    with pytest.raises(UsageError, match="unknown rule id 'no-such-rule'"):
        select_rules(rules, Options(disabled=frozenset({"no-such-rule"})))


@primitive("test-engine-explodes", scope="patch")
def _explodes(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    raise ValueError("odd input\nsecond line")


def test_a_crashing_primitive_does_not_stop_the_run() -> None:
    boom = Rule(id="test-boom", pack="test", severity=Severity.ERROR,
                check="test-engine-explodes", message="never", rationale="r", fix="f",
                origin="o")
    result = run_check(_series(), Options(), [boom, REACH])
    rules = [f.rule for f in result.findings]
    assert rules == ["could-not-analyse", "qom-realize-reaches-machine"]
    crash = next(f for f in result.findings if f.rule == "could-not-analyse")
    assert crash.message == "rule test-boom could not analyse patch 1: ValueError: odd input"
    assert crash.severity == Severity.INFO
    assert crash.patch is not None and crash.patch.index == 1


def test_input_problems_become_findings() -> None:
    from dataclasses import replace

    series = replace(_series(), problems=(
        InputProblem("thread.mbox#3", "not a patch: no diff found"),))
    result = run_check(series, Options(), [RULES["input-problem"]])
    [f] = result.findings
    assert (f.rule, f.path, f.line, f.severity) == ("input-problem", None, None, Severity.ERROR)
    assert f.message == "thread.mbox#3: not a patch: no diff found"


def test_output_is_sorted_and_deterministic(tmp_path: Path) -> None:
    text = DEVICE + "\nstatic QLIST_HEAD(, GadgetState) gadgets;\n"
    rules = [RULES["qom-device-global-state"], REACH]
    one = run_check(_series(text), Options(), rules).findings
    two = run_check(_series(text), Options(), list(reversed(rules))).findings
    assert one == two
    assert [(f.line, f.rule) for f in one] == [(7, REACH.id), (17, "qom-device-global-state")]


def test_fail_on_level() -> None:
    info_only = [RULES["qom-walk-whole-tree"]]
    text = DEVICE.replace("    s->ms = MACHINE(qdev_get_machine());\n",
                          "    object_child_foreach_recursive(object_get_root(), pick, s);\n") + \
        "\nstatic int pick(Object *o, void *opaque)\n{\n" \
        "    return !!object_dynamic_cast(o, TYPE_GADGET);\n}\n"
    result = run_check(_series(text), Options(), info_only)
    assert [f.severity for f in result.findings] == [Severity.INFO]
    assert not result.fails()
    assert run_check(_series(text), Options(fail_on=Severity.INFO), info_only).fails()


def _big_device() -> str:
    """A device file of some 2,400 lines: a realize reaching the machine, a debug printf,
    g_malloc(sizeof(T)) (language rules) and a copied block (a primitive)."""
    body = "".join(
        f"static uint64_t gadget_read{i}(void *opaque, hwaddr addr, unsigned size)\n"
        "{\n    GadgetState *s = opaque;\n    uint64_t v = s->regs[addr >> 2];\n\n"
        f"    v += {i};\n    return v;\n}}\n\n" for i in range(260))
    copied = ("    if (s->level > 3) {\n        s->level = 3;\n    }\n    s->count++;\n"
              "    s->total += s->count;\n    s->mask |= 1;\n    s->mask &= ~2;\n"
              "    s->last = s->count;\n    s->pending = 0;\n    s->flags = 7;\n")
    return (DEVICE.replace("    s->ms = MACHINE(qdev_get_machine());\n",
                           "    s->ms = MACHINE(qdev_get_machine());\n"
                           "    s->buf = g_malloc(sizeof(GadgetBuf));\n"
                           "    printf(\"gadget up\\n\");\n")
            + body + "static void gadget_a(GadgetState *s)\n{\n" + copied + "}\n\n"
            + "static void gadget_b(GadgetState *s)\n{\n" + copied + "}\n")


def test_a_big_series_forks_for_its_language_rules_with_the_same_findings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SPLIT_LINES added lines of C, `check` runs the language rules in a forked
    process while the primitives run here; the findings are those of one process, and a
    child that fails has its rules run here."""
    import os

    from reviewbot import engine

    if not hasattr(os, "fork") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs fork and two cores")
    text = _big_device()
    assert text.count("\n") > engine.SPLIT_LINES
    series = synthetic_series([("hw/misc/gadget.c", text)])
    rules = list(RULES.values())
    alone = [(f.rule, f.path, f.line, f.message)
             for f in run_check(series, Options(), rules).findings]
    fired = {r for r, *_ in alone}
    assert {"qom-realize-reaches-machine", "qemu-g-malloc-sizeof", "qemu-printf-in-device",
            "code-copied-statements"} <= fired  # both sides have something to say
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    split = [(f.rule, f.path, f.line, f.message)
             for f in run_check(series, Options(), rules, parallel=True).findings]
    assert split == alone and len(forks) == 1
    # a child that fails: its rules are run here, with the same result
    parent = os.getpid()
    real_run = engine._run_some

    def failing_in_child(*args: Any) -> Any:
        if os.getpid() != parent:
            raise RuntimeError("child fails")
        return real_run(*args)

    monkeypatch.setattr(engine, "_run_some", failing_in_child)
    again = [(f.rule, f.path, f.line, f.message)
             for f in run_check(series, Options(), rules, parallel=True).findings]
    assert again == alone and len(forks) == 2
    monkeypatch.setattr(engine, "_run_some", real_run)
    # facts that cannot be had (found after the fork, in this process): the child is
    # stopped and every rule runs here, the file's one note from the first rule to meet it
    from reviewbot.context import SeriesContext

    real_prefetch = SeriesContext.prefetch_facts

    def failing_prefetch(self: Any, position: int, path: str) -> bool:
        self._facts_failed[position, path] = RuntimeError("too big")
        return False

    monkeypatch.setattr(SeriesContext, "prefetch_facts", failing_prefetch)
    failed = run_check(series, Options(), rules, parallel=True).findings
    monkeypatch.setattr(SeriesContext, "prefetch_facts", real_prefetch)
    notes = [f for f in failed if f.rule == "could-not-analyse"]
    assert len(forks) == 3 and len(notes) == 1 and "too big" in notes[0].message
    with pytest.raises(ChildProcessError):  # the stopped child was waited for
        os.waitpid(forks[-1], os.WNOHANG)


def test_a_git_range_does_not_fork(monkeypatch: pytest.MonkeyPatch,
                                   git_repo: Callable[..., Any]) -> None:
    """A git range brings its own repository as the tree (and with it the index's SQLite
    connection): no split, whatever its size."""
    import os

    repo = git_repo()
    base = repo.commit("base", {"README": "x\n"})
    repo.commit("hw/misc: add gadget", {"hw/misc/gadget.c": _big_device()})
    series = load(f"{base}..HEAD", cwd=str(repo.path))
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked"))
    found = run_check(series, Options(), list(RULES.values()), parallel=True).findings
    assert "qemu-g-malloc-sizeof" in {f.rule for f in found}


def test_a_small_series_or_one_with_a_tree_does_not_fork(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    import os

    from reviewbot import engine

    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked"))
    small = synthetic_series([("hw/misc/gadget.c", DEVICE)])
    assert run_check(small, Options(), list(RULES.values()), parallel=True).findings
    (tmp_path / "hw").mkdir()
    big = synthetic_series([("hw/misc/gadget.c", _big_device())])
    assert not engine._split_worth(
        engine.SeriesContext(big, Options(tree=str(tmp_path))),
        [engine._primitive(r) for r in RULES.values()])
