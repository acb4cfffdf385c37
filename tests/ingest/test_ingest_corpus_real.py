"""Every real qemu-devel thread in ../shared/corpus-real loads into the series its README
describes. The expected values were read off the mbox files by hand; the +/- counts also
agree with `git apply --numstat` on each patch's diff."""

from __future__ import annotations

from pathlib import Path

from reviewbot.ingest import load
from reviewbot.model import Series


def _load(corpus: Path, name: str) -> Series:
    return load(str(corpus / name))


def _files(series: Series, n: int) -> list[tuple[str, int, int]]:
    patch = series.patches[n]
    return [(f.path, f.added_count, f.removed_count) for f in patch.files]


def _trailers(series: Series, n: int) -> list[tuple[str, str, bool]]:
    return [(t.key, t.value, t.from_reply is not None) for t in series.patches[n].trailers]


def test_all_31_messages_are_read(corpus_real: Path) -> None:
    total = 0
    for mbox in sorted(corpus_real.glob("*.mbox")):
        series = load(str(mbox))
        assert series.problems == (), mbox.name
        total += len(series.all_mails)
    assert total == 31


def test_spapr_qp_crlf_cover_windows_1252_patch_signed_reply(corpus_real: Path) -> None:
    s = _load(corpus_real, "spapr-drop-qdev-get-machine.mbox")
    assert s.cover is not None
    assert s.cover.subject.counter == 0 and s.cover.subject.total == 6
    # QP with =0D before each line end: decoded, then CRLF -> LF
    assert "\r" not in s.cover.body
    assert s.cover.body.startswith("Accessing the machine state using the global "
                                   "qdev_get_machine() function\nisn't generally")
    assert len(s.patches) == 1
    p = s.patches[0]
    assert (p.subject.counter, p.subject.total) == (4, 6)
    assert p.subject.title == "spapr: Don't use qdev_get_machine() in spapr_msi_write()"
    assert p.mail.author.name == "Greg Kurz"
    assert _files(s, 0) == [("hw/ppc/spapr_pci.c", 1, 1)]
    assert _trailers(s, 0) == [("Signed-off-by", "Greg Kurz <groug@kaod.org>", False)]
    # the reply: multipart/signed, folded Subject, Message-ID spelled differently
    assert len(p.replies) == 1
    reply = p.replies[0]
    assert reply.author.name == "David Gibson"
    assert reply.subject.is_reply
    assert reply.subject.raw == ("Re: [PATCH 4/6] spapr: Don't use qdev_get_machine() in "
                                 "spapr_msi_write()")
    assert "Applied to ppc-for-6.0." in reply.body
    assert "BEGIN PGP" not in reply.body
    assert s.replies == ()


def test_tdx_in_body_from_rfc_v2_and_vger_copy(corpus_real: Path) -> None:
    s = _load(corpus_real, "tdx-machine-init-done-late.mbox")
    assert s.cover is None
    assert (s.version, s.rfc, s.resend) == (2, True, False)
    p = s.patches[0]
    assert (p.subject.counter, p.subject.total) == (4, 44)
    assert p.subject.tags == ("RFC", "PATCH", "v2", "04/44")
    assert p.mail.sender.email == "isaku.yamahata@gmail.com" and p.mail.sender.name == ""
    assert str(p.mail.author) == "Isaku Yamahata <isaku.yamahata@intel.com>"
    assert _files(s, 0) == [("hw/core/machine.c", 26, 0), ("include/sysemu/sysemu.h", 2, 0)]
    assert _trailers(s, 0) == [
        ("Signed-off-by", "Isaku Yamahata <isaku.yamahata@intel.com>", False)]
    assert [str(r.author) for r in p.replies] == [
        "Connor Kuehl <ckuehl@redhat.com>", "Gerd Hoffmann <kraxel@redhat.com>"]
    gerd = p.replies[1]
    # vger pads header values with spaces and folds with 8 spaces
    assert gerd.subject.title == "vl: Introduce machine_init_done_late notifier"
    assert gerd.date is not None and gerd.date.isoformat() == "2021-08-26T12:13:14+02:00"


