"""mine: reviewers' comments out of real and corpus threads, anchored to what they quote.

The expected anchors below were read off the mails by hand: the quoted lines right above
each comment, located in the patch's hunks.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.ingest import load
from reviewbot.model import Mail, Patch, Person, Series, Subject
from reviewbot.patch.diff import parse_diff
from reviewbot.review.mine import (
    KIND_COMMENT,
    KIND_TRAILERS,
    SIDE_COVER,
    SIDE_MESSAGE,
    SIDE_NEW,
    SIDE_NONE,
    SIDE_OLD,
    MinedComment,
    align_quotes,
    mine_reply,
    mine_series,
)

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "corpus"


def _mine(path: Path) -> list[MinedComment]:
    return mine_series(load(str(path)))


def _comments(mined: list[MinedComment]) -> list[MinedComment]:
    return [c for c in mined if c.kind == KIND_COMMENT]


def _place(c: MinedComment) -> tuple[int | None, str | None, str, int | None, int | None]:
    return (c.patch_index, c.path, c.side, c.line_start, c.line_end)


# (comments with words, trailers-only replies) per real thread
COUNTS = {
    "audio-pa-stream-name.mbox": (1, 1),
    "igvm-madt-acpi.mbox": (7, 0),
    "pcie-hotplug-fixes.mbox": (1, 2),
    "sgx-epc-reset.mbox": (1, 0),
    "spapr-drop-qdev-get-machine.mbox": (1, 0),
    "tdx-machine-init-done-late.mbox": (2, 0),
    "virtio-iommu-host-iova-ranges.mbox": (0, 1),
    "virtio-onoffauto.mbox": (1, 0),
}


def test_every_real_thread_is_counted(corpus_real: Path) -> None:
    assert sorted(p.name for p in corpus_real.glob("*.mbox")) == sorted(COUNTS)


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_comment_counts_on_real_threads(corpus_real: Path, name: str) -> None:
    mined = _mine(corpus_real / name)
    words = [c for c in mined if c.kind == KIND_COMMENT]
    trailers = [c for c in mined if c.kind == KIND_TRAILERS]
    assert (len(words), len(trailers)) == COUNTS[name]
    for c in mined:
        assert c.reply_id and c.patch_id and c.reviewer
        assert "wrote:" not in c.comment  # attribution lines never leak into the words


def test_outlook_reply_trailer_under_quoted_commit_message(corpus_real: Path) -> None:
    """Outlook quoting: '>' with no space, '-----Original Message-----', hard wraps."""
    [c] = _mine(corpus_real / "virtio-iommu-host-iova-ranges.mbox")
    assert c.kind == KIND_TRAILERS
    assert c.reviewer.endswith("<zhenzhong.duan@intel.com>")
    assert c.patch_id == "20240613092359.847145-4-eric.auger@redhat.com"
    assert c.patch_index == 3
    # the whole commit message (8 lines, through Signed-off-by) is quoted above it
    assert _place(c) == (3, None, SIDE_MESSAGE, 1, 8)
    assert c.trailers == ("Reviewed-by: Zhenzhong Duan <zhenzhong.duan@intel.com>",)
    assert c.comment == ""  # "Thanks / Zhenzhong" is a closing, not a remark
    assert c.quoted.endswith("Signed-off-by: Eric Auger <eric.auger@redhat.com>")


def test_outlook_hard_wrapped_quote_aligns_every_diff_line(corpus_real: Path) -> None:
    series = load(str(corpus_real / "virtio-iommu-host-iova-ranges.mbox"))
    patch = series.patches[0]
    matches = align_quotes(patch.replies[0], patch)
    diff = [m for m in matches if m.region == "diff"]
    total = sum(len(h.lines) for f in patch.files for h in f.hunks)
    assert len(diff) == total == 69
    wrapped = [m for m in matches if m.reply_lines > 1]
    # ">+hiod_iommufd_vfio_get_iova_ranges(HostIOMMUDevice *hiod, Error" + ">**errp)"
    added = [m for m in wrapped if m.line is not None]
    assert len(added) == 1
    assert added[0].path == "hw/vfio/iommufd.c"
    assert added[0].line is not None and added[0].line.target_line == 649
    assert added[0].text.endswith("Error **errp)")
    # two wrapped hunk headers and one wrapped "diff --git" line
    assert sorted(m.text[:4] for m in wrapped if m.line is None) == ["@@ -", "@@ -", "diff"]


def test_format_flowed_space_stuffed_quote(corpus_real: Path) -> None:
    """Marcel's Thunderbird reply (format=flowed) quotes all of patch 3's hunk."""
    mined = _mine(corpus_real / "pcie-hotplug-fixes.mbox")
    marcel = [c for c in mined if "marcel.apfelbaum" in c.reviewer]
    assert len(marcel) == 1
    c = marcel[0]
    assert c.kind == KIND_TRAILERS
    # 613..631 are the added lines, 632..634 the context after them; the context before
    # (610..612) only locates the change and is left out
    assert _place(c) == (3, "hw/pci/pcie.c", SIDE_NEW, 613, 634)
    assert c.trailers == ("Reviewed-by: Marcel Apfelbaum <marcel.apfelbaum@gmail.com>",)
    series = load(str(corpus_real / "pcie-hotplug-fixes.mbox"))
    patch = series.patches[1]
    reply = next(r for r in patch.replies if "marcel" in r.author.email)
    diff = [m for m in align_quotes(reply, patch) if m.region == "diff"]
    assert len(diff) == 25  # every line of the hunk, despite the extra stuffing spaces


def test_format_flowed_comment_with_words(corpus_real: Path) -> None:
    [c] = _mine(corpus_real / "sgx-epc-reset.mbox")
    assert _place(c) == (23, "hw/i386/sgx-epc.c", SIDE_NEW, 53, 71)
    assert c.comment.startswith("Can it just invoke a method on the memory devices")
    assert c.comment.endswith("sgx_epc->nr_sections?")
    assert "Paolo" not in c.comment


def test_trailers_and_free_text_under_commit_message(corpus_real: Path) -> None:
    mined = _mine(corpus_real / "pcie-hotplug-fixes.mbox")
    [igor] = [c for c in mined if "imammedo" in c.reviewer]
    assert _place(igor) == (3, None, SIDE_MESSAGE, 1, 27)
    assert igor.comment == "had to change slot addr since #2 seems to be taken by default nic"
    assert igor.trailers == ("Reviewed-by: Igor Mammedov <imammedo@redhat.com>",
                             "Tested-by: Igor Mammedov <imammedo@redhat.com>")
    [phil] = [c for c in mined if "philmd" in c.reviewer]
    # the quote ends on the changed line's hunk: removed 386 / added 386 and context after
    assert _place(phil) == (1, "hw/pci/pcie.c", SIDE_NEW, 386, 389)


def test_igvm_inline_comments(corpus_real: Path) -> None:
    mined = _comments(_mine(corpus_real / "igvm-madt-acpi.mbox"))
    on_patch = [c for c in mined if c.patch_index == 3]
    assert [_place(c) for c in on_patch] == [
        (3, "backends/igvm.c", SIDE_NEW, 772, 782),
        (3, "backends/igvm.c", SIDE_NEW, 783, 785),
        (3, "backends/igvm.c", SIDE_NEW, 928, 928),
    ]
    assert on_patch[0].comment == "cut+paste error in the comment."
    assert "factor that out into a helper function" in on_patch[1].comment
    assert on_patch[2].comment.startswith("I'd like to see less parameters")
    assert "take care" not in on_patch[2].comment and "Gerd" not in on_patch[2].comment
    assert on_patch[0].quoted.splitlines()[0].startswith("+static int qigvm_initialization_madt")


def test_reply_to_a_reply_and_to_the_cover(corpus_real: Path) -> None:
    """Igor answers the cover letter; Gerd answers Igor, quoting Igor's words (no patch)."""
    mined = _comments(_mine(corpus_real / "igvm-madt-acpi.mbox"))
    cover_id = "20251211103136.1578463-1-osteffen@redhat.com"
    igor = [c for c in mined if "imammedo" in c.reviewer]
    assert len(igor) == 1
    assert igor[0].patch_id == cover_id and igor[0].side == SIDE_COVER
    assert igor[0].comment.startswith("looking at #2 and #3")
    assert igor[0].comment.endswith("standalone MADT is an acceptable hack.")
    gerd = [c for c in mined if c.reply_id == "aWYS7RYg8E4V_g6b@sirius.home.kraxel.org"]
    assert [c.comment.splitlines()[0] for c in gerd] == [
        "This is the case.",
        "Well, the use case which needs this is a confidential VM with SVSM.  So",
        "Thats why the idea is to just use the MADT table for SMP discovery.",
    ]
    assert all(c.patch_index == 0 and c.side == SIDE_NONE for c in gerd)
    assert "PCI subsystem is not configured" in gerd[0].quoted


