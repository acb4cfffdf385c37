"""What `reviewbot check` pays for before it checks anything: modules it leaves alone on a patch
file, the subcommand-only parser, and ``@frozen`` value types behaving like frozen dataclasses.

The module lists are the guard: each entry is something a patch-file check once imported for
nothing. Add to ``NOT_IMPORTED_BY_PATCH_CHECK`` what later work makes lazy.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from reviewbot import cli
from reviewbot.util.frozen import frozen

ROOT = Path(__file__).resolve().parents[1]
MBOX = ROOT / "corpus" / "memdev" / "v1.mbox"  # one patch: a new device, PC and ACPI changes
EXPECT: dict[str, Any] = yaml.safe_load(
    (ROOT / "corpus" / "memdev" / "v1.expect.yaml").read_text(encoding="utf-8"))

# Modules a check of a patch file does not import (the default text report).
NOT_IMPORTED_BY_PATCH_CHECK = (
    "reviewbot.ingest.lore",  # `lore`'s parser defaults: only built for `reviewbot lore`
    "reviewbot.ingest.git",  # git input only
    "subprocess",  # git input and --tree of a repository only
    "email.policy",  # the mail parser's default policy is compat32; email.policy is heavy
    "email.headerregistry",
    "hashlib",  # loads OpenSSL; synthetic ids of mails without a Message-ID use _sha1
    "importlib.util",  # tree-sitter-c and ast-grep are found by util.modules.find_spec
    # argparse finds the terminal's width with shutil (which imports zlib, bz2 and lzma):
    # cli._Formatter asks os instead
    "shutil",
    "bz2",
    "lzma",
    "reviewbot.batch.bulk",  # check --jobs only
    "reviewbot.ingest.archive",  # public-inbox archives only
    "reviewbot.batch.archive",
    "reviewbot.batch.distributed",  # --scheduler only
    "reviewbot.batch.dataset",  # mine --format parquet only
    "distributed",
    "pyarrow",
    "reviewbot.qemu.releases",  # qapi-since, only when a schema file is touched
    "networkx",  # 0.1 s to import; the graph is reviewbot.c.digraph.DiGraph (ARCHITECTURE.md)
    "pickle",  # cache files: only with a tree
    "reviewbot.c.index",  # the tree index: only with a tree
    "reviewbot.review.followup",  # check --previous and `followup` only
    "reviewbot.report.followup",
    "reviewbot.report.changelog",
    "reviewbot.c.store",
    "reviewbot.c.graphdb",
    "sqlite3",  # the tree index database: only with a tree
    # tree-sitter-c's package __init__ (its query files, through importlib.resources, which
    # imports tempfile and shutil): the grammar is read from its binding alone (facts.py)
    "tree_sitter_c",
    "importlib.resources",
    "tempfile",
    *(f"reviewbot.commands.{name}" for name in cli.COMMANDS if name != "check"),
    *(f"reviewbot.report.{name}" for name in ("json", "sarif", "email", "checkpatch",
                                               "b4_review")),
)

# Run in a fresh interpreter: what a user's `reviewbot check FILE` imports.
_RUN = """
import sys
from reviewbot.cli import main
status = main(sys.argv[1:])
sys.stdout.flush()
sys.stderr.write("\\n".join(["%d" % status, *sorted(sys.modules)]))
"""


def _check(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, set[str]]:
    done = subprocess.run([sys.executable, "-c", _RUN, "check", *args], capture_output=True,
                          text=True, check=False, cwd=ROOT,
                          env={**os.environ, **env} if env is not None else None)
    status, *modules = done.stderr.splitlines()
    return int(status), done.stdout, set(modules)


@pytest.fixture(scope="module")
def text_check() -> tuple[int, str, set[str]]:
    return _check(str(MBOX))


@pytest.mark.parametrize("module", NOT_IMPORTED_BY_PATCH_CHECK)
def test_patch_check_does_not_import(text_check: tuple[int, str, set[str]],
                                     module: str) -> None:
    status, out, modules = text_check
    assert status == 1, out  # the series has warnings: the check really ran
    assert "qom-realize-reaches-machine" in out
    assert module not in modules


def test_patch_check_imports_what_it_uses(text_check: tuple[int, str, set[str]]) -> None:
    # the other side of the list above: a check that imported nothing would pass it
    _, _, modules = text_check
    assert {"reviewbot.commands.check", "reviewbot.c.facts", "reviewbot.report.text",
            "reviewbot.ingest.mail", "tree_sitter"} <= modules


def test_the_structural_matcher_is_imported_only_for_c(
        text_check: tuple[int, str, set[str]]) -> None:
    # ast-grep (language rules) runs when a language rule has a C file to look at ...
    assert "ast_grep_py" in text_check[2]
    # ... and a patch that touches no C (QAPI schema and qemu-options.hx) never imports it
    status, out, modules = _check(str(ROOT / "rules" / "qapi" / "examples" / "option-member.mbox"))
    assert status in (0, 1), out
    assert "ast_grep_py" not in modules and "reviewbot.c.astgrep" not in modules
    assert "reviewbot.checks.lang" in modules  # the language rules did run


def test_a_patch_without_message_id_needs_no_openssl(tmp_path: Path) -> None:
    # git format-patch output has no Message-ID: reviewbot makes one from the bytes' SHA-1
    raw = MBOX.read_text(encoding="utf-8")
    patch = tmp_path / "0001-no-id.patch"
    patch.write_text("".join(line for line in raw.splitlines(keepends=True)
                             if not line.lower().startswith("message-id:")), encoding="utf-8")
    status, out, modules = _check(str(patch))
    assert status == 1 and "qom-realize-reaches-machine" in out
    assert "hashlib" not in modules and "_hashlib" not in modules

    from hashlib import sha1

    from reviewbot.ingest.mail import synthetic_message_id

    data = b"any bytes"
    assert synthetic_message_id(data) == f"reviewbot-{sha1(data).hexdigest()[:16]}@synthetic"


def test_a_second_check_reads_no_yaml(tmp_path: Path) -> None:
    # the rule packs and the data tables come from the cache directory (reviewbot/rules/cache.py)
    env = {"REVIEWBOT_CACHE_DIR": str(tmp_path / "cache")}
    status, first, modules = _check(str(MBOX), env=env)
    assert status == 1 and "yaml" in modules  # cold: every rule file read
    status, again, modules = _check(str(MBOX), env=env)
    assert status == 1 and again == first
    assert "yaml" not in modules


def test_findings_through_the_lazy_paths_are_the_expected_ones() -> None:
    status, out, modules = _check("--format", "json", str(MBOX))
    assert status == 1
    assert "reviewbot.report.json" in modules and "reviewbot.report.sarif" not in modules
    got = sorted((f["rule"], f["patch"]["index"] if f["patch"] else None, f["path"], f["line"])
                 for f in json.loads(out)["findings"])
    want = sorted((w["rule"], w["patch"], w["path"], w["line"]) for w in EXPECT["findings"])
    assert got == want


def test_other_subcommands_still_parse_through_the_whole_parser(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    listed = capsys.readouterr().out
    assert all(f"    {name} " in listed for name in cli.COMMANDS), listed


@pytest.mark.parametrize(("argv", "named"), [
    (["check", "x.patch"], "check"),
    (["--version"], None),
    (["lore", "--then", "check", "id"], "lore"),
    (["--", "check", "x.patch"], None),  # argparse's own business
    (["-", "check"], None),
    (["-h", "check"], None),  # the top-level help, which lists every subcommand
    (["bogus", "check"], None),
    ([], None),
])
def test_command_named(argv: list[str], named: str | None) -> None:
    assert cli.command_named(argv) == named


def test_unknown_option_after_the_command_is_the_subcommands_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", "--no-such-option", str(MBOX)])
    assert exc.value.code == cli.EXIT_ERROR
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


# --------------------------------------------------------------------------- @frozen


@dataclass(frozen=True)
class Stock:
    name: str
    line: int
    tags: tuple[str, ...] = ()
    extra: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    note: str = field(default="", repr=False)


@frozen
class Light:
    name: str
    line: int
    tags: tuple[str, ...] = ()
    extra: dict[str, int] = field(default_factory=dict, compare=False, hash=False)
    note: str = field(default="", repr=False)


@frozen
class One:
    value: float


def _pair(*args: Any, **kwargs: Any) -> tuple[Stock, Light]:
    return Stock(*args, **kwargs), Light(*args, **kwargs)


def test_frozen_repr_eq_and_hash_are_the_dataclass_ones() -> None:
    for args, kwargs in (((), {"name": "f", "line": 3}), (("g", 4, ("a", "b")), {}),
                         (("h", 5), {"extra": {"x": 1}, "note": "hidden"})):
        stock, light = _pair(*args, **kwargs)
        assert repr(light) == repr(stock).replace("Stock", "Light", 1)
        assert hash(light) == hash(stock)
        assert light == Light(*args, **kwargs)
    assert Light("f", 1, extra={"a": 1}) == Light("f", 1, extra={"b": 2})  # compare=False
    assert Light("f", 1) != Light("f", 2)
    assert Light("f", 1) != Stock("f", 1)  # type: ignore[comparison-overlap]  # never equal
    assert Light("f", 1).__eq__(("f", 1)) is NotImplemented
    nan = float("nan")
    assert One(nan) == One(nan)  # fields compare as a tuple, as generated __eq__ does
    assert hash(One(2.0)) == hash((2.0,))


def test_frozen_defaults_are_per_instance_and_arguments_are_checked() -> None:
    a, b = Light("f", 1), Light("g", 2)
    assert a.extra == {} and a.extra is not b.extra
    assert Light("f", 1, ("t",)).tags == ("t",)
    with pytest.raises(TypeError, match="missing required argument: 'line'"):
        Light("f")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional arguments"):
        Light("f", 1, (), {}, "", "one too many")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'nope'"):
        Light("f", 1, nope=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'name'"):
        Light("f", 1, name="again")  # type: ignore[misc]


def test_frozen_instances_are_immutable_dataclasses() -> None:
    light = Light("f", 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        light.name = "g"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del light.line
    with pytest.raises(dataclasses.FrozenInstanceError):
        light.new_attribute = 1  # type: ignore[attr-defined]
    assert dataclasses.is_dataclass(light)
    assert [f.name for f in dataclasses.fields(light)] == ["name", "line", "tags", "extra", "note"]
    assert dataclasses.replace(light, line=7) == Light("f", 7)
    assert dataclasses.asdict(light) == {"name": "f", "line": 1, "tags": (), "extra": {},
                                         "note": ""}
    assert pickle.loads(pickle.dumps(light)) == light
    assert Light.__match_args__ == ("name", "line", "tags", "extra", "note")


def test_frozen_refuses_classes_it_would_get_wrong() -> None:
    with pytest.raises(TypeError, match="__post_init__ is not called"):
        @frozen
        class Checked:
            value: int

            def __post_init__(self) -> None:
                raise ValueError(self.value)

    with pytest.raises(TypeError, match="defines __eq__"):
        @frozen
        class Custom:
            value: int

            def __eq__(self, other: object) -> bool:
                return True

            __hash__ = object.__hash__
