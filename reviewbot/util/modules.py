"""Where an installed package is, without importing it or importlib.util."""

from __future__ import annotations

from typing import Any


def find_spec(name: str) -> Any:
    """``importlib.util.find_spec`` for a top-level package, through the path finder first:
    importing importlib.util (with what it imports) is 3-4 ms of a check, which reads where
    tree-sitter-c's grammar and ast-grep are on every run."""
    from importlib.machinery import PathFinder

    spec = PathFinder.find_spec(name)
    if spec is None:  # another finder (an editable install's, say): the general search
        import importlib.util

        spec = importlib.util.find_spec(name)
    return spec