def test_tdx_comment_on_added_lines_and_commit_message(corpus_real: Path) -> None:
    connor, gerd = _mine(corpus_real / "tdx-machine-init-done-late.mbox")
    assert _place(connor) == (4, "hw/core/machine.c", SIDE_NEW, 1281, 1282)
    assert connor.comment.startswith("I think a comment here describing the difference")
    assert connor.comment.endswith("through the git log.")  # "Connor" dropped
    assert _place(gerd) == (4, None, SIDE_MESSAGE, 1, 5)
    assert gerd.comment.startswith('Can you be more specific than "some code"?')


def test_top_posted_reply_has_no_anchor(corpus_real: Path) -> None:
    [lei] = _mine(corpus_real / "virtio-onoffauto.mbox")
    assert _place(lei) == (3, None, SIDE_NONE, None, None)
    assert lei.comment.startswith("I hit qemu core dump")  # "Hi Akihiko" dropped
    assert "Regards" not in lei.comment


def test_qualified_trailer_and_signature(corpus_real: Path) -> None:
    mined = _mine(corpus_real / "audio-pa-stream-name.mbox")
    [markus] = [c for c in mined if "armbru" in c.reviewer]
    assert markus.kind == KIND_TRAILERS
    assert markus.trailers == ("QAPI schema: Acked-by: Markus Armbruster <armbru@redhat.com>",)
    assert _place(markus) == (3, "qapi/audio.json", SIDE_NEW, 223, 226)
    [peter] = [c for c in mined if "peter.maydell" in c.reviewer]
    assert peter.patch_index == 0 and "-- PMM" not in peter.comment
    assert peter.comment.endswith("(cc'ing Gerd as audio maintainer.)")
    [david] = _mine(corpus_real / "spapr-drop-qdev-get-machine.mbox")
    assert david.comment == "Applied to ppc-for-6.0."  # the signature block is gone
    assert _place(david) == (4, None, SIDE_MESSAGE, 1, 8)


