"""The C front end (reviewbot.c.facts.extract) on hostile C: never raises, never hangs.

``extract`` promises not to raise on bad C. Pathological text may instead run into the per-file
time limit, which is allowed to end it with ``reviewbot.util.limits.LimitExceeded`` (turned into a
"could not analyse" note by the caller); anything else escaping is a bug.
"""

from __future__ import annotations

import time

import pytest
from fuzzkit import Hang, no_hang
from hypothesis import given
from hypothesis import strategies as st

from reviewbot.util.limits import LimitExceeded

cfacts = pytest.importorskip("reviewbot.c.facts")

# QEMU's real target/i386/cpu.c (357 KB) is read in about 0.1 s here; none of the inputs
# below is bigger, so anything slower than this is the analysis going quadratic.
FAST_SECONDS = 5.0

_KEEP = (
    "static void keep_me_realize(DeviceState *dev, Error **errp)\n"
    "{\n"
    "    MachineState *ms = MACHINE(qdev_get_machine());\n"
    "}\n"
)


def facts_of(text: str, seconds: float = 30.0) -> object | None:
    """Facts of ``text``; None when the time limit ended it (a LimitExceeded)."""
    with no_hang(seconds):
        try:
            return cfacts.extract("hw/misc/fuzz.c", text)
        except LimitExceeded:
            return None


def assert_sane(facts: object, text: str) -> None:
    last = text.count("\n") + 1
    for fn in facts.functions:  # type: ignore[attr-defined]
        assert 1 <= fn.line <= fn.end_line <= last
    for call in facts.calls:  # type: ignore[attr-defined]
        assert 1 <= call.line <= last
    for line in facts.error_lines:  # type: ignore[attr-defined]
        assert 1 <= line <= last


@st.composite
def c_soup(draw: st.DrawFn) -> str:
    """Token soup: C punctuation, keywords, QEMU macros (balanced or not), comments, strings,
    preprocessor lines and line continuations."""
    table = cfacts.macro_table()
    macros = sorted(table.types | table.loops | table.declarations | table.attributes
                    | set(table.registrars))
    token = st.one_of(
        st.sampled_from(["{", "}", "(", ")", "[", "]", ";", ",", "=", "*", "->", ".", "\n",
                         "\\\n", "/*", "*/", "//", '"', "'", "#define X(a) a(", "#if 0\n",
                         "#endif\n", "static", "void", "int", "struct S", "return", "if",
                         "for", "0x7fffffffffffffffffff", "dc->realize = r;", "f(", "x"]),
        st.sampled_from(macros or ["type_init"]).map(lambda m: m + "("),
        st.text(max_size=8),
    )
    return " ".join(draw(st.lists(token, max_size=300)))


@given(st.text(max_size=2000))
def test_arbitrary_text(text: str) -> None:
    facts = facts_of(text)
    if facts is not None:
        assert_sane(facts, text)


@given(c_soup())
def test_macro_soup(text: str) -> None:
    facts = facts_of(text)
    if facts is not None:
        assert_sane(facts, text)


@given(c_soup())
def test_a_complete_function_survives_soup_after_it(soup: str) -> None:
    """Junk after a finished function does not change what is known about that function."""
    text = _KEEP + "\n" + soup
    facts = facts_of(text)
    assert facts is not None
    fn = facts.function("keep_me_realize")  # type: ignore[attr-defined]
    assert fn is not None and (fn.line, fn.end_line) == (1, 4)
    calls = [(c.caller, c.line) for c in facts.calls  # type: ignore[attr-defined]
             if c.callee == "qdev_get_machine"]
    assert calls == [("keep_me_realize", 3)]


@given(st.sampled_from(["/*", "//", '"', "'", "#if 0", "#define X \\", "R\"(", "{", "("]))
def test_unterminated_construct_at_the_end(opener: str) -> None:
    text = _KEEP + "\n" + opener + " never closed\nint later;\n"
    facts = facts_of(text)
    assert facts is not None
    assert facts.function("keep_me_realize") is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "text"), [
    ("unbalanced braces", "{" * 60_000),
    ("nested parentheses", "int x = " + "(" * 50_000 + "1" + ")" * 50_000 + ";\n"),
    ("nested ifs", "void f(void)\n{\n" + "if (a) {\n" * 5_000 + "}\n" * 5_000 + "}\n"),
    ("nested initialisers", "int a[] = " + "{" * 30_000 + "1" + "}" * 30_000 + ";\n"),
    ("unterminated comments", "/*" * 100_000 + "\nint x;\n"),
    ("macros on their own lines", "QLIST_HEAD(\n" * 20_000),
    ("nested registrations", "type_init(" * 20_000 + ")" * 20_000),
    ("many macro calls", "DEFINE_PROP_UINT32(\"p\", S, f, 0),\n" * 20_000),
    ("one long line", "int x = " + "1 + " * 60_000 + "1;\n"),
    ("many calls in one function", "void f(void)\n{\n" + "g();\n" * 50_000 + "}\n"),
    ("many functions", "static int f%d(void) { return g(); }\n" * 10_000),
])
def test_pathological_input_is_fast(name: str, text: str) -> None:
    started = time.perf_counter()
    try:
        facts = facts_of(text, seconds=3 * FAST_SECONDS)
    except Hang:
        pytest.fail(f"{name}: {len(text)} bytes still running after {3 * FAST_SECONDS} s; "
                    "it should be linear or stop at the per-file time limit")
    took = time.perf_counter() - started
    if facts is not None:
        assert_sane(facts, text)
    assert took < FAST_SECONDS, (
        f"{name}: {len(text)} bytes took {took:.1f} s (limit {FAST_SECONDS} s); "
        "it should be linear or stop at the per-file time limit")


def test_lone_surrogates_from_undecodable_bytes() -> None:
    """Text decoded with surrogateescape (bytes that are not UTF-8) is accepted."""
    text = _KEEP + "/* caf\udce9 */\nint x;\n"
    facts = facts_of(text)
    assert facts is not None
    assert facts.function("keep_me_realize") is not None  # type: ignore[attr-defined]


def test_nul_bytes() -> None:
    text = _KEEP + "\0\0int\0x;\n"
    facts = facts_of(text)
    assert facts is not None
    assert facts.function("keep_me_realize") is not None  # type: ignore[attr-defined]
