"""The a2-coordination scenarios, played through a real MCP session with real Codex workers."""

from pytest_bdd import scenarios

scenarios("a2-coordination.feature")
