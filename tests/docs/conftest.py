"""Fixtures of the documentation tests: the site built once, and the browser that reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
from built_site import INSTALL_CHROMIUM, build_site, chromium

from machine import lacking


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site, built strictly from outside the repository."""
    return build_site(tmp_path_factory.mktemp("docs") / "site")


@pytest.fixture(scope="session")
def browser() -> str:
    """Headless Chromium; where there is none the test is skipped (failed under CI), saying what to install."""
    found = chromium()
    if found is None:
        lacking(INSTALL_CHROMIUM)
    return found
