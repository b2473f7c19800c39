"""Fresh homes for install tests: a new ``HOME``, Codex CLI commands run in it, and the set-ups users make.

Every test here starts from nothing, as a new user does: no ``~/.codex``, no skills, no servers.
Commands are bounded by a timeout and read no terminal, so a hang fails the test instead of the run.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio.to_thread

from codex_subagents.codex_home.skill import packaged_skill
from codex_subagents.commands.demo import BossSetup, serve_options
from codex_subagents.core.config import find_codex

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SELECTOR = "codex-subagents@codex-subagents"


@dataclass(frozen=True)
class Home:
    """A fresh user home: ``HOME`` (Codex then uses ``HOME/.codex``) and a ``bin`` directory first on ``PATH``."""

    path: Path
    bin: Path

    @property
    def codex_home(self) -> Path:
        """Where Codex keeps this user's config, skills and plugins (no ``CODEX_HOME`` is set)."""
        return self.path / ".codex"

    @property
    def env(self) -> dict[str, str]:
        """The environment of a process this user starts."""
        path = os.pathsep.join([str(self.bin), os.environ.get("PATH", "")])
        inherited = {name: value for name, value in os.environ.items() if name != "CODEX_HOME"}
        return {**inherited, "HOME": str(self.path), "PATH": path}

    def run(self, argv: Sequence[str], *, cwd: Path = PROJECT_ROOT, timeout: float = 60) -> str:
        """Run a command as this user, without a terminal; return its stdout, failing on a non-zero exit."""
        done = subprocess.run(
            argv, cwd=cwd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
        assert done.returncode == 0, f"{shlex.join(argv)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def shim(self, name: str, script: str) -> Path:
        """Put an executable ``name`` on this user's ``PATH`` running the ``sh`` ``script``."""
        path = self.bin / name
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)
        return path


def make_home(root: Path) -> Home:
    """Create an empty home under ``root`` with the pinned Codex CLI on its ``PATH`` as ``codex``."""
    home = Home(root / "home", root / "bin")
    home.path.mkdir(parents=True)
    home.bin.mkdir(parents=True)
    (home.bin / "codex").symlink_to(find_codex())
    return home


def uvx_script(options: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """A ``uvx`` stand-in for ``uvx codex-subagents serve``: it runs this checkout's server with ``options``.

    It refuses anything else, so a plugin that starts the server another way fails loudly.
    """
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in (env or {}).items())
    serve = shlex.join([sys.executable, "-m", "codex_subagents", "serve", *options])
    return (
        f'[ "$*" = "codex-subagents serve" ] || {{ echo "unexpected: uvx $*" >&2; exit 64; }}\n{exports}exec {serve}\n'
    )


def merge_keys(config: Path, table: str, keys: str) -> None:
    """Add ``keys`` (TOML lines) to the existing ``[table]`` of ``config``, right under its header.

    This is the manual step a user does after ``codex mcp add``: a second header would be a duplicate key.
    """
    header = f"[{table}]\n"
    text = config.read_text()
    assert text.count(header) == 1, text
    config.write_text(text.replace(header, header + keys.strip() + "\n"))


async def install_plugin(home: Home, setup: BossSetup | None = None) -> None:
    """Install the plugin from this checkout with the Codex CLI, as a user does; serve with the demo's options."""
    if setup is not None:
        setup.model.prepare_codex_home(home.codex_home)
        home.shim("uvx", uvx_script(serve_options(setup)))
    for argv in (
        ["codex", "plugin", "marketplace", "add", str(PROJECT_ROOT)],
        ["codex", "plugin", "add", PLUGIN_SELECTOR],
    ):
        await anyio.to_thread.run_sync(lambda argv=argv: home.run(argv))


GOOD_KEYS = """
tool_timeout_sec = 300
default_tools_approval_mode = "approve"
required = true
"""


def doctor(home: Home, *args: str, cwd: Path, path: str | None = None) -> tuple[int, dict[str, dict[str, str]]]:
    """Run doctor as this user in ``cwd`` (with another ``PATH`` if given); return its exit code and checks by name."""
    done = subprocess.run(
        [sys.executable, "-m", "codex_subagents", "doctor", "--json", *args],
        cwd=cwd,
        env={**home.env, "PATH": path or home.env["PATH"]},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stdout)
    assert report["ok"] == (done.returncode == 0), done.stderr
    return done.returncode, {check["name"]: check for check in report["checks"]}


def by_hand(home: Home, keys: str = GOOD_KEYS, *options: str) -> None:
    """Install the command, codex mcp add the server (``serve options``), merge ``keys``, copy the skill."""
    (home.bin / "codex-subagents").symlink_to(Path(sys.executable).parent / "codex-subagents")
    home.run(["codex", "mcp", "add", "codex-subagents", "--", "codex-subagents", "serve", *options])
    merge_keys(home.codex_home / "config.toml", "mcp_servers.codex-subagents", keys)
    shutil.copytree(packaged_skill(), home.codex_home / "skills" / "codex-subagents")
