"""A rule: data loaded from ``rules/<pack>/<id>.yaml``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any, Protocol

from reviewbot.finding import Finding, PatchRef, Severity
from reviewbot.util.frozen import frozen


class _HasRef(Protocol):
    @property
    def ref(self) -> PatchRef | None: ...


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@frozen
class Rule:
    id: str
    pack: str
    severity: Severity
    check: str  # the name of a registered check primitive
    message: str  # str.format template; primitives fill the placeholders
    rationale: str
    fix: str
    origin: str  # the kind of review feedback and the area it comes from
    params: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    path: str = ""  # the YAML file
    line: int = 1  # line of the rule in that file
    examples: tuple[str, ...] = ()  # paths of the annotated example files
    title: str = ""  # one-line summary for listings; defaults to the message's first sentence

    def format_message(self, **args: Any) -> str:
        return self.message.format_map(_SafeDict(args))

    def finding(
        self,
        ctx: _HasRef | None,
        *,
        path: str | None = None,
        line: int | None = None,
        end_line: int | None = None,
        evidence: tuple[str, ...] | list[str] = (),
        code: str = "",
        anchor: str = "",
        side: str = "new",
        fix: str | None = None,
        patch: PatchRef | None = None,
        **message_args: Any,
    ) -> Finding:
        return Finding(
            rule=self.id,
            severity=self.severity,
            message=self.format_message(**message_args),
            path=path,
            line=line,
            end_line=end_line,
            patch=patch if patch is not None else (ctx.ref if ctx is not None else None),
            evidence=tuple(evidence),
            fix=self.fix.format_map(_SafeDict(message_args)) if fix is None else fix,
            code=code,
            anchor=anchor,
            side=side,
        )
