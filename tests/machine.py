"""What some tests need of the machine (a headless browser, a sandbox that starts), and what follows where it lacks.

On a developer's machine such a test is skipped, saying what is missing. Under ``CI=true`` it fails instead:
a CI run that passes must have run every check, so a runner without Chromium or user namespaces is a broken
runner, not a green one.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def lacking(reason: str) -> NoReturn:
    """Skip the test because the machine cannot run it, or fail it under ``CI=true``."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true, and this machine cannot run the test: {reason}", pytrace=False)
    pytest.skip(reason)
