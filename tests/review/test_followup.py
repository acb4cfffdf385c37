"""The follow-up ledger on real multi-version threads (../shared/corpus-versions) and on small
synthetic threads written here. Each expected status was read off the vN+1 mails by hand; the
corpus README says what each reviewer asked and what v2 did."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.errors import InputError
from reviewbot.ingest import load
from reviewbot.model import Series
from reviewbot.review.followup import (
    ADDRESSED,
    ANSWERED,
    OPEN,
    REMARK,
    REQUEST_FIXES,
    REQUEST_SPLIT,
    Ledger,
    Point,
    asks_something,
    build_ledger,
    match_patches,
    open_point_findings,
    series_request,
    suggestions,
)

ARM_GIC = "arm-gic-running-priority-v1-v2.mbox"
STM32 = "stm32l4x5-usart-ack-v1-v2.mbox"


def _pair(path: Path) -> tuple[Series, Series]:
    return load(str(path), series_version=1), load(str(path), series_version=2)


def _ledger(path: Path) -> Ledger:
    return build_ledger(*_pair(path))


def _by_words(ledger: Ledger, words: str) -> Point:
    hits = [p for p in ledger.points if words in p.comment]
    assert len(hits) == 1, [p.comment[:60] for p in ledger.points]
    return hits[0]


# --- arm_gic: one v1 patch split in two, a suggested rewrite taken ------------------------------

def test_arm_gic_split_is_followed(corpus_versions: Path) -> None:
    old, new = _pair(corpus_versions / ARM_GIC)
    (match,) = match_patches(old, new)
    # v1's subject lives on as 2/2; the GICC_IIDR hunk moved to 1/2 under a new subject
    assert (match.old, match.new) == (1, (1, 2))


def test_arm_gic_every_point_addressed_with_evidence(corpus_versions: Path) -> None:
    ledger = _ledger(corpus_versions / ARM_GIC)
    assert [p.status for p in ledger.points] == [ADDRESSED] * 3
    assert {p.reviewer for p in ledger.points} == {"Peter Maydell <peter.maydell@linaro.org>"}

    split = _by_words(ledger, "Could you split this")
    assert split.request == REQUEST_SPLIT and split.path is None and split.side == "message"
    assert split.evidence[0] == "v1 patch 1 became v2 patches 1, 2"

    iidr = _by_words(ledger, "11MPCore")
    assert (iidr.path, iidr.line, iidr.end_line) == ("hw/intc/arm_gic.c", 1665, 1667)
    assert iidr.quote == "+        *data = (s->revision << 16) + 0x43b;"
    assert (iidr.new_patch, iidr.new_path, iidr.new_line) == (1, "hw/intc/arm_gic.c", 1666)
    assert iidr.evidence[0] == ("the suggested `if (s->revision == REV_11MPCORE) {` is in v2 "
                                "at hw/intc/arm_gic.c:1666")
    assert "v2 has `*data = (s->revision << 16) | 0x43b;` at hw/intc/arm_gic.c:1671" \
        in iidr.evidence

    own_patch = _by_words(ledger, "just need to be in their own patch")
    assert own_patch.request == REQUEST_SPLIT and own_patch.status == ADDRESSED


# --- stm32: an answered question, a taken nit, review points that came after v2 -----------------

def test_stm32_statuses_match_what_v2_did(corpus_versions: Path) -> None:
    ledger = _ledger(corpus_versions / STM32)
    statuses = {p.comment.split("\n")[0][:40]: p.status for p in ledger.points}
    assert statuses == {
        "Thanks for this patch. I have one questi": REMARK,
        "Should we be doing these things based on": ANSWERED,
        "The effect of these is that a 16-bit wri": REMARK,
        "This is missing a": ADDRESSED,
        "(Cc'ing Arnaud & Inès who are listed as ": REMARK,
        "Jacob, for clarity, can you split this p": OPEN,
        "Peter, are you describing the .valid.min": OPEN,
    }


def test_stm32_answer_quoted_and_code_followed(corpus_versions: Path) -> None:
    ledger = _ledger(corpus_versions / STM32)
    edge = _by_words(ledger, "based on the value of")
    assert edge.answer is not None and not edge.answer.agrees
    assert edge.answer.first_line.startswith("Per RM0351 all bits in the ISR register")
    assert edge.answer.message_id == "d561777d-2c7a-4561-8840-4bca363d28e8@gmail.com"
    assert (edge.new_path, edge.new_line) == ("hw/char/stm32l4x5_usart.c", 175)

    quit_ = _by_words(ledger, "qtest_quit")
    assert (quit_.new_path, quit_.new_line) == ("tests/qtest/stm32l4x5_usart-test.c", 336)
    assert quit_.evidence[0].startswith("the suggested `qtest_quit(qts);` is in v2")
    assert quit_.answer is not None and quit_.answer.agrees


def test_stm32_points_made_after_v2_say_so(corpus_versions: Path) -> None:
    ledger = _ledger(corpus_versions / STM32)
    late = [p for p in ledger.points if p.after_new]
    assert {p.reviewer for p in late} == {"Philippe Mathieu-Daudé <philmd@linaro.org>"}
    assert len(late) == 3
    split = _by_words(ledger, "can you split this patch in 3")
    assert split.request == REQUEST_SPLIT
    assert "v2 could not have answered it" in split.evidence[-1]
    assert all(not p.after_new for p in ledger.points if p.reviewer.startswith("Peter"))


def test_open_points_become_warnings_where_they_landed(corpus_versions: Path) -> None:
    findings = open_point_findings(_ledger(corpus_versions / STM32))
    assert [(f.rule, str(f.severity), f.path, f.line) for f in findings] == [
        ("followup-open-point", "warning", None, None),
        ("followup-open-point", "warning", "hw/char/stm32l4x5_usart.c", 541),
    ]
    assert all(f.patch is not None and f.patch.index == 1 for f in findings)
    assert findings[0].evidence[0] == "review: 667c28a5-3c00-4de2-b37e-566dc7ffca14@linaro.org"


# --- inputs that do not fit ------------------------------------------------------------------

def test_new_older_than_previous(corpus_versions: Path) -> None:
    old, new = _pair(corpus_versions / STM32)
    with pytest.raises(InputError, match=r"NEW is v1, older than PREVIOUS v2"):
        build_ledger(new, old)


def test_unrelated_series(corpus_versions: Path) -> None:
    arm_v1 = load(str(corpus_versions / ARM_GIC), series_version=1)
    stm_v2 = load(str(corpus_versions / STM32), series_version=2)
    with pytest.raises(InputError, match="does not look like a version of PREVIOUS"):
        build_ledger(arm_v1, stm_v2)


def test_unrelated_series_touching_a_common_file(corpus_versions: Path) -> None:
    """Two real unrelated threads that both change hw/core/machine.c are still unrelated."""
    real = corpus_versions.parent / "corpus-real"
    old = load(str(real / "tdx-machine-init-done-late.mbox"))
    new = load(str(real / "virtio-onoffauto.mbox"))
    assert (old.version, new.version) == (2, 3)
    with pytest.raises(InputError, match="no patch of it matches one of PREVIOUS"):
        build_ledger(old, new)


def test_points_on_a_dropped_patch_are_unclear(tmp_path: Path) -> None:
    (point,) = _synthetic_dropped(tmp_path).points
    assert point.status == "unclear"
    assert point.evidence[0] == "v1 patch 1 is not in v2 (dropped, or merged on its own?)"


def _synthetic_dropped(tmp_path: Path) -> Ledger:
    """v1 has two patches, the reviewed one is gone from v2."""
    first = _mail("p1@example.org", "[PATCH 1/2] hw/misc/widget: allocate registers",
                  _patch("Allocate registers", V1_LINES))
    second = _mail("p2@example.org", "[PATCH 2/2] hw/misc/widget: count",
                   _patch("Count", ["    s->count = 8;"]).replace("widget.c", "count.c"))
    review = _mail("r9@example.org", "Re: [PATCH 1/2] hw/misc/widget: allocate registers",
                   "> +    s->regs = g_malloc0(64);\n\nShould this be g_new0()?\n",
                   sender="Rita Reviewer <rita@example.org>",
                   date="Tue, 04 Mar 2025 10:00:00 +0000", parent="p1@example.org")
    v2 = _mail("q1@example.org", "[PATCH v2] hw/misc/widget: count",
               _patch("Count", ["    s->count = 8;"]).replace("widget.c", "count.c"),
               date="Mon, 10 Mar 2025 10:00:00 +0000")
    path = tmp_path / "dropped.mbox"
    path.write_text("\n".join([first, second, review, v2]), encoding="utf-8")
    return _synthetic(path)


# --- small synthetic threads ------------------------------------------------------------------

def _mail(msgid: str, subject: str, body: str, *, sender: str = "Ada Author <ada@example.org>",
          date: str = "Mon, 03 Mar 2025 10:00:00 +0000", parent: str | None = None) -> str:
    head = [f"From: {sender}", f"Subject: {subject}", f"Date: {date}", f"Message-ID: <{msgid}>"]
    if parent:
        head += [f"In-Reply-To: <{parent}>", f"References: <{parent}>"]
    return "From mboxrd@z Thu Jan  1 00:00:00 1970\n" + "\n".join(head) + "\n\n" + body + "\n"


def _patch(title: str, lines: list[str], *, extra: str = "") -> str:
    added = "".join(f"+{ln}\n" for ln in lines)
    return (f"{title} for the widget.\n\nSigned-off-by: Ada Author <ada@example.org>\n---\n"
            f"diff --git a/hw/misc/widget.c b/hw/misc/widget.c\n--- a/hw/misc/widget.c\n"
            f"+++ b/hw/misc/widget.c\n@@ -10,3 +10,{3 + len(lines)} @@ static void "
            f"widget_realize(DeviceState *dev, Error **errp)\n {{\n     WidgetState *s = "
            f"WIDGET(dev);\n{added} }}\n{extra}")


V1_LINES = ["    s->regs = g_malloc0(64);", "    s->count = 4;"]
V2_LINES = ["    s->regs = g_new0(uint32_t, 16);", "    s->count = 4;"]


def _thread(tmp_path: Path, review: str | None, answer: str | None = None,
            v2_lines: list[str] = V2_LINES) -> Path:
    mails = [_mail("v1@example.org", "[PATCH] hw/misc/widget: allocate registers",
                   _patch("Allocate registers", V1_LINES))]
    quote = ("> +    s->regs = g_malloc0(64);\n> +    s->count = 4;\n")
    if review is not None:
        mails.append(_mail("r1@example.org", "Re: [PATCH] hw/misc/widget: allocate registers",
                           f"On Mon, Ada Author wrote:\n{quote}\n{review}\n",
                           sender="Rita Reviewer <rita@example.org>",
                           date="Tue, 04 Mar 2025 10:00:00 +0000", parent="v1@example.org"))
    if answer is not None:
        mails.append(_mail("a1@example.org", "Re: [PATCH] hw/misc/widget: allocate registers",
                           f"On Tue, Rita Reviewer wrote:\n> {review}\n\n{answer}\n",
                           date="Tue, 04 Mar 2025 12:00:00 +0000", parent="r1@example.org"))
    mails.append(_mail("v2@example.org", "[PATCH v2] hw/misc/widget: allocate registers",
                       _patch("Allocate registers", v2_lines),
                       date="Mon, 10 Mar 2025 10:00:00 +0000"))
    path = tmp_path / "thread.mbox"
    path.write_text("\n".join(mails), encoding="utf-8")
    return path


def _synthetic(path: Path) -> Ledger:
    return build_ledger(load(str(path), series_version=1), load(str(path), series_version=2))


def test_changed_code_is_addressed_with_the_replacement(tmp_path: Path) -> None:
    ledger = _synthetic(_thread(tmp_path, "Please use g_new0() here."))
    (point,) = ledger.points
    assert point.status == ADDRESSED
    assert point.quote == "+    s->count = 4;"
    assert point.evidence == (
        "`s->regs = g_malloc0(64);` is not in v2 any more",
        "v2 has `s->regs = g_new0(uint32_t, 16);` at hw/misc/widget.c:12",
    )
    assert (point.new_path, point.new_line) == ("hw/misc/widget.c", 13)


def test_unchanged_code_is_open_and_a_promise_does_not_change_that(tmp_path: Path) -> None:
    ledger = _synthetic(_thread(tmp_path, "Please use g_new0() here.", "Sure, will do.",
                                v2_lines=V1_LINES))
    (point,) = ledger.points
    assert point.status == OPEN
    assert point.answer is not None and point.answer.agrees
    assert point.evidence[0] == "v2 still has `s->regs = g_malloc0(64);` at hw/misc/widget.c:12"


def test_unchanged_code_with_an_explanation_is_answered(tmp_path: Path) -> None:
    ledger = _synthetic(_thread(
        tmp_path, "Should this not be g_new0()?",
        "The block is byte-addressed by the guest, so a byte count is what we want.",
        v2_lines=V1_LINES))
    (point,) = ledger.points
    assert point.status == ANSWERED
    assert point.answer is not None
    assert point.answer.first_line.startswith("The block is byte-addressed")


def test_thread_without_review_replies(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="v1 thread has no reply by anyone but the author"):
        _synthetic(_thread(tmp_path, None))


def test_thread_with_only_trailers(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no reviewer comment in them"):
        _synthetic(_thread(tmp_path, "Reviewed-by: Rita Reviewer <rita@example.org>"))


def test_same_version_twice(tmp_path: Path) -> None:
    path = _thread(tmp_path, "Please use g_new0() here.")
    v1 = load(str(path), series_version=1)
    with pytest.raises(InputError, match="NEW is the same v1 as PREVIOUS"):
        build_ledger(v1, v1)


# --- what a comment asks ------------------------------------------------------------------

@pytest.mark.parametrize(("text", "asks"), [
    ("That seems reasonable to me.", False),
    ("Thanks for this patch. I have one question below, and one minor nit.", False),
    ("It's a bit puzzling why fencing it off in msch doesn't work.", False),
    ("Should it includes a Fixes: tag then?", True),
    ("This is missing a qtest_quit(qts); at the end of the function.", True),
])
def test_asks_something(text: str, asks: bool) -> None:
    assert asks_something(text) is asks


def test_series_requests_and_suggestions() -> None:
    assert series_request("Could you split this into a two patch series, please ?") == \
        REQUEST_SPLIT
    assert series_request("Please put the MAINTAINERS change in its own patch.") == "maintainers"
    assert series_request("Should it includes a Fixes: tag then?") == REQUEST_FIXES
    assert series_request("Looks good to me.") is None
    assert suggestions('Change this message to\n\n"vfio: IRQ %u not available"\n') == [
        "vfio: IRQ %u not available"]
    assert suggestions("So this should be\n\n    if (s->revision == REV_11MPCORE) {\n") == [
        "if (s->revision == REV_11MPCORE) {"]


def test_new_as_a_git_range_before_sending(tmp_path: Path, git_repo) -> None:  # type: ignore[no-untyped-def]
    """NEW is the author's branch, not yet posted: the v1 thread is read against the range."""
    from reviewbot.commands.followup import load_pair

    thread = _thread(tmp_path, "Please use g_new0() here.")
    repo = git_repo()
    base = ("static void widget_realize(DeviceState *dev, Error **errp)\n" + "\n" * 8 +
            "{\n    WidgetState *s = WIDGET(dev);\n}\n")
    repo.commit("hw/misc/widget: base", {"hw/misc/widget.c": base})
    after = base.replace("WIDGET(dev);\n", "WIDGET(dev);\n" + "".join(
        f"{ln}\n" for ln in V2_LINES))
    repo.commit("hw/misc/widget: allocate registers\n\nSigned-off-by: Ada Author "
                "<ada@example.org>", {"hw/misc/widget.c": after})
    old, new = load_pair(str(thread), "HEAD~1..HEAD", repo=str(repo.path), previous_version=1)
    assert (old.version, new.repo is not None) == (1, True)
    ledger = build_ledger(old, new)
    assert ledger.new.version == 2  # the range is the version after PREVIOUS
    (point,) = ledger.points
    assert point.status == ADDRESSED
    assert "v2 has `s->regs = g_new0(uint32_t, 16);` at hw/misc/widget.c:12" in point.evidence


