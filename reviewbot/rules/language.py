"""The rule language's schema: ``match:`` / ``lines:`` + ``where:`` + ``series:``.

The loader calls :func:`check_spec` on a rule file that has ``match:`` or ``lines:`` and stores
what it returns as the rule's params; the ``language`` primitive (reviewbot/checks/lang.py)
evaluates it. Checked here, without importing the matcher: every key and value of
``where``/``series``/``lines``, the regular expressions, and that each metavariable a
message, fix or evidence names is bound by the match. Whether a ``match:`` pattern parses as
C is checked by ast-grep when a rule of one's own (``--rules DIR``) is loaded, and for the
built-in rules when one first meets a C file (and by the test suite), so that a check that
never looks at C never imports the matcher.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

CODE_KINDS = ("device", "qom-object", "machine", "qapi", "any")
CHANGES = ("added", "new-file", "new-function", "removed")
LINES_IN = ("added-lines", "removed-lines", "comments", "commit-message", "subject",
            "file-names")
FOLLOW = ("file", "dir", "tree")
ROLE_ALIASES = {"machine_done": "machine_done_notifier"}
WHERE_KEYS = ("files", "code", "role", "reachable-from", "function-has", "change")
SERIES_KEYS = ("changes", "unless-changed", "scope")
BUILTINS = ("function", "path", "line", "chain", "match", "length")
# Keys a language rule may have on top of the common ones.
LANGUAGE_KEYS = ("match", "constraints", "lines", "where", "series", "evidence")

_META = re.compile(r"\$\$\$([A-Z_][A-Z0-9_]*)|\$([A-Z_][A-Z0-9_]*)")


class SpecError(ValueError):
    """A problem in a language rule: ``(key, message)``; the loader adds file and line."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _strings(key: str, value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) and v for v in value):
        return list(value)
    raise SpecError(key, f"{key} must be a string or a list of strings")


