"""Fixtures for the scripted model tests: the example scripts and the Codex CLI under test."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from codex_subagents.scripted_model import Script, load_scripts
from codex_under_test import codex_under_test

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE / "scripts" / "example.toml"


@pytest.fixture
def example_path() -> Path:
    """The example script file, which documents the format and drives the real-codex test."""
    return EXAMPLE


@pytest.fixture
def example() -> tuple[Script, ...]:
    """The scripts of the example file, in declaration order."""
    return load_scripts(EXAMPLE)


@pytest.fixture
def codex_bin() -> Path:
    """The Codex CLI under test, installed by ``scripts/setup`` under the repository's ``node_modules``."""
    codex = codex_under_test()
    if not codex.exists():
        pytest.fail(f"{codex} is missing; run scripts/setup to install the pinned Codex CLI")
    return codex


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A fresh, empty git repository (real git) for a worker to change, as its resolved path."""
    path = tmp_path / "repo"
    git.Repo.init(path).close()
    return path.resolve()
