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
from collections.abc import Iterator, Mapping
from typing import Any

CODE_KINDS = ("device", "qom-object", "machine", "machine-type", "qapi", "any")
HINTS = ("machine-handler", "machine-chain")
CHANGES = ("added", "new-file", "new-function", "removed")
LINES_IN = ("added-lines", "removed-lines", "comments", "commit-message", "subject",
            "file-names", "notes", "cover-letter", "trailers")
# Sources read from the mail (no path): several may be listed in one rule's ``in:``.
MAIL_SOURCES = ("commit-message", "subject", "notes", "cover-letter", "trailers")
# How a trailer's person stands to the patch's author (``lines.person``).
PERSONS = ("author", "author-name-other-address", "author-other-name")
# Data tables a ``lines.table`` condition can look a name up in (rules/data/).
TABLES = ("firmware-spec",)
FOLLOW = ("file", "dir", "tree")
ROLE_ALIASES = {"machine_done": "machine_done_notifier"}
WHERE_KEYS = ("files", "code", "role", "reachable-from", "function-has", "change", "qom-type")
SERIES_KEYS = ("changes", "unless-changed", "scope", "cover", "patches", "total", "version",
               "source", "thread", "at", "any")
# The series-shape keys (what the series is, not what it changes).
SHAPE_KEYS = ("cover", "patches", "total", "version", "source", "thread", "at", "any")
BUILTINS = ("function", "path", "line", "chain", "match", "length")
# Keys a language rule may have on top of the common ones.
LANGUAGE_KEYS = ("match", "constraints", "lines", "where", "series", "evidence", "anchor")
_COUNT = re.compile(r"^\s*(==|!=|>=|<=|>|<)?\s*(\d+)\s*$")

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


