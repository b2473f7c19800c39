"""``codex-subagents doctor`` names each thing that breaks a first run, and passes on a correct set-up.

Every set-up is built for real in a fresh home: the server registered with the Codex CLI (plugin or
``codex mcp add``), keys merged into its table, skills copied where Codex scans. Doctor runs as a
user runs it, a process without a terminal, and its ``--json`` report is read.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from fresh_home import GOOD_KEYS, by_hand, doctor, install_plugin, make_home

from codex_subagents.codex_home.skill import packaged_skill
from codex_subagents.core.compat import install_command
from machine import lacking

pytestmark = pytest.mark.codex


def failed(checks: dict[str, dict[str, str]]) -> list[str]:
    """The names of the failed checks."""
    return [name for name, check in checks.items() if check["status"] == "fail"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository a boss would start in."""
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


def test_doctor_passes_on_a_plugin_install(tmp_path: Path, repo: Path) -> None:
    """The plugin alone gives a set-up with nothing to fix."""
    home = make_home(tmp_path)
    anyio.run(install_plugin, home)
    home.shim("uvx", "exit 0\n")
    code, checks = doctor(home, cwd=repo)
    assert (code, failed(checks)) == (0, [])
    assert {"codex", "sandbox", "server", "command", "tool timeout", "approval", "required", "skill"} <= set(checks)


def test_doctor_fails_a_plugin_install_without_uvx(tmp_path: Path, repo: Path) -> None:
    """The plugin starts the server with uvx; without uv installed, doctor says to install it."""
    home = make_home(tmp_path)
    anyio.run(install_plugin, home)
    env_path = [part for part in home.env["PATH"].split(":") if not (Path(part) / "uvx").exists()]
    code, checks = doctor(home, cwd=repo, path=":".join(env_path))
    assert (code, failed(checks)) == (1, ["command"])
    assert "install uv" in checks["command"]["fix"]


def test_doctor_passes_on_a_set_up_made_by_hand(tmp_path: Path, repo: Path) -> None:
    """codex mcp add, the keys merged into its table and the copied skill give a set-up with nothing to fix."""
    home = make_home(tmp_path)
    by_hand(home)
    code, checks = doctor(home, cwd=repo)
    assert (code, failed(checks)) == (0, [])


def test_doctor_fails_a_codex_cli_older_than_the_tested_range(tmp_path: Path, repo: Path) -> None:
    """An older Codex CLI is named, with the install command of the newest tested one."""
    home = make_home(tmp_path)
    by_hand(home)
    old = home.shim("old-codex", 'echo "codex-cli 0.150.2"\n')
    code, checks = doctor(home, "--codex", str(old), cwd=repo)
    assert (code, failed(checks)) == (1, ["codex"])
    assert "0.150.2" in checks["codex"]["detail"]
    assert checks["codex"]["fix"] == install_command()


def test_doctor_fails_when_the_server_is_not_registered(tmp_path: Path, repo: Path) -> None:
    """A fresh home has neither the server nor the skill; the fixes name the plugin install."""
    home = make_home(tmp_path)
    code, checks = doctor(home, cwd=repo)
    assert (code, failed(checks)) == (1, ["server", "skill"])
    assert "codex plugin add codex-subagents@codex-subagents" in checks["server"]["fix"]


@pytest.mark.parametrize(
    ("keys", "failing"),
    [
        ('tool_timeout_sec = 60\ndefault_tools_approval_mode = "approve"\nrequired = true', "tool timeout"),
        ("tool_timeout_sec = 300\nrequired = true", "approval"),
        ('tool_timeout_sec = 300\ndefault_tools_approval_mode = "prompt"\nrequired = true', "approval"),
        ('tool_timeout_sec = 300\ndefault_tools_approval_mode = "approve"', "required"),
    ],
)
def test_doctor_fails_each_missing_or_wrong_server_setting(tmp_path: Path, repo: Path, keys: str, failing: str) -> None:
    """A short tool timeout, no approval for codex_rollback, or a server not required is named with its fix."""
    home = make_home(tmp_path)
    by_hand(home, keys)
    code, checks = doctor(home, cwd=repo)
    assert (code, failed(checks)) == (1, [failing])
    assert "in " + str(home.codex_home / "config.toml") in checks[failing]["fix"]


