"""Code-shape primitives: the same lookup loop again, statements copied from another
function, a parameter list that keeps growing, a second hook list with nothing saying why.

They read the post-image text (and the pre-image for parameter counts) and take function
boundaries and file-scope declarations from the C facts; loops, conditions and parameter
lists are found by matching brackets in text whose comments and literals are blanked, so the
file is not parsed a second time. When the post-image is rebuilt from hunks, only what this
patch's hunks show is read.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from reviewbot.rules.registry import primitive
from reviewbot.util.frozen import frozen

if TYPE_CHECKING:
    from reviewbot.c.facts import FileFacts
    from reviewbot.context import PatchContext
    from reviewbot.finding import Finding
    from reviewbot.patch.source import SourceFile
    from reviewbot.rules.model import Rule

C_FILES = (".c",)


# --------------------------------------------------------------------------- text


# Compiled one by one on first use: a patch that touches no C file never builds them, and
# one that adds no notifier list never builds the hook-list ones.
_SOURCES: dict[str, tuple[str, int]] = {
    "skip": (r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S),
    "loop": (r"^[ \t]*([A-Z][A-Z0-9_]*_FOREACH[A-Z0-9_]*|for|while)[ \t]*\(", re.M),
    "word": (r"[A-Za-z_]\w*", 0),
    "brackets": (r"[(){}\[\]]", 0),
    # a line starting at column 0 with a name followed by "(": a function's declarator
    "header": (r"^(?![ \t#])[^\n;{}()=]*?\b([A-Za-z_]\w*)[ \t]*\(", re.M),
    "escape": (r"\b(?:break|return|goto)\b", 0),
    "control": (r"^(?:\}\s*)?(?:else\s+)?(?:if|for|while|switch|do|return|goto)\b"
                r"|^[A-Z][A-Z0-9_]*_FOREACH", 0),
    "hook_api": (r"\bqemu_(?:add|remove|run|register|unregister)_(\w+?)_notifiers?\b", 0),
    "mark": (r"\s*(?:/\*|//)\s*(?:ruleid|ok|reviewbot):[^\n]*?(?:\*/)?\s*$", 0),
    "hook_decl": (r"\b(?:NotifierList|NotifierWithReturnList)\s+(\w+)", 0),
    # a local declared, maybe set from a cast or a field (the prologue every function has),
    # a case or other label, a preprocessor line, or braces
    "boring": (r"(?:(?:const|static|unsigned|signed|struct|enum|union)\s+)*[A-Za-z_]\w*"
               r"(?:\s*\*)*\s+\**\s*[A-Za-z_]\w*(?:\[[^\]]*\])?\s*"
               r"(?:=\s*(?:[A-Z_][A-Z0-9_]*\([^()]*\)|&?[\w\->.]+|[A-Z_][A-Z0-9_]*\([A-Z_]"
               r"[A-Z0-9_]*\([^()]*\)\))\s*)?;|case\s.*:|[A-Za-z_]\w*:|#.*|\}?\s*(?:else\s*)?"
               r"(?:\{\s*)?", 0),
}
_COMPILED: dict[str, re.Pattern[str]] = {}


def _re(name: str) -> re.Pattern[str]:
    pattern = _COMPILED.get(name)
    if pattern is None:
        source, flags = _SOURCES[name]
        pattern = _COMPILED[name] = re.compile(source, flags)
    return pattern


@frozen
class Code:
    """A C text three ways: as written, without comments, and with literals blanked too.

    All three have the same length and line breaks, so an offset means the same place in
    each; brackets are matched in ``blank``, keys are read from ``bare``."""

    text: str
    bare: str  # comments made spaces
    blank: str  # comments and the insides of string and character literals made spaces
    line_starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> Code:
        bare: list[str] = []
        blank: list[str] = []
        pos = 0
        for m in _re("skip").finditer(text):
            bare.append(text[pos:m.start()])
            blank.append(text[pos:m.start()])
            token = m.group(0)
            spaced = (" " * len(token) if "\n" not in token
                      else "\n".join(" " * len(part) for part in token.split("\n")))
            if token.startswith(("/*", "//")):
                bare.append(spaced)
                blank.append(spaced)
            else:
                bare.append(token)
                blank.append(token[0] + spaced[1:-1] + token[-1])
            pos = m.end()
        bare.append(text[pos:])
        blank.append(text[pos:])
        starts = [0]
        at = text.find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = text.find("\n", at + 1)
        return cls(text, "".join(bare), "".join(blank), tuple(starts))

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def offset_of(self, line: int) -> int:
        if line - 1 < len(self.line_starts):
            return self.line_starts[line - 1]
        return len(self.text)

    @cached_property
    def _pairs(self) -> dict[int, int]:
        """Offset of each bracket -> offset just past the one closing it, from one pass
        (a bracket closed by the wrong kind, or never, has none)."""
        pairs: dict[int, int] = {}
        stack: list[tuple[str, int]] = []
        for m in _re("brackets").finditer(self.blank):
            ch = m.group(0)
            if ch in "({[":
                stack.append((ch, m.start()))
                continue
            want = {")": "(", "}": "{", "]": "["}[ch]
            if stack and stack[-1][0] == want:
                pairs[stack.pop()[1]] = m.end()
            elif any(kind == want for kind, _ in stack):
                while stack and stack[-1][0] != want:
                    stack.pop()  # left open: unbalanced text
                pairs[stack.pop()[1]] = m.end()
        return pairs

    def close(self, start: int) -> int:
        """Offset just past the bracket closing the one at ``start``, or -1."""
        return self._pairs.get(start, -1)

    def skip_space(self, i: int) -> int:
        while i < len(self.blank) and self.blank[i].isspace():
            i += 1
        return i

    def squashed(self, start: int, end: int) -> str:
        return " ".join(self.bare[start:end].split())


_CODES: dict[str, Code] = {}


def code_of(text: str) -> Code:
    """``Code.of(text)``, kept for the few texts last asked for: the rules of this module
    read the same post-image one after the other."""
    code = _CODES.get(text)
    if code is None:
        if len(_CODES) >= 4:
            _CODES.pop(next(iter(_CODES)))
        code = _CODES[text] = Code.of(text)
    return code


def _statement_end(code: Code, i: int) -> int:
    """Offset just past the statement starting at ``i`` (a block, an ``if``, or up to its
    ``;``), or -1 when it cannot be told."""
    i = code.skip_space(i)
    if i >= len(code.blank):
        return -1
    if code.blank[i] == "{":
        return code.close(i)
    m = _re("word").match(code.blank, i)
    word = m.group(0) if m else ""
    if word in ("if", "for", "while", "switch") or word.endswith("_FOREACH"):
        paren = code.skip_space(i + len(word))
        if paren >= len(code.blank) or code.blank[paren] != "(":
            return -1
        after = code.close(paren)
        if after < 0:
            return -1
        end = _statement_end(code, after)
        if word == "if" and end > 0:
            nxt = code.skip_space(end)
            if code.blank.startswith("else", nxt) and not (
                    code.blank[nxt + 4:nxt + 5].isalnum() or code.blank[nxt + 4:nxt + 5] == "_"):
                return _statement_end(code, nxt + 4)
        return end
    depth = 0
    for k in range(i, len(code.blank)):
        ch = code.blank[k]
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return -1
        elif ch == ";" and depth == 0:
            return k + 1
    return -1


# --------------------------------------------------------------------------- what to read


def _known_ranges(ctx: PatchContext, path: str, src: SourceFile) -> list[tuple[int, int]]:
    """Post-image line ranges this check may read: the whole file, or, for one rebuilt from
    hunks, the lines of this patch's hunks (earlier patches' lines may have moved)."""
    if not src.partial:
        return [(1, len(src.lines))]
    out = []
    for fd in ctx.patch.files:
        if fd.target_path != path:
            continue
        for h in fd.hunks:
            if h.target_length:
                out.append((h.target_start, h.target_start + h.target_length - 1))
    return out


def _inside(ranges: Sequence[tuple[int, int]], first: int, last: int) -> bool:
    return any(lo <= first and last <= hi for lo, hi in ranges)


def _c_files(ctx: PatchContext, suffixes: Sequence[str] = C_FILES,
             worth: Callable[[list[list[str]]], bool] | None = None,
             ) -> Iterator[tuple[str, SourceFile]]:
    """The C files this patch adds lines to, with their post-images; with
    ``worth``, only those whose added lines (a list per hunk) it accepts: a cheap test that
    spares reading a file the rule cannot fire on (--all reads every file)."""
    for fd in ctx.patch.files:
        path = fd.target_path
        if path is None or fd.is_binary or not path.endswith(tuple(suffixes)):
            continue
        if not ctx.options.all_files:
            added = [[ln.text for ln in h.added] for h in fd.hunks]
            if not any(added) or (worth is not None and not worth(added)):
                continue
        src = ctx.source(path)
        if src is not None:
            yield path, src


def _code_line(src: SourceFile, line: int) -> str:
    return src.line(line).strip()


# --------------------------------------------------------------------------- lookups


@frozen
class Lookup:
    """A loop whose body is one ``if``: the search for the element that matches."""

    line: int  # the loop's first line
    cond_line: int  # the line the condition ends on
    end_line: int  # the loop's last line
    header: str  # e.g. "QTAILQ_FOREACH(e, &s->list, next)"
    cond: str  # e.g. "e->index == idx"

    @property
    def key(self) -> tuple[str, str]:
        return self.header, self.cond


def lookups(code: Code, first: int = 1, last: int | None = None) -> list[Lookup]:
    """Every search loop starting between lines ``first`` and ``last``."""
    out: list[Lookup] = []
    start = code.offset_of(first)
    stop = len(code.text) if last is None else code.offset_of(last + 1)
    for m in _re("loop").finditer(code.blank, start, stop):
        paren = m.end() - 1
        after_header = code.close(paren)
        if after_header < 0:
            continue
        header = code.squashed(m.start(1), after_header)
        body = code.skip_space(after_header)
        if body >= len(code.blank):
            continue
        if code.blank[body] == "{":
            body_end = code.close(body)
            inner = code.skip_space(body + 1)
        else:
            body_end = _statement_end(code, body)
            inner = body
        if body_end < 0 or not code.blank.startswith("if", inner):
            continue
        cond_open = code.skip_space(inner + 2)
        if cond_open >= len(code.blank) or code.blank[cond_open] != "(":
            continue
        cond_close = code.close(cond_open)
        if cond_close < 0:
            continue
        if_end = _statement_end(code, inner)
        if if_end < 0 or not _re("escape").search(code.blank, cond_close, if_end):
            continue  # not a search: the loop acts on every match
        rest = code.blank[if_end:body_end - 1] if code.blank[body] == "{" else ""
        if rest.strip():
            continue  # the loop does more than test each element
        out.append(Lookup(
            line=code.line_of(m.start(1)), cond_line=code.line_of(cond_close - 1),
            end_line=code.line_of(body_end - 1), header=header,
            cond=code.squashed(cond_open + 1, cond_close - 1)))
    return out


def _first_changed(ctx: PatchContext, path: str, first: int, last: int) -> int | None:
    """The first line from ``first`` to ``last`` the patch adds (the engine keeps a finding
    only on an added line)."""
    return next((n for n in range(first, last + 1) if ctx.changed(path, n)), None)


@primitive("repeated-lookup", scope="patch", params=("min_others", "suffixes"))
def repeated_lookup(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """An added search loop (a loop whose body is one ``if``) whose loop header and
    condition already stand ``min_others`` times or more elsewhere in the same file."""
    min_others = int(rule.params.get("min_others", 2))
    suffixes = tuple(rule.params.get("suffixes", C_FILES))
    def has_loop(added: list[list[str]]) -> bool:
        # a loop's header or its test
        return any("for (" in t or "for(" in t or "while" in t or "_FOREACH" in t
                   or "if (" in t or "if(" in t for hunk in added for t in hunk)

    for path, src in _c_files(ctx, suffixes, has_loop):
        code = code_of(src.text)
        ranges = _known_ranges(ctx, path, src)
        found = [lk for lo, hi in ranges for lk in lookups(code, lo, hi)
                 if _inside(ranges, lk.line, lk.end_line)]
        groups: dict[tuple[str, str], list[Lookup]] = {}
        for lk in found:
            groups.setdefault(lk.key, []).append(lk)
        for group in groups.values():
            if len(group) < min_others + 1:
                continue
            added = [lk for lk in group
                     if _first_changed(ctx, path, lk.line, lk.cond_line) is not None]
            if not added:
                continue
            if len(added) == len(group):
                added = added[-1:]  # all of them new: say it once, at the last copy
            owners = body_owners(ctx, path, src, code)
            for lk in added:
                others = [o for o in group if o is not lk]
                evidence = [f"the same loop and test at {path}:{o.line}"
                            + (f" in {owners[o.line]}()" if o.line in owners else "")
                            for o in others]
                yield rule.finding(
                    ctx, path=path, line=_first_changed(ctx, path, lk.line, lk.cond_line),
                    end_line=lk.cond_line, evidence=evidence,
                    code=_code_line(src, lk.line), anchor=f"{lk.header} if ({lk.cond})",
                    loop=lk.header, cond=lk.cond, count=len(others),
                    function=owners.get(lk.line, "file scope"))


# --------------------------------------------------------------------------- copied statements

_TRIVIAL = frozenset({"{", "}", "};", "} else {", "else", "else {", "break;", "continue;",
                      "return;", "return 0;", "return -1;", "return true;", "return false;",
                      "return NULL;", "return ret;", "default:", "do {", "} while (0);"})


def _significant(line: str) -> bool:
    return line not in _TRIVIAL and _re("boring").fullmatch(line) is None


@frozen
class Run:
    """Consecutive significant statements of one function: (first line, last line, text)
    each, a statement wrapped over several lines being one."""

    function: str
    statements: tuple[tuple[int, int, str], ...]


def body_owners(ctx: PatchContext, path: str, src: SourceFile, code: Code) -> dict[int, str]:
    """Post-image line -> the function whose body holds it, for the lines this check may
    read. For a whole file the C facts say; for one rebuilt from hunks, each hunk is read on
    its own: a line belongs to the function whose header the hunk shows above it (its body
    not yet closed), else to the function the hunk's ``@@`` section names."""
    from reviewbot.patch.source import function_in_section

    owners: dict[int, str] = {}
    if not src.partial:
        facts = ctx.facts(path)
        for fn in facts.functions if facts is not None else ():
            brace = code.blank.find("{", code.offset_of(fn.line), code.offset_of(fn.end_line + 1))
            if brace >= 0:
                for n in range(code.line_of(brace) + 1, fn.end_line):
                    owners[n] = fn.name
        return owners
    for fd in ctx.patch.files:
        if fd.target_path != path:
            continue
        for h in fd.hunks:
            current = function_in_section(h.section)
            depth: int | None = None  # braces open in ``current``; None: unknown (section)
            for n in range(h.target_start, h.target_start + h.target_length):
                text = code.blank[code.offset_of(n):code.offset_of(n + 1)]
                header = _re("header").match(text)
                if header is not None and header.group(1) not in _NOT_FUNCTIONS:
                    current, depth = header.group(1), 0
                    continue
                if current is not None and (depth is None or depth > 0):
                    owners[n] = current
                if depth is not None:
                    depth += text.count("{") - text.count("}")
                    if depth <= 0 and "}" in text:
                        current, depth = None, None
                elif text.startswith("}"):
                    current = None  # the section's function ends here
    return owners


