"""Whether this run is CI, where a missing dependency fails the test instead of skipping it.

CI runs ``.ci/run``, which sets ``PESAGUARD_TEST_POSTGRES_URL`` (and CI platforms set ``CI``).
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def under_ci() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("PESAGUARD_TEST_POSTGRES_URL"))


def missing(what: str, fix: str) -> NoReturn:
    """Fail under CI, skip elsewhere: ``what`` is not available; ``fix`` says how to get it."""
    if under_ci():
        pytest.fail(f"{what} is missing under CI: {fix}")
    pytest.skip(f"{what} is missing ({fix})", allow_module_level=True)