def test_doctor_fails_a_wait_cap_raised_above_the_tool_timeout(tmp_path: Path, repo: Path) -> None:
    """A server started with --max-wait 400 needs a tool timeout above 400 s."""
    home = make_home(tmp_path)
    by_hand(home, GOOD_KEYS, "--max-wait", "400")
    code, checks = doctor(home, cwd=repo)
    assert (code, failed(checks)) == (1, ["tool timeout"])
    assert "tool_timeout_sec = 460" in checks["tool timeout"]["fix"]


def test_doctor_fails_a_config_with_a_second_server_header(tmp_path: Path, repo: Path) -> None:
    """A second [mcp_servers.codex-subagents] header breaks the config: Codex refuses to run, doctor says why."""
    home = make_home(tmp_path)
    by_hand(home)
    config = home.codex_home / "config.toml"
    config.write_text(config.read_text() + "\n[mcp_servers.codex-subagents]\nrequired = true\n")
    code, checks = doctor(home, cwd=repo)
    assert (code, failed(checks)) == (1, ["sandbox", "server"])
    assert "does not parse" in checks["server"]["detail"]
    assert "duplicate key" in checks["sandbox"]["detail"]


def test_doctor_fails_a_stale_skill_that_shadows_the_plugins(tmp_path: Path, repo: Path) -> None:
    """An old copy of the skill in ~/.agents/skills next to the plugin's is named as stale."""
    home = make_home(tmp_path)
    anyio.run(install_plugin, home)
    home.shim("uvx", "exit 0\n")
    stale = home.path / ".agents" / "skills" / "codex-subagents"
    shutil.copytree(packaged_skill(), stale)
    (stale / "SKILL.md").write_text((stale / "SKILL.md").read_text().replace("Boss workflow", "Old boss workflow"))
    code, checks = doctor(home, cwd=repo)
    assert (code, failed(checks)) == (1, ["skill"])
    assert str(stale) in checks["skill"]["detail"]
    assert checks["skill"]["fix"].endswith(f"--force --dest {stale.parent}")


def test_doctor_fails_a_state_dir_that_cannot_be_created(tmp_path: Path, repo: Path) -> None:
    """A state directory below a file cannot hold job journals."""
    home = make_home(tmp_path)
    by_hand(home)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, checks = doctor(home, "--state-dir", str(blocker / "state"), cwd=repo)
    assert (code, failed(checks)) == (1, ["state dir"])


def test_doctor_fails_without_git(tmp_path: Path, repo: Path) -> None:
    """Without git on PATH the git check fails (and so does Codex, which needs node from the same PATH)."""
    home = make_home(tmp_path)
    by_hand(home)
    code, checks = doctor(home, cwd=repo, path=str(home.bin))
    assert code == 1
    assert checks["git"]["status"] == "fail" and "install git" in checks["git"]["fix"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux namespaces")
def test_doctor_fails_a_sandbox_that_cannot_start(tmp_path: Path, repo: Path) -> None:
    """Where user namespaces are blocked (as in many containers) the sandbox check fails and names the flags."""
    home = make_home(tmp_path)
    by_hand(home)
    script = f"echo 0 > /proc/sys/user/max_user_namespaces && exec {sys.executable} -m codex_subagents doctor --json"
    if shutil.which("unshare") is None:
        lacking("util-linux's unshare is not on PATH")
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        lacking("unprivileged user namespaces are not available here")
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "sh", "-c", script],
        cwd=repo,
        env=home.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    checks = {check["name"]: check for check in json.loads(done.stdout)["checks"]}
    assert done.returncode == 1
    assert checks["sandbox"]["status"] == "fail"
    assert "--sandbox danger-full-access" in checks["sandbox"]["fix"]