def statement_runs(code: Code, owners: dict[int, str]) -> list[Run]:
    """Each function's body as runs of its significant statements (comments out, white
    space squashed, wrapped lines joined), cut where a function's readable lines stop."""
    runs: list[Run] = []
    current: list[tuple[int, int, str]] = []
    pending: list[tuple[int, str]] = []  # lines of a statement not ended yet
    owner: str | None = None
    last = -1

    def flush() -> None:
        if current and owner is not None:
            runs.append(Run(owner, tuple(current)))

    for n in sorted(owners):
        if owners[n] != owner or n != last + 1:
            flush()
            current, pending, owner = [], [], owners[n]
        last = n
        text = code.squashed(code.offset_of(n), code.offset_of(n + 1))
        if not text:
            continue
        pending.append((n, text))
        if not text.startswith("#") and text[-1] not in ";{}:":
            continue  # wrapped: the statement goes on
        joined = " ".join(t for _, t in pending)
        if _significant(joined):
            current.append((pending[0][0], n, joined))
        pending = []
    flush()
    return runs


@frozen
class Copy:
    function: str
    lines: tuple[int, ...]  # every line of the copied statements
    statements: int
    other_function: str
    other_lines: tuple[int, ...]


def _span(stmts: Sequence[tuple[int, int, str]]) -> tuple[int, ...]:
    return tuple(n for first, last, _ in stmts for n in range(first, last + 1))


