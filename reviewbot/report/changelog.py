"""``reviewbot followup --format changelog``: a draft "Changes in vN+1" block for the cover
letter (or the notes below ``---`` of a single patch), one line per addressed point, crediting
the reviewer the way QEMU cover letters do ("per Peter's review"). It is what the
``series-changelog-missing`` rule asks authors to write; the author edits the wording.
"""

from __future__ import annotations

import textwrap
from typing import TextIO

from reviewbot.review.followup import ADDRESSED, ANSWERED, Ledger, Point

WIDTH = 72


def _credit(points: list[Point]) -> str:
    names: list[str] = []
    for p in points:
        if p.reviewer_first_name not in names:
            names.append(p.reviewer_first_name)
    owners = [f"{n}'s" for n in names]
    joined = owners[0] if len(owners) == 1 else ", ".join(owners[:-1]) + " and " + owners[-1]
    return f"per {joined} review"


def lines(ledger: Ledger) -> list[str]:
    """The block, without a trailing blank line."""
    out = [f"Changes in v{ledger.new.version}:"]
    grouped: dict[str, list[Point]] = {}
    for p in ledger.points:
        if p.status == ADDRESSED and p.summary:
            grouped.setdefault(p.summary, []).append(p)
    for summary, points in grouped.items():
        head = summary if "/" in summary.split(" ", 1)[0] else summary[0].upper() + summary[1:]
        text = f"- {head} ({_credit(points)})"
        out.extend(textwrap.wrap(text, WIDTH, subsequent_indent="  ", break_long_words=False,
                                 break_on_hyphens=False))
    answered = [p for p in ledger.points if p.status == ANSWERED]
    for p in answered:
        what = f"{p.path}: kept" if p.path else "Kept"
        text = (f"- {what} as it was, see the reply to {p.reviewer_first_name}'s review "
                "on the list")
        out.extend(textwrap.wrap(text, WIDTH, subsequent_indent="  ", break_long_words=False,
                                 break_on_hyphens=False))
    if len(out) == 1:
        out.append(f"- (no review point of v{ledger.previous.version} was found addressed)")
    return out


def write(ledger: Ledger, out: TextIO) -> None:
    out.write("\n".join(lines(ledger)) + "\n")