# --- our own threads: corpus/ ----------------------------------------------------------------

def test_nested_quotes_in_an_answer_to_a_review() -> None:
    mined = _mine(CORPUS / "qapi" / "spm-nodes.mbox")
    assert [(c.reviewer.split(" <")[0], _place(c)) for c in mined] == [
        ("Marta Quill", (1, "qapi/machine.json", SIDE_NEW, 28, 30)),
        ("Marta Quill", (1, "qapi/machine.json", SIDE_NEW, 40, 41)),
        # "> > +..." lines: the patch as Marta quoted it, under Marta's own "> " words
        ("Tomasz Kowal-Reyes", (1, "qapi/machine.json", SIDE_NEW, 28, 30)),
        ("Tomasz Kowal-Reyes", (1, "qapi/machine.json", SIDE_NEW, 41, 41)),
    ]
    assert mined[0].comment == "9.2 is long out; the first release this can land in is 10.2."
    assert mined[1].comment.startswith("-numa node is documented in qemu-options.hx")
    assert mined[2].comment.startswith("Right, I started this before 10.0")
    assert mined[3].comment == "OK, v2 will carry the qemu-options.hx hunk in this patch."


def test_list_rewritten_thread_with_outlook_replies() -> None:
    hao, ines, priya = _mine(CORPUS / "list-rewrite" / "rtc-century.mbox")
    # hard-wrapped "+ ... MIN((year / 100) + 19," / "99));" is line 35
    assert _place(hao) == (1, "hw/rtc/mc146818rtc.c", SIDE_NEW, 31, 35)
    assert hao.comment.startswith("Clamping hides the problem from the guest")
    assert "Hao" not in hao.comment
    # the author's answer comes through the list rewrite: reviewer is the real address
    assert ines.reviewer == "Ines Varga <ines.varga@pelican-labs.example>"
    assert _place(ines) == (1, "hw/rtc/mc146818rtc.c", SIDE_NEW, 35, 35)
    # top-posted above an unquoted "-----Original Message-----"
    assert _place(priya) == (2, None, SIDE_NONE, None, None)
    assert priya.comment.startswith("Looks fine to me. One nit:")
    assert priya.trailers == ("Reviewed-by: Priya Castellanos <priya.c@fabrikam-corp.example>",)


# --- small made-up replies for the corners ---------------------------------------------------

DIFF = """\
diff --git a/hw/foo.c b/hw/foo.c
--- a/hw/foo.c
+++ b/hw/foo.c
@@ -10,5 +10,5 @@ static void foo(void)
 int a;
 int b;
-int c = 1;
+int c = 2;
 int d;
"""


def _mail(body: str, mid: str = "r@x", content_type: str = "text/plain") -> Mail:
    person = Person("Rita Reviewer", "rita@example.org")
    return Mail(message_id=mid, subject=Subject(raw="Re: x", title="x", is_reply=True),
                sender=person, author=person, date=datetime(2025, 1, 1), in_reply_to="p@x",
                references=("p@x",), to=(), cc=(), body=body,
                headers=(("Content-Type", content_type),))


