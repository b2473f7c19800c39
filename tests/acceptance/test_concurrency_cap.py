"""The concurrency-cap scenarios, played through a real MCP session with real Codex workers."""

from pytest_bdd import scenarios

scenarios("concurrency-cap.feature")
