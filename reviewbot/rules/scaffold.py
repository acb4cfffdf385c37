"""``reviewbot rules new ID``: a language rule and its two example files, ready to edit.

What is written runs as it is: the rule matches a placeholder call, the first example has it
where the rule must fire and the second where it must not, so the example test passes before
the author changes anything, and keeps passing only if the new pattern and the examples agree.
"""

from __future__ import annotations

import re
from pathlib import Path

from reviewbot.errors import UsageError

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

RULE = """id: {id}
severity: info            # warning only once it is right on 9 of 10 places it flags in the tree
title: One line saying what is wrong
# WHAT: an ast-grep rule object over the C post-image (docs/writing-rules.md)
match:
  pattern: {placeholder}($$$ARGS)
# WHERE / WHEN (all optional): files, code (device | qom-object | machine | qapi), role,
# reachable-from, function-has, change (added | new-file | new-function | removed)
where:
  files: ["hw/**"]
  code: device
message: "{{function}}() calls {placeholder}($$$ARGS): say what to do instead"
rationale: >-
  Why maintainers ask for this, in your own words.
fix: >-
  How to do it right, naming an in-tree exemplar (file and function).
origin: "the QEMU doc and heading it enforces; a review message-id that said it"
examples:
  - examples/{id}.c
  - examples/{id}-ok.c
"""

FIRES = """/* path: hw/misc/{stem}.c */
/* Where {id} must fire: each ruleid mark is about the next line. */
#include "qemu/osdep.h"

static void {ident}_realize(DeviceState *dev, Error **errp)
{{
    /* ruleid: {id} */
    {placeholder}(dev);
}}

static void {ident}_class_init(ObjectClass *oc, void *data)
{{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = {ident}_realize;
}}

static const TypeInfo {ident}_info = {{
    .name = "{stem}",
    .parent = TYPE_DEVICE,
    .class_init = {ident}_class_init,
}};
"""

QUIET = """/* path: hw/misc/{stem}-ok.c */
/* Where {id} must stay quiet: the right way to do it. */
#include "qemu/osdep.h"

static void {ident}_ok_realize(DeviceState *dev, Error **errp)
{{
    /* ok: {id} */
    {ident}_do_it_right(dev);
}}

static void {ident}_ok_class_init(ObjectClass *oc, void *data)
{{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->realize = {ident}_ok_realize;
}}

static const TypeInfo {ident}_ok_info = {{
    .name = "{stem}-ok",
    .parent = TYPE_DEVICE,
    .class_init = {ident}_ok_class_init,
}};
"""


def new_rule(rule_id: str, pack: str, rules_dir: str) -> list[Path]:
    """Write ``rules_dir/pack/rule_id.yaml`` and its two examples; never overwrite."""
    if not _ID.match(rule_id):
        raise UsageError(f"rule id {rule_id!r}: kebab-case words (a-z, 0-9, '-')")
    if not _ID.match(pack):
        raise UsageError(f"pack {pack!r}: kebab-case words (a-z, 0-9, '-')")
    directory = Path(rules_dir) / pack
    rule = directory / f"{rule_id}.yaml"
    fires = directory / "examples" / f"{rule_id}.c"
    quiet = directory / "examples" / f"{rule_id}-ok.c"
    existing = [p for p in (rule, fires, quiet) if p.exists()]
    if existing:
        raise UsageError(f"{existing[0]}: already exists (not overwritten)")
    ident = rule_id.replace("-", "_")
    values = {"id": rule_id, "stem": rule_id, "ident": ident,
              "placeholder": f"replace_me_{ident}"}
    try:
        fires.parent.mkdir(parents=True, exist_ok=True)
        rule.write_text(RULE.format(**values), encoding="utf-8")
        fires.write_text(FIRES.format(**values), encoding="utf-8")
        quiet.write_text(QUIET.format(**values), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{directory}: cannot write the new rule: {exc}") from None
    return [rule, fires, quiet]
