"""The concurrency-cap scenarios, played through a real MCP session with real Codex workers."""

from __future__ import annotations

from harness import Json
from pytest_bdd import given, parsers, scenarios, when

from world import World, final, spawn

scenarios("concurrency-cap.feature")


@given(parsers.parse('a worker script "{name}" that keeps running commands until released'))
def keeps_running(world: World, name: str) -> None:
    """A busy worker: one short command per turn, far more turns than any budget of the scenario allows."""
    turns: list[Json] = [{"shell": "sleep 0.2", "login": False} for _ in range(100)]
    world.add_script(name, [*turns, {"hold": True, **final([])}])


@when(
    parsers.re(
        r'the boss spawns a worker running script "(?P<name>[^"]+)" with (?P<budget>wall_timeout_s|idle_timeout_s) '
        r"(?P<seconds>\d+(?:\.\d+)?)$"
    )
)
def spawn_with_budget(world: World, name: str, budget: str, seconds: str) -> None:
    """Spawn one worker with a time budget of its own."""
    budgets: dict[str, object] = {budget: float(seconds)}
    spawn(world, name, None, **budgets)