def test_sgx_patch_without_signature_and_folded_subject(corpus_real: Path) -> None:
    s = _load(corpus_real, "sgx-epc-reset.mbox")
    assert s.version == 4 and s.cover is None
    p = s.patches[0]
    assert p.subject.title == ("sgx-epc: Add the reset interface for sgx-epc virt device")
    assert (p.subject.counter, p.subject.total) == (23, 33)
    assert _files(s, 0) == [("hw/i386/sgx-epc.c", 81, 13)]
    hunks = p.files[0].hunks
    assert [(h.source_start, h.target_start) for h in hunks] == [(18, 18), (47, 50), (71, 146)]
    # The stored mail stops right after the last hunk's final context line; by the @@ counts
    # that hunk is complete, so nothing is reported as cut short.
    assert not any(h.truncated for h in hunks)
    assert hunks[-1].lines[-1].text == "static void sgx_epc_unrealize(DeviceState *dev)"
    assert hunks[-1].lines[-1].target_line == 156
    assert [str(r.author) for r in p.replies] == ["Paolo Bonzini <pbonzini@redhat.com>"]
    assert _trailers(s, 0) == [("Signed-off-by", "Yang Zhong <yang.zhong@intel.com>", False)]


def test_audio_quoted_encoded_word_mailman_tag_and_split_trailer(corpus_real: Path) -> None:
    s = _load(corpus_real, "audio-pa-stream-name.mbox")
    assert s.cover is not None
    assert s.cover.subject.tags == ("Qemu-devel", "PATCH", "0/3")
    assert s.title == 'Audio: misc fixes for "Audio 20190821 patches", part two'
    p = s.patches[0]
    assert (p.subject.counter, p.subject.total) == (3, 3)
    assert p.subject.title == "audio: paaudio: ability to specify stream name"
    # "=?UTF-8?q?K=C5=91v=C3=A1g=C3=B3=2C=20Zolt=C3=A1n?=" inside double quotes
    assert p.mail.author.name == "Kővágó, Zoltán"
    assert p.mail.author.email == "dirty.ice.hu@gmail.com"
    assert _files(s, 0) == [("audio/paaudio.c", 2, 2), ("qapi/audio.json", 6, 0)]
    assert _trailers(s, 0) == [
        ("Signed-off-by", "Kővágó, Zoltán <DirtY.iCE.hu@gmail.com>", False),
        ("Acked-by", "Markus Armbruster <armbru@redhat.com>", True),
    ]
    markus = p.replies[0]
    assert markus.message_id == "87h853m9s1.fsf@dusky.pond.sub.org"
    # In-Reply-To carries a trailing comment with an encoded-word in it
    assert markus.in_reply_to == p.mail.message_id
    assert [x.name for x in markus.to] == ["Kővágó, Zoltán"]
    assert p.trailers[1].from_reply == markus.message_id
    # Peter Maydell's ping answers the cover letter; its QP soft break inside the address
    assert [r.author.name for r in s.replies] == ["Peter Maydell"]
    assert "Kővágó, Zoltán <dirty.ice.hu@gmail.com> wrote:" in s.replies[0].body


def test_igvm_full_series_with_cover_and_three_replies(corpus_real: Path) -> None:
    s = _load(corpus_real, "igvm-madt-acpi.mbox")
    assert s.version == 2 and s.versions_available == (2,)
    assert s.cover is not None and s.title == "igvm: Supply MADT via IGVM parameter"
    assert "Based-On:" in s.cover.body
    assert [p.subject.counter for p in s.patches] == [1, 2, 3]
    assert _files(s, 0) == [("hw/acpi/aml-build.c", 5, 2)]
    assert _files(s, 1) == [("hw/i386/acpi-build.c", 8, 0), ("hw/i386/acpi-build.h", 2, 0)]
    assert _files(s, 2) == [
        ("backends/igvm-cfg.c", 7, 1), ("backends/igvm.c", 36, 1),
        ("include/system/igvm-cfg.h", 4, 1), ("include/system/igvm.h", 1, 1),
        ("target/i386/sev.c", 3, 2),
    ]
    for n in range(3):
        assert _trailers(s, n) == [
            ("Signed-off-by", "Oliver Steffen <osteffen@redhat.com>", False)]
    assert [r.author.name for r in s.patches[0].replies] == []
    assert [r.author.name for r in s.patches[2].replies] == ["Gerd Hoffmann"]
    # Igor answers the cover, Gerd answers Igor: both stay with the series, in date order
    assert [r.author.name for r in s.replies] == ["Igor Mammedov", "Gerd Hoffmann"]
    # diff positions in the mail as stored ("From mboxrd@z" is line 1)
    assert [p.mail_diff_line for p in s.patches] == [103, 103, 124]


