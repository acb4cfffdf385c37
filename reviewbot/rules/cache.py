"""The loaded rule packs, remembered between runs in one JSON file of the cache directory.

Reading 64 YAML files and checking them was the largest part of a plain ``reviewbot check``
(DEVELOPERS.md, "Start-up cost"). ``rules-v2.json`` in the cache directory
(``reviewbot.util.cachedir``) holds, for each rule file loaded before, its size and mtime and
the Rule made of it; a file whose size and mtime are unchanged is not read again, any other
file is read and checked as before, so every error for a bad rule file is still given. The
same file remembers what ast-grep made of each language rule's ``match:`` (the prepared
config and its metavariables), keyed by the match text and the installed matcher, and the
values of the YAML data files a check reads (``rules/data/qemu-macros.yaml``), so that a
plain check need not import PyYAML at all.

The cache is untrusted input: anything in it that does not have the expected shape makes the
whole file ignored (and rewritten). Values go through JSON only and are kept only when they
read back exactly as they were. The key covers reviewbot's version and the size and mtime of
the modules that make Rules from YAML; a file modified less than two seconds before it was
read is not remembered (its mtime may not tick when it changes again). A cache directory
that cannot be written means no cache.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from reviewbot import __version__
from reviewbot.finding import Severity
from reviewbot.rules.model import Rule
from reviewbot.util.cachedir import default_cache_dir

FORMAT = "reviewbot-rules"
VERSION = 2
FILE_NAME = f"rules-v{VERSION}.json"
_RACY_NS = 2_000_000_000  # an mtime this close to the write is not trusted
_MAX_COMPILED = 2000  # remembered ast-grep configs beyond this are dropped
_PACKAGE = Path(__file__).resolve().parents[1]
# What turns a YAML file into a Rule: the loader and language checks, the primitives' params,
# Severity, the YAML reading, and the ast-grep preparation of patterns.
_CODE_DIRS = ("rules", "checks")
_CODE_FILES = ("finding.py", "util/yamlio.py", "c/astgrep.py")

Stat = tuple[int, int]  # size, mtime_ns


@cache
def code_key() -> list[Any]:
    """reviewbot's version and the size and mtime of each module that makes Rules."""
    key: list[Any] = [__version__]
    paths = [_PACKAGE / f for f in _CODE_FILES]
    for d in _CODE_DIRS:
        with contextlib.suppress(OSError):
            paths.extend(_PACKAGE / d / e.name for e in os.scandir(_PACKAGE / d)
                         if e.name.endswith(".py"))
    for p in sorted(paths):
        try:
            st = p.stat()
        except OSError:
            continue
        key.append([str(p.relative_to(_PACKAGE)), st.st_size, st.st_mtime_ns])
    return key


@cache
def engine_key() -> list[Any]:
    """The installed ast-grep and tree-sitter C grammar (which judge patterns), found
    without importing them."""
    from reviewbot.util.modules import find_spec

    key: list[Any] = []
    for name in ("ast_grep_py", "tree_sitter_c", "tree_sitter"):
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        if not origin:
            key.append([name, None])
            continue
        folder = Path(origin).parent
        try:
            entries = sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns)
                             for e in os.scandir(folder) if e.is_file())
        except OSError:
            entries = []
        key.append([name, str(folder), [list(e) for e in entries]])
    return key


def stat_of(path: Path) -> Stat | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (JSON turns tuples into lists, int
    keys into strings, and has no dates: such a value is not cached)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) if isinstance(a, (str, int, float, bool, type(None))) else False


_TUPLE = "__tuple__"  # {"__tuple__": [...]}: a tuple (language conditions: (">=", 2))


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _TUPLE in value:
            items = value[_TUPLE]
            if not isinstance(items, list):
                raise ValueError("tuple")
            return tuple(_decode(v) for v in items)
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _rule_to_json(rule: Rule) -> dict[str, Any] | None:
    params = dict(rule.params)
    try:
        encoded = _encode(params)
        back = _decode(json.loads(json.dumps(encoded)))
    except (TypeError, ValueError, RecursionError):
        return None
    if not _same(params, back):
        return None  # a value JSON cannot carry: the file is read each time
    return {"id": rule.id, "pack": rule.pack, "severity": rule.severity.name,
            "check": rule.check, "message": rule.message, "rationale": rule.rationale,
            "fix": rule.fix, "origin": rule.origin, "params": encoded, "path": rule.path,
            "line": rule.line, "examples": list(rule.examples), "title": rule.title}


_TEXT = ("id", "pack", "check", "message", "rationale", "fix", "origin", "path", "title")


