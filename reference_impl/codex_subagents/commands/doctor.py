"""``codex-subagents doctor``: check what breaks a first run, and say how to fix each thing found.

Each check is a small function returning a `Check` (ok, warn or fail, what was found, the fix).
It reads the user's Codex set-up through `codex_setup` and runs the Codex CLI and git only with
a timeout and no stdin, in their own process group, so a check never hangs without a terminal.
The exit code is 1 when any check fails; warnings are reported and do not fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from ..codex_home.codex_setup import Registration, find_registration, read_config, skill_copies, skill_roots
from ..codex_home.skill import packaged_skill, skill_files
from ..core.compat import NEWEST_TESTED, OLDEST_TESTED, REPORT_URL, dotted, install_command, parse_version, range_text
from ..core.config import Settings, find_codex
from ..core.errors import ConfigError

DEFAULT_MAX_WAIT_S = Settings().max_wait_s
_PLUGIN_INSTALL = (
    "codex plugin marketplace add codex-subagents/codex-subagents && codex plugin add codex-subagents@codex-subagents"
)


class Check(BaseModel):
    """One finding: its name, whether it is fine, what was seen, and the next step when it is not."""

    name: str
    status: Literal["ok", "warn", "fail"]
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class Setup:
    """Where to look: the user's homes, the directory a boss would start in, the server's name and state."""

    codex_home: Path
    home: Path
    cwd: Path
    state_dir: Path
    server_name: str = "codex-subagents"
    codex: str | None = None
    timeout_s: float = 60.0


def _run(argv: Sequence[str], *, timeout_s: float, cwd: Path | None = None) -> tuple[int, str]:
    """Run a command without stdin in its own session; return its exit code and output (-1: no answer, no start)."""
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    except OSError as exc:
        return -1, f"cannot start {argv[0]}: {exc}"
    with process:
        try:
            output, _ = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return -1, f"no answer within {timeout_s:g} s"
    return process.returncode, output


def check_platform() -> Check:
    """Linux and macOS are supported; Windows is not (process groups, signals and the sandbox differ)."""
    if sys.platform.startswith("linux") or sys.platform == "darwin":
        return Check(name="platform", status="ok", detail=sys.platform)
    return Check(
        name="platform",
        status="fail",
        detail=f"{sys.platform} is not supported",
        fix="run Codex and codex-subagents on Linux or macOS (on Windows: inside WSL2)",
    )


def check_git(setup: Setup) -> Check:
    """The server records baselines and rolls back with git."""
    fix = "install git (https://git-scm.com/downloads) and put it on PATH"
    if shutil.which("git") is None:
        return Check(name="git", status="fail", detail="git is not on PATH", fix=fix)
    code, output = _run(["git", "--version"], timeout_s=setup.timeout_s)
    status = "ok" if code == 0 else "fail"
    return Check(name="git", status=status, detail=output.strip(), fix=None if code == 0 else fix)


def check_codex(setup: Setup) -> tuple[Check, Path | None]:
    """Find the Codex CLI the workers run and grade its version against the tested range."""
    fix = install_command()
    try:
        codex = find_codex(setup.codex)
    except ConfigError as exc:
        return Check(name="codex", status="fail", detail=str(exc), fix=fix), None
    code, output = _run([str(codex), "--version"], timeout_s=setup.timeout_s)
    found = parse_version(output) if code == 0 else None
    if found is None:
        detail = f"{codex} --version failed: {output.strip()[-300:]}"
        return Check(name="codex", status="fail", detail=detail, fix=fix), None
    detail = f"{codex}: {dotted(found)}; tested: {range_text()}"
    if found < OLDEST_TESTED:
        detail += f" (older than {dotted(OLDEST_TESTED)}, which the server needs)"
        return Check(name="codex", status="fail", detail=detail, fix=fix), codex
    if found > NEWEST_TESTED:
        detail += " (newer than the newest tested: it is expected to work)"
        fix = f"if a job fails on it, report the Codex version and the job's events at {REPORT_URL}"
        return Check(name="codex", status="warn", detail=detail, fix=fix), codex
    return Check(name="codex", status="ok", detail=detail), codex


def check_sandbox(setup: Setup, codex: Path | None) -> Check:
    """Run a no-op command in Codex's sandbox; it fails where user namespaces are blocked (some containers)."""
    if codex is None:
        return Check(name="sandbox", status="warn", detail="not checked: no usable Codex CLI")
    with tempfile.TemporaryDirectory(prefix="codex-subagents-doctor-") as scratch:
        code, output = _run([str(codex), "sandbox", "--", "true"], timeout_s=setup.timeout_s, cwd=Path(scratch))
    if code == 0:
        return Check(name="sandbox", status="ok", detail="codex sandbox -- true ran")
    return Check(
        name="sandbox",
        status="fail",
        detail=f"codex sandbox -- true failed ({code}): {output.strip()[-300:]}",
        fix="inside a container, rely on it for isolation: start the boss with --sandbox danger-full-access "
        "and the server with serve --allow-danger-full-access (workers then spawn with sandbox=danger-full-access)",
    )


