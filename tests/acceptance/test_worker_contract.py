"""The worker contract scenarios, played through a real MCP session with real Codex workers."""

from pytest_bdd import scenarios

scenarios("worker-contract.feature")
