"""C facts from one file with tree-sitter-c: functions, calls, QOM registrations, globals, comments.

QEMU macros the grammar cannot read (``type_init(f)`` without a semicolon, ``static
QLIST_HEAD(, Foo) list``, ``QTAILQ_FOREACH(...) {``) are rewritten first to text of the same byte
length (see ``rules/data/qemu-macros.yaml``), so that every line and offset reported here is
the line and offset of the original file. Texts in the facts (types, values, comments) are read
from the original bytes, not from the rewritten ones.

One Language, Parser and Query per process, built on first use.
"""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Query

# Bump when the facts or their extraction change: index caches are keyed by it.
FACTS_VERSION = 4


@frozen
class Function:
    name: str
    path: str
    line: int
    end_line: int
    static: bool


@dataclass(frozen=True)  # not @frozen: thousands per file, a generated __init__ is faster
class Call:
    caller: str | None  # enclosing function, None at file scope (initialisers)
    callee: str
    line: int


@frozen
class Assignment:
    """``obj->field = value`` (or ``obj.field``) where value is a name or a constant.

    ``target`` is the assigned identifier (a callback when it names a function);
    ``cls`` is the declared type of ``obj`` in the enclosing function when it is known
    (``DeviceClass`` for ``DeviceClass *dc = DEVICE_CLASS(oc)``), or the cast macro used in
    place (``DEVICE_CLASS`` for ``DEVICE_CLASS(oc)->realize = f``).
    """

    function: str | None
    obj: str
    field: str
    value: str
    target: str | None
    cls: str | None
    line: int
    via: str = "assign"  # or the registrar function called, e.g. device_class_set_parent_realize


@frozen
class TypeInfoFact:
    var: str  # the TypeInfo variable ("" for an element of an array without its own name)
    name: str  # text of .name: TYPE_FOO or "foo"
    parent: str | None
    class_init: str | None
    instance_init: str | None
    instance_finalize: str | None
    interfaces: tuple[str, ...]
    abstract: bool
    line: int
    function: str | None  # set when the TypeInfo is built inside a function


@frozen
class MacroUse:
    """A file-scope macro invocation blanked before parsing: type_init(f), DEFINE_TYPES(t)."""

    name: str
    args: tuple[str, ...]
    line: int


@frozen
class Define:
    name: str
    value: str
    line: int
    params: str | None = None  # "(a, b)" for a function-like macro

    @property
    def string_value(self) -> str | None:
        """The C string a ``#define TYPE_FOO "foo"`` stands for, else None."""
        m = _STRING_VALUE.fullmatch(self.value.strip())
        return m.group(1) if m else None


_STRING_VALUE = re.compile(r'"((?:[^"\\]|\\.)*)"')

GLOBAL_KINDS = ("qlist_head", "qtailq_head", "qslist_head", "qsimpleq_head", "gslist", "glist",
                "notifier", "other")


@frozen
class GlobalVar:
    name: str
    type: str  # the declaration's type text as written, e.g. "QLIST_HEAD(, Foo)", "GSList"
    declarator: str  # e.g. "*foo_list", "foo[4]"
    kind: str  # one of GLOBAL_KINDS
    static: bool
    const: bool
    extern: bool
    line: int


@frozen
class NotifierReg:
    function: str | None
    registrar: str  # e.g. qemu_add_machine_init_done_notifier
    notifier: str  # the argument without '&', e.g. "s->machine_done" or "foo_notifier"
    notify: str | None  # the .notify function when it is visible in this file
    line: int


@frozen
class Dispatch:
    """``object_dynamic_cast(subject, TYPE_X)`` inside a function.

    ``calls`` are the calls made in the ``if`` branch that this test guards (empty when the
    test is not an ``if`` condition, or is negated).
    """

    function: str | None
    subject: str
    type: str
    line: int
    calls: tuple[Call, ...]
    in_condition: bool


@frozen
class Comment:
    line: int
    end_line: int
    text: str


@frozen
class EnumConst:
    name: str
    value: str | None  # as written, None when implicit
    number: int | None  # computed when the value (or the previous one) is a plain integer
    enum: str | None  # the enum's tag, when it has one
    line: int


@frozen
class PhaseCheck:
    function: str | None
    arg: str
    line: int


@frozen
class GlobalUse:
    """A function naming a writable file-scope variable of its file (outside comments and
    strings), e.g. ``QLIST_INSERT_HEAD(&foo_devices, s, next)`` in a realize."""

    function: str
    name: str
    line: int


