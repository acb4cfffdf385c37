"""The c-code pack on the real qemu-devel threads of ../shared/corpus-real.

Exactly two of the fourteen review comments mined from those threads are hit, each by the
rule drawn from it, and nothing else in the eight threads is reported by the pack:

- igvm-madt-acpi, patch 3, backends/igvm.c:928 (Gerd Hoffmann: "I'd like to see less
  parameters for this function, not more"): qigvm_process_file() goes from 4 to 5.
- tdx-machine-init-done-late, patch 4, hw/core/machine.c:1281 (Connor Kuehl: a comment
  saying how machine_init_done_late differs from machine_init_done): the new NotifierList
  extends the machine_init_done hook point the hunk header names.

Not hit, and why: Gerd's "pattern repeated a number of times already" (backends/igvm.c:783)
needs the other copies of the loop, which stand in igvm.c outside the hunks, and QEMU 10.0
has no backends/igvm.c to read them from; Paolo Bonzini's point on sgx-epc (the reset
re-doing realize's work, hw/i386/sgx-epc.c:53-71) is about moved code, not copied code: the
patch moves realize's statements into a helper both call.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.finding import Finding
from reviewbot.ingest import load
from reviewbot.model import Series
from reviewbot.review.evaluate import review_coverage
from reviewbot.review.mine import KIND_COMMENT, mine_series
from reviewbot.rules.loader import builtin_rules_dir, load_pack
from reviewbot.rules.model import Rule

# thread -> the pack's findings there: (rule, patch index, path, line)
EXPECTED: dict[str, list[tuple[str, int, str, int]]] = {
    "audio-pa-stream-name.mbox": [],
    "igvm-madt-acpi.mbox": [("code-parameter-growth", 3, "backends/igvm.c", 928)],
    "pcie-hotplug-fixes.mbox": [],
    "sgx-epc-reset.mbox": [],
    "spapr-drop-qdev-get-machine.mbox": [],
    "tdx-machine-init-done-late.mbox": [
        ("code-undocumented-hook-list", 4, "hw/core/machine.c", 1281)],
    "virtio-iommu-host-iova-ranges.mbox": [],
    "virtio-onoffauto.mbox": [],
}

# thread -> the review comments hit: (reviewer, path, first line of the comment's place)
HITS: dict[str, list[tuple[str, str, int]]] = {
    "igvm-madt-acpi.mbox": [("Gerd Hoffmann", "backends/igvm.c", 928)],
    "tdx-machine-init-done-late.mbox": [("Connor Kuehl", "hw/core/machine.c", 1281)],
}


@pytest.fixture(scope="module")
def code_rules() -> list[Rule]:
    return load_pack("c-code", builtin_rules_dir() / "c-code")


def _run(thread: Path, rules: list[Rule]) -> tuple[Series, tuple[Finding, ...]]:
    series = load(str(thread))
    return series, run_check(series, Options(), rules).findings


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_code_pack_on_real_thread(name: str, corpus_real: Path,
                                  code_rules: list[Rule]) -> None:
    _, findings = _run(corpus_real / name, code_rules)
    got = [(f.rule, f.patch.index if f.patch else -1, f.path, f.line) for f in findings]
    assert got == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_review_comments_hit(name: str, corpus_real: Path, code_rules: list[Rule]) -> None:
    series, findings = _run(corpus_real / name, code_rules)
    comments = [c for c in mine_series(series) if c.kind == KIND_COMMENT]
    hit = [(h.comment.reviewer.split(" <")[0], h.comment.path, h.comment.line_start)
           for h in review_coverage(comments, findings) if h.hit]
    assert hit == HITS.get(name, [])


def test_parameter_growth_evidence_on_igvm(corpus_real: Path, code_rules: list[Rule]) -> None:
    _, findings = _run(corpus_real / "igvm-madt-acpi.mbox", code_rules)
    (f,) = findings
    assert f.message == ("qigvm_process_file() grows from 4 to 5 parameters (adds GArray *madt): "
                         "pass a struct or state it already has instead?")
    assert f.evidence == (
        "before: qigvm_process_file(IgvmCfg *cfg, ConfidentialGuestSupport *cgs, "
        "bool onlyVpContext, Error **errp) — 4 parameters",
        "after: qigvm_process_file(IgvmCfg *cfg, ConfidentialGuestSupport *cgs, "
        "bool onlyVpContext, GArray *madt, Error **errp) — 5 parameters")


def test_hook_list_evidence_on_tdx(corpus_real: Path, code_rules: list[Rule]) -> None:
    _, findings = _run(corpus_real / "tdx-machine-init-done-late.mbox", code_rules)
    (f,) = findings
    assert f.anchor == "machine_init_done_late_notifiers"
    assert f.evidence == (
        "existing hook point 'machine_init_done': qemu_remove_machine_init_done_notifier() in "
        "the hunk header '@@ ... @@ void qemu_remove_machine_init_done_notifier(Notifier "
        "*notify)'",)


def test_every_thread_in_the_corpus_is_reviewed(corpus_real: Path) -> None:
    assert sorted(p.name for p in corpus_real.glob("*.mbox")) == sorted(EXPECTED)
