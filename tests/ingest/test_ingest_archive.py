"""reviewbot.ingest.archive: public-inbox v2 epochs read with real git, threads, increments,
and archives that are broken in part."""

from __future__ import annotations

import subprocess
import zlib
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.ingest import archive
from reviewbot.ingest.mail import raw_mails

# Each corpus-real file is one thread; its first message's id is the thread's root.
ROOTS = {
    "audio-pa-stream-name.mbox": ("cover.1568157545.git.DirtY.iCE.hu@gmail.com", 4),
    "igvm-madt-acpi.mbox": ("20251211103136.1578463-1-osteffen@redhat.com", 7),
    "pcie-hotplug-fixes.mbox": ("20190621064615.20099-1-mst@redhat.com", 6),
    "sgx-epc-reset.mbox": ("20210719112136.57018-24-yang.zhong@intel.com", 2),
}


def corpus_messages(corpus: Path, names: list[str] | None = None) -> list[tuple[bytes, int]]:
    """(bytes, date in seconds) of every message of the corpus-real files, file by file."""
    out = []
    for path in sorted(corpus.glob("*.mbox")):
        if names is not None and path.name not in names:
            continue
        for raw in raw_mails(path.read_bytes(), str(path)):
            head = raw.data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
            date = next(line[5:].strip() for line in head.splitlines()
                        if line.lower().startswith("date:"))
            out.append((raw.data, int(parsedate_to_datetime(date).timestamp())))
    return out


def write_epoch(git_dir: Path, messages: list[tuple[bytes, int]]) -> None:
    archive.append_messages(git_dir, [m for m, _ in messages], [d for _, d in messages])


def git(git_dir: Path, *args: str, data: bytes | None = None) -> str:
    done = subprocess.run(["git", "--git-dir", str(git_dir), *args], input=data,
                          capture_output=True, check=True)
    return done.stdout.decode().strip()


def commit_loose(git_dir: Path, data: bytes, when: int = 1_700_000_000) -> str:
    """One more message commit, its blob written as a loose object; returns the blob id."""
    blob = git(git_dir, "hash-object", "-w", "--stdin", data=data)
    tree = git(git_dir, "mktree", data=f"100644 blob {blob}\tm\n".encode())
    env_date = f"{when} +0000"
    parent = git(git_dir, "rev-parse", "HEAD")
    done = subprocess.run(
        ["git", "--git-dir", str(git_dir), "commit-tree", tree, "-p", parent, "-m", ""],
        capture_output=True, check=True,
        env={"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x", "GIT_AUTHOR_DATE": env_date,
             "GIT_COMMITTER_NAME": "c", "GIT_COMMITTER_EMAIL": "c@x",
             "GIT_COMMITTER_DATE": env_date, "PATH": "/usr/bin:/bin"})
    git(git_dir, "update-ref", "refs/heads/master", done.stdout.decode().strip())
    return blob


@pytest.fixture
def inbox(tmp_path: Path, corpus_real: Path) -> Path:
    """An inbox of one epoch, git/0.git, holding the 31 corpus-real messages."""
    write_epoch(tmp_path / "inbox" / "git" / "0.git", corpus_messages(corpus_real))
    return tmp_path / "inbox"


def shape(threads: list[archive.Thread]) -> dict[str, int]:
    return {t.root: len(t.blobs) for t in threads}


def test_every_thread_of_an_epoch_comes_back_whole(inbox: Path) -> None:
    got = archive.scan(str(inbox))
    assert got.messages == 31 and got.epochs == 1 and got.problems == []
    assert len(got.threads) == 8
    for root, count in ROOTS.values():
        assert shape(got.threads)[root] == count
    # in archive order: the first thread is the first file's
    assert got.threads[0].root == ROOTS["audio-pa-stream-name.mbox"][0]
    # every blob named is a real object of the epoch holding that message
    git_dir, oid = got.threads[0].blobs[0]
    assert git(Path(git_dir), "cat-file", "-t", oid) == "blob"


def test_the_three_shapes_of_archive(inbox: Path) -> None:
    epoch = inbox / "git" / "0.git"
    assert archive.is_archive(inbox) and archive.is_archive(epoch)
    assert archive.is_archive(inbox / "git")  # a directory of N.git
    assert [e.name for e in archive.find_epochs(str(inbox))] == ["git/0.git"]
    assert [e.name for e in archive.find_epochs(str(epoch))] == ["0.git"]
    assert shape(archive.scan(str(epoch)).threads) == shape(archive.scan(str(inbox)).threads)
    assert not archive.is_archive(inbox / "git" / "0.git" / "objects")