def test_virtio_iommu_outlook_reply(corpus_real: Path) -> None:
    s = _load(corpus_real, "virtio-iommu-host-iova-ranges.mbox")
    assert s.cover is not None
    assert s.title == ("VIRTIO-IOMMU/VFIO: Fix host iommu geometry handling for hotplugged "
                       "devices")
    p = s.patches[0]
    assert (p.subject.version, p.subject.counter, p.subject.total) == (3, 3, 7)
    assert _files(s, 0) == [
        ("include/sysemu/host_iommu_device.h", 8, 0), ("hw/vfio/container.c", 16, 0),
        ("hw/vfio/iommufd.c", 16, 0),
    ]
    reply = p.replies[0]
    assert reply.subject.is_reply and reply.subject.raw.startswith("RE: ")
    assert str(reply.author) == "Duan, Zhenzhong <zhenzhong.duan@intel.com>"
    # the Reviewed-by sits amid the quoted patch; quoted Signed-off-by lines are not taken
    assert _trailers(s, 0) == [
        ("Signed-off-by", "Eric Auger <eric.auger@redhat.com>", False),
        ("Reviewed-by", "Zhenzhong Duan <zhenzhong.duan@intel.com>", True),
    ]


def test_pcie_reply_trailers_on_the_right_patches(corpus_real: Path) -> None:
    s = _load(corpus_real, "pcie-hotplug-fixes.mbox")
    assert s.cover is not None and s.cover.subject.tags[0] == "Qemu-devel"
    assert [p.subject.counter for p in s.patches] == [1, 3]
    assert _files(s, 0) == [("hw/pci/pcie.c", 1, 1)]
    assert _files(s, 1) == [("hw/pci/pcie.c", 19, 0)]
    mst = ("Signed-off-by", "Michael S. Tsirkin <mst@redhat.com>", False)
    assert _trailers(s, 0) == [
        mst, ("Reviewed-by", "Philippe Mathieu-Daudé <philmd@redhat.com>", True)]
    assert _trailers(s, 1) == [
        mst,
        ("Reviewed-by", "Marcel Apfelbaum <marcel.apfelbaum@gmail.com>", True),
        ("Reviewed-by", "Igor Mammedov <imammedo@redhat.com>", True),
        ("Tested-by", "Igor Mammedov <imammedo@redhat.com>", True),
    ]
    # lower-case hex in the Q encoded From
    assert s.patches[0].replies[0].author.name == "Philippe Mathieu-Daudé"
    assert s.replies == ()


def test_virtio_onoffauto_b4_mail_and_gmail_multipart_reply(corpus_real: Path) -> None:
    s = _load(corpus_real, "virtio-onoffauto.mbox")
    assert s.version == 3 and s.cover is not None
    assert s.base == "38d0939b86e2eef6f6a622c6f1f7befda0146595"  # cover's base-commit:
    p = s.patches[0]
    assert p.mail.message_id == "20250104-virtio-v3-3-63ef70e9ddf3@daynix.com"
    assert "Daniel P. Berrangé" in [x.name for x in p.mail.to]
    assert _files(s, 0) == [
        ("include/hw/virtio/virtio.h", 21, 17), ("hw/core/machine.c", 3, 1),
        ("hw/virtio/virtio-bus.c", 12, 2), ("hw/virtio/virtio.c", 3, 1),
    ]
    assert _trailers(s, 0) == [
        ("Signed-off-by", "Akihiko Odaki <akihiko.odaki@daynix.com>", False)]
    lei = p.replies[0]
    assert lei.author.name == "Lei Yang"
    assert lei.body.startswith("Hi Akihiko\n")
    assert "\u202f" in lei.body  # =E2=80=AF in the attribution line, decoded
    assert "coredump" not in lei.body.split("\n", 1)[0]