def _rule_from_json(data: Any) -> Rule:
    """ValueError when ``data`` is not what ``_rule_to_json`` writes."""
    if not isinstance(data, dict) or set(data) != {*_TEXT, "severity", "params", "line",
                                                   "examples"}:
        raise ValueError("rule entry")
    if not all(isinstance(data[k], str) for k in _TEXT):
        raise ValueError("rule text")
    severity = data["severity"]
    if not isinstance(severity, str) or severity not in Severity.__members__:
        raise ValueError("severity")
    line, examples, params = data["line"], data["examples"], data["params"]
    if type(line) is not int or not isinstance(params, dict) \
            or not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        raise ValueError("rule fields")
    return Rule(id=data["id"], pack=data["pack"], severity=Severity[severity],
                check=data["check"], message=data["message"], rationale=data["rationale"],
                fix=data["fix"], origin=data["origin"], params=_decode(params),
                path=data["path"],
                line=line, examples=tuple(examples), title=data["title"])


class RuleCache:
    """One process's view of the cache file: what it held, and what this run adds."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.files: dict[str, tuple[Stat, dict[str, Any]]] = {}  # rule file -> (stat, rule)
        self.compiled: dict[str, Any] = {}  # {"engine": key, "configs": {match text: config}}
        self.data: dict[str, tuple[Stat, Any]] = {}  # data YAML file -> (stat, its value)
        self.data_used: set[str] = set()
        self.read_files: list[str] = []  # rule files read (not taken from the cache) this run
        self.used: set[str] = set()  # rule files of this run that the file will keep
        self.made: dict[str, Rule] = {}  # the Rules of ``files``
        self.dirty = False
        self._at_exit = False
        self.path_seen: set[str] = set()  # data files asked for this run
        if path is not None:
            self._read(path)

    def _read(self, path: Path) -> None:
        try:
            data = json.loads(path.read_bytes())
            if not isinstance(data, dict) or data.get("format") != FORMAT \
                    or data.get("version") != VERSION or data.get("code") != code_key():
                raise ValueError("another reviewbot's cache")
            files, compiled, values = data["files"], data["compiled"], data["data"]
            if not isinstance(files, dict) or not isinstance(compiled, dict) \
                    or not isinstance(values, dict):
                raise ValueError("shape")
            known: dict[str, tuple[Stat, Any]] = {}
            for name, entry in values.items():
                if not isinstance(entry, list) or len(entry) != 3 \
                        or type(entry[0]) is not int or type(entry[1]) is not int:
                    raise ValueError("data entry")
                known[name] = ((entry[0], entry[1]), entry[2])
            out: dict[str, tuple[Stat, dict[str, Any]]] = {}
            for name, entry in files.items():
                if not isinstance(entry, list) or len(entry) != 3 \
                        or type(entry[0]) is not int or type(entry[1]) is not int:
                    raise ValueError("file entry")
                # made now: a bad entry spoils the whole file
                out[name] = ((entry[0], entry[1]), entry[2])
                self.made[name] = _rule_from_json(entry[2])
            if compiled and not isinstance(compiled.get("configs"), dict):
                raise ValueError("compiled")
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            self.dirty = True  # damaged, foreign or absent: rewritten
            self.made = {}
            return
        self.files, self.compiled, self.data = out, compiled, known

    def rule(self, path: Path, stat: Stat | None) -> Rule | None:
        """The Rule of ``path`` when the cache has it for this size and mtime."""
        key = str(path)
        hit = self.files.get(key)
        if stat is None or hit is None or hit[0] != stat:
            return None
        rule = self.made[key]
        if not all(Path(e).is_file() for e in rule.examples):
            return None  # read again: the loader names the missing example
        self.used.add(key)
        return rule

    def remember(self, path: Path, stat: Stat | None, rule: Rule) -> None:
        """``rule`` was read from ``path``, which had ``stat`` before it was read."""
        import time

        self.read_files.append(str(path))
        entry = _rule_to_json(rule)
        # A file changed in the last two seconds may change again without its mtime
        # ticking: it is read again next time rather than remembered.
        if stat is None or entry is None or stat[1] > time.time_ns() - _RACY_NS:
            self.files.pop(str(path), None)
            self.made.pop(str(path), None)
            return
        self.files[str(path)] = (stat, entry)
        self.made[str(path)] = rule
        self.used.add(str(path))
        self.dirty = True

    def save(self) -> None:
        """Write back the rule files of this run (those of other runs are dropped) and the
        remembered configs, when anything changed."""
        if self.path is None or not (self.dirty or set(self.files) - self.used):
            return
        # a process that loaded no rules (it only read a data table) keeps them all
        keep = self.used or set(self.files)
        files = {k: [v[0][0], v[0][1], v[1]] for k, v in self.files.items() if k in keep}
        values = {k: [v[0][0], v[0][1], v[1]] for k, v in self.data.items()
                  if k in self.data_used or k not in self.path_seen}
        data = {"format": FORMAT, "version": VERSION, "code": code_key(), "files": files,
                "compiled": self.compiled, "data": values}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:  # a read-only cache directory: no cache
            with contextlib.suppress(OSError):
                tmp.unlink()
        self.dirty = False

    # ------------------------------------------------------------ ast-grep configs

    def config(self, text: str) -> Any:
        """The prepared config remembered for match text ``text`` (None if none)."""
        if not self.compiled or self.compiled.get("engine") != engine_key():
            return None
        configs = self.compiled.get("configs")
        return configs.get(text) if isinstance(configs, dict) else None

    def remember_config(self, text: str, value: Any) -> None:
        """Remember a prepared config; the file is written when the process ends."""
        if self.path is None or value is None:
            return
        engine = engine_key()
        configs = self.compiled.get("configs") if self.compiled.get("engine") == engine else None
        if not isinstance(configs, dict) or len(configs) >= _MAX_COMPILED:
            configs = {}
        configs[text] = value
        self.compiled = {"engine": engine, "configs": configs}
        self._save_at_exit()

    def _save_at_exit(self) -> None:
        self.dirty = True
        if not self._at_exit and self.path is not None:
            import atexit

            atexit.register(self.save)
            self._at_exit = True

    # ------------------------------------------------------------ data files

    def load_yaml(self, path: Path) -> Any:
        """The value of YAML data file ``path`` (rules/data): from the cache while its size
        and mtime are unchanged, else read (with the errors reading gives)."""
        import time

        from reviewbot.util import yamlio

        key = str(path)
        self.path_seen.add(key)
        stat = stat_of(path)
        hit = self.data.get(key)
        if stat is not None and hit is not None and hit[0] == stat:
            try:
                value = _decode(hit[1])
            except (ValueError, RecursionError):
                value = None  # damaged: read the file
            else:
                self.data_used.add(key)
                return value
        value = yamlio.safe_load(path.read_text(encoding="utf-8"))
        self.data.pop(key, None)
        if stat is not None and stat[1] <= time.time_ns() - _RACY_NS:
            try:
                encoded = _encode(value)
                same = _same(value, _decode(json.loads(json.dumps(encoded))))
            except (TypeError, ValueError, RecursionError):
                same = False
            if same:
                self.data[key] = (stat, encoded)
                self.data_used.add(key)
                self._save_at_exit()
        return value


_ACTIVE: dict[str, RuleCache] = {}  # "" -> the cache of this process


def open_cache() -> RuleCache:
    """The cache of this process (read on first use); ``REVIEWBOT_RULE_CACHE=0``: none."""
    if "" not in _ACTIVE:
        disabled = os.environ.get("REVIEWBOT_RULE_CACHE") == "0"
        _ACTIVE[""] = RuleCache(None if disabled else default_cache_dir() / FILE_NAME)
    return _ACTIVE[""]


def reset() -> None:
    """Forget this process's view (tests; a changed cache directory)."""
    _ACTIVE.clear()


