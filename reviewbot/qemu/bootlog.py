"""Guest boot logs pasted as evidence: the E820 map and the ACPI SRAT memory affinities.

Linux prints the firmware memory map as ``BIOS-e820: [mem 0xSTART-0xEND] TYPE`` (END
inclusive) and each SRAT memory-affinity entry as ``ACPI: SRAT: Node N PXM P [mem
0xSTART-0xEND]`` followed by `` hotplug`` / `` non-volatile`` when those flags are set.
This module finds those lines in any text (dmesg with or without timestamps, a cover
letter, a reply) and checks them against each other and against the spec table in
``rules/data/firmware-spec.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import field
from functools import cache
from pathlib import Path
from typing import Any

from reviewbot.errors import InputError
from reviewbot.util.frozen import frozen

_E820 = re.compile(
    r"BIOS-e820: \[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\] (?P<type>\S.*?)\s*$")
_SRAT = re.compile(
    r"(?:ACPI: )?SRAT: Node (\d+) PXM (\d+) \[mem (0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\]"
    r"(?P<flags>(?: (?:hotplug|non-volatile))*)\s*$")
_TYPE_N = re.compile(r"^(?:persistent )?\(?type (\d+)\)?$")
_QUOTED = re.compile(r"^\s*>")


@frozen
class SpecEntry:
    value: int
    meaning: str
    names: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...] = ()
    log: tuple[str, ...] = ()

    def names_it(self, identifier: str) -> bool:
        return identifier in self.names or any(p.match(identifier) for p in self.patterns)


@frozen
class FirmwareSpec:
    e820_types: tuple[SpecEntry, ...]
    srat_memory_flags: tuple[SpecEntry, ...]
    efi_memory_attributes: tuple[SpecEntry, ...]

    def all_entries(self) -> tuple[tuple[str, SpecEntry], ...]:
        return (*(("E820 type", e) for e in self.e820_types),
                *(("SRAT memory-affinity flag", e) for e in self.srat_memory_flags),
                *(("EFI memory attribute", e) for e in self.efi_memory_attributes))

    def lookup(self, identifier: str) -> tuple[str, SpecEntry] | None:
        for table, entry in self.all_entries():
            if entry.names_it(identifier):
                return table, entry
        return None

    def e820_type_for_log(self, text: str) -> SpecEntry | None:
        for entry in self.e820_types:
            if text in entry.log:
                return entry
        m = _TYPE_N.match(text)
        if m is not None:
            for entry in self.e820_types:
                if entry.value == int(m.group(1)):
                    return entry
        return None


def _entries(path: Path, data: Any, key: str) -> tuple[SpecEntry, ...]:
    raw = data.get(key) if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise InputError(f"{path}: {key} must be a list")
    out = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("value"), int):
            raise InputError(f"{path}: {key}: each entry needs an integer value")
        out.append(SpecEntry(
            value=item["value"], meaning=str(item.get("meaning", "")),
            names=tuple(str(n) for n in item.get("names", ())),
            patterns=tuple(re.compile(str(p)) for p in item.get("patterns", ())),
            log=tuple(str(s) for s in item.get("log", ())),
        ))
    return tuple(out)


@cache
def firmware_spec(path: Path | None = None) -> FirmwareSpec:
    """The spec table (``rules/data/firmware-spec.yaml`` unless ``path`` is given)."""
    from reviewbot.rules.cache import load_table

    if path is None:
        from reviewbot.rules.loader import builtin_rules_dir

        path = builtin_rules_dir() / "data" / "firmware-spec.yaml"
    data = load_table(path, "firmware spec table")
    return FirmwareSpec(
        e820_types=_entries(path, data, "e820_types"),
        srat_memory_flags=_entries(path, data, "srat_memory_flags"),
        efi_memory_attributes=_entries(path, data, "efi_memory_attributes"),
    )


@frozen
class E820Entry:
    start: int
    end: int  # inclusive, as Linux prints it
    type_text: str
    line: int  # 1-based line in the text the log was found in
    text: str  # the line as found, stripped


@frozen
class SratEntry:
    node: int
    pxm: int
    start: int
    end: int  # inclusive
    hotplug: bool
    non_volatile: bool
    line: int
    text: str


@frozen
class MemoryLog:
    """One boot's worth of lines: an E820 map and the SRAT entries printed after it."""

    e820: tuple[E820Entry, ...] = ()
    srat: tuple[SratEntry, ...] = ()


@frozen
class LogProblem:
    kind: str  # e820-overlap, e820-unsorted, e820-unknown-type, soft-reserved-no-srat,
    #            srat-outside-e820
    line: int  # the line the problem is reported on
    quoted: tuple[str, ...]  # the offending lines, as found
    detail: dict[str, str] = field(default_factory=dict, compare=False)


