"""The deleted-comment primitive: comment lexing, "keeps its point", and the cases that must
stay quiet (moved, reworded, deleted with its code, licence/TODO, trailing comments)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from reviewbot.checks.comments import comment_blocks, keeps_point, words
from reviewbot.context import Options
from reviewbot.engine import run_check
from reviewbot.finding import Finding
from reviewbot.ingest import load
from reviewbot.rules.loader import load_rules

RULE = {r.id: r for r in load_rules()}["comments-deleted-comment"]

BASE = """\
/*
 * Copyright (c) 2026 Example Person
 * Licensed under the GNU GPL, version 2 or later.
 */
#include "qemu/osdep.h"

static void table_build(GArray *t)
{
    // The checksum is patched in by the firmware loader later on,
    // so leave the byte at zero here.
    build_append_int_noprefix(t, 0, 1);
    /* TODO: handle the second revision of this table here */
    build_append_int_noprefix(t, 2, 1);
    build_append_int_noprefix(t, 3, 4); /* length of the body in bytes, always four */
    /* old firmware reads the OEM field before anything else here */
    build_append_int_noprefix(t, 4, 4);
}
"""


def run_edit(git_repo: Callable[..., Any], new: str, extra: dict[str, str] | None = None,
             base: str = BASE) -> list[Finding]:
    repo = git_repo()
    repo.commit("base", {"hw/acpi/table.c": base})
    repo.commit("edit", {"hw/acpi/table.c": new, **(extra or {})})
    series = load("HEAD~1..HEAD", cwd=str(repo.path))
    return list(run_check(series, Options(), [RULE]).findings)


def test_comment_blocks() -> None:
    lines = BASE.splitlines()
    blocks = comment_blocks(lines)
    spans = [(b.start + 1, b.end + 1, b.comment_only) for b in blocks]
    assert spans == [(1, 4, True), (9, 10, True), (12, 12, True), (14, 14, False),
                     (15, 15, True)]
    assert comment_blocks(['x = "/* not a comment */";']) == []


def test_keeps_point() -> None:
    old = words("Windows needs this entry to enable memory hotplug")
    assert keeps_point(old, words("memory hotplug in Windows needs the entry enabled"), 0.5)
    assert not keeps_point(old, words("align the table to eight bytes"), 0.5)
    assert not keeps_point(frozenset(), old, 0.5)


def test_line_comment_run_deleted_while_code_stays(git_repo: Callable[..., Any]) -> None:
    new = BASE.replace("    // The checksum is patched in by the firmware loader later on,\n"
                       "    // so leave the byte at zero here.\n", "")
    [f] = run_edit(git_repo, new)
    assert (f.path, f.line, f.end_line, f.side) == ("hw/acpi/table.c", 9, 10, "old")
    assert f.evidence[0].splitlines()[1:] == [
        "-     // The checksum is patched in by the firmware loader later on,",
        "-     // so leave the byte at zero here."]
    assert f.message.startswith("comment deleted although the code it explains stays "
                                "(build_append_int_noprefix(t, 0, 1);)")


def test_block_comment_deleted_and_code_changed_below_is_quiet(
        git_repo: Callable[..., Any]) -> None:
    new = BASE.replace("    /* old firmware reads the OEM field before anything else here */\n"
                       "    build_append_int_noprefix(t, 4, 4);\n",
                       "    build_append_int_noprefix(t, 5, 4);\n")
    assert run_edit(git_repo, new) == []


@pytest.mark.parametrize("label", ["moved to another file", "reworded", "licence", "todo",
                                   "trailing", "short"])
def test_quiet_cases(git_repo: Callable[..., Any], label: str) -> None:
    extra: dict[str, str] = {}
    base = BASE
    if label == "moved to another file":
        new = BASE.replace("    /* old firmware reads the OEM field before anything else here */\n",
                           "")
        extra = {"hw/acpi/notes.h": "/* Old firmware reads the OEM field before anything "
                                    "else. */\n"}
    elif label == "reworded":
        new = BASE.replace("old firmware reads the OEM field before anything else here",
                           "the OEM field is read first by old firmware")
    elif label == "licence":
        new = BASE.replace(BASE[:BASE.index("#include")],
                           "/* SPDX-License-Identifier: GPL-2.0-or-later */\n")
    elif label == "todo":
        new = BASE.replace("    /* TODO: handle the second revision of this table here */\n", "")
    elif label == "trailing":
        new = BASE.replace(" /* length of the body in bytes, always four */", "")
    else:
        base = BASE.replace("    build_append_int_noprefix(t, 2, 1);\n",
                            "    /* second byte */\n    build_append_int_noprefix(t, 2, 1);\n")
        new = BASE
    assert run_edit(git_repo, new, extra, base) == []


def test_deleted_file_is_quiet(git_repo: Callable[..., Any]) -> None:
    repo = git_repo()
    repo.commit("base", {"hw/acpi/table.c": BASE, "hw/acpi/other.c": "int x;\n"})
    repo.git("rm", "-q", "hw/acpi/table.c")
    repo.commit("drop the table")
    series = load("HEAD~1..HEAD", cwd=str(repo.path))
    assert run_check(series, Options(), [RULE]).findings == ()


# Issue 13 item 1: the comment went, the code it explained went too, and the patch adds that
# code again elsewhere (a new helper, another file): the comment still holds there.
PUSH = """\
#include "qemu/osdep.h"

