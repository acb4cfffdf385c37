"""Primitives about the input itself rather than the code it changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from reviewbot.finding import Finding
from reviewbot.rules.registry import primitive

if TYPE_CHECKING:
    from reviewbot.context import SeriesContext
    from reviewbot.rules.model import Rule


@primitive("input-problem", scope="series")
def input_problem(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """Each part of the input that could not be read (Series.problems), as a finding."""
    for problem in ctx.series.problems:
        yield rule.finding(None, origin=problem.origin, problem=problem.message,
                           evidence=(f"in {problem.origin}",), anchor=problem.origin)


@primitive("tree-mismatch", scope="series")
def tree_mismatch(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """Each file of the series that is missing from the given tree, or whose hunks do not
    apply to the tree's copy: its post-image was rebuilt from the hunks alone."""
    for problem in ctx.post_images.applied_problems():
        yield rule.finding(None, origin=problem.origin, problem=problem.message,
                           evidence=(f"in {problem.origin}",), anchor=problem.origin)
