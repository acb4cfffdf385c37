"""Score the rules: against annotated series (``corpus/``) and against mined review comments.

An annotated series is ``NAME.mbox`` with ``NAME.expect.yaml`` beside it (format in
docs/ARCHITECTURE.md). The expect file lists exactly the findings that must be reported;
every other finding is a false positive, every listed one not reported a false negative.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reviewbot.errors import InputError

if TYPE_CHECKING:
    from reviewbot.context import Options
    from reviewbot.finding import Finding
    from reviewbot.review.mine import MinedComment
    from reviewbot.rules.model import Rule

_T = TypeVar("_T")

EXPECT_SUFFIX = ".expect.yaml"
MAIL_SUFFIXES = (".mbox", ".eml", ".patch", ".mbox.gz")


@dataclass(frozen=True)
class Expected:
    rule: str
    patch: int | None
    path: str | None
    line: int | None

    def matches(self, f: Finding) -> bool:
        return (f.rule == self.rule and _patch_index(f) == self.patch
                and f.path == self.path and f.line == self.line)

    def __str__(self) -> str:
        return f"{self.rule} patch {self.patch} {_place(self.path, self.line)}"


@dataclass(frozen=True)
class Silent:
    rule: str  # "*" for any rule
    patch: int | None
    path: str | None
    line: int | None = None

    def matches(self, f: Finding) -> bool:
        return ((self.rule in ("*", f.rule)) and _patch_index(f) == self.patch
                and (self.path is None or f.path == self.path)
                and (self.line is None or f.line == self.line))

    def __str__(self) -> str:
        rule = "any rule" if self.rule == "*" else self.rule
        return f"{rule} patch {self.patch} {self.path or '(any path)'}" + (
            f":{self.line}" if self.line is not None else "")


@dataclass(frozen=True)
class Case:
    """One annotated series: the mail file, its expect file and what they say."""

    mail: Path
    expect: Path
    findings: tuple[Expected, ...]
    silent: tuple[Silent, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.mail)


@dataclass(frozen=True)
class CaseResult:
    case: Case
    true_positives: tuple[Finding, ...]
    false_positives: tuple[Finding, ...]
    false_negatives: tuple[Expected, ...]
    silent_broken: tuple[tuple[Silent, Finding], ...] = ()

    def silent_broken_by(self, f: Finding) -> list[Silent]:
        return [s for s, g in self.silent_broken if g is f]


@dataclass
class RuleScore:
    rule: str
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


def describe(f: Finding) -> str:
    """``rule patch N path:line`` — how the eval listings name a finding."""
    return f"{f.rule} patch {_patch_index(f)} {_place(f.path, f.line)}"


def _patch_index(f: Finding) -> int | None:
    return f.patch.index if f.patch is not None else None


def _place(path: str | None, line: int | None) -> str:
    if path is None:
        return "(series/mail)"
    return f"{path}:{line}" if line is not None else path


# --- reading the corpus ---------------------------------------------------------------------

def find_cases(paths: Sequence[str | Path]) -> list[Case]:
    """Every annotated series under ``paths`` (directories searched recursively)."""
    expects: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            expects.extend(sorted(p.rglob(f"*{EXPECT_SUFFIX}")))
        elif p.name.endswith(EXPECT_SUFFIX):
            expects.append(p)
        elif p.is_file():
            sibling = _expect_for(p)
            if not sibling.is_file():
                raise InputError(f"{p}: no {sibling.name} beside it")
            expects.append(sibling)
        else:
            raise InputError(f"{p}: no such file or directory")
    return [load_case(e) for e in expects]


def _expect_for(mail: Path) -> Path:
    name = mail.name
    for suffix in MAIL_SUFFIXES:
        if name.endswith(suffix):
            return mail.with_name(name[: -len(suffix)] + EXPECT_SUFFIX)
    return mail.with_name(mail.stem + EXPECT_SUFFIX)


def load_case(expect: Path) -> Case:
    import yaml

    from reviewbot.util import yamlio

    stem = expect.name[: -len(EXPECT_SUFFIX)]
    mails = [expect.with_name(stem + s) for s in MAIL_SUFFIXES
             if expect.with_name(stem + s).is_file()]
    if not mails:
        raise InputError(f"{expect}: no {stem}.mbox (or .eml/.patch) beside it")
    try:
        data = yamlio.safe_load(expect.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{expect}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{expect}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{expect}: expected a mapping with 'findings' (and 'silent', 'options')")
    unknown = set(data) - {"findings", "silent", "options", "description"}
    if unknown:
        raise InputError(f"{expect}: unknown key(s): {', '.join(sorted(unknown))}")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise InputError(f"{expect}: 'options' must be a mapping")
    findings = tuple(_entry(expect, "findings", i, e, Expected)
                     for i, e in enumerate(_list(expect, data, "findings")))
    silent = tuple(_entry(expect, "silent", i, e, Silent)
                   for i, e in enumerate(_list(expect, data, "silent")))
    return Case(mail=mails[0], expect=expect, findings=findings, silent=silent, options=options)


def _list(expect: Path, data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{expect}: '{key}' must be a list")
    return value


def _entry(expect: Path, key: str, i: int, e: Any, kind: Callable[..., _T]) -> _T:
    where = f"{expect}: {key}[{i}]"
    if not isinstance(e, dict) or not isinstance(e.get("rule"), str):
        raise InputError(f"{where}: expected a mapping with 'rule', 'patch', 'path', 'line'")
    extra = set(e) - {"rule", "patch", "path", "line"}
    if extra:
        raise InputError(f"{where}: unknown key(s): {', '.join(sorted(extra))}")
    for k in ("patch", "line"):
        if e.get(k) is not None and (not isinstance(e[k], int) or isinstance(e[k], bool)):
            raise InputError(f"{where}: '{k}' must be a number or null")
    if e.get("path") is not None and not isinstance(e["path"], str):
        raise InputError(f"{where}: 'path' must be a string or null")
    return kind(rule=e["rule"], patch=e.get("patch"), path=e.get("path"), line=e.get("line"))


def case_options(case: Case) -> Options:
    from reviewbot.context import Options

    o = case.options
    known = {"tree", "qemu_version", "all", "enable", "disable", "series_version"}
    unknown = set(o) - known
    if unknown:
        raise InputError(f"{case.expect}: unknown option(s): {', '.join(sorted(unknown))}")
    tree = o.get("tree")
    if tree is not None:
        tree = str((case.expect.parent / str(tree)).resolve())
    version = o.get("qemu_version")
    return Options(
        tree=tree, qemu_version=None if version is None else str(version),
        all_files=bool(o.get("all", False)),
        enabled=frozenset(o.get("enable") or ()), disabled=frozenset(o.get("disable") or ()),
    )


# --- scoring -------------------------------------------------------------------------------

def score_case(case: Case, findings: Iterable[Finding]) -> CaseResult:
    pending = list(case.findings)
    tp: list[Finding] = []
    fp: list[Finding] = []
    broken: list[tuple[Silent, Finding]] = []
    for f in findings:
        hit = next((e for e in pending if e.matches(f)), None)
        if hit is not None:
            pending.remove(hit)
            tp.append(f)
            continue
        fp.append(f)
        broken.extend((s, f) for s in case.silent if s.matches(f))
    return CaseResult(case, tuple(tp), tuple(fp), tuple(pending), tuple(broken))


def check_case(case: Case, rules: Sequence[Rule] | None = None) -> CaseResult:
    from reviewbot.engine import run_check
    from reviewbot.ingest import load

    version = case.options.get("series_version")
    series = load(str(case.mail), series_version=int(version) if version is not None else None)
    result = run_check(series, case_options(case), rules)
    return score_case(case, result.findings)


def rule_scores(results: Iterable[CaseResult], rule_ids: Iterable[str] = ()) -> list[RuleScore]:
    """One row per rule (every rule that ran, and every rule seen in the corpus)."""
    table: dict[str, RuleScore] = {r: RuleScore(r) for r in rule_ids}

    def row(rule: str) -> RuleScore:
        return table.setdefault(rule, RuleScore(rule))

    for r in results:
        for f in r.true_positives:
            row(f.rule).tp += 1
        for f in r.false_positives:
            row(f.rule).fp += 1
        for e in r.false_negatives:
            row(e.rule).fn += 1
    return [table[k] for k in sorted(table)]


def total(scores: Iterable[RuleScore]) -> RuleScore:
    out = RuleScore("all")
    for s in scores:
        out.tp += s.tp
        out.fp += s.fp
        out.fn += s.fn
    return out


@dataclass(frozen=True)
class Thresholds:
    min_precision: float = 0.0
    min_recall: float = 0.0


def load_thresholds(path: Path) -> Thresholds:
    import yaml

    from reviewbot.util import yamlio

    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected min_precision / min_recall")
    unknown = set(data) - {"min_precision", "min_recall"}
    if unknown:
        raise InputError(f"{path}: unknown key(s): {', '.join(sorted(unknown))}")
    values: dict[str, float] = {}
    for key in ("min_precision", "min_recall"):
        if key in data:
            values[key] = _fraction(f"{path}: {key}", data[key])
    return Thresholds(**values)


def _fraction(where: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise InputError(f"{where}: expected a number between 0 and 1, got {value!r}")
    return float(value)


def below(scores: Iterable[RuleScore], limits: Thresholds) -> list[str]:
    """Why the scores fail the thresholds, one line a rule; empty when they pass."""
    out: list[str] = []
    for s in scores:
        if s.precision is not None and s.precision < limits.min_precision:
            out.append(f"{s.rule}: precision {s.precision:.2f} < {limits.min_precision:.2f}")
        if s.recall is not None and s.recall < limits.min_recall:
            out.append(f"{s.rule}: recall {s.recall:.2f} < {limits.min_recall:.2f}")
    return out


def format_table(scores: Sequence[RuleScore]) -> str:
    rows = [*scores, total(scores)]
    width = max([len("rule"), *(len(s.rule) for s in rows)])
    lines = [f"{'rule':<{width}}  {'TP':>4} {'FP':>4} {'FN':>4}  {'precision':>9}  {'recall':>6}"]
    for s in rows:
        if s.rule == "all":
            lines.append("-" * len(lines[0]))
        lines.append(f"{s.rule:<{width}}  {s.tp:>4} {s.fp:>4} {s.fn:>4}  "
                     f"{_ratio(s.precision):>9}  {_ratio(s.recall):>6}")
    return "\n".join(lines)


def corpus_document(results: Sequence[CaseResult], scores: Sequence[RuleScore],
                    limits: Thresholds, failures: Sequence[str]) -> dict[str, Any]:
    """``eval --format json``: the scores, and each finding or expectation with its verdict."""
    from reviewbot.report.json import finding_dict

    def score(s: RuleScore) -> dict[str, Any]:
        return {"rule": s.rule, "tp": s.tp, "fp": s.fp, "fn": s.fn,
                "precision": s.precision, "recall": s.recall}

    cases = []
    for r in results:
        cases.append({
            "name": r.case.name,
            "true_positives": [finding_dict(f) for f in r.true_positives],
            "false_positives": [{**finding_dict(f),
                                 "breaks_silent": [str(s) for s in r.silent_broken_by(f)]}
                                for f in r.false_positives],
            "false_negatives": [str(e) for e in r.false_negatives],
        })
    return {"version": 1, "cases": cases, "rules": [score(s) for s in scores],
            "total": score(total(scores)),
            "thresholds": {"min_precision": limits.min_precision,
                           "min_recall": limits.min_recall},
            "below_threshold": list(failures)}


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


# --- mined review comments vs findings -----------------------------------------------------

@dataclass(frozen=True)
class ReviewHit:
    comment: MinedComment
    findings: tuple[Finding, ...]  # findings at the same place; empty for a miss

    @property
    def hit(self) -> bool:
        return bool(self.findings)

    def as_dict(self) -> dict[str, object]:
        from reviewbot.report.json import finding_dict

        return {**self.comment.as_dict(), "hit": self.hit,
                "findings": [finding_dict(f) for f in self.findings]}


def hits(comment: MinedComment, f: Finding) -> bool:
    """Does finding ``f`` point where the reviewer's comment points?"""
    if f.patch is None or f.patch.message_id != comment.patch_id:
        return False
    if comment.path is None:
        return f.path is None
    if f.path != comment.path:
        return False
    if comment.line_start is None or comment.line_end is None or f.line is None:
        return True
    if (f.side == "old") != (comment.side == "old"):
        return False
    end = f.end_line if f.end_line is not None else f.line
    return f.line <= comment.line_end and end >= comment.line_start


def review_coverage(comments: Sequence[MinedComment],
                    findings: Sequence[Finding]) -> list[ReviewHit]:
    return [ReviewHit(c, tuple(f for f in findings if hits(c, f))) for c in comments]
