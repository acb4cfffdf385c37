"""The series pack on real qemu-devel threads: nothing a maintainer would call wrong.

Each thread below was read by hand. None of them has a series-hygiene problem the pack
should report: every patch carries its author's Signed-off-by (audio's is
"Kővágó, Zoltán <...>", unparsed by the trailer reader, and still matched), subjects carry
a subsystem prefix and stay under 76 characters, the v2/v3 covers have a changelog, and
the v4 (sgx) and v2 (tdx) threads hold a single patch of a long series whose cover letter
was not fetched, so "no cover letter" / "no changelog" cannot be said about them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.checks.series import has_changelog
from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.ingest import load
from reviewbot.rules.loader import builtin_rules_dir, load_pack

# thread -> the exact series-pack findings reviewed as right: (rule, patch index)
EXPECTED: dict[str, list[tuple[str, int]]] = {
    "audio-pa-stream-name.mbox": [],
    "igvm-madt-acpi.mbox": [],
    "pcie-hotplug-fixes.mbox": [],
    "sgx-epc-reset.mbox": [],
    "spapr-drop-qdev-get-machine.mbox": [],
    "tdx-machine-init-done-late.mbox": [],
    "virtio-iommu-host-iova-ranges.mbox": [],
    "virtio-onoffauto.mbox": [],
}


@pytest.fixture(scope="module")
def series_rules() -> list[object]:
    return load_pack("series", builtin_rules_dir() / "series")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_series_pack_on_real_thread(name: str, corpus_real: Path,
                                    series_rules: list[object]) -> None:
    series = load(str(corpus_real / name))
    result = run_check(series, Options(), series_rules)  # type: ignore[arg-type]
    got = [(f.rule, f.patch.index if f.patch else -1) for f in result.findings]
    assert got == EXPECTED[name]


def test_every_thread_in_the_corpus_is_reviewed(corpus_real: Path) -> None:
    assert sorted(p.name for p in corpus_real.glob("*.mbox")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", ["igvm-madt-acpi.mbox", "virtio-iommu-host-iova-ranges.mbox",
                                  "virtio-onoffauto.mbox"])
def test_revised_series_are_quiet_because_their_changelog_is_seen(
        name: str, corpus_real: Path) -> None:
    series = load(str(corpus_real / name))
    assert series.version > 1
    texts = [series.cover.body if series.cover else ""] + [p.notes for p in series.patches]
    assert any(has_changelog(t) for t in texts)


@pytest.mark.parametrize(("name", "counter", "total"), [
    ("sgx-epc-reset.mbox", 23, 33), ("tdx-machine-init-done-late.mbox", 4, 44)])
def test_partial_threads_are_quiet_because_they_are_partial(
        name: str, counter: int, total: int, corpus_real: Path) -> None:
    series = load(str(corpus_real / name))
    assert series.cover is None and series.version > 1
    assert [(p.subject.counter, p.subject.total) for p in series.patches] == [(counter, total)]
    assert series.patches[0].mail.in_reply_to  # threaded under a cover we were not given
