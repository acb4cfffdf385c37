"""Which QEMU release a change will first appear in.

QEMU makes three releases a year, A.0, A.1 and A.2, and the tree's ``VERSION`` file says
where the tree stands:

- ``A.B.C`` with C < 50: the release A.B itself or one of its stable updates;
- ``A.B.50``: development toward the release after A.B;
- ``A.B.90`` and up: release candidates of the release after A.B.

In every case a change written on top of that tree first ships in the release after A.B
(during release candidates the tree is frozen, so a feature may also slip one release
further). Without a tree the series' date is placed on the release calendar instead; so it
is with a tree older (or newer) than the series (its hunks do not apply there, and its date
places it in another release than the tree leads to), whose VERSION says nothing about the
series' release.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from reviewbot.errors import InputError
from reviewbot.util.frozen import frozen

_VERSION = re.compile(r"^\s*(\d+)\.(\d+)(?:\.(\d+))?\s*$")


@dataclass(frozen=True, order=True)
class Release:
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    def following(self, minors_per_major: int = 3) -> Release:
        if self.minor + 1 >= minors_per_major:
            return Release(self.major + 1, 0)
        return Release(self.major, self.minor + 1)


@frozen
class Target:
    """The releases a change may name in ``Since:``, and how that was decided."""

    releases: tuple[Release, ...]  # the first is the expected one; later ones are tolerated
    basis: str  # e.g. "VERSION 10.0.50 in the tree", "--qemu-version 10.1", "series date ..."

    @property
    def expected(self) -> Release:
        return self.releases[0]


def parse_release(text: str) -> Release | None:
    """``"10.1"`` or ``"10.1.0"`` -> Release(10, 1); anything else -> None."""
    m = _VERSION.match(text)
    if m is None:
        return None
    return Release(int(m.group(1)), int(m.group(2)))


def from_version_file(text: str, basis: str | None = None) -> Target:
    """The target release of a change made on a tree whose VERSION file reads ``text``."""
    m = _VERSION.match(text)
    if m is None or m.group(3) is None:
        raise InputError(f"VERSION: expected A.B.C, got {text.strip()!r}")
    major, minor, micro = int(m.group(1)), int(m.group(2)), int(m.group(3))
    nxt = Release(major, minor).following(_calendar()["minors_per_major"])
    why = basis or f"VERSION {text.strip()}"
    if micro >= 90:
        # Release candidates: the tree is frozen, a feature may land one release later.
        return Target((nxt, nxt.following(_calendar()["minors_per_major"])),
                      f"{why} (release candidate of {nxt})")
    if micro >= 50:
        return Target((nxt,), f"{why} (development toward {nxt})")
    return Target((nxt,), f"{why} (release {major}.{minor}; next is {nxt})")


def from_option(text: str) -> Target:
    """``--qemu-version``: a VERSION-style ``A.B.C`` or the target release ``A.B`` itself."""
    m = _VERSION.match(text)
    if m is None:
        raise InputError(f"--qemu-version: expected A.B or A.B.C, got {text!r}")
    if m.group(3) is None:
        rel = Release(int(m.group(1)), int(m.group(2)))
        return Target((rel,), f"--qemu-version {text.strip()}")
    return from_version_file(text, basis=f"--qemu-version {text.strip()}")


def from_date(when: datetime) -> Target | None:
    """The next releases after ``when`` on the calendar; None before the calendar starts."""
    cal = _calendar()
    if when.year < cal["first_year"]:
        return None
    major = when.year - cal["year_offset"]
    months: list[int] = cal["release_months"]
    candidates = [Release(major, i) for i, month in enumerate(months) if month >= when.month]
    first = candidates[0] if candidates else Release(major + 1, 0)
    return Target((first, first.following(len(months))),
                  f"series date {when.date().isoformat()} on the release calendar")


def target_for(*, version_file: str | None, option: str | None,
               date: datetime | None) -> Target | None:
    """The option wins, then the tree's VERSION, then the date; None when none is known."""
    if option:
        return from_option(option)
    if version_file and version_file.strip():
        return from_version_file(version_file, basis=f"VERSION {version_file.strip()} in the tree")
    if date is not None:
        return from_date(date)
    return None


def over_stale_tree(tree_target: Target, version_file: str, date: datetime | None,
                    why: str) -> Target | None:
    """The release calendar's target for a series the tree does not match (``why``: how
    that shows, e.g. hunks that do not apply) when its date places it in another release
    than the one ``tree_target`` leads to: the tree is older (or newer) than the series.
    None when the date agrees with the tree or is unknown."""
    if date is None:
        return None
    dated = from_date(date)
    if dated is None or dated.expected == tree_target.expected:
        return None
    age = "older" if dated.expected > tree_target.expected else "newer"
    return Target(dated.releases,
                  f"series date {date.date().isoformat()} on the release calendar, not the "
                  f"tree's VERSION {version_file.strip()} (next release "
                  f"{tree_target.expected}): the tree is {age} than the series ({why})")


@cache
def _calendar() -> dict[str, Any]:
    from reviewbot.rules.cache import load_table

    path = _data_dir() / "qemu-releases.yaml"
    data = load_table(path, "release calendar")
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping")
    return data


def _data_dir() -> Path:
    from reviewbot.rules.loader import builtin_rules_dir

    return builtin_rules_dir() / "data"
