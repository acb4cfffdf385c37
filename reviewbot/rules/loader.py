"""Rule files: YAML read with line numbers, checked against the rule schema, turned into Rules.

A rule pack is a directory of ``<id>.yaml`` files (``rules/<pack>/``); its annotated examples
live in ``examples/`` beside them. Any mistake in a rule file is an InputError naming the file
and the line, so a rule author sees ``rules/qemu-qom/foo.yaml:7: ...`` and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewbot.errors import InputError
from reviewbot.finding import Severity
from reviewbot.rules.model import Rule
from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from reviewbot.rules.cache import RuleCache

REQUIRED_KEYS = ("id", "severity", "check", "message", "rationale", "fix", "origin", "examples")
# A language rule (docs/writing-rules.md) has match: or lines: instead of check:.
LANGUAGE_KEYS = ("match", "constraints", "lines", "where", "series", "evidence", "anchor")
OPTIONAL_KEYS = ("params", "title", "precision", *LANGUAGE_KEYS)
_TEXT_KEYS = ("message", "rationale", "fix", "origin", "title")
LANGUAGE_CHECK = "language"  # the primitive that runs language rules (checks/lang.py)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

# Directories under a rules root that hold data for primitives, not rules.
NOT_PACKS = frozenset({"data", "examples"})

def builtin_rules_dir() -> Path:
    """``reviewbot/_rules`` in an installed wheel, the repository's ``rules/`` otherwise."""
    package = Path(__file__).resolve().parents[1]
    bundled = package / "_rules"
    if bundled.is_dir():
        return bundled
    return package.parent / "rules"


@frozen
class _Node:
    """A YAML value with the line (1-based) it starts on."""

    value: Any
    line: int  # where the value starts
    key_line: int  # where its key is
    item_lines: tuple[int, ...] = ()  # for a list: where each item is


def _compose(path: Path, text: str) -> Any:
    import yaml

    from reviewbot.util import yamlio

    try:
        return yaml.compose(text, Loader=yamlio.safe_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise InputError(f"{path}:{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {exc}") from None


def _plain(path: Path, node: Any) -> Any:
    """Turn a composed node into Python values (keeps no line numbers below the top level)."""
    import yaml
    from yaml.constructor import SafeConstructor

    # The constructor alone: a whole SafeLoader (reader, scanner, parser) for every key of
    # every rule file was most of the time spent loading rules.
    try:
        return SafeConstructor().construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}:{node.start_mark.line + 1}: invalid YAML value: {exc}") from None


def _top_level(path: Path, text: str) -> tuple[dict[str, _Node], int]:
    import yaml

    root = _compose(path, text)
    if root is None:
        raise InputError(f"{path}:1: empty rule file")
    if not isinstance(root, yaml.MappingNode):
        raise InputError(f"{path}:{root.start_mark.line + 1}: a rule file is a mapping of keys")
    out: dict[str, _Node] = {}
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            raise InputError(f"{path}:{line}: keys must be plain words")
        key = str(key_node.value)
        if key in out:
            raise InputError(f"{path}:{line}: key {key!r} given twice")
        items = (tuple(n.start_mark.line + 1 for n in value_node.value)
                 if isinstance(value_node, yaml.SequenceNode) else ())
        out[key] = _Node(_plain(path, value_node), value_node.start_mark.line + 1, line, items)
    return out, root.start_mark.line + 1


def _primitive(name: str) -> Any:
    from reviewbot.rules import registry

    return registry.get(name)