def parse_log(text: str, *, skip_quoted: bool = False) -> tuple[MemoryLog, ...]:
    """Every E820 map (with the SRAT lines that follow it) found in ``text``.

    A map runs on until, after some other text, a ``BIOS-e820`` line starts again at or
    below the map's first address: a cover letter that pastes a "before" and an "after"
    log gives two maps, while a remark between two lines of one map does not split it.
    With ``skip_quoted``, lines quoted with ``>`` (someone else's text in a reply) are
    ignored.
    """
    logs: list[MemoryLog] = []
    e820: list[E820Entry] = []
    srat: list[SratEntry] = []
    last_was_e820 = False
    for no, raw in enumerate(text.splitlines(), start=1):
        if skip_quoted and _QUOTED.match(raw):
            last_was_e820 = False
            continue
        m = _E820.search(raw)
        if m is not None:
            start = int(m.group(1), 16)
            # After other text, a map that starts again from the bottom is a new boot.
            if not last_was_e820 and e820 and start <= e820[0].start:
                logs.append(MemoryLog(tuple(e820), tuple(srat)))
                e820, srat = [], []
            e820.append(E820Entry(start, int(m.group(2), 16), m.group("type"), no,
                                  raw.strip()))
            last_was_e820 = True
            continue
        if raw.strip():
            last_was_e820 = False
        s = _SRAT.search(raw)
        if s is not None:
            flags = s.group("flags").split()
            srat.append(SratEntry(int(s.group(1)), int(s.group(2)), int(s.group(3), 16),
                                  int(s.group(4), 16), "hotplug" in flags,
                                  "non-volatile" in flags, no, raw.strip()))
    if e820 or srat:
        logs.append(MemoryLog(tuple(e820), tuple(srat)))
    return tuple(logs)


def _hex(value: int) -> str:
    return f"{value:#x}"


def _uncovered(start: int, end: int, ranges: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The first part of [start, end] that none of ``ranges`` (inclusive pairs) covers."""
    pos = start
    for r_start, r_end in sorted(ranges):
        if r_start > pos:
            break
        pos = max(pos, r_end + 1)
        if pos > end:
            return None
    if pos > end:
        return None
    nxt = min((s for s, _ in ranges if s > pos), default=end + 1)
    return pos, min(end, nxt - 1)


# Firmware maps have tens of entries (Linux keeps at most a few hundred); beyond this a
# "log" is not a boot log, and the pairwise checks below would only burn time on it.
MAX_ENTRIES = 1024


def check_log(log: MemoryLog, spec: FirmwareSpec | None = None) -> list[LogProblem]:
    """What is wrong with one boot's E820 map and SRAT entries (the first MAX_ENTRIES)."""
    spec = spec or firmware_spec()
    log = MemoryLog(log.e820[:MAX_ENTRIES], log.srat[:MAX_ENTRIES])
    problems: list[LogProblem] = []
    for i, entry in enumerate(log.e820):
        if spec.e820_type_for_log(entry.type_text) is None:
            problems.append(LogProblem("e820-unknown-type", entry.line, (entry.text,),
                                       {"type": entry.type_text}))
        if entry.end < entry.start:
            problems.append(LogProblem("e820-overlap", entry.line, (entry.text,),
                                       {"other": "its own start",
                                        "what": f"{entry.text.strip()} ends before it starts"}))
        if i == 0:
            continue
        prev = log.e820[i - 1]
        if entry.start < prev.start:
            problems.append(LogProblem("e820-unsorted", entry.line, (prev.text, entry.text),
                                       {"start": _hex(entry.start), "prev": _hex(prev.start)}))
        for other in log.e820[:i]:
            if other.start <= entry.end and entry.start <= other.end:
                lo, hi = max(other.start, entry.start), min(other.end, entry.end)
                problems.append(LogProblem(
                    "e820-overlap", entry.line, (other.text, entry.text),
                    {"other": other.text, "range": f"{_hex(lo)}-{_hex(hi)}",
                     "what": f"{_hex(lo)}-{_hex(hi)} is described twice"}))
                break
    if log.srat:
        srat_ranges = [(s.start, s.end) for s in log.srat]
        for entry in log.e820:
            kind = spec.e820_type_for_log(entry.type_text)
            if kind is None or kind.value != _soft_reserved(spec):
                continue
            gap = _uncovered(entry.start, entry.end, srat_ranges)
            if gap is not None:
                problems.append(LogProblem(
                    "soft-reserved-no-srat", entry.line, (entry.text,),
                    {"range": f"{_hex(gap[0])}-{_hex(gap[1])}"}))
    if log.e820:
        e820_ranges = [(e.start, e.end) for e in log.e820]
        for s in log.srat:
            if s.hotplug:
                continue  # hot-pluggable ranges are described by SRAT alone until plugged
            gap = _uncovered(s.start, s.end, e820_ranges)
            if gap is not None:
                problems.append(LogProblem(
                    "srat-outside-e820", s.line, (s.text,),
                    {"range": f"{_hex(gap[0])}-{_hex(gap[1])}"}))
    return sorted(problems, key=lambda p: (p.line, p.kind))


def _soft_reserved(spec: FirmwareSpec) -> int:
    for entry in spec.e820_types:
        if "soft reserved" in entry.log:
            return entry.value
    return 0xEFFFFFFF


def check_text(text: str, *, skip_quoted: bool = False,
               spec: FirmwareSpec | None = None) -> list[LogProblem]:
    """Every problem in every log found in ``text``."""
    out: list[LogProblem] = []
    for log in parse_log(text, skip_quoted=skip_quoted):
        out.extend(check_log(log, spec))
    return out
