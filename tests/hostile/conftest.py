"""Hypothesis profiles for the hostile-input suite.

``ci`` (the default, and what CI loads): few examples, derandomized, so the whole suite stays
well under three minutes on two cores. ``deep`` is for hunting by hand:
``HYPOTHESIS_PROFILE=deep .venv/bin/python -m pytest tests/hostile``.
"""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

_SLOW_OK = (HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example)

settings.register_profile(
    "ci",
    max_examples=25,
    # A hang is caught by the hard alarm in fuzzkit.no_hang; the deadline flags slow examples.
    deadline=timedelta(seconds=20),
    derandomize=True,
    database=None,
    suppress_health_check=_SLOW_OK,
    print_blob=True,
)
settings.register_profile(
    "deep",
    max_examples=1000,
    deadline=timedelta(seconds=20),
    suppress_health_check=_SLOW_OK,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
