"""Reading back reviewbot's cache files (facts index, saved tree graph).

They are pickles, and a plain ``pickle.load`` runs whatever callable a pickle names: anyone
who can put a file in the cache directory (a shared ``REVIEWBOT_CACHE_DIR``, a CI cache
restored from another branch) could run code in the next ``check``. These loaders resolve
only the classes reviewbot itself writes there; a pickle naming anything else fails with
``pickle.UnpicklingError``, which every caller already treats as a damaged cache.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
from typing import IO

# besides every dataclass of reviewbot.c.facts (a file's facts)
_CLASSES = frozenset({
    ("reviewbot.c.index", "_Cache"),
    ("reviewbot.c.graph", "_Record"),
    ("reviewbot.c.digraph", "DiGraph"),
})


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        if (module, name) in _CLASSES:
            found: type = super().find_class(module, name)
            return found
        if module == "reviewbot.c.facts" and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type) and dataclasses.is_dataclass(found):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not something reviewbot caches")


def load(fh: IO[bytes]) -> object:
    """The next object of a cache file."""
    return _Unpickler(fh).load()


def loads(data: bytes) -> object:
    return _Unpickler(io.BytesIO(data)).load()