static bool queue_push(Queue *q, Request *req)
{
    if (q->used + req->len > q->size) {
        return false;
    }
    /*
     * The doorbell must be rung with the ring lock held, or the device
     * may see the new tail before the descriptor is written.
     */
    qemu_mutex_lock(&q->lock);
    ring_doorbell(q, req->tail,
                  DB_SYNC);
    qemu_mutex_unlock(&q->lock);
    q->used += req->len;
    return true;
}
"""
DOORBELL = ("    /*\n     * The doorbell must be rung with the ring lock held, or the device\n"
            "     * may see the new tail before the descriptor is written.\n     */\n")
LOCKED = ("    qemu_mutex_lock(&q->lock);\n    ring_doorbell(q, req->tail,\n"
          "                  DB_SYNC);\n    qemu_mutex_unlock(&q->lock);\n")


def test_comment_of_code_moved_into_a_helper_is_reported_where_the_code_went(
        git_repo: Callable[..., Any]) -> None:
    helper = ("static void queue_kick(Queue *q, Request *req)\n{\n"
              "    qemu_mutex_lock(&q->lock);\n    ring_doorbell(q, req->tail, DB_SYNC);\n"
              "    qemu_mutex_unlock(&q->lock);\n}\n\n")
    new = PUSH.replace(DOORBELL + LOCKED, "    queue_kick(q, req);\n").replace(
        "static bool queue_push", helper + "static bool queue_push")
    [f] = run_edit(git_repo, new, base=PUSH)
    assert (f.path, f.line, f.end_line, f.side) == ("hw/acpi/table.c", 8, 11, "old")
    assert f.evidence[1] == ("the code it explained moved to hw/acpi/table.c:5: "
                             "qemu_mutex_lock(&q->lock);")
    assert "explains moved to hw/acpi/table.c:5 (qemu_mutex_lock(&q->lock);)" in f.message


def test_comment_of_code_moved_to_another_file(git_repo: Callable[..., Any]) -> None:
    new = PUSH.replace(DOORBELL + LOCKED, "    queue_kick(q, req);\n")
    helper = ("#include \"qemu/osdep.h\"\n\nvoid queue_kick(Queue *q, Request *req)\n{\n"
              "    qemu_mutex_lock(&q->lock);\n"
              "    ring_doorbell(q, req->tail, DB_SYNC);\n}\n")
    [f] = run_edit(git_repo, new, {"hw/acpi/kick.c": helper}, base=PUSH)
    assert f.evidence[1].startswith("the code it explained moved to hw/acpi/kick.c:5: ")


@pytest.mark.parametrize("label", ["code gone", "another call", "comment moved along"])
def test_comment_of_code_that_did_not_move_is_quiet(git_repo: Callable[..., Any],
                                                    label: str) -> None:
    extra: dict[str, str] = {}
    if label == "code gone":
        new = PUSH.replace(DOORBELL + LOCKED, "")
    elif label == "another call":  # same function, other arguments: not the same code
        new = PUSH.replace(DOORBELL + LOCKED, "    qemu_mutex_lock(&q->other_lock);\n")
    else:
        new = PUSH.replace(DOORBELL + LOCKED, "    queue_kick(q, req);\n")
        extra = {"hw/acpi/kick.c": "/* The doorbell must be rung with the ring lock held. */\n"
                                   "void queue_kick(Queue *q, Request *req)\n{\n"
                                   "    qemu_mutex_lock(&q->lock);\n}\n"}
    assert run_edit(git_repo, new, extra, base=PUSH) == []


# Issue 13 item 2: a short comment counts its own words, stop words included; trivial ones
# (a word or two, fall through, dividers, commented-out code) stay quiet.
def test_short_comment_above_code_that_stays_is_reported(git_repo: Callable[..., Any]) -> None:
    base = PUSH.replace("    if (q->used",
                        "    /* Check if the request can fit */\n    if (q->used")
    [f] = run_edit(git_repo, PUSH, base=base)
    assert (f.line, f.evidence[1]) == (
        5, "the code it explained stays: if (q->used + req->len > q->size) {")


@pytest.mark.parametrize("comment", [
    "/* fall through */", "/* Fall through to the next case */", "/* ---- statistics ---- */",
    "/* q->used = 0; */", "// ring_doorbell(q, 0, DB_SYNC);", "/* nothing to do here */",
    "/* check */", "/* second byte */",
])
def test_trivial_comments_stay_quiet(git_repo: Callable[..., Any], comment: str) -> None:
    base = PUSH.replace("    q->used += req->len;", f"    {comment}\n    q->used += req->len;")
    assert run_edit(git_repo, PUSH, base=base) == []