def test_a_thread_spread_over_two_epochs_is_one_thread(tmp_path: Path,
                                                       corpus_real: Path) -> None:
    igvm = corpus_messages(corpus_real, ["igvm-madt-acpi.mbox"])
    write_epoch(tmp_path / "git" / "0.git", igvm[:4])
    write_epoch(tmp_path / "git" / "1.git", igvm[4:])
    # 10.git sorts after 2.git: epochs go by number, not by name
    write_epoch(tmp_path / "git" / "10.git", corpus_messages(corpus_real, ["sgx-epc-reset.mbox"]))
    got = archive.scan(str(tmp_path))
    assert [e.name for e in archive.find_epochs(str(tmp_path))] == [
        "git/0.git", "git/1.git", "git/10.git"]
    assert shape(got.threads) == {ROOTS["igvm-madt-acpi.mbox"][0]: 7,
                                  ROOTS["sgx-epc-reset.mbox"][0]: 2}
    epochs = {Path(d).name for d, _ in got.threads[0].blobs}
    assert epochs == {"0.git", "1.git"}


def test_since_and_until_select_by_the_messages_dates(inbox: Path) -> None:
    # pcie-hotplug-fixes is June-July 2019, audio September-October 2019
    got = archive.scan(str(inbox), since=archive.parse_date("2019-06-01", "--since"),
                       until=archive.parse_date("2019-12-31", "--until"))
    assert shape(got.threads) == {ROOTS["pcie-hotplug-fixes.mbox"][0]: 6,
                                  ROOTS["audio-pa-stream-name.mbox"][0]: 4}
    with pytest.raises(InputError, match=r"^--since: expected a date"):
        archive.parse_date("last tuesday", "--since")


def test_incremental_reads_only_what_is_new_and_returns_the_threads_it_touched(
        tmp_path: Path, corpus_real: Path) -> None:
    epoch = tmp_path / "git" / "0.git"
    pcie = corpus_messages(corpus_real, ["pcie-hotplug-fixes.mbox"])
    sgx = corpus_messages(corpus_real, ["sgx-epc-reset.mbox"])
    write_epoch(epoch, pcie[:4] + sgx[:1])
    cache = tmp_path / "cache"
    first = archive.scan(str(tmp_path), incremental=True, cache_dir=cache)
    assert first.messages == 5 and len(first.threads) == 2
    assert archive.state_path(str(tmp_path), cache).is_file()
    # nothing new: nothing read, no thread
    again = archive.scan(str(tmp_path), incremental=True, cache_dir=cache)
    assert again.messages == 0 and again.threads == []
    # two more replies to the pcie thread: only they are read, the thread comes back whole
    write_epoch(epoch, pcie[4:])
    second = archive.scan(str(tmp_path), incremental=True, cache_dir=cache)
    assert second.messages == 2
    assert shape(second.threads) == {ROOTS["pcie-hotplug-fixes.mbox"][0]: 6}
    # a one-off run ignores and keeps the state
    assert archive.scan(str(tmp_path)).messages == 7
    write_epoch(epoch, sgx[1:])
    third = archive.scan(str(tmp_path), incremental=True, cache_dir=cache)
    assert third.messages == 1
    assert shape(third.threads) == {ROOTS["sgx-epc-reset.mbox"][0]: 2}


def test_a_reply_read_before_its_patch_joins_the_thread_later(tmp_path: Path,
                                                              corpus_real: Path) -> None:
    sgx = corpus_messages(corpus_real, ["sgx-epc-reset.mbox"])  # the patch, then the review
    epoch = tmp_path / "git" / "0.git"
    write_epoch(epoch, sgx[1:])
    cache = tmp_path / "cache"
    first = archive.scan(str(tmp_path), incremental=True, cache_dir=cache)
    assert len(first.threads) == 1 and len(first.threads[0].blobs) == 1
    write_epoch(epoch, sgx[:1])
    second = archive.scan(str(tmp_path), incremental=True, cache_dir=cache)
    assert second.messages == 1
    assert [len(t.blobs) for t in second.threads] == [2]