def _patch() -> Patch:
    person = Person("Pat Author", "pat@example.org")
    mail = Mail(message_id="p@x", subject=Subject(raw="[PATCH] x", title="x", is_patch=True),
                sender=person, author=person, date=None, in_reply_to=None, references=(),
                to=(), cc=(), body="")
    return Patch(mail=mail, commit_message="Change c.\n\nSigned-off-by: Pat <pat@example.org>",
                 notes="", trailers=(), diff_text=DIFF, files=parse_diff(DIFF))


def test_only_removed_lines_quoted_is_the_old_side() -> None:
    body = "Rita wrote:\n>  int b;\n> -int c = 1;\n\nWhy drop this?\n"
    [c] = mine_reply(_mail(body), _patch().mail, 1, _targets())
    assert (c.path, c.side, c.line_start, c.line_end) == ("hw/foo.c", SIDE_OLD, 12, 12)
    assert c.comment == "Why drop this?"


@pytest.mark.parametrize("attribution", [
    # a mail client that folds a long attribution before the address
    "On Tue, Mar 4, 2025 at 9:10 AM Pat Author\n<pat@example.org> wrote:",
    "On Tue, 4 Mar 2025 09:10:00 +0100\nPat Author <pat@example.org> wrote:",
    "On 04/03/2025 09:10, Pat Author wrote:",
    "Pat Author <pat@example.org> wrote:",
])
def test_an_attribution_over_one_or_two_lines_is_not_a_comment(attribution: str) -> None:
    body = f"Nice.\n\n{attribution}\n>\n> +int c = 2;\n\nWhy 2?\n"
    mined = mine_reply(_mail(body), _patch().mail, 1, _targets())
    assert [c.comment for c in mined] == ["Nice.", "Why 2?"]


def test_a_sentence_starting_with_on_above_a_quote_stays() -> None:
    body = "On the whole this is fine.\n> +int c = 2;\n\nWhy 2?\n"
    mined = mine_reply(_mail(body), _patch().mail, 1, _targets())
    assert [c.comment for c in mined] == ["On the whole this is fine.", "Why 2?"]


def test_nested_quote_of_another_level_does_not_stretch_the_run() -> None:
    body = "> > +int c = 2;\n>\n> is 2 right?\n\nYes, per the spec.\n"
    [c] = mine_reply(_mail(body), _patch().mail, 1, _targets())
    assert (c.side, c.line_start, c.line_end) == (SIDE_NEW, 12, 12)


def test_format_flowed_stuffing_is_removed_from_words() -> None:
    body = "> +int c = 2;\n\n From here on it is fine.\n"
    [c] = mine_reply(_mail(body, content_type="text/plain; format=flowed"),
                     _patch().mail, 1, _targets())
    assert c.comment == "From here on it is fine."


def test_unquoted_prose_is_not_a_quote_of_the_patch() -> None:
    body = "> int a;\n> something the patch never said\n\nHmm.\n"
    [c] = mine_reply(_mail(body), _patch().mail, 1, _targets())
    assert c.line_start is None and c.side == SIDE_NONE
    assert c.quoted.endswith("something the patch never said")


def test_series_without_replies_mines_nothing() -> None:
    assert mine_series(Series(patches=(_patch(),))) == []


def _targets() -> list[Any]:
    from reviewbot.review.mine import _patch_targets

    return list(_patch_targets(_patch()))


# --- any reply text: no crash, and anchors only ever name lines the patch shows ---------------

_PIECES = st.sampled_from([
    ">  int a;", "> -int c = 1;", "> +int c = 2;", ">int d;", "> > +int c = 2;", ">", "",
    "Looks wrong.", "Thanks,", "Rita", "-- ", "Reviewed-by: Rita <rita@example.org>",
    "On Mon, Pat wrote:", "-----Original Message-----", ">+int c =", "> 2;", "@@ -10,5",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=30), st.booleans())
def test_any_reply_anchors_inside_the_patch(pieces: list[str], flowed: bool) -> None:
    ctype = "text/plain; format=flowed" if flowed else "text/plain"
    mined = mine_reply(_mail("\n".join(pieces), content_type=ctype), _patch().mail, 1,
                       _targets())
    shown_new = {ln.target_line for h in _patch().files[0].hunks for ln in h.lines}
    shown_old = {ln.source_line for h in _patch().files[0].hunks for ln in h.lines}
    for c in mined:
        assert c.comment or c.trailers
        if c.path is not None:
            assert c.path == "hw/foo.c"
            shown = shown_old if c.side == SIDE_OLD else shown_new
            assert c.line_start in shown and c.line_end in shown
            assert c.line_start is not None and c.line_end is not None
            assert c.line_start <= c.line_end
