"""The server's settings, parsed once at start-up, and where the Codex CLI is found.

Settings are a frozen dataclass so that every module reads the same values and
nothing changes them while jobs run. `find_codex` runs the Codex the user runs:
the explicit path, then ``CODEX_SUBAGENTS_CODEX``, then ``PATH``; this project's
pinned copy comes first only when the server runs from this project's checkout
(its tests and demo). A binary found in the repository the workers work in is
never run: that repository, or a model writing in it, does not pick the program
that runs every worker.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .compat import install_command
from .errors import ConfigError

Sandbox = Literal["read-only", "workspace-write", "danger-full-access"]

DEFAULT_ENV_ALLOWLIST: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "TMPDIR",
    "TZ",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "CODEX_HOME",
    "CODEX_*",
    "OPENAI_*",
    "AZURE_OPENAI_*",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "XDG_*",
)
"""What a worker inherits by default: what Codex needs to run, find its config and reach its model."""

_COUNTS: dict[str, tuple[str, int, int]] = {"cap": ("--cap", 1, 256), "queue_limit": ("--queue-limit", 0, 100_000)}
"""The whole-number settings, each with its flag and its inclusive range."""
_SECONDS: dict[str, tuple[str, float]] = {
    "wall_timeout_s": ("--wall-timeout", 86_400),
    "idle_timeout_s": ("--idle-timeout", 86_400),
    "max_wait_s": ("--max-wait", 3_600),
    "kill_grace_s": ("--kill-grace", 600),
}
"""The durations, each with its flag and its longest value; each must be more than 0 (0 would stop every job at
once, or make codex_wait_any a busy loop)."""
_SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

_PACKAGE = Path(__file__).resolve().parents[1]
_PROJECT_ROOT = _PACKAGE.parents[1]
"""This project's checkout, when the package runs from one (``reference_impl/codex_subagents``)."""


@dataclass(frozen=True)
class Settings:
    """Everything the server is told at start-up.

    Attributes:
        cap: how many workers may run at once.
        queue_limit: how many jobs may wait (for a slot, or for their scope) before spawn is refused.
        state_dir: where job journals and the output schema live.
        allow_roots: directories a worker's cwd must lie in.
        worker_config: ``KEY=VALUE`` overrides passed to every worker as ``-c``.
        isolated: give workers an empty private CODEX_HOME and ``--ignore-user-config``.
        allow_danger_full_access: accept ``sandbox="danger-full-access"`` in spawns.
        codex: the Codex CLI to run.
        default_sandbox: the sandbox a spawn gets when it names none.
        server_name: this server's name in the user's Codex config, disabled in workers.
        env_allowlist: environment names (``*`` suffix for prefixes) workers inherit.
        wall_timeout_s: default wall-clock budget of a job.
        idle_timeout_s: default budget of silence (no output line) before a job is stopped.
        max_wait_s: the longest one codex_wait_any may block, below Codex's tool timeout.
        max_line_bytes: the longest worker output line kept whole.
        kill_grace_s: how long a cancelled worker gets between SIGTERM and SIGKILL.
    """

    cap: int = 4
    queue_limit: int = 64
    state_dir: Path = field(default_factory=lambda: Path(".codex-subagents"))
    allow_roots: tuple[Path, ...] = ()
    worker_config: tuple[str, ...] = ()
    isolated: bool = False
    allow_danger_full_access: bool = False
    codex: Path = field(default_factory=lambda: Path("codex"))
    default_sandbox: Sandbox = "workspace-write"
    server_name: str = "codex-subagents"
    env_allowlist: tuple[str, ...] = DEFAULT_ENV_ALLOWLIST
    wall_timeout_s: float = 3600.0
    idle_timeout_s: float = 600.0
    max_wait_s: float = 240.0
    max_line_bytes: int = 4 * 1024 * 1024
    kill_grace_s: float = 3.0

    def __post_init__(self) -> None:
        for name, (flag, low, high) in _COUNTS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"{flag} must be from {low} to {high}, got {value!r}; pass a number in that range.")
        for name, (flag, high) in _SECONDS.items():
            value = getattr(self, name)
            if not 0 < value <= high:
                raise ConfigError(
                    f"{flag} must be more than 0 and at most {high} seconds, got {value!r}; "
                    "pass a number in that range."
                )
        if not _SERVER_NAME.fullmatch(self.server_name):
            raise ConfigError(
                f"--server-name {self.server_name!r} is not a Codex MCP server name; use letters, digits, _ and -."
            )
        for item in self.worker_config:
            if "=" not in item or item.startswith(("-", "=")):
                raise ConfigError(f"worker config {item!r} is not KEY=VALUE; write e.g. model=gpt-5.5.")


def find_codex(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the Codex CLI to run workers with: the one the user runs.

    The order is: ``explicit`` (the ``--codex`` flag), then ``CODEX_SUBAGENTS_CODEX``,
    then, only when this package runs from this project's checkout, the checkout's
    pinned ``node_modules/.bin/codex``, then ``codex`` on ``PATH``. The current
    directory and the allowed roots are never searched.

    Raises:
        ConfigError: when no usable codex executable is found.
    """
    chosen = explicit or os.environ.get("CODEX_SUBAGENTS_CODEX")
    if chosen:
        path = Path(chosen).expanduser()
        found = shutil.which(str(path))
        if found is None:
            raise ConfigError(
                f"The Codex CLI {str(path)!r} is not an executable file; "
                f"give the right path with --codex, or install it: {install_command()}."
            )
        return Path(found).resolve()
    pinned = _PROJECT_ROOT / "node_modules" / ".bin" / "codex"
    if _PACKAGE == _PROJECT_ROOT / "reference_impl" / "codex_subagents" and os.access(pinned, os.X_OK):
        return pinned.resolve()
    on_path = shutil.which("codex")
    if on_path is not None:
        return Path(on_path).resolve()
    raise ConfigError(
        "No Codex CLI found (looked at --codex, CODEX_SUBAGENTS_CODEX and PATH); "
        f"install it with `{install_command()}`, or name it with --codex."
    )
