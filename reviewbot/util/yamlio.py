"""YAML reading for reviewbot's own data files: libyaml when present (start-up time counts)."""

from __future__ import annotations

from typing import Any


def safe_loader() -> Any:
    """libyaml's safe loader when PyYAML was built with it (same results and marks, several
    times faster), else the pure-Python one."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` through :func:`safe_loader`."""
    import yaml

    return yaml.load(text, Loader=safe_loader())
