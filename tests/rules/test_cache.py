"""The rule packs remembered between runs (reviewbot/rules/cache.py): used when the files are
unchanged, never hiding a changed or bad file, ignored when damaged."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.rules import cache
from reviewbot.rules.loader import builtin_rules_dir, load_rules
from reviewbot.rules.model import Rule

HOUR = 3600 * 10**9

GOOD = """\
id: my-rule
severity: warning
check: qapi-option-member-doc
params:
  structs: {NumaNodeOptions: "-numa node"}
  hx: qemu-options.hx
message: "{member} of {struct} is not documented"
rationale: because
fix: do it in the machine
origin: "review feedback; qemu-devel"
examples:
  - examples/my-rule.c
"""

LANGUAGE = """\
id: lang-rule
severity: warning
match:
  pattern: qdev_get_machine()
message: "calls qdev_get_machine"
rationale: because
fix: pass the machine
origin: "review feedback; qemu-devel"
examples:
  - examples/my-rule.c
"""


RACY_NS = cache._RACY_NS


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    where = tmp_path / "cache"
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(where))
    monkeypatch.delenv("REVIEWBOT_RULE_CACHE", raising=False)
    # The built-in packs are remembered however recently they were edited (a rule author
    # runs the suite right after an edit); the one test about that window puts it back.
    monkeypatch.setattr(cache, "_RACY_NS", 0)
    cache.reset()
    yield where
    cache.reset()


def _settled(path: Path, hours_ago: int = 2) -> None:
    """Give ``path`` an mtime in the past: files changed in the last two seconds are not
    remembered."""
    t = os_time() - hours_ago * HOUR
    os.utime(path, ns=(t, t))


def os_time() -> int:
    import time

    return time.time_ns()


def _pack(root: Path, text: str = GOOD, name: str = "my-rule") -> Path:
    pack = root / "mypack"
    (pack / "examples").mkdir(parents=True, exist_ok=True)
    (pack / "examples" / "my-rule.c").write_text("/* ok: my-rule */\nint x;\n")
    rule = pack / f"{name}.yaml"
    rule.write_text(text)
    _settled(rule)
    return rule


def _fields(rules: tuple[Rule, ...]) -> list[tuple[object, ...]]:
    return [(r.id, r.pack, r.severity, r.check, r.message, r.rationale, r.fix, r.origin,
             r.params, r.path, r.line, r.examples, r.title) for r in rules]


def _run(*extra: str) -> tuple[tuple[Rule, ...], list[str]]:
    """load_rules as a new process would: (rules, the rule files it read)."""
    cache.reset()
    rules = load_rules(extra)
    return rules, cache.open_cache().read_files


def test_unchanged_packs_are_not_read_again(cache_dir: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    first, read = _run()
    n_files = len(list(builtin_rules_dir().glob("*/*.yaml"))) - len(
        list((builtin_rules_dir() / "data").glob("*.yaml")))
    assert len(read) == n_files == len(first)
    assert (cache_dir / cache.FILE_NAME).is_file()
    again, read = _run()
    assert read == []  # every built-in rule from the cache
    assert _fields(again) == _fields(first)
    # and what the cache gives is what reading the files gives
    monkeypatch.setenv("REVIEWBOT_RULE_CACHE", "0")
    plain, read = _run()
    assert len(read) == n_files
    assert _fields(plain) == _fields(again)
    # tuples in language conditions come back as tuples
    series = next(r for r in again if r.id == "series-changelog-missing").params["series"]
    assert series["version"] == (">=", 2)


def test_a_changed_rule_file_is_read_again(cache_dir: Path, tmp_path: Path) -> None:
    path = _pack(tmp_path / "mine")
    rules, read = _run(str(tmp_path / "mine"))
    assert str(path.resolve()) in read
    _, read = _run(str(tmp_path / "mine"))
    assert read == []
    path.write_text(GOOD.replace("because", "it hurts"))
    _settled(path, hours_ago=1)
    rules, read = _run(str(tmp_path / "mine"))
    assert read == [str(path.resolve())]  # that file only
    assert next(r for r in rules if r.id == "my-rule").rationale == "it hurts"


def test_a_file_changed_just_now_is_not_remembered(cache_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "_RACY_NS", RACY_NS)
    path = _pack(tmp_path / "mine")
    path.write_text(GOOD)  # mtime: now; a change in the same clock tick could follow
    _run(str(tmp_path / "mine"))
    _, read = _run(str(tmp_path / "mine"))
    # (a built-in rule file edited a moment ago is read again too)
    assert [p for p in read if not p.startswith(str(builtin_rules_dir().resolve()))] == [
        str(path.resolve())]


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda t: t.replace("severity: warning", "severity: warnxng"), ":2: unknown severity"),
    (lambda t: t.replace("origin:", "origin: [\n"), ":12: invalid YAML"),
    (lambda t: t.replace("  hx:", "  colour: red\n  hx:"), ":4: primitive "
     "'qapi-option-member-doc' does not accept param(s) colour"),
])
def test_a_bad_rule_file_is_reported_even_after_it_was_cached(
        cache_dir: Path, tmp_path: Path, edit: object, problem: str) -> None:
    path = _pack(tmp_path / "mine")
    _run(str(tmp_path / "mine"))
    assert callable(edit)
    path.write_text(edit(GOOD))  # the first edit keeps the size: the mtime tells
    _settled(path, hours_ago=1)
    with pytest.raises(InputError) as err:
        _run(str(tmp_path / "mine"))
    message = str(err.value)
    assert message.startswith(f"{path}{problem}"), message
    assert "\n" not in message


def test_a_removed_example_is_reported_even_after_the_rule_was_cached(
        cache_dir: Path, tmp_path: Path) -> None:
    path = _pack(tmp_path / "mine")
    _run(str(tmp_path / "mine"))
    (path.parent / "examples" / "my-rule.c").unlink()
    with pytest.raises(InputError, match=r"my-rule.yaml:12: example file 'examples/my-rule.c' "
                                         "not found"):
        _run(str(tmp_path / "mine"))


def test_a_new_rule_file_is_loaded(cache_dir: Path, tmp_path: Path) -> None:
    _pack(tmp_path / "mine")
    _run(str(tmp_path / "mine"))
    other = _pack(tmp_path / "mine", GOOD.replace("id: my-rule", "id: my-other"), "my-other")
    rules, read = _run(str(tmp_path / "mine"))
    assert read == [str(other.resolve())]
    assert {"my-rule", "my-other"} <= {r.id for r in rules}


@pytest.mark.parametrize("damage", [
    b"\x00\xff not json",
    b"[1, 2, 3]",
    b'{"format": "reviewbot-rules", "version": 1}',
    "truncated",
    "foreign code key",
    "bad rule entry",
])
def test_a_damaged_cache_is_ignored_and_rewritten(cache_dir: Path,
                                                  damage: bytes | str) -> None:
    first, _ = _run()
    file = cache_dir / cache.FILE_NAME
    good = file.read_bytes()
    data = json.loads(good)
    if damage == "truncated":
        file.write_bytes(good[:len(good) // 2])
    elif damage == "foreign code key":
        data["code"] = ["0.0.0"]
        file.write_text(json.dumps(data))
    elif damage == "bad rule entry":
        name = next(iter(data["files"]))
        data["files"][name][2]["severity"] = "os.system('x')"
        file.write_text(json.dumps(data))
    else:
        assert isinstance(damage, bytes)
        file.write_bytes(damage)
    again, read = _run()
    assert len(read) == len(first)  # all read from the files
    assert _fields(again) == _fields(first)
    assert json.loads(file.read_bytes())["files"]  # and the cache is whole again
    _, read = _run()
    assert read == []


def test_a_cache_that_cannot_be_written_means_no_cache(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("REVIEWBOT_CACHE_DIR", str(blocker / "cache"))
    first, read = _run()
    assert len(read) == len(first)
    _, read = _run()
    assert len(read) == len(first)
    cache.reset()


def test_language_patterns_are_checked_once_and_remembered(cache_dir: Path,
                                                           tmp_path: Path) -> None:
    from reviewbot.checks import lang

    _pack(tmp_path / "mine", LANGUAGE, "lang-rule")
    rules, _ = _run(str(tmp_path / "mine"))  # a rule of one's own is compiled on load
    rule = next(r for r in rules if r.id == "lang-rule")
    lang._compiled.cache_clear()
    fresh = lang._compile(rule, {})
    cache.open_cache().save()
    cache.reset()
    key = cache.config_key([rule.params["match"], None, None])
    assert key is not None
    remembered = cache.as_config(cache.open_cache().config(key))
    assert remembered == fresh
    assert lang._compiled(rule) == fresh


def test_a_bad_pattern_is_reported_every_time(cache_dir: Path, tmp_path: Path) -> None:
    path = _pack(tmp_path / "mine", LANGUAGE.replace("qdev_get_machine()", "foo($x)"),
                 "lang-rule")
    for _ in range(2):
        from reviewbot.checks import lang

        lang._compiled.cache_clear()
        with pytest.raises(InputError, match=r"lang-rule.*foo\(\$x\)"):
            _run(str(tmp_path / "mine"))
    assert path.is_file()


def test_the_cache_is_not_written_in_a_rules_directory(cache_dir: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    _pack(mine)
    before = sorted(p.name for p in mine.rglob("*"))
    _run(str(mine))
    assert sorted(p.name for p in mine.rglob("*")) == before
    assert (cache_dir / cache.FILE_NAME).is_file()


def test_data_files_are_read_once_until_they_change(cache_dir: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewbot.util import yamlio

    parsed: list[str] = []
    real = yamlio.safe_load

    def counting(text: str) -> object:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(yamlio, "safe_load", counting)
    data = tmp_path / "table.yaml"
    data.write_text("names: [a, b]\nspec: {arg: 1}\n")
    _settled(data)
    assert cache.load_yaml(data) == {"names": ["a", "b"], "spec": {"arg": 1}}
    cache.open_cache().save()
    cache.reset()
    assert cache.load_yaml(data) == {"names": ["a", "b"], "spec": {"arg": 1}}
    assert len(parsed) == 1  # the second from the cache
    data.write_text("names: [c]\n")
    _settled(data, hours_ago=1)
    cache.reset()
    assert cache.load_yaml(data) == {"names": ["c"]}
    assert len(parsed) == 2
    # a value JSON cannot carry (a date) is read every time, and stays what YAML made of it
    dated = tmp_path / "dated.yaml"
    dated.write_text("when: 2024-01-02\n")
    _settled(dated)
    first = cache.load_yaml(dated)
    cache.open_cache().save()
    cache.reset()
    assert cache.load_yaml(dated) == first and len(parsed) == 4


def test_damaged_data_and_configs_are_read_again(cache_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "table.yaml"
    data.write_text("names: [a]\n")
    _settled(data)
    cache.load_yaml(data)
    key = cache.config_key([{"pattern": "f()"}, None, None])
    assert key is not None
    cache.open_cache().remember_config(key, [{"rule": {"pattern": "f()"}}, [], None, []])
    cache.open_cache().save()
    file = cache_dir / cache.FILE_NAME
    stored = json.loads(file.read_text())
    assert stored["compiled"]["configs"][key][0] == {"rule": {"pattern": "f()"}}
    stored["data"][str(data)][2] = {"__tuple__": 5}  # not a tuple's items
    stored["compiled"]["configs"][key] = [{"no-rule": 1}, [], None, []]
    file.write_text(json.dumps(stored))
    cache.reset()
    assert cache.load_yaml(data) == {"names": ["a"]}
    assert cache.as_config(cache.open_cache().config(key)) is None


def test_a_process_that_loads_no_rules_keeps_them_in_the_cache(cache_dir: Path,
                                                               tmp_path: Path) -> None:
    first, _ = _run()
    data = tmp_path / "table.yaml"
    data.write_text("names: [a]\n")
    _settled(data)
    cache.reset()
    cache.load_yaml(data)  # a data table only, then the file is written again
    cache.open_cache().save()
    _, read = _run()
    assert read == []
    assert len(json.loads((cache_dir / cache.FILE_NAME).read_text())["files"]) == len(first)
