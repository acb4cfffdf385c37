"""Rules built into reviewbot rather than loaded from a pack: their findings come from the
engine itself or from a command option, not from a check primitive.

They have no YAML file and no examples, but `reviewbot rules` lists them and `--enable` /
`--disable` take their ids like any other rule's.
"""

from __future__ import annotations

from reviewbot.finding import Severity
from reviewbot.rules.model import Rule

# A primitive failed on odd input or a file exceeded a limit (engine.py).
COULD_NOT_ANALYSE = Rule(
    id="could-not-analyse", pack="core", severity=Severity.INFO, check="",
    message="rule {rule} could not analyse {what}: {error}",
    title="A rule could not analyse part of the input",
    rationale="A check met input it could not handle. The rest of the series was still "
    "checked, but this rule said nothing about this part.",
    fix="Please report it with the input that caused it (REVIEWBOT_DEBUG=1 re-raises it).",
    origin="reviewbot itself",
)

# `check --previous`: a reviewer's point on the previous version still open (review/followup.py).
FOLLOWUP_OPEN_POINT = Rule(
    id="followup-open-point", pack="core", severity=Severity.WARNING, check="",
    title="A review point on the previous version is still open",
    message="{reviewer}'s point on v{version} looks still open: {words}",
    rationale="A reviewer asked for this on the previous version, the quoted code is the same "
    "in this one, and the author did not answer on the list. Reviewers re-read the whole "
    "series to find that out; saying what was done saves them a round.",
    fix="Change the code as asked, or answer the reviewer on the list and say why not in the "
    "cover letter (`reviewbot followup PREVIOUS NEW --format changelog` drafts it).",
    origin="reviewbot followup: the reviews of the previous version",
)

BUILTIN_RULES = (COULD_NOT_ANALYSE, FOLLOWUP_OPEN_POINT)
