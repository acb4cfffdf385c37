"""reviewbot.server's request format and the server's reasons to refuse, in-process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewbot.server import (
    CHECK,
    HEADER,
    MAX_REQUEST,
    MAX_SOCKET_PATH,
    cache_dir,
    key_material,
    pack,
    socket_path,
    unpack_fields,
    unpack_header,
)
from reviewbot.server.daemon import Request, Server, code_stats


def test_a_request_reads_back_field_by_field() -> None:
    fields = ["key", "/dir with space", "", "h\u00e9", os.fsdecode(b"bad-\xff-bytes")]
    raw = pack(CHECK, fields)
    kind, length = unpack_header(raw[:HEADER])
    assert kind == CHECK and length == len(raw) - HEADER
    assert [os.fsdecode(f) for f in unpack_fields(raw[HEADER:])] == fields


@pytest.mark.parametrize("header", [
    b"RBS1C",  # short
    b"XXXXC\x00\x00\x00\x01",  # another protocol
    b"RBS1Z\x00\x00\x00\x01",  # no such kind
    b"RBS1C" + (MAX_REQUEST + 1).to_bytes(4, "big"),  # too large
])
def test_what_is_not_a_request_header(header: bytes) -> None:
    with pytest.raises(ValueError, match="not a reviewbot check server request"):
        unpack_header(header)


@pytest.mark.parametrize("body", [b"\x00\x00", b"\x00\x00\x00\x05abc"])
def test_a_body_that_does_not_divide_into_fields(body: bytes) -> None:
    with pytest.raises(ValueError, match="truncated"):
        unpack_fields(body)


def test_the_socket_belongs_to_one_configuration(tmp_path: Path) -> None:
    env = {"REVIEWBOT_CACHE_DIR": str(tmp_path), "HOME": "/nowhere"}
    path = socket_path(env)
    assert path is not None and Path(path).parent == tmp_path / "server"
    assert socket_path({**env, "REVIEWBOT_DEBUG": "1", "REVIEWBOT_SERVER": "1"}) == path
    assert socket_path({**env, "UNRELATED": "x"}) == path
    for other in ({"REVIEWBOT_RULE_CACHE": "0"}, {"PYTHONUTF8": "1"}, {"LC_ALL": "C"}):
        assert socket_path({**env, **other}) not in (path, None)
    # the cache directory as reviewbot.util.cachedir finds it
    assert cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == "/x/reviewbot"
    assert cache_dir({"HOME": "/h"}) == "/h/.cache/reviewbot"
    # none where a socket cannot be: a relative cache directory, a path too long
    assert socket_path({"REVIEWBOT_CACHE_DIR": "relative"}) is None
    long = {"REVIEWBOT_CACHE_DIR": "/" + "x" * MAX_SOCKET_PATH}
    assert socket_path(long) is None


def _request_fields(material: bytes) -> list[bytes]:
    return [material, b"/", b"18", b"", *[b"utf-8", b"strict"] * 3, b"reviewbot", b"1",
            b"check"]


def test_a_server_refuses_once_its_code_changed(tmp_path: Path) -> None:
    module = tmp_path / "module.py"
    module.write_text("x = 1\n", encoding="utf-8")
    server = Server(str(tmp_path / "s.sock"), idle=60)
    server.code_paths = [str(module), str(tmp_path)]
    server.code = code_stats(server.code_paths)
    fields = _request_fields(server.material)

    def refused(fields: list[bytes], fds: tuple[int, ...] = (0, 1, 2)) -> str:
        return server._refusal(Request.parse(fields), list(fds)) or ""

    assert refused(fields) == "" and not server.stopping
    # another configuration, or a request without its streams: refused, the server goes on
    assert "another configuration" in refused(_request_fields(b"x"))
    assert "standard streams" in refused(fields, (0, 1))
    assert "standard streams" in refused(fields[:-1])
    assert "standard streams" in refused([*fields[:11], b"one", b"check"])
    assert not server.stopping
    # an edit (same size, another mtime), or a module added beside it
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert "reviewbot changed" in refused(fields)
    assert server.stopping
    server.code = code_stats(server.code_paths)
    server.stopping = False
    (tmp_path / "new.py").write_text("", encoding="utf-8")
    assert "reviewbot changed" in refused(fields)


def test_the_server_watches_the_modules_it_loaded() -> None:
    from reviewbot.server.daemon import code_paths

    paths = code_paths()
    package = Path(__file__).resolve().parents[2] / "reviewbot"
    assert str(package / "server" / "daemon.py") in paths
    assert str(package / "c") in paths  # a directory: a module added there
    assert not any("__pycache__" in p for p in paths)
    assert not any(p.endswith(os.sep + "os.py") for p in paths)  # not the standard library
    assert key_material(os.environ)  # and one string says the configuration


def test_the_tree_a_check_will_read_is_guessed_and_its_maintainers_warmed(
        tmp_path: Path) -> None:
    from reviewbot.qemu.maintainers import parse_maintainers_cached
    from reviewbot.server.daemon import tree_of, warm_tree

    repo = tmp_path / "qemu"
    (repo / ".git").mkdir(parents=True)
    (repo / "hw" / "misc").mkdir(parents=True)
    other = tmp_path / "other"
    other.mkdir()
    assert tree_of(["check", "HEAD~1.."], str(repo / "hw" / "misc")) == repo
    assert tree_of(["check", "-C", "qemu", "-1"], str(tmp_path)) == repo
    assert tree_of(["check", "--tree", "../other", "x.mbox"], str(repo)) == repo / "../other"
    assert tree_of(["check", "--tree=/abs", "x.mbox"], str(repo)) == Path("/abs")
    assert tree_of(["check", "x.mbox"], str(other)) is None
    assert not warm_tree(other)  # no MAINTAINERS: nothing to warm
    text = "QEMU\nM: Someone <someone@example.org>\nF: hw/misc/\n"
    (repo / "MAINTAINERS").write_text(text, encoding="utf-8")
    parse_maintainers_cached.cache_clear()
    assert warm_tree(repo)
    info = parse_maintainers_cached.cache_info()
    assert info.currsize == 1 and info.misses == 1
    # what a check of that tree then asks for is what the server made
    maintainers = parse_maintainers_cached(text)
    assert parse_maintainers_cached.cache_info().hits == 1
    assert "_candidates" in vars(maintainers)  # filed by directory already
    assert [s.title for s in maintainers.sections_for_file("hw/misc/x.c")] == ["QEMU"]
