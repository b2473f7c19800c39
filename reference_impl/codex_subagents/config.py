"""The server's settings, parsed once at start-up, and where the Codex CLI is found.

Settings are a frozen dataclass so that every module reads the same values and
nothing changes them while jobs run. `find_codex` follows one documented order:
the explicit path, then ``node_modules/.bin/codex`` of the project, then ``PATH``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
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

_PROJECT_ROOT = Path(__file__).resolve().parents[2]


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
        if self.cap < 1:
            raise ConfigError(f"cap must be at least 1, got {self.cap!r}.")
        if self.queue_limit < 0:
            raise ConfigError(f"queue limit must be 0 or more, got {self.queue_limit!r}.")
        for item in self.worker_config:
            if "=" not in item or item.startswith(("-", "=")):
                raise ConfigError(f"worker config {item!r} is not KEY=VALUE; write e.g. model=gpt-5.5.")


def find_codex(explicit: str | os.PathLike[str] | None = None, *, search_from: Sequence[Path] = ()) -> Path:
    """Return the Codex CLI to run workers with.

    The order is: ``explicit`` (a flag or ``CODEX_SUBAGENTS_CODEX``), then
    ``node_modules/.bin/codex`` under each of ``search_from``, the current
    directory and this project's checkout, then ``codex`` on ``PATH``.

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
    for base in (*search_from, Path.cwd(), _PROJECT_ROOT):
        candidate = base / "node_modules" / ".bin" / "codex"
        if os.access(candidate, os.X_OK):
            return candidate.resolve()
    on_path = shutil.which("codex")
    if on_path is not None:
        return Path(on_path).resolve()
    raise ConfigError(
        "No Codex CLI found (looked at --codex, CODEX_SUBAGENTS_CODEX, node_modules/.bin/codex and PATH); "
        f"install it with `{install_command()}` or run this project's scripts/setup."
    )