def test_comment_on_removed_lines_with_a_proposed_message(tmp_path: Path) -> None:
    """The shape of a real review (vfio-ccw, 20210421120146.46572f86.cohuck@redhat.com): v1
    removes a check, the reviewer quotes the removed lines and proposes to keep it with a new
    message; v2 keeps the check with that message."""
    def diff(body: str) -> str:
        return ("Relax the IRQ check.\n\nSigned-off-by: Ada Author <ada@example.org>\n---\n"
                "diff --git a/hw/misc/widget.c b/hw/misc/widget.c\n--- a/hw/misc/widget.c\n"
                f"+++ b/hw/misc/widget.c\n{body}")
    v1 = diff("@@ -20,6 +20,2 @@ static void widget_irq(WidgetState *s, int irq)\n"
              "     int n = s->num_irqs;\n \n"
              "-    if (n < irq + 1) {\n-        error_report(\"widget: bad irq count\");\n"
              "-        return;\n-    }\n")
    v2 = diff("@@ -20,6 +20,6 @@ static void widget_irq(WidgetState *s, int irq)\n"
              "     int n = s->num_irqs;\n \n     if (n < irq + 1) {\n"
              "-        error_report(\"widget: bad irq count\");\n"
              "+        error_report(\"widget: IRQ %u not available\", irq);\n"
              "         return;\n     }\n")
    review = ("On Mon, Ada Author wrote:\n"
              "> -    if (n < irq + 1) {\n> -        error_report(\"widget: bad irq count\");\n"
              "\nAlternative proposal: keep the check and change this message to\n\n"
              "\"widget: IRQ %u not available\"\n")
    mails = [
        _mail("v1@example.org", "[PATCH] hw/misc/widget: relax the IRQ check", v1),
        _mail("r1@example.org", "Re: [PATCH] hw/misc/widget: relax the IRQ check", review,
              sender="Rita Reviewer <rita@example.org>", date="Tue, 04 Mar 2025 10:00:00 +0000",
              parent="v1@example.org"),
        _mail("v2@example.org", "[PATCH v2] hw/misc/widget: relax the IRQ check", v2,
              date="Mon, 10 Mar 2025 10:00:00 +0000"),
    ]
    path = tmp_path / "removed.mbox"
    path.write_text("\n".join(mails), encoding="utf-8")
    (point,) = _synthetic(path).points
    assert (point.path, point.side, point.line, point.end_line) == ("hw/misc/widget.c", "old",
                                                                    22, 23)
    assert point.status == ADDRESSED
    assert point.evidence[0] == ("the suggested `widget: IRQ %u not available` is in v2 at "
                                 "hw/misc/widget.c:23")
    assert "v2 no longer removes `if (n < irq + 1) {`" in point.evidence
    assert (point.new_path, point.new_line) == ("hw/misc/widget.c", 23)
