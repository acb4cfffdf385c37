"""Firmware-table facts: values the diff gives spec constants, and boot logs pasted as evidence.

The spec values live in ``rules/data/firmware-spec.yaml``; log parsing and the log checks
are in :mod:`reviewbot.qemu.bootlog`, shared with ``reviewbot spec FILE``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from reviewbot.finding import Finding, PatchRef
from reviewbot.rules.registry import primitive

if TYPE_CHECKING:
    from reviewbot.context import SeriesContext
    from reviewbot.model import Mail, Patch, Series
    from reviewbot.qemu.bootlog import LogProblem
    from reviewbot.rules.model import Rule

LOG_PROBLEMS = ("e820-overlap", "e820-unsorted", "e820-unknown-type", "soft-reserved-no-srat",
                "srat-outside-e820")


# ---------------------------------------------------------------------------------------------
# A standalone log (``reviewbot spec FILE``)

def check_log_text(text: str, path: str) -> list[Finding]:
    """Findings of the spec-acpi log rules on a saved boot log; InputError when it has none."""
    from reviewbot.errors import InputError
    from reviewbot.finding import sort_findings
    from reviewbot.qemu.bootlog import check_log, parse_log
    from reviewbot.rules.loader import builtin_rules_dir, load_pack

    logs = parse_log(text)
    if not logs:
        raise InputError(f"{path}: no 'BIOS-e820:' or 'ACPI: SRAT:' lines found")
    rules = {r.params.get("problem"): r
             for r in load_pack("spec-acpi", builtin_rules_dir() / "spec-acpi")
             if r.check == "boot-log"}
    missing = sorted(set(LOG_PROBLEMS) - set(rules))
    if missing:
        raise InputError(f"{builtin_rules_dir()}: spec-acpi pack has no rule for "
                         f"{', '.join(missing)}")
    findings = []
    for log in logs:
        for problem in check_log(log):
            detail: dict[str, Any] = dict(problem.detail)
            findings.append(rules[problem.kind].finding(
                None, path=path, line=problem.line, code=problem.quoted[-1],
                anchor=problem.quoted[-1], evidence=list(problem.quoted), **detail))
    return sort_findings(findings)


# ---------------------------------------------------------------------------------------------
# Logs in mails

def _mail_ref(mail: Mail, index: int) -> PatchRef:
    return PatchRef(index=index, subject=mail.subject.raw or mail.subject.title,
                    message_id=mail.message_id)


def _patch_prose(patch: Patch) -> str:
    """The patch mail's text above the diff: commit message and notes."""
    if patch.diff_line > 1:
        return "\n".join(patch.mail.body.splitlines()[:patch.diff_line - 1])
    return patch.mail.body if not patch.diff_text else f"{patch.commit_message}\n{patch.notes}"


def mail_texts(series: Series) -> Iterator[tuple[Mail, int, str]]:
    """(mail, patch index, text) for every mail that may hold a pasted log."""
    if series.cover is not None:
        yield series.cover, 0, series.cover.body
    for reply in series.replies:
        yield reply, 0, reply.body
    for position, patch in enumerate(series.patches):
        index = patch.subject.counter or position + 1
        yield patch.mail, index, _patch_prose(patch)
        for reply in patch.replies:
            yield reply, index, reply.body


def log_findings(rule: Rule, problem: LogProblem, ref: PatchRef | None,
                 path: str | None = None, line: int | None = None) -> Finding:
    args: dict[str, Any] = dict(problem.detail)
    return rule.finding(None, patch=ref, path=path, line=line, anchor=problem.quoted[-1],
                        evidence=[f"> {q}" for q in problem.quoted], **args)


@lru_cache(maxsize=64)
def _problems(text: str) -> tuple[LogProblem, ...]:
    """Each mail is read once for the five log rules."""
    if "BIOS-e820" not in text and "SRAT" not in text:
        return ()
    from reviewbot.qemu.bootlog import check_text

    return tuple(check_text(text, skip_quoted=True))


@primitive("boot-log", scope="series", required=["problem"])
def boot_log(ctx: SeriesContext, rule: Rule) -> Iterable[Finding]:
    """E820 / SRAT lines pasted in the cover letter, a patch or a reply, checked for one
    ``problem``: e820-overlap, e820-unsorted, e820-unknown-type, soft-reserved-no-srat,
    srat-outside-e820."""
    wanted = rule.params["problem"]
    if wanted not in LOG_PROBLEMS:
        raise ValueError(f"boot-log: unknown problem {wanted!r}")
    for mail, index, text in mail_texts(ctx.series):
        # Lines quoted with '>' are someone else's log, reported where it was first pasted.
        for problem in _problems(text):
            if problem.kind == wanted:
                yield log_findings(rule, problem, _mail_ref(mail, index))


# ---------------------------------------------------------------------------------------------
# Constants in the diff

_SUFFIX = re.compile(r"\b(0[xX][0-9a-fA-F]+|\d+)(?:[uU]?[lL]{0,2}|[lL]{1,2}[uU])\b")
_CAST = re.compile(r"\(\s*(?:u?int\d+_t|unsigned(?:\s+long)*|long|int|UINT\d+|uint\d+)\s*\)")
_BIT = re.compile(r"\bBIT(?:_ULL)?\s*\(\s*(\d+)\s*\)")


def c_value(text: str) -> int | None:
    """The integer a simple C constant expression stands for; None if it is not simple."""
    expr = _BIT.sub(r"(1 << \1)", text.strip())
    expr = _CAST.sub("", expr)
    expr = _SUFFIX.sub(r"\1", expr)
    if not re.fullmatch(r"[0-9a-fA-FxX()<>|+\s]+", expr):
        return None
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        return None
    return _eval(tree.body)


def _eval(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left), _eval(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.LShift) and 0 <= right < 128:
            return left << right
        if isinstance(node.op, ast.BitOr):
            return left | right
        if isinstance(node.op, ast.Add):
            return left + right
    return None
