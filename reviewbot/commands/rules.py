"""``reviewbot rules``: list the rules; ``rules show ID`` explains one; ``rules new ID``
starts one (a language rule and its two example files, docs/writing-rules.md)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.rules.model import Rule

HELP = "list the rules, show one rule's rationale, fix and examples, or start a new rule"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("list", "show", "new"), default="list",
                        help="list (default), show ID, or new ID")
    parser.add_argument("rule_id", nargs="?", metavar="ID", help="the rule to show or create")
    parser.add_argument("--rules", metavar="DIR", action="append", default=[],
                        help="also load the rule packs in DIR (repeatable)")
    parser.add_argument("--pack", metavar="PACK",
                        help="list only the rules of PACK; with new: the pack to write the rule "
                        "in (default: local)")
    parser.add_argument("--dir", metavar="DIR", default="rules",
                        help="with new: the rules directory to write in (default: ./rules)")


def run(args: argparse.Namespace) -> int:
    import sys

    from reviewbot.errors import UsageError
    from reviewbot.rules.loader import load_rules

    out = sys.stdout
    if args.action == "new":
        if not args.rule_id:
            raise UsageError("'rules new' needs a rule ID")
        from reviewbot.rules.scaffold import new_rule

        for path in new_rule(args.rule_id, args.pack or "local", args.dir):
            out.write(f"wrote {path}\n")
        return 0
    from reviewbot.rules.builtin import BUILTIN_RULES

    rules = (*load_rules(args.rules), *BUILTIN_RULES)
    if args.action == "list":
        if args.rule_id:
            raise UsageError("'rules list' takes no ID (did you mean 'rules show ID'?)")
        shown = [r for r in rules if args.pack is None or r.pack == args.pack]
        if args.pack is not None and not shown:
            packs = ", ".join(sorted({r.pack for r in rules}))
            raise UsageError(f"no rule pack {args.pack!r} (packs: {packs})")
        width = max((len(r.id) for r in shown), default=0)
        for rule in shown:
            out.write(f"{rule.id:<{width}}  {rule.severity!s:<7}  {rule.pack:<10}  "
                      f"{rule.title}\n")
        return 0
    if not args.rule_id:
        raise UsageError("'rules show' needs a rule ID")
    by_id = {r.id: r for r in rules}
    found = by_id.get(args.rule_id)
    if found is None:
        raise UsageError(f"unknown rule id {args.rule_id!r} (see `reviewbot rules`)")
    if found.check == "language" and "match" in found.params:
        from reviewbot.checks.lang import compile_rule

        compile_rule(found)  # a pattern ast-grep rejects is a one-line error here too
    out.write(describe(found))
    return 0


def describe(rule: Rule) -> str:
    import textwrap
    from pathlib import Path

    def para(title: str, text: str) -> str:
        body = textwrap.fill(" ".join(text.split()), 96, initial_indent="  ",
                             subsequent_indent="  ")
        return f"{title}:\n{body}\n"

    kind = ("rule language" if rule.check == "language"
            else f"check {rule.check}" if rule.check else "built into reviewbot")
    parts = [
        f"{rule.id} ({rule.severity}, pack {rule.pack}, {kind})\n",
        f"  {rule.title}\n",
        para("Rationale", rule.rationale),
        para("Fix", rule.fix),
        para("Origin", rule.origin),
    ]
    if rule.check == "language":
        parts.append("Rule:\n" + textwrap.indent(_language_text(rule), "  "))
    elif rule.params:
        parts.append("Parameters:\n" + "".join(
            f"  {k}: {v}\n" for k, v in sorted(rule.params.items())))
    if rule.examples:
        shown = "Examples:\n"
        for ex in rule.examples:
            path = Path(ex)
            shown += f"  --- {path.parent.name}/{path.name}\n"
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            shown += textwrap.indent(text.rstrip("\n"), "  ") + "\n"
        parts.append(shown)
    if rule.path:
        parts.append(f"Defined in {rule.path}:{rule.line}\n")
    return "\n".join(parts)


def _language_text(rule: Rule) -> str:
    """The language part of the rule file as written (match/lines, where, series, ...)."""
    import re
    from pathlib import Path

    from reviewbot.rules.loader import LANGUAGE_KEYS

    try:
        text = Path(rule.path).read_text(encoding="utf-8")
    except OSError:
        return ""
    keep: list[str] = []
    inside = False
    for line in text.splitlines():
        top = re.match(r"^([A-Za-z_-]+):", line)
        if top:
            inside = top.group(1) in LANGUAGE_KEYS
        if inside:
            keep.append(line)
    return "\n".join(keep) + "\n"