def test_rewritten_history_is_read_again_with_a_note(tmp_path: Path, corpus_real: Path) -> None:
    msgs = corpus_messages(corpus_real, ["sgx-epc-reset.mbox"])
    epoch = tmp_path / "git" / "0.git"
    write_epoch(epoch, msgs)
    cache = tmp_path / "cache"
    archive.scan(str(tmp_path), incremental=True, cache_dir=cache)
    # the epoch replaced by another history (public-inbox purges rewrite it)
    subprocess.run(["rm", "-rf", str(epoch)], check=True)
    write_epoch(epoch, msgs[:1])
    got = archive.scan(str(tmp_path), incremental=True, cache_dir=cache)
    assert got.messages == 1
    assert any("no longer in its history; read again from the start" in p for p in got.problems)


def test_not_an_archive_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no such file or directory$"):
        archive.find_epochs(str(tmp_path / "absent"))
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match=r"plain: not a public-inbox archive"):
        archive.find_epochs(str(tmp_path / "plain"))


def test_bad_epochs_are_one_line_each_and_the_rest_is_read(inbox: Path, tmp_path: Path) -> None:
    git_dir = inbox / "git"
    junk = git_dir / "1.git"  # named like an epoch, but no repository
    junk.mkdir()
    (junk / "README").write_text("not a repository\n", encoding="utf-8")
    code = git_dir / "2.git"  # a repository, but of code: no commit has a blob m
    subprocess.run(["git", "init", "-q", "--bare", str(code)], check=True)
    blob = git(code, "hash-object", "-w", "--stdin", data=b"int main;\n")
    tree = git(code, "mktree", data=f"100644 blob {blob}\tmain.c\n".encode())
    commit = subprocess.run(["git", "--git-dir", str(code), "commit-tree", tree, "-m", "c"],
                            capture_output=True, check=True,
                            env={"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x",
                                 "GIT_COMMITTER_NAME": "c", "GIT_COMMITTER_EMAIL": "c@x",
                                 "PATH": "/usr/bin:/bin"}).stdout.decode().strip()
    git(code, "update-ref", "HEAD", commit)
    empty = git_dir / "3.git"  # a new epoch with no commit yet: not a problem
    subprocess.run(["git", "init", "-q", "--bare", str(empty)], check=True)
    got = archive.scan(str(inbox))
    assert got.messages == 31 and len(got.threads) == 8
    assert got.problems == [
        "git/1.git: not a git repository; skipped",
        "git/2.git: none of its 1 commit(s) holds a message blob 'm': not a public-inbox v2 "
        "epoch; skipped",
    ]


@pytest.mark.parametrize("damage", ["truncated", "other content", "garbage"])
def test_a_corrupt_blob_is_one_line_and_the_rest_is_read(tmp_path: Path, corpus_real: Path,
                                                         damage: str) -> None:
    msgs = corpus_messages(corpus_real, ["sgx-epc-reset.mbox", "pcie-hotplug-fixes.mbox"])
    epoch = tmp_path / "git" / "0.git"
    write_epoch(epoch, msgs[:3])
    bad = commit_loose(epoch, msgs[3][0])
    commit_loose(epoch, msgs[4][0])
    for data, when in msgs[5:]:
        commit_loose(epoch, data, when)
    loose = epoch / "objects" / bad[:2] / bad[2:]
    loose.chmod(0o644)
    stored = zlib.decompress(loose.read_bytes())
    if damage == "truncated":  # git starts streaming it, then gives up
        loose.write_bytes(zlib.compress(stored)[:-8])
    elif damage == "other content":  # same header and size: git hands it out unchecked
        loose.write_bytes(zlib.compress(stored.replace(b"Subject:", b"Subjekt:", 1)))
    else:
        loose.write_bytes(b"not zlib at all")
    got = archive.scan(str(tmp_path))
    assert got.messages == len(msgs) - 1
    assert len(got.problems) == 1, got.problems
    line = got.problems[0]
    assert line.startswith("git/0.git: commit ") and "\n" not in line
    want = {"truncated": f"corrupt object {bad} (git stopped reading it)",
            "other content": f"corrupt object {bad} (its content does not match its id)",
            # git calls an object it cannot inflate missing; the tree says it should be there
            "garbage": f"blob {bad} of m is missing or unreadable (corrupt?)"}[damage]
    assert line.endswith(want)


def test_thread_headers_take_folded_references_nearest_first() -> None:
    data = (b"From: a@example.org\nMessage-Id: <m3@x>\nReferences: <m1@x>\n <m2@x>\n"
            b"In-Reply-To: <m2@x>\nList-Id: qemu development <qemu-devel.nongnu.org>\n"
            b"\nReferences: <body@x>\n")
    assert archive.thread_headers(data) == ("m3@x", ("m2@x", "m1@x"), "qemu-devel.nongnu.org")
