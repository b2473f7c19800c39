"""Doctor's checks one by one, on real files and real processes, for the cases a fresh home cannot show."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from codex_subagents.codex_home.codex_setup import (
    Registration,
    find_registration,
    installed_plugins,
    skill_copies,
    skill_roots,
)
from codex_subagents.commands.doctor import (
    Check,
    Setup,
    _run,  # pyright: ignore[reportPrivateUsage]
    check_codex,
    check_platform,
    check_sandbox,
    check_server,
    check_state_dir,
    run_checks,
    run_doctor,
)
from codex_subagents.core.compat import (
    NEWEST_TESTED,
    OLDEST_TESTED,
    REPORT_URL,
    Version,
    dotted,
    install_command,
    range_text,
)


def setup_in(tmp_path: Path, **changes: object) -> Setup:
    """A set-up whose homes and state live under ``tmp_path``."""
    base = Setup(tmp_path / ".codex", tmp_path, tmp_path, tmp_path / "state", timeout_s=30)
    return replace(base, **changes)


def script(tmp_path: Path, name: str, body: str) -> Path:
    """An executable ``sh`` script."""
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def config(tmp_path: Path, text: str) -> None:
    """Write ``tmp_path/.codex/config.toml``."""
    (tmp_path / ".codex").mkdir(exist_ok=True)
    (tmp_path / ".codex" / "config.toml").write_text(text)


def test_a_command_that_outlives_its_bound_is_killed_and_reported() -> None:
    """Doctor never hangs: a command past its bound is killed with its process group; one that cannot start is named."""
    assert _run(["sleep", "30"], timeout_s=0.2) == (-1, "no answer within 0.2 s")
    code, output = _run(["/nonexistent/codex"], timeout_s=5)
    assert code == -1 and output.startswith("cannot start /nonexistent/codex")


@pytest.mark.parametrize(
    ("release", "status"),
    [
        (OLDEST_TESTED, "ok"),
        ((OLDEST_TESTED[0], OLDEST_TESTED[1], OLDEST_TESTED[2] + 1), "ok"),
        (NEWEST_TESTED, "ok"),
        ((NEWEST_TESTED[0], NEWEST_TESTED[1], NEWEST_TESTED[2] + 1), "warn"),
        ((NEWEST_TESTED[0], NEWEST_TESTED[1] + 1, 0), "warn"),
        ((OLDEST_TESTED[0], OLDEST_TESTED[1] - 1, 0), "fail"),
    ],
)
def test_codex_is_graded_against_the_tested_range(tmp_path: Path, release: Version, status: str) -> None:
    """Both ends and what lies between pass, a newer release warns with where to report, an older one fails."""
    codex = script(tmp_path, "codex", f'echo "codex-cli {dotted(release)}"\n')
    check, cli = check_codex(setup_in(tmp_path, codex=str(codex)))
    assert (check.status, cli, range_text() in check.detail) == (status, codex.resolve(), True)
    fixes = {"ok": None, "warn": f"if a job fails on it, report the Codex version and the job's events at {REPORT_URL}"}
    assert check.fix == fixes.get(status, install_command())


def test_a_broken_or_missing_codex_is_a_failure(tmp_path: Path) -> None:
    """A CLI whose --version fails, or that is missing, fails."""
    broken = script(tmp_path, "broken", "exit 3\n")
    check, cli = check_codex(setup_in(tmp_path, codex=str(broken)))
    assert (check.status, cli) == ("fail", None)
    assert check_codex(setup_in(tmp_path, codex=str(tmp_path / "missing")))[0].status == "fail"
    assert check_sandbox(setup_in(tmp_path), None).status == "warn"


def test_windows_is_refused_and_nothing_else_is_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On an unsupported platform doctor reports only that, with the way out."""
    monkeypatch.setattr(sys, "platform", "win32")
    checks = run_checks(setup_in(tmp_path))
    assert [(check.name, check.status) for check in checks] == [("platform", "fail")]
    assert "WSL2" in (check_platform().fix or "")


def test_a_disabled_server_and_an_unset_timeout_are_reported(tmp_path: Path) -> None:
    """enabled = false fails; a missing tool_timeout_sec warns, since Codex's default differs between versions."""
    config(
        tmp_path,
        '[mcp_servers.codex-subagents]\ncommand = "git"\nenabled = false\nrequired = true\n'
        '[mcp_servers.codex-subagents.tools.codex_rollback]\napproval_mode = "approve"\n',
    )
    checks = {check.name: check.status for check in check_server(setup_in(tmp_path))}
    assert checks == {
        "server": "ok",
        "command": "ok",
        "enabled": "fail",
        "tool timeout": "warn",
        "approval": "ok",
        "required": "ok",
    }


