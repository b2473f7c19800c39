"""The unit tests' shared fixture: settings whose Codex is the fake worker."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_subagents.core.config import Settings
from unit.fakes import fake_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose codex is the fake worker, with the state dir in a temporary directory."""
    return fake_settings(tmp_path)
