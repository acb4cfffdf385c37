"""``reviewbot rules``: list the rules; ``reviewbot rules show ID`` explains one."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.rules.model import Rule

HELP = "list the rules, or show one rule's rationale, fix and examples"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=("list", "show"), default="list",
                        help="list (default) or show")
    parser.add_argument("rule_id", nargs="?", metavar="ID", help="the rule to show")
    parser.add_argument("--rules", metavar="DIR", action="append", default=[],
                        help="also load the rule packs in DIR (repeatable)")
    parser.add_argument("--pack", metavar="PACK", help="list only the rules of PACK")


def run(args: argparse.Namespace) -> int:
    import sys

    from reviewbot.errors import UsageError
    from reviewbot.rules.loader import load_rules

    rules = load_rules(args.rules)
    out = sys.stdout
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
    out.write(describe(found))
    return 0


def describe(rule: Rule) -> str:
    import textwrap
    from pathlib import Path

    def para(title: str, text: str) -> str:
        body = textwrap.fill(" ".join(text.split()), 96, initial_indent="  ",
                             subsequent_indent="  ")
        return f"{title}:\n{body}\n"

    parts = [
        f"{rule.id} ({rule.severity}, pack {rule.pack}, check {rule.check})\n",
        f"  {rule.title}\n",
        para("Rationale", rule.rationale),
        para("Fix", rule.fix),
        para("Origin", rule.origin),
    ]
    if rule.params:
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
    parts.append(f"Defined in {rule.path}:{rule.line}\n")
    return "\n".join(parts)