@frozen
class FileFacts:
    path: str
    partial: bool = False
    functions: tuple[Function, ...] = ()
    calls: tuple[Call, ...] = ()
    assignments: tuple[Assignment, ...] = ()
    typeinfos: tuple[TypeInfoFact, ...] = ()
    macro_uses: tuple[MacroUse, ...] = ()
    defines: tuple[Define, ...] = ()
    globals: tuple[GlobalVar, ...] = ()
    notifiers: tuple[NotifierReg, ...] = ()
    dispatches: tuple[Dispatch, ...] = ()
    comments: tuple[Comment, ...] = ()
    enums: tuple[EnumConst, ...] = ()
    phase_checks: tuple[PhaseCheck, ...] = ()
    global_uses: tuple[GlobalUse, ...] = ()
    error_lines: tuple[int, ...] = ()  # first lines of regions tree-sitter could not parse

    @property
    def type_inits(self) -> tuple[str, ...]:
        """Functions registered with ``type_init()``."""
        return tuple(u.args[0] for u in self.macro_uses if u.name == "type_init" and u.args)

    @cached_property
    def _by_name(self) -> tuple[dict[str, Function], dict[str, Define]]:
        functions: dict[str, Function] = {}
        for f in self.functions:
            functions.setdefault(f.name, f)
        defines: dict[str, Define] = {}
        for d in self.defines:
            defines.setdefault(d.name, d)
        return functions, defines

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_by_name", None)  # a lookup table, rebuilt on demand
        return state

    def function(self, name: str) -> Function | None:
        """The first definition of ``name`` in the file."""
        return self._by_name[0].get(name)

    def define(self, name: str) -> Define | None:
        return self._by_name[1].get(name)

    def function_at(self, line: int) -> Function | None:
        for f in self.functions:
            if f.line <= line <= f.end_line:
                return f
        return None


# --------------------------------------------------------------------------- macro data


@frozen
class MacroTable:
    attributes: frozenset[str]
    attributes_args: frozenset[str]
    declarations: frozenset[str]
    types: frozenset[str]
    loops: frozenset[str]
    not_calls: frozenset[str]
    uppercase_not_calls: bool
    registrars: dict[str, tuple[int, str, str | None]] = field(hash=False)
    notifier_registrars: frozenset[str] = frozenset()

    def is_call_target(self, name: str) -> bool:
        if name in self.not_calls:
            return False
        return not (self.uppercase_not_calls and name.isupper())


def data_dir() -> Path:
    """``rules/data`` of the checkout, or ``reviewbot/_rules/data`` in an installed wheel."""
    here = Path(__file__).resolve().parents[1]  # the reviewbot package
    for candidate in (here / "_rules" / "data", here.parent / "rules" / "data"):
        if candidate.is_dir():
            return candidate
    return here.parent / "rules" / "data"


@cache
def macro_table() -> MacroTable:
    from reviewbot.rules.cache import load_yaml

    path = data_dir() / "qemu-macros.yaml"
    data: dict[str, Any] = load_yaml(path) or {}

    def names(key: str) -> frozenset[str]:
        return frozenset(str(n) for n in data.get(key) or ())

    registrars = {
        str(name): (int(spec["arg"]), str(spec["role"]),
                    str(spec["class"]) if spec.get("class") else None)
        for name, spec in (data.get("registrars") or {}).items()
    }
    return MacroTable(
        attributes=names("attributes"), attributes_args=names("attributes_args"),
        declarations=names("declarations"), types=names("types"), loops=names("loops"),
        not_calls=names("not_calls") | names("loops") | names("types"),
        uppercase_not_calls=bool(data.get("uppercase_not_calls", True)),
        registrars=registrars, notifier_registrars=names("machine_done_notifier_registrars"),
    )


@cache
def _macro_finder() -> tuple[tuple[bytes, ...], frozenset[bytes]]:
    """Search keys (a short prefix of every macro name) and the names themselves.

    Macro names are C identifiers, so a name is found where the whole word starting there is
    that name: a set lookup, where an alternation of every name took milliseconds to compile."""
    t = macro_table()
    every = t.attributes | t.attributes_args | t.declarations | t.types | t.loops
    keys = tuple(sorted({n[:5].encode() for n in every}))
    return keys, frozenset(n.encode() for n in every)


