"""Hypothesis profiles for the property suite (issue 11).

``ci`` (the default) is deterministic: the same examples on every run, so a failure seen in
CI is the one a developer sees at home; ``dev`` explores new random examples each run, more
of them; ``HYPOTHESIS_PROFILE=dev`` selects it. Both allow the function-scoped Django
fixtures (the database is rolled back per test, not per example, which the properties below
take into account) and have no deadline: timings belong in ``bench/``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SHARED = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
    print_blob=True,
)

settings.register_profile("ci", _SHARED, derandomize=True, max_examples=40)
settings.register_profile("dev", _SHARED, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
