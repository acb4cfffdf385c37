"""Firmware-spec primitives: constants in the diff, boot logs in the mails."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.checks.spec import c_value
from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.ingest import load
from reviewbot.rules.loader import builtin_rules_dir, load_pack
from reviewbot.rules.model import Rule

EXAMPLES = Path(__file__).resolve().parents[2] / "rules" / "spec-acpi" / "examples"


def rules() -> list[Rule]:
    return load_pack("spec-acpi", builtin_rules_dir() / "spec-acpi")


@pytest.mark.parametrize(("text", "value"), [
    ("1", 1), ("0xEFFFFFFF", 0xEFFFFFFF), ("0xefffffffU", 0xEFFFFFFF), ("(1 << 2)", 4),
    ("(1ULL << 18)", 0x40000), ("BIT(1)", 2), ("BIT_ULL(18)", 0x40000),
    ("((uint64_t)1 << 18)", 0x40000), ("(1 << 0) | (1 << 2)", 5), ("12UL", 12),
])
def test_c_value(text: str, value: int) -> None:
    assert c_value(text) == value


@pytest.mark.parametrize("text", ["FOO", "sizeof(x)", "E820_RAM + 1", "-1", "1.5"])
def test_c_value_gives_up_on_anything_else(text: str) -> None:
    assert c_value(text) is None


def test_constant_example_exact() -> None:
    result = run_check(load(str(EXAMPLES / "spec-constant.mbox")), Options(), rules())
    got = [(f.rule, f.path, f.line, f.message) for f in result.findings]
    assert got == [
        ("spec-constant-value", "include/hw/mem/spm-defs.h", 7,
         "E820_PMEM is 0xc here but the spec says 0x7 (persistent memory)"),
        ("spec-constant-value", "include/hw/mem/spm-defs.h", 15,
         "MEM_AFFINITY_HOTPLUGGABLE is 0x4 here but the spec says 0x2 (hot-pluggable (bit 1))"),
        ("spec-constant-value", "include/hw/mem/spm-defs.h", 21,
         "EFI_MEMORY_SP is 0x20000 here but the spec says 0x40000 "
         "(specific-purpose memory (UEFI 2.8 EFI_MEMORY_SP))"),
    ]


def test_log_example_reports_against_the_cover_with_the_offending_lines() -> None:
    result = run_check(load(str(EXAMPLES / "e820-log.mbox")), Options(), rules())
    got = {f.rule: (f.patch.index if f.patch else None,
                    f.patch.message_id if f.patch else None, f.evidence)
           for f in result.findings}
    assert len(result.findings) == 5  # one per rule, all on the cover letter
    t = "> [    0.000000] BIOS-e820: [mem "
    assert got["spec-e820-overlap"] == (0, "log-0@example.org", (
        t + "0x0000000000100000-0x000000007ffdffff] usable",
        t + "0x000000007ff00000-0x000000007fffffff] reserved"))
    assert got["spec-e820-unsorted"][2] == (
        t + "0x00000000feffc000-0x00000000feffffff] reserved",
        t + "0x00000000b0000000-0x00000000bfffffff] reserved")
    assert got["spec-e820-unknown-type"][2] == (
        t + "0x0000000180000000-0x00000001bfffffff] type 9",)
    assert got["spec-soft-reserved-without-srat"][2] == (
        t + "0x0000000140000000-0x000000017fffffff] soft reserved",)
    assert got["spec-srat-outside-e820"][2] == (
        "> [    0.004000] ACPI: SRAT: Node 1 PXM 1 [mem 0x1c0000000-0x1ffffffff]",)
    assert all(f.path is None for f in result.findings)


def test_real_threads_have_no_spec_findings(corpus_real: Path) -> None:
    for mbox in sorted(corpus_real.glob("*.mbox")):
        result = run_check(load(str(mbox)), Options(), rules())
        assert result.findings == (), mbox.name


def test_check_command_on_the_e820_corpus(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from reviewbot.cli import main

    mbox = EXAMPLES.parents[2] / "corpus" / "e820-log" / "spm-window.mbox"
    assert main(["check", "--format", "json", str(mbox)]) == 1
    doc = json.loads(capsys.readouterr().out)
    got = [(f["rule"], f["patch"]["index"], f["path"], f["line"]) for f in doc["findings"]]
    assert got == [("spec-e820-overlap", 0, None, None),
                   ("spec-constant-value", 1, "hw/i386/e820_memory_layout.h", 10)]
    overlap = doc["findings"][0]
    assert overlap["evidence"] == [
        "> [    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] usable",
        "> [    0.000000] BIOS-e820: [mem 0x0000000130000000-0x000000016fffffff] soft reserved"]
