"""Fixtures of the documentation tests: the site built once, and the browser that reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from built_site import INSTALL_CHROMIUM, build_site, chromium
from devtools import Browser, chromium_session

from machine import lacking


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site, built strictly from outside the repository."""
    return build_site(tmp_path_factory.mktemp("docs") / "site")


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One headless Chromium for every page the tests read; where there is none the test is skipped (failed under
    CI), saying what to install."""
    found = chromium()
    if found is None:
        lacking(INSTALL_CHROMIUM)
    with chromium_session(found, tmp_path_factory.mktemp("chromium")) as session:
        yield session
