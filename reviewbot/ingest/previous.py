"""The previous version of a series, for ``followup`` and ``check --previous``: a file,
maildir or git range, or a message-id fetched from a public inbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewbot.model import Series


def load_previous(previous: str, new: Series, *, repo: str | None = None,
                  previous_version: int | None = None, base: str | None = None) -> Series:
    """PREVIOUS: a file, maildir or git range, or a message-id fetched from a public inbox.
    With several versions in it, the newest one older than ``new``."""
    from pathlib import Path

    from reviewbot.ingest import load

    source = previous
    if not (Path(repo or ".") / previous).exists() and "@" in previous and ".." not in previous:
        source = str(_fetch(previous, base))
    old = load(source, cwd=repo, series_version=previous_version)
    if previous_version is None and new.repo is None and old.version >= new.version:
        older = [v for v in old.versions_available if v < new.version]
        if older:
            old = load(source, cwd=repo, series_version=max(older))
    return old


def _fetch(msgid: str, base: str | None) -> object:
    import os
    import sys

    from reviewbot.ingest.lore import BASE_ENV, DEFAULT_BASE, fetch_thread

    def log(message: str) -> None:
        sys.stderr.write(f"reviewbot: {message}\n")

    return fetch_thread(msgid, base or os.environ.get(BASE_ENV) or DEFAULT_BASE, log=log)
