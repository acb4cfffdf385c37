from __future__ import annotations

from reviewbot.ingest.trailers import reply_trailers, split_trailers


def test_trailer_block_is_the_last_paragraph_with_continuations_and_notes() -> None:
    msg = ("Fix it.\n\nSee: not a trailer, this paragraph is prose.\nMore prose.\n\n"
           "Fixes: 0123456789ab (\"old\n  title\")\nReported-by: R <r@x.org>\n"
           "[ maintainer: reworded ]\nsigned-off-by: A <a@x.org>\n\n")
    text, trailers = split_trailers(msg)
    assert text.endswith("signed-off-by: A <a@x.org>")
    assert [(t.key, t.value) for t in trailers] == [
        ("Fixes", '0123456789ab ("old title")'),
        ("Reported-by", "R <r@x.org>"),
        ("Signed-off-by", "A <a@x.org>"),
    ]
    assert trailers[1].person is not None and trailers[1].person.email == "r@x.org"
    assert trailers[0].person is None


def test_prose_last_paragraph_has_no_trailers() -> None:
    assert split_trailers("Title\n\nThis is: prose.\nAnd more.\n")[1] == ()


def test_canonical_spelling_of_known_keys() -> None:
    _, trailers = split_trailers("x\n\nBased-On: <id@x>\nMessage-Id: <m@x>\nX-Custom: v\n")
    assert [t.key for t in trailers] == ["Based-on", "Message-ID", "X-Custom"]


def test_reply_trailers_skip_quotes_and_signature_and_join_split_values() -> None:
    body = ("> Signed-off-by: Author <a@x.org>\n>Reviewed-by: Quoted <q@x.org>\n\n"
            "QAPI schema\nAcked-by: Markus <m@x.org>\n"
            "Reviewed-by: Very Long\n  Name <v@x.org>\n"
            "Tested-by:\n<t@x.org>\n"
            "Signed-off-by: Not From A Reply <s@x.org>\n"
            "-- \nReviewed-by: In Signature <sig@x.org>\n")
    got = reply_trailers(body, "r@x")
    assert [(t.key, t.value) for t in got] == [
        ("Acked-by", "Markus <m@x.org>"),
        ("Reviewed-by", "Very Long Name <v@x.org>"),
        ("Tested-by", "<t@x.org>"),
    ]
    assert {t.from_reply for t in got} == {"r@x"}


def test_reply_trailers_stop_at_an_unquoted_outlook_original() -> None:
    body = ("Reviewed-by: Top Poster <t@x.org>\n\n-----Original Message-----\n"
            "From: Author <a@x.org>\nSubject: [PATCH] x\n\nAcked-by: Earlier <e@x.org>\n")
    assert [t.value for t in reply_trailers(body, "r")] == ["Top Poster <t@x.org>"]


def test_commit_trailer_whose_address_wrapped_to_the_next_line() -> None:
    _, trailers = split_trailers("x\n\nSigned-off-by: A Very Long Name\n<long@x.org>\n"
                                 "Reviewed-by: R <r@x.org>\n<not@joined.org>\n")
    assert trailers == ()  # the second bare address follows a complete trailer: not a block
    _, trailers = split_trailers("x\n\nSigned-off-by: A Very Long Name\n<long@x.org>\n"
                                 "Reviewed-by: R <r@x.org>\n")
    assert [(t.key, t.value) for t in trailers] == [
        ("Signed-off-by", "A Very Long Name <long@x.org>"), ("Reviewed-by", "R <r@x.org>")]
    assert trailers[0].person is not None and trailers[0].person.email == "long@x.org"
