"""Run several Codex worker agents at once, safely, in one git worktree.

The MCP server (`build_server`) offers job primitives and A2 coordination tools;
the boss, Codex steered by the ``codex-subagents`` skill, decides how to use them.

The names below are imported when first used: importing a part of this package
(a command, a baseline's child process) must not import the server and the MCP
SDK, which take about a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core.config import Settings, find_codex
    from .core.errors import (
        BaselineError,
        ConfigError,
        GitError,
        InputError,
        JobStateError,
        QueueFullError,
        RecursionRefusedError,
        SubagentsError,
        UnknownJobError,
        WorktreeBusyError,
    )
    from .server.tools import build_server
    from .supervision.supervisor import JobSupervisor

__all__ = [
    "BaselineError",
    "ConfigError",
    "GitError",
    "InputError",
    "JobStateError",
    "JobSupervisor",
    "QueueFullError",
    "RecursionRefusedError",
    "Settings",
    "SubagentsError",
    "UnknownJobError",
    "WorktreeBusyError",
    "build_server",
    "find_codex",
]
_HOMES = {
    "Settings": ".core.config",
    "find_codex": ".core.config",
    "build_server": ".server.tools",
    "JobSupervisor": ".supervision.supervisor",
}
"""The module of each public name that is not an error (the errors live in ``.core.errors``)."""


def __getattr__(name: str) -> object:
    """Import a public name from its module when it is first asked for."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES.get(name, ".core.errors"), __name__), name)
