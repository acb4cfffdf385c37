"""Where reviewbot keeps its caches (the tree index, the loaded rule packs).

``$REVIEWBOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/reviewbot``, else ``~/.cache/reviewbot``;
never inside the user's repository. A module of its own so that a plain patch check can ask
for it without importing the tree index.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    env = os.environ.get("REVIEWBOT_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "reviewbot"