_WORD_RUN = re.compile(rb"[A-Za-z0-9_]*")
_SKIPPED = re.compile(rb'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
_WORD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _macro_hits(src: bytes) -> list[tuple[int, int]]:
    """(start, end) of every known macro name outside comments and literals, in order.

    ``bytes.find`` on a few prefixes is much faster than one big alternation regex."""
    keys, names = _macro_finder()
    hits: list[tuple[int, int]] = []
    for key in keys:
        i = src.find(key)
        while i >= 0:
            if i == 0 or src[i - 1] not in _WORD:
                m = _WORD_RUN.match(src, i)
                end = m.end() if m is not None else i
                if src[i:end] in names:
                    hits.append((i, end))
            i = src.find(key, i + 1)
    if not hits:
        return hits
    hits = sorted(set(hits))
    spans = [(m.start(), m.end()) for m in _SKIPPED.finditer(src)]
    starts = [a for a, _ in spans]
    out = []
    for start, end in hits:
        k = bisect.bisect_right(starts, start) - 1
        if k >= 0 and start < spans[k][1]:
            continue
        out.append((start, end))
    return out


_DIRECTIVE_BEFORE = re.compile(rb"^\s*#\s*(?:define|undef|ifdef|ifndef|if\s+defined)\s*\(?\s*$")


# Parentheses, and the literals and comments whose parentheses do not count.
_PAREN_TOKENS = re.compile(rb'[()]|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/', re.S)
# Macro arguments in real code are short; a longer scan means unbalanced text.
_MAX_ARGS_BYTES = 8192


def _closing_paren(src: bytes, start: int) -> tuple[int, int]:
    """(index just past the parenthesis closing the one at ``start`` or -1, end of the scan)."""
    depth = 0
    limit = min(len(src), start + _MAX_ARGS_BYTES)
    for m in _PAREN_TOKENS.finditer(src, start, limit):
        c = src[m.start()]
        if c == 0x28:  # (
            depth += 1
        elif c == 0x29:  # )
            depth -= 1
            if depth == 0:
                return m.end(), m.end()
    return -1, limit


def _split_args(args: bytes) -> tuple[str, ...]:
    """Top-level comma-separated arguments of ``(a, f(b, c))`` -> ("a", "f(b, c)")."""
    inner = args[1:-1]
    parts: list[str] = []
    depth = 0
    cur = bytearray()
    for c in inner:
        if c in b"([{":
            depth += 1
        elif c in b")]}":
            depth -= 1
        if c == 0x2C and depth == 0:
            parts.append(cur.decode("utf-8", "replace").strip())
            cur = bytearray()
        else:
            cur.append(c)
    last = cur.decode("utf-8", "replace").strip()
    if last or parts:
        parts.append(last)
    return tuple(parts)


def _fill(buf: bytearray, start: int, end: int, head: bytes, pad: int) -> None:
    """Overwrite buf[start:end] with ``head`` then ``pad`` bytes; newlines stay in place,
    and so do the backslashes that continue a line (inside a #define)."""
    for i in range(start, end):
        c = buf[i]
        if c == 0x0A or (c == 0x5C and i + 1 < len(buf) and buf[i + 1] in (0x0A, 0x0D)) or (
                c == 0x0D and i + 1 < len(buf) and buf[i + 1] == 0x0A):
            continue
        k = i - start
        buf[i] = head[k] if k < len(head) else pad


# GNU named variadic parameters, ``#define F(fmt, args...)``: the grammar wants plain ``...``.
_NAMED_VARIADIC = re.compile(rb"^[ \t]*#[ \t]*define[ \t]+\w+\([^)\n]*?\w(\.\.\.)", re.M)


def blank_macros(src: bytes) -> tuple[bytes, list[MacroUse]]:
    """Rewrite the macros of ``qemu-macros.yaml`` to parseable text of the same length."""
    blanked, uses = _blank_macros(src)
    return blanked, list(uses)


BLANKED_KEPT = 8  # the blanked texts kept (the latest)


@lru_cache(maxsize=BLANKED_KEPT)
def _blank_macros(src: bytes) -> tuple[bytes, tuple[MacroUse, ...]]:
    # the fact extractor and the language rules blank the same post-image: once
    blanked, uses = _blank(src)
    return blanked, tuple(uses)


def _blank(src: bytes) -> tuple[bytes, list[MacroUse]]:
    table = macro_table()
    out: bytearray | None = None
    uses: list[MacroUse] = []
    if b"..." in src:
        for m in _NAMED_VARIADIC.finditer(src):
            if out is None:
                out = bytearray(src)
            out[m.start(1):m.end(1)] = b"   "
    done_until = 0
    failed_until = 0
    for start, end in _macro_hits(src):
        if start < done_until:
            continue  # inside the arguments of a macro already rewritten
        name_b = src[start:end]
        name = name_b.decode()
        line_start = src.rfind(b"\n", 0, start) + 1
        if _DIRECTIVE_BEFORE.match(src, line_start, start):
            continue
        if name in table.attributes:
            if out is None:
                out = bytearray(src)
            _fill(out, start, end, b"", 0x20)
            continue
        j = end
        while j < len(src) and src[j] in b" \t\r\n":
            j += 1
        if j >= len(src) or src[j] != 0x28:
            continue
        if j < failed_until:
            continue  # inside text already found unbalanced: do not scan it again
        close, scanned = _closing_paren(src, j)
        if close < 0:
            failed_until = scanned
            continue
        if out is None:
            out = bytearray(src)
        done_until = close
        if name in table.types:
            newline = src.find(b"\n", start, close)
            ident_end = close if newline < 0 else newline
            _fill(out, start, ident_end, name_b, 0x5F)  # name then underscores
            _fill(out, ident_end, close, b"", 0x20)
        elif name in table.loops:
            if b"\n" in src[start:start + 7]:
                _fill(out, start, close, b"", 0x20)
            else:
                _fill(out, start, close, b"for(;;)", 0x20)
        else:
            if name in table.declarations:
                uses.append(MacroUse(name, _split_args(src[j:close]),
                                     src.count(b"\n", 0, start) + 1))
            _fill(out, start, close, b"", 0x20)
    return (bytes(out) if out is not None else src), uses


# --------------------------------------------------------------------------- tree-sitter

_QUERY_SOURCE = """
(function_definition) @func
(call_expression function: (identifier) @callee arguments: (argument_list) @args) @call
(assignment_expression left: (field_expression field: (field_identifier) @field) @lhs
                       right: (_) @rhs) @assign
(comment) @comment
(preproc_def name: (identifier) @dname) @def
(preproc_function_def name: (identifier) @dname) @fdef
(enumerator name: (identifier) @ename) @enum
(ERROR) @error
(declaration) @decl
"""

# The declarations extraction reads (see _wanted_decl). Patterns that say which parent or
# type a declaration has made the query four times slower to build, once per process, than
# testing each declaration here.
_DECL_PARENTS = frozenset({"translation_unit", "preproc_if", "preproc_ifdef", "preproc_else",
                           "preproc_elif"})
_CLASS_TYPE = re.compile(rb"^(TypeInfo|InterfaceInfo|[A-Za-z0-9_]*Class)$")


@cache
def c_language() -> Any:
    """The C grammar of tree-sitter-c (a ``tree_sitter.Language``).

    Read from the package's compiled binding alone: its ``__init__`` imports
    ``importlib.resources`` for its query files (which reviewbot does not use), and that
    import (tempfile, shutil, the compression modules) cost a check of a small patch about
    4 ms. Any surprise in the package's layout falls back to the ordinary import."""
    from tree_sitter import Language

    try:
        language = _binding_language()
    except Exception:  # an unexpected layout of the package: its own import
        import tree_sitter_c

        language = tree_sitter_c.language()
    return Language(language)


def _binding_language() -> object:
    import sys
    from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader, ModuleSpec

    name = "tree_sitter_c._binding"
    loaded = sys.modules.get(name)
    if loaded is None:
        from reviewbot.util.modules import find_spec

        spec = find_spec("tree_sitter_c")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("tree_sitter_c not found")
        folder = Path(next(iter(spec.submodule_search_locations)))
        path = next(folder / f"_binding{suffix}" for suffix in EXTENSION_SUFFIXES
                    if (folder / f"_binding{suffix}").is_file())
        loader = ExtensionFileLoader(name, str(path))
        module_spec = ModuleSpec(name, loader, origin=str(path))
        loaded = loader.create_module(module_spec)
        loader.exec_module(loaded)
    return loaded.language()


@cache
def _parser_and_query() -> tuple[Parser, Query]:
    from tree_sitter import Parser, Query

    language = c_language()
    return Parser(language), Query(language, _QUERY_SOURCE)


class _File:
    """Extraction state for one file: original bytes and helpers over nodes."""

    def __init__(self, path: str, src: bytes) -> None:
        self.path = path
        self.src = src
        self.func_starts: list[int] = []
        self.func_ends: list[int] = []
        self.func_names: list[str | None] = []
        self.func_nodes: list[Node] = []
        self._params: dict[int, dict[str, str]] = {}

    def text(self, node: Node) -> str:
        return self.src[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def enclosing(self, byte: int) -> str | None:
        i = bisect.bisect_right(self.func_starts, byte) - 1
        if i >= 0 and byte < self.func_ends[i]:
            return self.func_names[i]
        return None

    def params(self, byte: int) -> dict[str, str]:
        """Parameter name -> type name of the function around ``byte`` (cached)."""
        i = bisect.bisect_right(self.func_starts, byte) - 1
        if i < 0 or byte >= self.func_ends[i]:
            return {}
        if i not in self._params:
            found: dict[str, str] = {}
            declarator = self.func_nodes[i].child_by_field_name("declarator")
            while declarator is not None and declarator.type != "function_declarator":
                declarator = declarator.child_by_field_name("declarator")
            plist = declarator.child_by_field_name("parameters") if declarator else None
            for param in plist.named_children if plist is not None else ():
                if param.type != "parameter_declaration":
                    continue
                name, _ = _declarator_name(param.child_by_field_name("declarator"))
                ptype = param.child_by_field_name("type")
                if name:
                    found[name] = self.text(ptype) if ptype is not None else ""
            self._params[i] = found
        return self._params[i]


def _declarator_name(node: Node | None) -> tuple[str | None, bool]:
    """(identifier, is_function) of a declarator, through pointers, arrays, parentheses."""
    is_function = False
    while node is not None:
        kind = node.type
        if kind in ("identifier", "field_identifier", "type_identifier"):
            return (node.text or b"").decode("utf-8", "replace"), is_function
        if kind == "function_declarator":
            is_function = True
        inner = node.child_by_field_name("declarator")
        if inner is None:
            for child in node.named_children:
                if child.type in ("identifier", "pointer_declarator", "function_declarator",
                                  "array_declarator", "parenthesized_declarator",
                                  "attributed_declarator"):
                    inner = child
                    break
        node = inner
    return None, is_function


def _specifiers(node: Node) -> set[str]:
    words: set[str] = set()
    for child in node.children:
        if child.type in ("storage_class_specifier", "type_qualifier"):
            words.add((child.text or b"").decode().strip())
    return words


def _line(node: Node) -> int:
    return node.start_point[0] + 1


def _parse_int(text: str) -> int | None:
    t = text.strip().rstrip("uUlL")
    try:
        return int(t, 0)
    except ValueError:
        if t.startswith("-"):
            try:
                return -int(t[1:].strip(), 0)
            except ValueError:
                return None
        if t.startswith("(") and t.endswith(")"):
            return _parse_int(t[1:-1])
        if t.startswith("0") and t.isdigit():
            return int(t, 8)
        return None


_TYPEINFO_FIELDS = ("name", "parent", "class_init", "instance_init", "instance_finalize",
                    "interfaces", "abstract")


def _global_kind(type_text: str, declarator: str) -> str:
    t = type_text.replace(" ", "")
    pointer = declarator.lstrip().startswith("*")
    for prefix, kind in (("QLIST_HEAD", "qlist_head"), ("QTAILQ_HEAD", "qtailq_head"),
                         ("QSLIST_HEAD", "qslist_head"), ("QSIMPLEQ_HEAD", "qsimpleq_head")):
        if t.startswith(prefix):
            return kind
    if t == "GSList" and pointer:
        return "gslist"
    if t == "GList" and pointer:
        return "glist"
    if t in ("Notifier", "NotifierWithReturn") and not pointer:
        return "notifier"
    return "other"


_TOP_LEVEL = frozenset({"translation_unit", "preproc_if", "preproc_ifdef", "preproc_else",
                        "preproc_elif", "preproc_elifdef", "linkage_specification"})


def _is_file_scope(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type == "translation_unit":
            return True
        if parent.type not in _TOP_LEVEL:
            return False
        parent = parent.parent
    return False


def _wanted_decl(node: Node) -> bool:
    """A declaration directly at file scope or in a preprocessor branch there, or one of a
    QOM type (``TypeInfo``, ``InterfaceInfo``, ``...Class``) anywhere."""
    parent = node.parent
    if parent is not None and parent.type in _DECL_PARENTS:
        return True
    type_node = node.child_by_field_name("type")
    return (type_node is not None and type_node.type == "type_identifier"
            and _CLASS_TYPE.match(type_node.text or b"") is not None)


def extract(path: str, text: str, partial: bool = False, *,
            enclosing: Mapping[int, str] | None = None) -> FileFacts:
    """Facts of one C file (or header).

    ``enclosing`` (for a post-image rebuilt from hunks) maps lines to the function they are
    in when the function's start is not in the text, as a hunk's ``@@ ... @@ section`` says;
    facts found there without a function get that one.

    Never raises on bad C: unparsable regions are skipped and their first lines listed in
    ``error_lines``. Raises ``limits.LimitExceeded`` ("<path>: could not analyse: ...") for a
    file over ``limits.MAX_C_FILE_BYTES`` or with a line over ``limits.MAX_LINE_CHARS``, or
    whose analysis runs past ``limits.C_FILE_SECONDS``; the caller notes it and goes on.
    """
    from reviewbot.util import limits

    note = limits.check_text(path, text, max_bytes=limits.MAX_C_FILE_BYTES,
                             max_line=limits.MAX_LINE_CHARS)
    if note is not None:
        raise limits.LimitExceeded(note)
    with limits.time_limit(limits.C_FILE_SECONDS, path):
        facts = _extract(path, text, partial)
    return _attribute(facts, enclosing) if enclosing else facts


def _attribute(ff: FileFacts, enclosing: Mapping[int, str]) -> FileFacts:
    """Give facts outside any visible function the function ``enclosing`` names."""
    from dataclasses import replace

    def call(c: Call) -> Call:
        if c.caller is None and c.line in enclosing:
            return replace(c, caller=enclosing[c.line])
        return c

    def owner(fact: Any) -> Any:
        if fact.function is None and fact.line in enclosing:
            return replace(fact, function=enclosing[fact.line])
        return fact

    return replace(
        ff,
        calls=tuple(call(c) for c in ff.calls),
        assignments=tuple(owner(a) for a in ff.assignments),
        notifiers=tuple(owner(n) for n in ff.notifiers),
        dispatches=tuple(replace(owner(d), calls=tuple(call(c) for c in d.calls))
                         for d in ff.dispatches),
        phase_checks=tuple(owner(p) for p in ff.phase_checks),
    )


def _extract(path: str, text: str, partial: bool) -> FileFacts:
    from tree_sitter import QueryCursor

    src = text.encode("utf-8", "surrogateescape")
    blanked, macro_uses = blank_macros(src)
    parser, query = _parser_and_query()
    tree = parser.parse(blanked)
    st = _File(path, src)
    table = macro_table()

    funcs: list[Function] = []
    calls: list[tuple[int, int, Call, Node, Node]] = []  # start, end, call, args node, call node
    assigns: list[tuple[Node, Node, Node, Node]] = []
    comments: list[Comment] = []
    defines: list[Define] = []
    enums: list[tuple[Node, Node]] = []
    decls: list[Node] = []
    errors: list[int] = []
    seen_decls: set[int] = set()

    matches = QueryCursor(query).matches(tree.root_node)
    # Functions first: every other fact needs its enclosing function.
    for pattern, caps in matches:
        if pattern == 0:
            node = caps["func"][0]
            name, _ = _declarator_name(node.child_by_field_name("declarator"))
            if name is None:
                continue
            name = sys.intern(name)
            static = any(c.type == "storage_class_specifier" and c.text == b"static"
                         for c in node.children)
            funcs.append(Function(name, path, _line(node), node.end_point[0] + 1, static))
            st.func_starts.append(node.start_byte)
            st.func_ends.append(node.end_byte)
            st.func_names.append(name)
            st.func_nodes.append(node)
    order = sorted(range(len(funcs)), key=lambda i: st.func_starts[i])
    st.func_starts = [st.func_starts[i] for i in order]
    st.func_ends = [st.func_ends[i] for i in order]
    st.func_names = [st.func_names[i] for i in order]
    st.func_nodes = [st.func_nodes[i] for i in order]

    for pattern, caps in matches:
        if pattern == 1:
            node = caps["call"][0]
            # interned: the same few thousand names recur (smaller, faster index cache)
            callee = sys.intern(st.text(caps["callee"][0]))
            calls.append((node.start_byte, node.end_byte,
                          Call(st.enclosing(node.start_byte), callee, _line(node)),
                          caps["args"][0], node))
        elif pattern == 2:
            assigns.append((caps["assign"][0], caps["lhs"][0], caps["field"][0], caps["rhs"][0]))
        elif pattern == 3:
            node = caps["comment"][0]
            comments.append(Comment(_line(node), node.end_point[0] + 1, st.text(node)))
        elif pattern == 4:
            node = caps["def"][0]
            value = node.child_by_field_name("value")
            defines.append(Define(st.text(caps["dname"][0]),
                                  st.text(value).strip() if value is not None else "",
                                  _line(node)))
        elif pattern == 5:
            node = caps["fdef"][0]
            value = node.child_by_field_name("value")
            params = node.child_by_field_name("parameters")
            defines.append(Define(st.text(caps["dname"][0]),
                                  st.text(value).strip() if value is not None else "",
                                  _line(node), st.text(params) if params is not None else "()"))
        elif pattern == 6:
            enums.append((caps["enum"][0], caps["ename"][0]))
        elif pattern == 7:
            errors.append(_line(caps["error"][0]))
        elif "decl" in caps:
            node = caps["decl"][0]
            if node.id not in seen_decls and _wanted_decl(node):
                seen_decls.add(node.id)
                decls.append(node)

    calls.sort(key=lambda c: c[0])
    call_starts = [c[0] for c in calls]

    # Declared types of local class pointers: DeviceClass *dc = DEVICE_CLASS(oc);
    local_types: dict[tuple[str | None, str], str] = {}
    globals_: list[GlobalVar] = []
    typeinfo_decls: list[Node] = []
    interface_arrays: dict[str, tuple[str, ...]] = {}
    notifier_inits: dict[str, str] = {}
    for decl in decls:
        type_node = decl.child_by_field_name("type")
        if type_node is None:
            continue
        type_text = st.text(type_node)
        if type_text == "TypeInfo":
            typeinfo_decls.append(decl)
        elif type_text == "InterfaceInfo":
            for d in decl.children_by_field_name("declarator"):
                name, _ = _declarator_name(d)
                value = d.child_by_field_name("value")
                if name and value is not None:
                    interface_arrays[name] = _interfaces(st, value)
        if _is_file_scope(decl):
            words = _specifiers(decl)
            for d in decl.children_by_field_name("declarator"):
                name, is_function = _declarator_name(d)
                if name is None or is_function:
                    continue
                inner = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
                decl_text = st.text(inner) if inner is not None else name
                globals_.append(GlobalVar(
                    name=name, type=type_text, declarator=decl_text,
                    kind=_global_kind(type_text, decl_text), static="static" in words,
                    const="const" in words, extern="extern" in words, line=_line(d)))
                value = d.child_by_field_name("value") if d.type == "init_declarator" else None
                if value is not None and value.type == "initializer_list":
                    notify = _designated(st, value).get("notify")
                    if notify:
                        notifier_inits[name] = notify
        elif type_text.endswith("Class") or type_text == "HotplugHandlerClass":
            owner = st.enclosing(decl.start_byte)
            for d in decl.children_by_field_name("declarator"):
                name, _ = _declarator_name(d)
                if name:
                    local_types[(owner, name)] = type_text
    # Parameters typed as classes count too: static void f(DeviceClass *dc)
    # (rare in class_init, common in helpers that fill a class).

    assignments: list[Assignment] = []
    dotted_notify: dict[str, str] = {}
    for node, lhs, field_node, rhs in assigns:
        if rhs.type == "identifier":
            target: str | None = st.text(rhs)
        elif rhs.type in ("true", "false", "null", "number_literal"):
            target = None
        else:
            continue
        obj_node = lhs.child_by_field_name("argument")
        if obj_node is None:
            continue
        owner = st.enclosing(node.start_byte)
        obj = st.text(obj_node)
        fld = st.text(field_node)
        if obj_node.type == "identifier":
            cls = local_types.get((owner, obj))
        elif obj_node.type == "call_expression":
            fn = obj_node.child_by_field_name("function")
            cls = st.text(fn) if fn is not None else None
        else:
            cls = None
        if owner is not None and (target is not None or cls is None):
            param_types = st.params(node.start_byte)
            if cls is None and obj_node.type == "identifier":
                ptype = param_types.get(obj, "")
                cls = ptype if ptype.endswith("Class") else None
            if target in param_types:
                target = None  # dc->realize = dev_realize, a parameter: not a function name
        assignments.append(Assignment(owner, obj, fld, st.text(rhs), target, cls, _line(node)))
        if fld == "notify" and target is not None:
            dotted_notify[obj] = target

    # Registrar calls, notifiers, dispatch tests, phase checks.
    notifiers: list[NotifierReg] = []
    dispatches: list[Dispatch] = []
    phase_checks: list[PhaseCheck] = []
    for _start, _end, call, args, node in calls:
        name = call.callee
        if name in table.registrars:
            index, role, cls_name = table.registrars[name]
            arg_nodes = args.named_children
            if index < len(arg_nodes) and arg_nodes[index].type == "identifier":
                obj = st.text(arg_nodes[0]) if arg_nodes else ""
                assignments.append(Assignment(
                    call.caller, obj, role, st.text(arg_nodes[index]),
                    st.text(arg_nodes[index]), cls_name, call.line, via=name))
        elif name in table.notifier_registrars:
            arg_nodes = args.named_children
            if arg_nodes:
                arg = st.text(arg_nodes[0]).strip()
                var = arg[1:].strip() if arg.startswith("&") else arg
                notify = dotted_notify.get(var) or notifier_inits.get(var)
                notifiers.append(NotifierReg(call.caller, name, var, notify, call.line))
        elif name == "object_dynamic_cast":
            arg_nodes = args.named_children
            if len(arg_nodes) >= 2:
                guarded, in_cond = _guarded_calls(node, calls, call_starts)
                dispatches.append(Dispatch(call.caller, st.text(arg_nodes[0]),
                                           st.text(arg_nodes[1]), call.line, guarded, in_cond))
        elif name == "phase_check":
            phase_checks.append(PhaseCheck(call.caller, st.text(args)[1:-1].strip(), call.line))

    typeinfos = [ti for decl in typeinfo_decls
                 for ti in _typeinfos(st, decl, interface_arrays)]
    global_uses = _global_uses(st, [g.name for g in globals_ if not g.const and not g.extern])

    return FileFacts(
        path=path, partial=partial, functions=tuple(funcs),
        calls=tuple(c[2] for c in calls if table.is_call_target(c[2].callee)),
        assignments=tuple(assignments), typeinfos=tuple(typeinfos),
        macro_uses=tuple(macro_uses), defines=tuple(defines), globals=tuple(globals_),
        notifiers=tuple(notifiers), dispatches=tuple(dispatches), comments=tuple(comments),
        enums=tuple(_enum_consts(st, enums)), phase_checks=tuple(phase_checks),
        global_uses=tuple(global_uses), error_lines=tuple(sorted(set(errors))),
    )


def _global_uses(st: _File, names: list[str]) -> list[GlobalUse]:
    """Where functions of the file name one of ``names`` (first use per function and name)."""
    if not names or not st.func_starts:
        return []
    src = st.src
    pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in names)
                         + rb")\b")
    hits = [m for m in pattern.finditer(src) if st.enclosing(m.start()) is not None]
    if not hits:
        return []
    spans = [(m.start(), m.end()) for m in _SKIPPED.finditer(src)]
    starts = [a for a, _ in spans]
    seen: set[tuple[str, str]] = set()
    out: list[GlobalUse] = []
    line, counted = 1, 0
    for m in hits:
        line += src.count(b"\n", counted, m.start())
        counted = m.start()
        k = bisect.bisect_right(starts, m.start()) - 1
        if k >= 0 and m.start() < spans[k][1]:
            continue  # in a comment or a literal
        owner = st.enclosing(m.start())
        name = m.group().decode()
        if owner is None or (owner, name) in seen:
            continue
        seen.add((owner, name))
        out.append(GlobalUse(owner, name, line))
    return out


def _guarded_calls(
    cast: Node, calls: list[tuple[int, int, Call, Node, Node]], starts: list[int]
) -> tuple[tuple[Call, ...], bool]:
    """Calls in the ``if`` branch whose condition is (or contains, through || and &&) ``cast``."""
    node = cast
    parent = node.parent
    while parent is not None and parent.type in ("binary_expression", "parenthesized_expression",
                                                 "unary_expression"):
        if parent.type == "unary_expression":
            return (), False  # !object_dynamic_cast(...): the branch is for everything else
        if parent.type == "binary_expression":
            op = parent.child_by_field_name("operator")
            if op is not None and op.type not in ("||", "&&"):
                return (), False
        node, parent = parent, parent.parent
    if parent is None or parent.type != "if_statement":
        return (), False
    cond = parent.child_by_field_name("condition")
    if cond is None or cond.id != node.id:
        return (), False
    then = parent.child_by_field_name("consequence")
    if then is None:
        return (), True
    lo = bisect.bisect_left(starts, then.start_byte)
    hi = bisect.bisect_left(starts, then.end_byte)
    table = macro_table()
    return tuple(c[2] for c in calls[lo:hi] if table.is_call_target(c[2].callee)), True


def _designated(st: _File, init: Node) -> dict[str, str]:
    """``{ .a = x, .b = y }`` -> {"a": "x", "b": "y"} (values as written)."""
    out: dict[str, str] = {}
    for pair in init.named_children:
        if pair.type != "initializer_pair":
            continue
        designator = pair.child_by_field_name("designator")
        value = pair.child_by_field_name("value")
        if designator is None or value is None:
            continue
        key = st.text(designator).lstrip(".").strip()
        out[key] = st.text(value).strip()
    return out


def _interfaces(st: _File, value: Node) -> tuple[str, ...]:
    """Type names in ``(InterfaceInfo[]) { { TYPE_A }, { TYPE_B }, { } }`` or ``{ {..}, }``."""
    names: list[str] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if node.type == "initializer_list":
            children = node.named_children
            if children and all(c.type == "initializer_list" for c in children):
                stack.extend(reversed(children))
            elif children:
                first = children[0]
                if first.type == "initializer_pair":
                    fields = _designated(st, node)
                    if "type" in fields:
                        names.append(fields["type"])
                elif first.type in ("identifier", "string_literal", "concatenated_string"):
                    names.append(st.text(first))
        else:
            stack.extend(reversed(node.named_children))
    return tuple(names)


def _typeinfos(st: _File, decl: Node,
               interface_arrays: dict[str, tuple[str, ...]]) -> list[TypeInfoFact]:
    out: list[TypeInfoFact] = []
    owner = st.enclosing(decl.start_byte)
    for d in decl.children_by_field_name("declarator"):
        if d.type != "init_declarator":
            continue
        var, _ = _declarator_name(d)
        value = d.child_by_field_name("value")
        if value is None or value.type != "initializer_list":
            continue
        children = value.named_children
        items = ([c for c in children if c.type == "initializer_list"]
                 if children and children[0].type == "initializer_list" else [value])
        for item in items:
            fields = _designated(st, item)
            if "name" not in fields:
                continue
            iface_node = None
            for pair in item.named_children:
                if pair.type == "initializer_pair":
                    des = pair.child_by_field_name("designator")
                    if des is not None and st.text(des).lstrip(".").strip() == "interfaces":
                        iface_node = pair.child_by_field_name("value")
            interfaces: tuple[str, ...] = ()
            if iface_node is not None:
                if iface_node.type == "identifier":
                    interfaces = interface_arrays.get(st.text(iface_node), ())
                else:
                    interfaces = _interfaces(st, iface_node)
            out.append(TypeInfoFact(
                var=var or "", name=fields["name"],
                parent=fields.get("parent"), class_init=fields.get("class_init"),
                instance_init=fields.get("instance_init"),
                instance_finalize=fields.get("instance_finalize"),
                interfaces=interfaces, abstract=fields.get("abstract") == "true",
                line=_line(item), function=owner))
    return out


def _enum_consts(st: _File, enums: list[tuple[Node, Node]]) -> list[EnumConst]:
    out: list[EnumConst] = []
    last: dict[int, int | None] = {}  # enumerator_list start byte -> previous number
    for node, name_node in enums:
        lst = node.parent
        key = lst.start_byte if lst is not None else -1
        tag = None
        if lst is not None and lst.parent is not None:
            tag_node = lst.parent.child_by_field_name("name")
            tag = st.text(tag_node) if tag_node is not None else None
        value_node = node.child_by_field_name("value")
        value = st.text(value_node) if value_node is not None else None
        if value is not None:
            number = _parse_int(value)
        else:
            prev = last.get(key, -1)
            number = None if prev is None else prev + 1
        last[key] = number
        out.append(EnumConst(st.text(name_node), value, number, tag, _line(node)))
    return out