def load_yaml(path: Path) -> Any:
    """YAML data file ``path`` through this process's cache."""
    return open_cache().load_yaml(path)


def load_table(path: Path, what: str) -> Any:
    """:func:`load_yaml`, with a file that cannot be read or parsed as one ``InputError``
    (``"<path>: cannot read <what>: <why>"``)."""
    from reviewbot.errors import InputError

    try:
        return load_yaml(path)  # unchanged since the last run: from the cache, without PyYAML
    except OSError as exc:
        raise InputError(f"{path}: cannot read {what}: {exc}") from None
    except Exception as exc:
        import yaml  # read just now, so imported already

        if not isinstance(exc, yaml.YAMLError):
            raise
        raise InputError(f"{path}: cannot read {what}: {exc}") from None


def config_key(parts: Iterable[Any]) -> str | None:
    try:
        return json.dumps(list(parts), separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def as_config(value: Any) -> tuple[dict[str, Any], list[tuple[str, bool]],
                                   dict[str, Any] | None, list[tuple[str, bool]]] | None:
    """A remembered config back as ``lang._compiled`` returns it; None when malformed."""
    def names(v: Any) -> list[tuple[str, bool]]:
        if not isinstance(v, list) or not all(
                isinstance(n, list) and len(n) == 2 and isinstance(n[0], str)
                and isinstance(n[1], bool) for n in v):
            raise ValueError("names")
        return [(n[0], n[1]) for n in v]

    try:
        if not isinstance(value, list) or len(value) != 4 \
                or not isinstance(value[0], dict) or not isinstance(value[0].get("rule"), dict) \
                or not (value[2] is None or (isinstance(value[2], dict)
                                             and isinstance(value[2].get("rule"), dict))):
            return None
        return value[0], names(value[1]), value[2], names(value[3])
    except ValueError:
        return None


def to_config(value: tuple[Mapping[str, Any], list[tuple[str, bool]],
                           Mapping[str, Any] | None, list[tuple[str, bool]]]) -> Any:
    """``value`` as JSON values, or None when it would not read back the same."""
    plain = [dict(value[0]), [list(n) for n in value[1]],
             dict(value[2]) if value[2] is not None else None, [list(n) for n in value[3]]]
    try:
        back = json.loads(json.dumps(plain))
    except (TypeError, ValueError):
        return None
    return plain if _same(plain, back) else None