def copies(runs: Sequence[Run], min_statements: int) -> list[Copy]:
    """Stretches of ``min_statements`` or more significant statements that stand, the
    same, in two different functions (each maximal stretch once per pair of places)."""
    index: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for r, run in enumerate(runs):
        texts = [t for _, _, t in run.statements]
        for i in range(len(texts) - min_statements + 1):
            index.setdefault(tuple(texts[i:i + min_statements]), []).append((r, i))
    out: list[Copy] = []
    for places in index.values():
        if len(places) < 2:
            continue
        for a, i in places:
            for b, j in places:
                sa, sb = runs[a].statements, runs[b].statements
                if runs[a].function == runs[b].function:
                    continue
                # only from the stretch's start, so each stretch is seen once
                if i > 0 and j > 0 and sa[i - 1][2] == sb[j - 1][2]:
                    continue
                k = min_statements
                while i + k < len(sa) and j + k < len(sb) and sa[i + k][2] == sb[j + k][2]:
                    k += 1
                out.append(Copy(runs[a].function, _span(sa[i:i + k]), k,
                                runs[b].function, _span(sb[j:j + k])))
    return out


@primitive("copied-statements", scope="patch", params=("min_statements", "suffixes"))
def copied_statements(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """Added lines repeating ``min_statements`` or more significant statements of another
    function of the same file (locals' declarations, braces and bare returns not counted),
    at least one of them an ``if``, a loop or a ``switch`` (a bare ``return x;`` or
    ``goto out;`` reads as a declaration here, so it counts for nothing)."""
    min_statements = int(rule.params.get("min_statements", 8))
    suffixes = tuple(rule.params.get("suffixes", C_FILES))
    def long_enough(added: list[list[str]]) -> bool:
        return any(sum(1 for t in hunk if t.strip()) >= min_statements for hunk in added)

    for path, src in _c_files(ctx, suffixes, long_enough):
        code = code_of(src.text)
        runs = statement_runs(code, body_owners(ctx, path, src, code))
        texts = {first: t for run in runs for first, _, t in run.statements}
        kept: list[Copy] = []
        for c in sorted(copies(runs, min_statements), key=lambda c: (c.lines, c.other_lines)):
            if not all(ctx.changed(path, n) for n in c.lines):
                continue
            if not any(_re("control").match(texts.get(n, "")) for n in c.lines):
                continue  # settings, not logic (class_init filling a class)
            if all(ctx.changed(path, n) for n in c.other_lines) and c.other_lines > c.lines:
                continue  # both copies are new: say it once, at the later one
            kept.append(c)
        # one finding per stretch of added lines, however many places it repeats
        groups: list[list[Copy]] = []
        for c in kept:
            if groups and groups[-1][0].function == c.function and \
                    c.lines[0] <= max(g.lines[-1] for g in groups[-1]):
                groups[-1].append(c)
            else:
                groups.append([c])
        for group in groups:
            first_line = min(c.lines[0] for c in group)
            last_line = max(c.lines[-1] for c in group)
            lead = max(group, key=lambda c: c.statements)
            evidence = [f"{c.statements} statements the same as {path}:{c.other_lines[0]}-"
                        f"{c.other_lines[-1]} in {c.other_function}()" for c in group]
            yield rule.finding(
                ctx, path=path, line=first_line, end_line=last_line, evidence=evidence,
                code=_code_line(src, first_line),
                anchor=f"{lead.function} repeats {lead.other_function}: "
                       f"{_code_line(src, first_line)}",
                function=lead.function, other=lead.other_function, count=lead.statements)


# --------------------------------------------------------------------------- parameters


def split_parameters(inner: str) -> list[str]:
    """The parameters of a parameter list's inside (blanked text): ``void`` is none."""
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in inner:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    last = "".join(cur).strip()
    if last:
        parts.append(last)
    if parts == ["void"]:
        return []
    return parts


@frozen
class ParamList:
    first_line: int
    last_line: int
    end: int  # offset just past the closing parenthesis
    params: tuple[str, ...]  # squashed, comments out


def _param_list_at(code: Code, name_at: int, name: str) -> ParamList | None:
    paren = code.skip_space(name_at + len(name))
    if paren >= len(code.blank) or code.blank[paren] != "(":
        return None
    end = code.close(paren)
    if end < 0:
        return None
    inner_blank = code.blank[paren + 1:end - 1]
    bare = code.bare[paren + 1:end - 1]
    params: list[str] = []
    pos = 0
    for part in split_parameters(inner_blank):
        at = inner_blank.find(part, pos)
        params.append(" ".join(bare[at:at + len(part)].split()))
        pos = at + len(part)
    return ParamList(code.line_of(name_at), code.line_of(end - 1), end, tuple(params))


def definition_params(code: Code, name: str, line: int | None = None) -> ParamList | None:
    """The parameter list of function ``name``'s definition: the one starting at ``line``
    (from the C facts), else the first whose name is on a line starting at column 0 (QEMU
    style) and whose list is followed by ``{``."""
    pattern = re.compile(r"\b" + re.escape(name) + r"\s*\(")
    if line is not None:
        start = code.offset_of(line)
        m = pattern.search(code.blank, start, code.offset_of(line + 8))
        return _param_list_at(code, m.start(), name) if m else None
    for m in pattern.finditer(code.blank):
        line_start = code.offset_of(code.line_of(m.start()))
        if code.blank[line_start:line_start + 1].isspace():
            continue
        found = _param_list_at(code, m.start(), name)
        if found is None:
            continue
        if code.blank[code.skip_space(found.end):][:1] == "{":
            return found
    return None


def definitions(code: Code, ranges: Sequence[tuple[int, int]]) -> list[tuple[str, ParamList]]:
    """Function definitions whose name starts a line at column 0 (QEMU style) inside
    ``ranges``, with their parameter lists: works on a post-image rebuilt from hunks too,
    where a function's body may be cut off."""
    out: list[tuple[str, ParamList]] = []
    for lo, hi in ranges:
        for m in _re("header").finditer(code.blank, code.offset_of(lo),
                                                code.offset_of(hi + 1)):
            name = m.group(1)
            if name in _NOT_FUNCTIONS:
                continue
            found = _param_list_at(code, m.start(1), name)
            if found is not None and code.blank[code.skip_space(found.end):][:1] == "{":
                out.append((name, found))
    return out


_NOT_FUNCTIONS = frozenset({"if", "for", "while", "switch", "return", "sizeof"})


@primitive("parameter-growth", scope="patch", params=("max", "suffixes", "exclude"))
def parameter_growth(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """A function definition the patch gives more parameters, ending with ``max`` or more
    (functions whose name matches one of ``exclude`` are left alone)."""
    limit = int(rule.params.get("max", 6))
    suffixes = tuple(rule.params.get("suffixes", C_FILES))
    exclude = [re.compile(p) for p in rule.params.get("exclude", ())]
    def in_a_list(added: list[list[str]]) -> bool:
        # a line of a parameter list ends with "," or ")"
        return any(t.rstrip().endswith((",", ")")) for hunk in added for t in hunk)

    new_files = {fd.target_path for fd in ctx.patch.files if fd.is_new}
    for path, src in _c_files(ctx, suffixes, in_a_list):
        if path in new_files:
            continue  # nothing in a new file grew
        pre_code: Code | None = None
        code = code_of(src.text)
        for name, after in definitions(code, _known_ranges(ctx, path, src)):
            if len(after.params) < limit or any(p.search(name) for p in exclude):
                continue
            changed = [n for n in range(after.first_line, after.last_line + 1)
                       if ctx.changed(path, n)]
            if not changed:
                continue
            if pre_code is None:
                pre = ctx.pre_source(path)
                if pre is None:
                    break  # a new file: nothing grew
                pre_code = code_of(pre.text)
            before = definition_params(pre_code, name)
            if before is None or len(before.params) >= len(after.params):
                continue
            new = [p for p in after.params if p not in before.params]
            yield rule.finding(
                ctx, path=path, line=changed[0], evidence=(
                    f"before: {name}({', '.join(before.params)}) — "
                    f"{len(before.params)} parameters",
                    f"after: {name}({', '.join(after.params)}) — "
                    f"{len(after.params)} parameters"),
                code=_code_line(src, changed[0]), anchor=f"{name}: " + ", ".join(new),
                function=name, before=len(before.params), after=len(after.params),
                added=", ".join(new) or "a parameter")


# --------------------------------------------------------------------------- hook lists

HOOK_LIST_TYPES = ("NotifierList", "NotifierWithReturnList")
_LIST_SUFFIX = re.compile(r"_(?:notifiers?(?:_list)?|list|hooks?|handlers?)$")


def _stem(name: str) -> str:
    return _LIST_SUFFIX.sub("", name)


def _comment_above(facts: FileFacts, src: SourceFile, line: int) -> bool:
    """Is there a comment ending on the line above ``line`` (or on ``line`` itself)? Lines
    holding only a reviewbot mark (``ruleid:``/``ok:`` in examples, ``reviewbot: ignore``)
    are stepped over: they say nothing to a reader."""
    above = line - 1
    while above > 0 and _re("mark").match(src.line(above)):
        above -= 1
    return any(c.end_line == above or c.line == line for c in facts.comments)


def _hook_points(ctx: PatchContext, path: str, src: SourceFile,
                 facts: FileFacts, types: Sequence[str]) -> dict[str, str]:
    """Hook points the file already has, stem -> where it was seen: its notifier lists, and
    the ``qemu_add_X_notifier``-style functions its known text and hunk headers name. When
    the post-image is rebuilt from hunks, the tree's copy of the file is read as well."""
    out: dict[str, str] = {}
    for gv in facts.globals:
        if gv.type.strip() in types:
            out.setdefault(_stem(gv.name), f"{gv.type.strip()} {gv.name} at {path}:{gv.line}")
    tree = ctx.tree
    if src.partial and tree is not None:
        tree_text = tree.read_text(path)
        if tree_text is not None:
            code = code_of(tree_text)
            for m in _re("hook_decl").finditer(code.blank):
                out.setdefault(_stem(m.group(1)), f"{m.group(1)} at {path}:"
                                                  f"{code.line_of(m.start())} in the tree")
    api = _re("hook_api")
    for n, text in enumerate(src.lines, start=1):
        for m in api.finditer(text):
            out.setdefault(m.group(1), f"{m.group(0)}() at {path}:{n}")
    for fd in ctx.patch.files:
        if fd.target_path == path:
            for h in fd.hunks:
                for m in api.finditer(h.section):
                    out.setdefault(m.group(1), f"{m.group(0)}() in the hunk header "
                                               f"'@@ ... @@ {h.section.strip()}'")
    return out


@primitive("undocumented-hook-list", scope="patch", params=("types",))
def undocumented_hook_list(ctx: PatchContext, rule: Rule) -> Iterable[Finding]:
    """An added file-scope notifier list whose name extends a hook point the file already
    has (``foo_late_notifiers`` beside ``foo_notifiers``) with no comment right above it."""
    types = tuple(rule.params.get("types", HOOK_LIST_TYPES))
    def declares_one(added: list[list[str]]) -> bool:
        return any(t in line for hunk in added for line in hunk for t in types)

    for path, src in _c_files(ctx, C_FILES, declares_one):
        facts = ctx.facts(path)
        if facts is None:
            continue
        points: dict[str, str] | None = None
        for gv in facts.globals:
            if gv.extern or gv.type.strip() not in types or not ctx.changed(path, gv.line):
                continue
            if _comment_above(facts, src, gv.line):
                continue
            if points is None:
                points = _hook_points(ctx, path, src, facts, types)
            stem = _stem(gv.name)
            siblings = sorted(other for other in points
                              if len(other) >= 4 and other != stem
                              and (stem.startswith(other + "_") or stem.endswith("_" + other)))
            if not siblings:
                continue
            yield rule.finding(
                ctx, path=path, line=gv.line, code=_code_line(src, gv.line), anchor=gv.name,
                evidence=[f"existing hook point '{o}': {points[o]}" for o in siblings],
                name=gv.name, other=siblings[0], type=gv.type.strip())
