"""Parsing guest boot lines (E820 map, SRAT memory affinity) and checking them."""

from __future__ import annotations

from reviewbot.qemu.bootlog import check_log, check_text, firmware_spec, parse_log

# A q35 guest with 4 GiB split over two nodes and a soft-reserved range on node 1.
GOOD = """\
[    0.000000] BIOS-provided physical RAM map:
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] BIOS-e820: [mem 0x000000000009fc00-0x000000000009ffff] reserved
[    0.000000] BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved
[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007ffdffff] usable
[    0.000000] BIOS-e820: [mem 0x000000007ffe0000-0x000000007fffffff] reserved
[    0.000000] BIOS-e820: [mem 0x00000000feffc000-0x00000000feffffff] reserved
[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] usable
[    0.000000] BIOS-e820: [mem 0x0000000140000000-0x000000017fffffff] soft reserved
[    0.000000] NX (Execute Disable) protection: active
[    0.004000] ACPI: SRAT: Node 0 PXM 0 [mem 0x00000000-0x0009ffff]
[    0.004001] ACPI: SRAT: Node 0 PXM 0 [mem 0x00100000-0x7fffffff]
[    0.004002] ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x17fffffff]
[    0.004003] ACPI: SRAT: Node 1 PXM 1 [mem 0x180000000-0x27fffffff] hotplug
"""


def test_parse_reads_ranges_types_and_flags() -> None:
    (log,) = parse_log(GOOD)
    assert len(log.e820) == 8
    first = log.e820[0]
    assert (first.start, first.end, first.type_text, first.line) == (0, 0x9FBFF, "usable", 2)
    assert log.e820[7].type_text == "soft reserved"
    assert [(s.node, s.pxm, s.hotplug) for s in log.srat] == [
        (0, 0, False), (0, 0, False), (1, 1, False), (1, 1, True)]
    assert log.srat[3].start == 0x180000000 and log.srat[3].end == 0x27FFFFFFF
    assert log.srat[0].line == 11


def test_good_log_is_clean() -> None:
    (log,) = parse_log(GOOD)
    assert check_log(log) == []


def test_overlap_quotes_both_lines() -> None:
    text = GOOD.replace("0x000000007ffe0000-0x000000007fffffff] reserved",
                        "0x000000007ff00000-0x000000007fffffff] reserved")
    problems = check_text(text)
    assert [(p.kind, p.line) for p in problems] == [("e820-overlap", 6)]
    assert problems[0].quoted == (
        "[    0.000000] BIOS-e820: [mem 0x0000000000100000-0x000000007ffdffff] usable",
        "[    0.000000] BIOS-e820: [mem 0x000000007ff00000-0x000000007fffffff] reserved",
    )
    assert problems[0].detail["range"] == "0x7ff00000-0x7ffdffff"


def test_unsorted() -> None:
    text = ("BIOS-e820: [mem 0x0000000000100000-0x000000007fffffff] usable\n"
            "BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable\n")
    assert [(p.kind, p.line) for p in check_text(text)] == [("e820-unsorted", 2)]


def test_unknown_type() -> None:
    text = ("BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable\n"
            "BIOS-e820: [mem 0x0000000000100000-0x00000000001fffff] type 9\n"
            "BIOS-e820: [mem 0x0000000000200000-0x00000000002fffff] persistent (type 7)\n"
            "BIOS-e820: [mem 0x0000000000300000-0x00000000003fffff] ACPI NVS\n")
    problems = check_text(text)
    assert [(p.kind, p.line, p.detail["type"]) for p in problems] == [
        ("e820-unknown-type", 2, "type 9")]


def test_soft_reserved_not_covered_by_srat() -> None:
    text = GOOD.replace("[mem 0x100000000-0x17fffffff]", "[mem 0x100000000-0x13fffffff]")
    problems = check_text(text)
    assert [(p.kind, p.line) for p in problems] == [("soft-reserved-no-srat", 9)]
    assert problems[0].detail["range"] == "0x140000000-0x17fffffff"


def test_soft_reserved_unchecked_without_any_srat_line() -> None:
    text = "\n".join(line for line in GOOD.splitlines() if "SRAT" not in line)
    assert check_text(text) == []


def test_srat_outside_e820_unless_hotplug() -> None:
    text = GOOD.replace("[mem 0x100000000-0x17fffffff]", "[mem 0x100000000-0x1bfffffff]")
    problems = check_text(text)
    assert [(p.kind, p.line) for p in problems] == [("srat-outside-e820", 13)]
    assert problems[0].detail["range"] == "0x180000000-0x1bfffffff"
    assert problems[0].quoted == (
        "[    0.004002] ACPI: SRAT: Node 1 PXM 1 [mem 0x100000000-0x1bfffffff]",)


def test_two_pasted_maps_are_checked_separately() -> None:
    text = ("Before:\n"
            "BIOS-e820: [mem 0x0000000000000000-0x00000000bfffffff] usable\n"
            "After:\n"
            "BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable\n"
            "BIOS-e820: [mem 0x0000000080000000-0x00000000bfffffff] soft reserved\n")
    logs = parse_log(text)
    assert [len(log.e820) for log in logs] == [1, 2]
    assert check_text(text) == []


def test_quoted_lines_skipped_on_request() -> None:
    text = ("> BIOS-e820: [mem 0x0000000000000000-0x00000000bfffffff] usable\n"
            "> BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable\n")
    assert [p.kind for p in check_text(text)] == ["e820-overlap"]
    assert check_text(text, skip_quoted=True) == []


def test_spec_table_names_and_values() -> None:
    spec = firmware_spec()
    found = spec.lookup("E820_SOFT_RESERVED")
    assert found is not None and found[1].value == 0xEFFFFFFF
    found = spec.lookup("EFI_ACPI_6_5_MEMORY_HOT_PLUGGABLE")
    assert found is not None and found[0] == "SRAT memory-affinity flag" and found[1].value == 2
    found = spec.lookup("EFI_MEMORY_SP")
    assert found is not None and found[1].value == 0x40000
    assert spec.lookup("E820_MAX_ENTRIES") is None


def test_text_between_lines_of_one_map_does_not_split_it() -> None:
    text = ("BIOS-e820: [mem 0x0000000000000000-0x000000007fffffff] usable\n"
            "# note: the next range overlaps\n"
            "BIOS-e820: [mem 0x0000000070000000-0x00000000bfffffff] reserved\n")
    (log,) = parse_log(text)
    assert len(log.e820) == 2
    assert [(p.kind, p.line) for p in check_text(text)] == [("e820-overlap", 3)]


def test_huge_map_is_cut_short_not_slow() -> None:
    import time

    from reviewbot.qemu.bootlog import MAX_ENTRIES

    lines = [f"BIOS-e820: [mem {i * 0x1000:#018x}-{i * 0x1000 + 0x1fff:#018x}] usable"
             for i in range(20000)]  # every range overlaps the next
    started = time.monotonic()
    problems = check_text("\n".join(lines))
    assert time.monotonic() - started < 10
    assert len(problems) == MAX_ENTRIES - 1
    assert {p.kind for p in problems} == {"e820-overlap"}