def test_a_per_tool_approval_overrides_the_default() -> None:
    """A rollback-specific approval mode decides, whatever the server's default."""
    entry: dict[str, object] = {"default_tools_approval_mode": "approve", "tools": {"codex_rollback": {}}}
    assert Registration(Path("c"), entry).rollback_approved()
    entry["tools"] = {"codex_rollback": {"approval_mode": "prompt"}}
    assert not Registration(Path("c"), entry).rollback_approved()


def test_serve_options_are_read_in_both_spellings() -> None:
    """--max-wait 400 and --max-wait=400 both name the wait cap; a flag without a value names nothing."""
    assert Registration(Path("c"), {"args": ["serve", "--max-wait", "400"]}).option("--max-wait") == "400"
    assert Registration(Path("c"), {"args": ["serve", "--max-wait=30"]}).option("--max-wait") == "30"
    assert Registration(Path("c"), {"args": ["serve", "--max-wait"]}).option("--max-wait") is None
    assert Registration(Path("c"), {"tool_timeout_sec": True}).number("tool_timeout_sec") is None


def test_plugins_that_are_disabled_or_serve_nothing_register_nothing(tmp_path: Path) -> None:
    """A disabled plugin, and an enabled one whose manifest names no server file, register nothing."""
    home = tmp_path / ".codex"
    skills_only = home / "plugins" / "cache" / "m" / "skills" / "1.0.0" / ".codex-plugin"
    skills_only.mkdir(parents=True)
    (skills_only / "plugin.json").write_text('{"name": "skills", "skills": "./skills/"}')
    off = home / "plugins" / "cache" / "m" / "off" / "1.0.0"
    off.mkdir(parents=True)
    settings: dict[str, object] = {"plugins": {"skills@m": {"enabled": True}, "off@m": {"enabled": False}}}
    assert list(installed_plugins(home, settings)) == [skills_only.parent]
    assert find_registration(home, settings, "codex-subagents") is None


@pytest.mark.parametrize(("manifest", "servers"), [("{not json", None), ('{"mcpServers": "./.mcp.json"}', "[1, 2]")])
def test_a_broken_plugin_manifest_is_broken_for_the_doctor_not_unregistered(
    tmp_path: Path, manifest: str, servers: str | None
) -> None:
    """An enabled plugin whose manifest or server file cannot be read fails the server check as broken, naming it."""
    home = tmp_path / ".codex"
    folder = home / "plugins" / "cache" / "m" / "broken" / "1.0.0"
    (folder / ".codex-plugin").mkdir(parents=True)
    (folder / ".codex-plugin" / "plugin.json").write_text(manifest)
    if servers is not None:
        (folder / ".mcp.json").write_text(servers)
    home.joinpath("config.toml").write_text('[plugins."broken@m"]\nenabled = true\n')
    [check] = check_server(setup_in(tmp_path))
    assert (check.name, check.status) == ("server", "fail")
    named = ".codex-plugin/plugin.json" if servers is None else ".mcp.json"
    assert check.detail.startswith("broken: ") and named in check.detail, check.detail
    assert check.fix is not None and "install its plugin again" in check.fix


def test_a_state_dir_to_be_created_in_a_writable_folder_is_fine(tmp_path: Path) -> None:
    """The server creates its state directory on first use; an existing one must take a file (a file cannot)."""
    assert check_state_dir(setup_in(tmp_path, state_dir=tmp_path / "a" / "b")).status == "ok"
    (tmp_path / "s").mkdir()
    assert check_state_dir(setup_in(tmp_path, state_dir=tmp_path / "s")).detail.endswith("is writable")
    (tmp_path / "f").write_text("")
    assert check_state_dir(setup_in(tmp_path, state_dir=tmp_path / "f")).status == "fail"


def test_the_text_report_shows_each_fix_and_the_verdict(tmp_path: Path) -> None:
    """Without --json each check is a line, a failed one is followed by its fix, and the verdict comes last."""
    lines: list[str] = []
    code = run_doctor(setup_in(tmp_path), out=lines.append)
    assert code == 1
    assert any(line.startswith("fail  server:") for line in lines)
    assert any(line.strip().startswith("fix: codex plugin marketplace add") for line in lines)
    assert lines[-1].startswith("Some checks failed")
    report: list[str] = []
    run_doctor(setup_in(tmp_path), json_output=True, out=report.append)
    assert not json.loads(report[0])["ok"]
    assert Check.model_validate(json.loads(report[0])["checks"][0]).name == "platform"


def test_a_skill_folder_scanned_by_two_roots_is_counted_once(tmp_path: Path) -> None:
    """A boss started in the home directory sees ~/.codex/skills both as the project's and the user's root."""
    installed = tmp_path / ".codex" / "skills" / "codex-subagents"
    installed.mkdir(parents=True)
    (installed / "SKILL.md").write_text("---\nname: codex-subagents\n---\n")
    roots = skill_roots(tmp_path / ".codex", tmp_path, tmp_path, {})
    assert len(roots) == len(set(roots))
    assert skill_copies(roots) == [installed.resolve()]