def check_server(setup: Setup) -> list[Check]:
    """The server is registered (config.toml or a plugin), enabled, required, and may run every tool."""
    try:
        config = read_config(setup.codex_home)
    except tomllib.TOMLDecodeError as exc:
        fix = "fix the file by hand: one [mcp_servers.codex-subagents] table, no repeated key or header"
        detail = f"{setup.codex_home / 'config.toml'} does not parse: {exc}"
        return [Check(name="server", status="fail", detail=detail, fix=fix)]
    try:
        found = find_registration(setup.codex_home, config, setup.server_name)
    except ConfigError as exc:
        fix = "fix the plugin file named, or install its plugin again; if it is this server's: " + _PLUGIN_INSTALL
        return [Check(name="server", status="fail", detail=f"broken: {exc}", fix=fix)]
    if found is None:
        fix = f"{_PLUGIN_INSTALL}; or: codex mcp add {setup.server_name} -- codex-subagents serve"
        detail = f"no [mcp_servers.{setup.server_name}] in {setup.codex_home / 'config.toml'} nor in an enabled plugin"
        return [Check(name="server", status="fail", detail=detail, fix=fix)]
    where = f"in {found.source}"
    table = f"the [mcp_servers.{setup.server_name}] table {where}" if found.source.suffix == ".toml" else where
    checks = [Check(name="server", status="ok", detail=f"{setup.server_name} registered {where}")]
    checks.append(_command_check(found))
    if found.entry.get("enabled") is False:
        checks.append(
            Check(name="enabled", status="fail", detail="enabled = false", fix=f"set enabled = true in {table}")
        )
    checks.append(_timeout_check(found, table))
    if found.rollback_approved():
        checks.append(Check(name="approval", status="ok", detail='codex_rollback runs without asking ("approve")'))
    else:
        detail = "codex exec cannot ask for approval, so codex_rollback (a destructive tool) would fail"
        fix = f'add default_tools_approval_mode = "approve" to {table}'
        checks.append(Check(name="approval", status="fail", detail=detail, fix=fix))
    if found.entry.get("required") is True:
        checks.append(Check(name="required", status="ok", detail="Codex waits for the server before the first turn"))
    else:
        detail = "not required: a slow start leaves the first turn without the tools, and a crash is silent"
        checks.append(Check(name="required", status="fail", detail=detail, fix=f"add required = true to {table}"))
    return checks


def _command_check(found: Registration) -> Check:
    """Codex starts the server with the entry's command, which must be on PATH (uvx for the plugin)."""
    command = str(found.entry.get("command", ""))
    if command and shutil.which(command) is not None:
        return Check(name="command", status="ok", detail=f"{command} is {shutil.which(command)}")
    fix = (
        "install uv, which provides uvx: https://docs.astral.sh/uv/getting-started/installation/"
        if command == "uvx"
        else f"install the package (uv tool install codex-subagents) or put {command!r} on PATH"
    )
    return Check(name="command", status="fail", detail=f"the server's command {command!r} is not on PATH", fix=fix)