def _regex(key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise SpecError(key, f"{key} must be a regular expression")
    try:
        re.compile(value)
    except re.error as exc:
        raise SpecError(key, f"{key}: bad regular expression {value!r}: {exc}") from None
    return value


def _mapping(key: str, value: Any, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SpecError(key, f"{key} must be a mapping")
    unknown = [k for k in value if k not in known]
    if unknown:
        raise SpecError(key, f"{key}: unknown key {unknown[0]!r} (known: {', '.join(known)})")
    return value


def _roles(key: str, value: Any) -> list[str]:
    roles = _strings(key, value)
    for role in roles:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", role):
            raise SpecError(key, f"{key}: {role!r} is not a role name")
    return [ROLE_ALIASES.get(r, r) for r in roles]


def _rule_names(rule: Any) -> set[str]:
    """Metavariable names written anywhere in an ast-grep rule object."""
    names: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, str):
            names.update(a or b for a, b in _META.findall(v))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(rule)
    return names


def _where(value: Any, bound: set[str]) -> dict[str, Any]:
    where = _mapping("where", value, WHERE_KEYS)
    out: dict[str, Any] = {}
    if "files" in where:
        out["files"] = _strings("where.files", where["files"])
    if "code" in where:
        kinds = _strings("where.code", where["code"])
        for k in kinds:
            if k.removeprefix("!") not in CODE_KINDS:
                raise SpecError("where", f"where.code: {k!r} is not one of "
                                f"{', '.join(CODE_KINDS)}")
        out["code"] = kinds
    if "role" in where:
        out["role"] = _roles("where.role", where["role"])
    if "reachable-from" in where:
        reach = _mapping("where.reachable-from", where["reachable-from"],
                         ("roles", "depth", "follow"))
        if "roles" not in reach:
            raise SpecError("where", "where.reachable-from needs roles")
        depth = reach.get("depth", 4)
        if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= 12:
            raise SpecError("where", "where.reachable-from.depth must be a number 0-12")
        follow = reach.get("follow", "dir")
        if follow not in FOLLOW:
            raise SpecError("where", f"where.reachable-from.follow must be one of "
                            f"{', '.join(FOLLOW)}")
        out["reachable-from"] = {"roles": _roles("where.reachable-from.roles", reach["roles"]),
                                 "depth": depth, "follow": follow}
    if "function-has" in where:
        has = _mapping("where.function-has", where["function-has"], ("function", "match"))
        fn = has.get("function")
        m = _META.fullmatch(fn) if isinstance(fn, str) else None
        if m is None or m.group(1):
            raise SpecError("where", "where.function-has.function must be one metavariable "
                            "($NAME) of the match")
        if m.group(2) not in bound:
            raise SpecError("where", f"where.function-has.function: ${m.group(2)} is not "
                            "a metavariable of the match")
        if not isinstance(has.get("match"), dict):
            raise SpecError("where", "where.function-has.match must be an ast-grep rule object")
        bound |= _rule_names(has["match"])
        out["function-has"] = {"function": m.group(2), "match": has["match"]}
    if "change" in where:
        change = where["change"]
        if change not in CHANGES:
            raise SpecError("where", f"where.change must be one of {', '.join(CHANGES)}")
        out["change"] = change
    return out


def _series(value: Any) -> dict[str, Any]:
    series = _mapping("series", value, SERIES_KEYS)
    out: dict[str, Any] = {"scope": series.get("scope", "series")}
    if out["scope"] not in ("series", "patch"):
        raise SpecError("series", "series.scope must be series or patch")
    for key in ("changes", "unless-changed"):
        if key in series:
            cond = _mapping(f"series.{key}", series[key], ("files", "regex"))
            if "files" not in cond and "regex" not in cond:
                raise SpecError("series", f"series.{key} needs files or regex")
            out[key] = {"files": _strings(f"series.{key}.files", cond.get("files", ["**"])),
                        "regex": _regex(f"series.{key}.regex", cond["regex"])
                        if "regex" in cond else None}
    if "changes" not in out and "unless-changed" not in out:
        raise SpecError("series", "series needs changes or unless-changed")
    return out


def _lines(value: Any) -> dict[str, Any]:
    lines = _mapping("lines", value, ("regex", "in", "files"))
    if "regex" not in lines:
        raise SpecError("lines", "lines needs a regex")
    where = lines.get("in", "added-lines")
    if where not in LINES_IN:
        raise SpecError("lines", f"lines.in must be one of {', '.join(LINES_IN)}")
    out = {"regex": _regex("lines.regex", lines["regex"]), "in": where}
    if "files" in lines:
        out["files"] = _strings("lines.files", lines["files"])
    return out


def _fix_cases(value: Any) -> tuple[str, list[dict[str, Any]]]:
    """(the default fix text, the cases) of a ``fix:`` written as a list of cases."""
    cases: list[dict[str, Any]] = []
    default = ""
    for item in value:
        case = _mapping("fix", item, ("when", "implements", "text"))
        if not isinstance(case.get("text"), str) or not case["text"].strip():
            raise SpecError("fix", "each case of fix needs text")
        when = case.get("when", {})
        if not isinstance(when, dict):
            raise SpecError("fix", "fix.when must map metavariables to regular expressions")
        for name, rx in when.items():
            _regex(f"fix.when.{name}", rx)
        implements = case.get("implements", {})
        if not isinstance(implements, dict) or not all(
                isinstance(v, str) for v in implements.values()):
            raise SpecError("fix", "fix.implements must map metavariables to QOM type names")
        cases.append({"when": {str(k).lstrip("$"): v for k, v in when.items()},
                      "implements": {str(k).lstrip("$"): v for k, v in implements.items()},
                      "text": case["text"].strip()})
        if not when and not implements and not default:
            default = case["text"].strip()
    if not cases:
        raise SpecError("fix", "fix must be text or a list of cases")
    return default or cases[-1]["text"], cases


def check_spec(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The params of a language rule from its top-level ``fields`` (key -> value)."""
    has_match, has_lines = "match" in fields, "lines" in fields
    if has_match == has_lines:
        raise SpecError("match" if has_match else "id",
                        "a language rule has match: or lines:, not both")
    if "check" in fields:
        raise SpecError("check", "a rule has check: (a Python primitive) or match:/lines:, "
                        "not both")
    params: dict[str, Any] = {}
    bound: set[str] = set()
    if has_match:
        match = fields["match"]
        if not isinstance(match, dict) or not match:
            raise SpecError("match", "match must be an ast-grep rule object (pattern:, kind:, "
                            "inside:, ...)")
        params["match"] = match
        bound |= _rule_names(match)
        if "constraints" in fields:
            constraints = fields["constraints"]
            if not isinstance(constraints, dict):
                raise SpecError("constraints", "constraints must map metavariables to rules")
            for name in constraints:
                if not isinstance(name, str) or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
                    raise SpecError("constraints", f"constraints: {name!r} is not a metavariable "
                                    "name (YAML reads ON/OFF/YES/NO as true/false: rename it)")
                if name not in bound:
                    raise SpecError("constraints", f"constraints: ${name} is not a "
                                    "metavariable of the match")
            params["constraints"] = constraints
    else:
        if "constraints" in fields:
            raise SpecError("constraints", "constraints go with match:, not lines:")
        params["lines"] = _lines(fields["lines"])
        bound |= set(re.compile(params["lines"]["regex"]).groupindex)
    if "where" in fields:
        params["where"] = _where(fields["where"], bound)
        if has_lines and set(params["where"]) - {"files", "code", "change"}:
            raise SpecError("where", "with lines:, where takes files, code and change only")
    if "series" in fields:
        params["series"] = _series(fields["series"])
    if "evidence" in fields:
        params["evidence"] = _strings("evidence", fields["evidence"])
    fix = fields.get("fix")
    if isinstance(fix, list):
        _, params["fix_cases"] = _fix_cases(fix)
    for key in ("message", "fix", "evidence"):
        value = fields.get(key)
        texts = ([value] if isinstance(value, str) else
                 [c["text"] for c in params.get("fix_cases", [])] if key == "fix" else
                 list(value) if isinstance(value, list) else [])
        for text in texts:
            for multi, single in _META.findall(text):
                name = multi or single
                if name not in bound:
                    raise SpecError(key, f"{key} names ${name}, which the match does not bind")
    return params


def default_fix(value: Any) -> str:
    """The fix text a listing shows for ``fix:`` (text, or the default case of a list)."""
    if isinstance(value, list):
        return _fix_cases(value)[0]
    return str(value)
