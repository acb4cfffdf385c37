from __future__ import annotations

import pytest

from reviewbot.ingest.subject import parse_subject


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[PATCH v8 1/1] hw/mem: add foo", ("hw/mem: add foo", False, True, 8, 1, 1, False, False)),
        ("[RFC PATCH v2 03/12] hw/mem: add foo", ("hw/mem: add foo", False, True, 2, 3, 12, True,
         False)),
        ("[PATCH 0/3] pcie: hotplug fixes", ("pcie: hotplug fixes", False, True, 1, 0, 3, False,
         False)),
        ("[PATCHv3] x: y", ("x: y", False, True, 3, None, None, False, False)),
        ("[PATCH RESEND] x: y", ("x: y", False, True, 1, None, None, False, True)),
        ("[Qemu-devel] [PATCH] x: y", ("x: y", False, True, 1, None, None, False, False)),
        ("Re: [Qemu-devel] [PATCH 3/3] audio: z", ("audio: z", True, True, 1, 3, 3, False, False)),
        ("RE: [PATCH v3 3/7] HostIOMMUDevice: cb", ("HostIOMMUDevice: cb", True, True, 3, 3, 7,
         False, False)),
        ("Re: Re: [PATCH v2 1/2] a", ("a", True, True, 2, 1, 2, False, False)),
        ("[Qemu-devel] Re: [PATCH] a", ("a", True, True, 1, None, None, False, False)),
        ("[PULL 01/12] tcg: x", ("tcg: x", False, True, 1, 1, 12, False, False)),
        ("[PATCH v2, 2/3] comma", ("comma", False, True, 2, 2, 3, False, False)),
        ("Plain discussion [not a tag]", ("Plain discussion [not a tag]", False, False, 1, None,
         None, False, False)),
        ("[RFCv2 PATCH 1/2] z", ("z", False, True, 2, 1, 2, True, False)),
    ],
)
def test_prefixes(raw: str, expected: tuple[object, ...]) -> None:
    """expected: title, is_reply, is_patch, version, counter, total, rfc, resend"""
    s = parse_subject(raw)
    got = (s.title, s.is_reply, s.is_patch, s.version, s.counter, s.total, s.rfc, s.resend)
    assert got == expected


def test_folded_subject_keeps_the_folding_white_space() -> None:
    s = parse_subject('[Qemu-devel] [PATCH 0/3] Audio: misc fixes for "Audio 20190821\n patches"')
    assert s.title == 'Audio: misc fixes for "Audio 20190821 patches"'
    assert s.tags == ("Qemu-devel", "PATCH", "0/3")
