"""reviewbot.batch.work: what a batch of threads gets done to, wherever it runs."""

from __future__ import annotations

from reviewbot.batch import work


def test_outcomes_are_passed_on_in_thread_order_and_then_let_go() -> None:
    seen: list[str] = []
    order = work.InOrder(lambda o: seen.append(f"{o.root}:{len(o.rows)}"))
    row = {"comment": "x"}
    order.put(2, [work.Outcome("c", rows=(row,), comments=1)])
    order.put(0, [work.Outcome("a")])
    assert seen == ["a:0"]  # b's batch is not in yet: c waits
    order.put(1, [work.Outcome("b1", rows=(row, row), comments=2), work.Outcome("b2")])
    assert seen == ["a:0", "b1:2", "b2:0", "c:1"]
    assert [o.root for o in order.kept] == ["a", "b1", "b2", "c"]
    assert all(o.rows == () for o in order.kept)  # written, then not kept
    assert [o.comments for o in order.kept] == [0, 2, 0, 1]
