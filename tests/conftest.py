"""Fixtures shared by every test: the async backend and the project's paths."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio, the backend the MCP SDK and Codex's stdio client use."""
    return "asyncio"
