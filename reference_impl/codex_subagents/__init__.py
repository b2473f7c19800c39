"""Run several Codex worker agents at once, safely, in one git worktree.

The MCP server (`build_server`) offers job primitives and A2 coordination tools;
the boss, Codex steered by the ``codex-subagents`` skill, decides how to use them.
"""

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
