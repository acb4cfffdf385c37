"""Deriving the release a change first appears in from VERSION, the option, or the date."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from reviewbot.errors import InputError
from reviewbot.qemu.releases import (
    Release,
    from_date,
    from_option,
    from_version_file,
    parse_release,
    target_for,
)


@pytest.mark.parametrize(("version", "expected"), [
    ("10.0.13", "10.1"),   # a stable release of 10.0: new work goes to 10.1
    ("10.0.0", "10.1"),
    ("9.1.2", "9.2"),
    ("10.0.50", "10.1"),   # development after 10.0
    ("9.1.50\n", "9.2"),
])
def test_release_and_development(version: str, expected: str) -> None:
    target = from_version_file(version)
    assert str(target.expected) == expected
    assert len(target.releases) == 1


def test_development_basis_says_what_was_used() -> None:
    target = from_version_file("10.0.50")
    assert "VERSION 10.0.50" in target.basis
    assert "development toward 10.1" in target.basis


def test_release_candidate_targets_the_release_it_prepares_and_tolerates_the_next() -> None:
    target = from_version_file("10.0.92")
    assert [str(r) for r in target.releases] == ["10.1", "10.2"]
    assert "release candidate of 10.1" in target.basis


@pytest.mark.parametrize(("version", "expected"), [
    ("9.2.0", "10.0"),     # after A.2 comes (A+1).0
    ("9.2.4", "10.0"),
    ("9.2.50", "10.0"),
    ("9.2.90", "10.0"),
])
def test_year_boundary(version: str, expected: str) -> None:
    assert str(from_version_file(version).expected) == expected


def test_rc_at_year_boundary_tolerates_the_following_minor() -> None:
    assert [str(r) for r in from_version_file("9.2.91").releases] == ["10.0", "10.1"]


def test_option_accepts_a_release_or_a_version() -> None:
    assert str(from_option("10.2").expected) == "10.2"
    assert "--qemu-version 10.2" in from_option("10.2").basis
    assert str(from_option("10.1.50").expected) == "10.2"


@pytest.mark.parametrize("bad", ["", "ten", "10", "10.1.x"])
def test_bad_option_is_input_error(bad: str) -> None:
    with pytest.raises(InputError, match="--qemu-version"):
        from_option(bad)


def test_bad_version_file_is_input_error() -> None:
    with pytest.raises(InputError, match="VERSION"):
        from_version_file("10.1")


@pytest.mark.parametrize(("date", "expected"), [
    (datetime(2025, 1, 15, tzinfo=timezone.utc), ["10.0", "10.1"]),
    (datetime(2025, 4, 2, tzinfo=timezone.utc), ["10.0", "10.1"]),
    (datetime(2025, 6, 30, tzinfo=timezone.utc), ["10.1", "10.2"]),
    (datetime(2019, 9, 11, tzinfo=timezone.utc), ["4.2", "5.0"]),
    (datetime(2024, 12, 20, tzinfo=timezone.utc), ["9.2", "10.0"]),
])
def test_calendar(date: datetime, expected: list[str]) -> None:
    target = from_date(date)
    assert target is not None
    assert [str(r) for r in target.releases] == expected
    assert date.date().isoformat() in target.basis


def test_calendar_does_not_guess_before_it_starts() -> None:
    assert from_date(datetime(2016, 5, 1, tzinfo=timezone.utc)) is None


def test_precedence_option_then_tree_then_date() -> None:
    date = datetime(2025, 1, 15, tzinfo=timezone.utc)
    assert str(target_for(version_file="10.0.50", option="11.0", date=date).expected) == "11.0"  # type: ignore[union-attr]
    by_tree = target_for(version_file="10.0.50", option=None, date=date)
    assert by_tree is not None and str(by_tree.expected) == "10.1"
    assert "in the tree" in by_tree.basis
    by_date = target_for(version_file=None, option=None, date=date)
    assert by_date is not None and str(by_date.expected) == "10.0"
    assert target_for(version_file=None, option=None, date=None) is None


def test_parse_release() -> None:
    assert parse_release("10.1") == Release(10, 1)
    assert parse_release("2.12.0") == Release(2, 12)
    assert parse_release("next") is None