def load_rule_file(path: Path, pack: str) -> Rule:
    """Read and check one rule file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read rule file: {exc}") from None
    fields, first_line = _top_level(path, text)

    for key, node in fields.items():
        if key not in REQUIRED_KEYS and key not in OPTIONAL_KEYS:
            known = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
            raise InputError(f"{path}:{node.key_line}: unknown key {key!r} "
                             f"(known: {known})")
    language = "match" in fields or "lines" in fields
    missing = [k for k in REQUIRED_KEYS if k not in fields
               and not (language and k == "check")]
    if missing:
        raise InputError(f"{path}:{first_line}: missing required key(s): {', '.join(missing)}")

    def where(key: str) -> str:
        return f"{path}:{fields[key].key_line}"

    for key in _TEXT_KEYS:
        if language and key == "fix" and isinstance(fields[key].value, list):
            continue  # a list of cases, checked with the rest of the language rule
        if key in fields and (not isinstance(fields[key].value, str)
                              or not fields[key].value.strip()):
            raise InputError(f"{where(key)}: {key} must be non-empty text")

    rule_id = fields["id"].value
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise InputError(f"{where('id')}: id must be kebab-case words (a-z, 0-9, '-'), "
                         f"got {rule_id!r}")
    if rule_id != path.stem:
        raise InputError(f"{where('id')}: id {rule_id!r} differs from the file name "
                         f"{path.name!r} (expected {path.stem!r})")

    sev_value = fields["severity"].value
    try:
        severity = Severity.parse(str(sev_value))
    except ValueError as exc:
        raise InputError(f"{where('severity')}: {exc}") from None

    if "precision" in fields:
        _check_precision(path, fields["precision"])
    if language:
        from reviewbot.rules.language import SpecError, check_spec, default_fix

        try:
            spec = check_spec({k: n.value for k, n in fields.items()})
        except SpecError as exc:
            top = exc.key.split(".", 1)[0]
            line = fields[top].key_line if top in fields else first_line
            raise InputError(f"{path}:{line}: rule {rule_id}: {exc}") from None
        if "params" in fields:
            raise InputError(f"{where('params')}: rule {rule_id}: a language rule has no "
                             "params (they belong to check: rules)")
        return _rule(fields, path, pack, rule_id, severity, check=LANGUAGE_CHECK, params=spec,
                     first_line=first_line, fix=default_fix(fields["fix"].value))

    check = fields["check"].value
    if not isinstance(check, str):
        raise InputError(f"{where('check')}: check must name a primitive")
    prim = _primitive(check)
    if prim is None:
        from reviewbot.rules import registry

        known = ", ".join(registry.all_primitives()) or "none registered"
        raise InputError(f"{where('check')}: unknown check primitive {check!r} (known: {known})")

    params: dict[str, Any] = {}
    if "params" in fields:
        raw = fields["params"].value
        if raw is None:
            raw = {}
        if not isinstance(raw, dict) or not all(isinstance(k, str) for k in raw):
            raise InputError(f"{where('params')}: params must be a mapping of names to values")
        params = raw
    unknown = sorted(set(params) - prim.params)
    if unknown:
        accepted = ", ".join(sorted(prim.params)) or "none"
        raise InputError(f"{path}:{fields['params'].key_line}: primitive {check!r} does not accept "
                         f"param(s) {', '.join(unknown)} (accepted: {accepted})")
    absent = sorted(prim.required - set(params))
    if absent:
        line = fields["params"].key_line if "params" in fields else fields["check"].key_line
        raise InputError(f"{path}:{line}: primitive {check!r} needs param(s) {', '.join(absent)}")
    return _rule(fields, path, pack, rule_id, severity, check=check, params=params,
                 first_line=first_line, fix=fields["fix"].value)


def _check_precision(path: Path, node: _Node) -> None:
    value = node.value
    known = {"flagged", "sampled", "agreed", "tree", "note"}
    if not isinstance(value, dict) or set(value) - known:
        raise InputError(f"{path}:{node.key_line}: precision is a mapping of "
                         f"{', '.join(sorted(known))}")


def _rule(fields: dict[str, _Node], path: Path, pack: str, rule_id: str, severity: Severity,
          *, check: str, params: dict[str, Any], first_line: int, fix: str) -> Rule:
    def where(key: str) -> str:
        return f"{path}:{fields[key].key_line}"

    examples_value = fields["examples"].value
    if examples_value is None:
        examples_value = []
    if not isinstance(examples_value, list) or not all(
        isinstance(e, str) and e for e in examples_value
    ):
        raise InputError(f"{where('examples')}: examples must be a list of file paths")
    examples: list[str] = []
    item_lines = fields["examples"].item_lines
    for k, rel in enumerate(examples_value):
        example = (path.parent / rel).resolve()
        if not example.is_file():
            line = item_lines[k] if k < len(item_lines) else fields["examples"].key_line
            raise InputError(f"{path}:{line}: example file {rel!r} not found "
                             f"(looked in {path.parent})")
        examples.append(str(example))

    message = fields["message"].value
    title = fields["title"].value if "title" in fields else _first_sentence(message)
    return Rule(
        id=rule_id, pack=pack, severity=severity, check=check, message=message.strip(),
        rationale=fields["rationale"].value.strip(), fix=fix.strip(),
        origin=fields["origin"].value.strip(), params=params, path=str(path), line=first_line,
        examples=tuple(examples), title=title.strip(),
    )


def _first_sentence(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]


def _pack_dirs(root: Path) -> list[tuple[str, Path]]:
    """``root`` itself when it holds rule files directly, else each pack directory below it."""
    if not root.is_dir():
        raise InputError(f"{root}: rules directory not found")
    if any(root.glob("*.yaml")):
        return [(root.name, root)]
    return [
        (d.name, d) for d in sorted(root.iterdir())
        if d.is_dir() and d.name not in NOT_PACKS and not d.name.startswith(".")
    ]


def load_pack(pack: str, directory: Path, cache: RuleCache | None = None) -> list[Rule]:
    """The rules of one pack; with ``cache``, a file unchanged since it was remembered is
    not read again (reviewbot/rules/cache.py)."""
    if cache is None:
        return [load_rule_file(f, pack) for f in sorted(directory.glob("*.yaml"))]
    from reviewbot.rules.cache import stat_of

    rules = []
    base = directory.absolute()
    for f in sorted(directory.glob("*.yaml")):
        path = base / f.name
        stat = stat_of(path)
        rule = cache.rule(path, stat)
        if rule is None or rule.pack != pack or rule.path != str(f):
            rule = load_rule_file(f, pack)
            cache.remember(path, stat, rule)
        rules.append(rule)
    return rules


def load_rules(extra_dirs: Sequence[str] = ()) -> tuple[Rule, ...]:
    """The built-in packs plus those under each of ``extra_dirs`` (``--rules DIR``)."""
    from reviewbot.rules.cache import open_cache

    roots = [builtin_rules_dir(), *(Path(d) for d in extra_dirs)]
    rules: list[Rule] = []
    seen: dict[str, Rule] = {}
    cache = open_cache()
    for k, root in enumerate(roots):
        for pack, directory in _pack_dirs(root):
            for rule in load_pack(pack, directory, cache):
                if k:
                    # a rule of one's own: what its primitive can check is checked now (a
                    # language rule's pattern, not when it first meets C)
                    prim = _primitive(rule.check)
                    if prim is not None and prim.prepare is not None:
                        prim.prepare(rule)
                if rule.id in seen:
                    raise InputError(f"{rule.path}:{rule.line}: rule id {rule.id!r} already "
                                     f"defined in {seen[rule.id].path}")
                seen[rule.id] = rule
                rules.append(rule)
    cache.save()
    return tuple(sorted(rules, key=lambda r: (r.pack, r.id)))