def strings_in(obj: Any) -> Iterator[str]:
    """Every string of a YAML value (mappings' values, lists' items), in document order."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from strings_in(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings_in(v)


def _rule_names(rule: Any) -> set[str]:
    """Metavariable names written anywhere in an ast-grep rule object."""
    return {a or b for text in strings_in(rule) for a, b in _META.findall(text)}


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
                         ("roles", "depth", "follow", "report", "target", "chains", "hint",
                          "hint-roles"))
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
        report = reach.get("report", "match")
        if report not in ("match", "root"):
            raise SpecError("where", "where.reachable-from.report must be match or root")
        root_keys = [k for k in ("target", "chains", "hint", "hint-roles") if k in reach]
        if report != "root" and root_keys:
            raise SpecError("where", f"where.reachable-from.{root_keys[0]} goes with "
                            "report: root")
        if report == "root":
            chains = reach.get("chains", 5)
            if not isinstance(chains, int) or isinstance(chains, bool) or chains < 1:
                raise SpecError("where", "where.reachable-from.chains must be a number >= 1")
            target = reach.get("target", "{match}")
            if not isinstance(target, str):
                raise SpecError("where", "where.reachable-from.target must be a template")
            hint = reach.get("hint")
            if hint is not None and hint not in HINTS:
                raise SpecError("where", f"where.reachable-from.hint must be one of "
                                f"{', '.join(HINTS)}")
            out["reachable-from"].update(
                report="root", target=target, chains=chains, hint=hint,
                hint_roles=_roles("where.reachable-from.hint-roles", reach.get(
                    "hint-roles", ["machine_pre_plug", "machine_plug"])))
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
    if "qom-type" in where:
        qt = _mapping("where.qom-type", where["qom-type"],
                      ("type", "implements", "abstract", "machine-handler", "roles"))
        m = _META.fullmatch(qt["type"]) if isinstance(qt.get("type"), str) else None
        if m is None or m.group(1) or m.group(2) not in bound:
            raise SpecError("where", "where.qom-type.type must be a metavariable ($NAME) the "
                            "match binds to a TypeInfo's .name")
        spec: dict[str, Any] = {"type": m.group(2)}
        if "implements" in qt:
            if not isinstance(qt["implements"], str) or not qt["implements"]:
                raise SpecError("where", "where.qom-type.implements must be a QOM type name")
            spec["implements"] = qt["implements"]
        if "abstract" in qt:
            if not isinstance(qt["abstract"], bool):
                raise SpecError("where", "where.qom-type.abstract must be true or false")
            spec["abstract"] = qt["abstract"]
        if "machine-handler" in qt:
            if qt["machine-handler"] not in ("none", "some"):
                raise SpecError("where", "where.qom-type.machine-handler must be none or some")
            spec["machine-handler"] = qt["machine-handler"]
            spec["roles"] = _roles("where.qom-type.roles", qt.get(
                "roles", ["machine_pre_plug", "machine_plug"]))
        elif "roles" in qt:
            raise SpecError("where", "where.qom-type.roles goes with machine-handler")
        out["qom-type"] = spec
    if "change" in where:
        change = where["change"]
        if change not in CHANGES:
            raise SpecError("where", f"where.change must be one of {', '.join(CHANGES)}")
        out["change"] = change
    return out


def _count(key: str, value: Any) -> tuple[str, int]:
    """``3``, ``">= 2"``, ``"< 2"``: (operator, number)."""
    m = _COUNT.match(str(value)) if isinstance(value, (int, str)) and not isinstance(
        value, bool) else None
    if m is None:
        raise SpecError("series", f"{key} must be a number or a comparison such as \">= 2\"")
    return m.group(1) or "==", int(m.group(2))


def _shape(key: str, series: Mapping[str, Any]) -> dict[str, Any]:
    """The series-shape conditions of ``series`` (or of one case of its ``any:``)."""
    out: dict[str, Any] = {}
    for name, choices in (("cover", ("present", "missing")), ("source", ("mail", "git")),
                          ("thread", ("whole",)), ("at", ("head",))):
        if name in series:
            if series[name] not in choices:
                raise SpecError("series", f"{key}.{name} must be one of {', '.join(choices)}")
            out[name] = series[name]
    for name in ("patches", "total", "version"):
        if name in series:
            out[name] = _count(f"{key}.{name}", series[name])
    if "any" in series:
        cases = series["any"]
        if not isinstance(cases, list) or not cases:
            raise SpecError("series", f"{key}.any must be a list of conditions")
        out["any"] = [_shape(f"{key}.any", _mapping(f"{key}.any", c, SHAPE_KEYS))
                      for c in cases]
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
    out.update(_shape("series", series))
    if not set(out) - {"scope"}:
        raise SpecError("series", "series needs changes, unless-changed or a shape condition "
                        f"({', '.join(SHAPE_KEYS)})")
    return out


def _persons(key: str, value: Any) -> list[str]:
    persons = _strings(key, value)
    for p in persons:
        if p.removeprefix("!") not in PERSONS:
            raise SpecError("lines", f"{key}: {p!r} is not one of {', '.join(PERSONS)}")
    return persons


def _lines(value: Any) -> dict[str, Any]:
    lines = _mapping("lines", value, ("regex", "in", "files", "when", "scope", "first",
                                      "person", "unless", "table"))
    if "regex" not in lines:
        raise SpecError("lines", "lines needs a regex")
    regexes = lines["regex"] if isinstance(lines["regex"], list) else [lines["regex"]]
    if not regexes:
        raise SpecError("lines", "lines.regex must be a regular expression or a list of them")
    sources = lines.get("in", "added-lines")
    sources = sources if isinstance(sources, list) else [sources]
    for where in sources:
        if where not in LINES_IN:
            raise SpecError("lines", f"lines.in must be one of {', '.join(LINES_IN)}")
    if len(sources) > 1 and not set(sources) <= set(MAIL_SOURCES):
        raise SpecError("lines", "lines.in lists several sources only of "
                        f"{', '.join(MAIL_SOURCES)}")
    out: dict[str, Any] = {"regex": [_regex("lines.regex", r) for r in regexes],
                           "in": sources[0] if len(sources) == 1 else sources}
    if "files" in lines:
        out["files"] = _strings("lines.files", lines["files"])
    when = lines.get("when", "each")
    if when not in ("each", "absent"):
        raise SpecError("lines", "lines.when must be each or absent")
    out["when"] = when
    scope = lines.get("scope", "patch")
    if scope not in ("patch", "series") or (scope == "series" and when != "absent"):
        raise SpecError("lines", "lines.scope is patch, or series with when: absent")
    if when == "absent" and not set(sources) <= set(MAIL_SOURCES):
        raise SpecError("lines", f"lines.when: absent reads {', '.join(MAIL_SOURCES)} only")
    out["scope"] = scope
    if "first" in lines:
        if not isinstance(lines["first"], bool):
            raise SpecError("lines", "lines.first must be true or false")
        out["first"] = lines["first"]
    if ("person" in lines or "unless" in lines) and sources != ["trailers"]:
        raise SpecError("lines", "lines.person and lines.unless go with in: trailers")
    if "person" in lines:
        out["person"] = _persons("lines.person", lines["person"])
    if "unless" in lines:
        unless = _mapping("lines.unless", lines["unless"], ("regex", "person"))
        if not unless:
            raise SpecError("lines", "lines.unless needs regex or person")
        out["unless"] = {"regex": _regex("lines.unless.regex", unless["regex"])
                         if "regex" in unless else None,
                         "person": _persons("lines.unless.person", unless.get("person", []))}
    if "table" in lines:
        table = _mapping("lines.table", lines["table"], ("data", "name", "value"))
        if table.get("data") not in TABLES:
            raise SpecError("lines", f"lines.table.data must be one of {', '.join(TABLES)}")
        groups: set[str] = set()
        for r in out["regex"]:
            groups |= set(re.compile(r).groupindex)
        for k in ("name", "value"):
            name = str(table.get(k, "")).lstrip("$")
            if name not in groups:
                raise SpecError("lines", f"lines.table.{k} must name a group (?P<NAME>...) "
                                "of lines.regex")
        out["table"] = {"data": table["data"], "name": str(table["name"]).lstrip("$"),
                        "value": str(table["value"]).lstrip("$")}
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
        for rx in params["lines"]["regex"]:
            bound |= set(re.compile(rx).groupindex)
    if "where" in fields:
        params["where"] = _where(fields["where"], bound)
        if has_lines and set(params["where"]) - {"files", "code", "change"}:
            raise SpecError("where", "with lines:, where takes files, code and change only")
    if "series" in fields:
        params["series"] = _series(fields["series"])
    if "evidence" in fields:
        params["evidence"] = _strings("evidence", fields["evidence"])
    if "anchor" in fields:
        if not isinstance(fields["anchor"], str) or not fields["anchor"].strip():
            raise SpecError("anchor", "anchor must be a text (a template)")
        params["anchor"] = fields["anchor"]
    fix = fields.get("fix")
    if isinstance(fix, list):
        _, params["fix_cases"] = _fix_cases(fix)
    for key in ("message", "fix", "evidence", "anchor"):
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