def _timeout_check(found: Registration, table: str) -> Check:
    """Codex must wait for a tool longer than the server's longest codex_wait_any."""
    given = found.option("--max-wait")
    cap = float(given) if given is not None and re.fullmatch(r"\d+(\.\d*)?", given) else DEFAULT_MAX_WAIT_S
    timeout = found.number("tool_timeout_sec")
    fix = f"add tool_timeout_sec = {int(cap) + 60} to {table}"
    if timeout is None:
        detail = f"tool_timeout_sec is not set; Codex's default may be below codex_wait_any's {cap:g} s"
        return Check(name="tool timeout", status="warn", detail=detail, fix=fix)
    if timeout <= cap:
        detail = f"tool_timeout_sec = {timeout:g} s is not above codex_wait_any's {cap:g} s: long waits would fail"
        return Check(name="tool timeout", status="fail", detail=detail, fix=fix)
    return Check(name="tool timeout", status="ok", detail=f"tool_timeout_sec = {timeout:g} s > {cap:g} s")


def check_skill(setup: Setup) -> Check:
    """The skill is where Codex finds it, and no copy found differs from this package's (a stale copy)."""
    config: Mapping[str, object] = {}
    with suppress(tomllib.TOMLDecodeError):
        config = read_config(setup.codex_home)
    copies = skill_copies(skill_roots(setup.codex_home, setup.home, setup.cwd, config))
    current = skill_files(packaged_skill())
    stale = [copy for copy in copies if skill_files(copy) != current]
    if stale:
        detail = f"stale copies shadow the current skill: {', '.join(map(str, stale))}"
        fix = "remove them, or replace them with this version: codex-subagents skill install --force --dest " + str(
            stale[0].parent
        )
        return Check(name="skill", status="fail", detail=detail, fix=fix)
    if not copies:
        detail = "the codex-subagents skill is in no folder Codex scans"
        fix = f"{_PLUGIN_INSTALL}; or: codex-subagents skill install (copies it to ~/.codex/skills)"
        return Check(name="skill", status="fail", detail=detail, fix=fix)
    return Check(name="skill", status="ok", detail=f"current copy at {', '.join(map(str, copies))}")


def check_state_dir(setup: Setup) -> Check:
    """The server writes job journals to its state directory (created on first use, so its parent must allow it)."""
    fix = "give serve --state-dir a writable directory, or fix the permissions"
    target = setup.state_dir
    existing = next(folder for folder in (target, *target.parents) if folder.exists())
    if existing != target:
        if existing.is_dir() and os.access(existing, os.W_OK | os.X_OK):
            return Check(name="state dir", status="ok", detail=f"{target} can be created in {existing}")
        return Check(name="state dir", status="fail", detail=f"{target} cannot be created in {existing}", fix=fix)
    try:
        with tempfile.NamedTemporaryFile(dir=target, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(name="state dir", status="fail", detail=f"{target}: {exc}", fix=fix)
    return Check(name="state dir", status="ok", detail=f"{target} is writable")


def run_checks(setup: Setup) -> list[Check]:
    """Run every check in order; on an unsupported platform, only that one."""
    platform = check_platform()
    if platform.status == "fail":
        return [platform]
    codex, cli = check_codex(setup)
    return [
        platform,
        check_git(setup),
        codex,
        check_sandbox(setup, cli),
        *check_server(setup),
        check_skill(setup),
        check_state_dir(setup),
    ]


def run_doctor(setup: Setup, *, json_output: bool = False, out: Callable[[str], None] = print) -> int:
    """Print the checks (as text, or one JSON object) and return 1 if any failed, else 0."""
    checks = run_checks(setup)
    failed = any(check.status == "fail" for check in checks)
    if json_output:
        out(json.dumps({"ok": not failed, "checks": [check.model_dump() for check in checks]}))
    else:
        for check in checks:
            out(f"{check.status:>4}  {check.name}: {check.detail}")
            if check.fix and check.status != "ok":
                out(f"      fix: {check.fix}")
        out("All checks passed." if not failed else "Some checks failed: apply the fixes above, then run doctor again.")
    return 1 if failed else 0
