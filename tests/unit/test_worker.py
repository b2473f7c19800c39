"""A worker's command line carries the contract and cannot be steered by the boss's strings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from codex_subagents.core.config import Settings
from codex_subagents.core.errors import InputError
from codex_subagents.jobs.journal import JobRequest
from codex_subagents.jobs.worker import (
    JOB_ENV,
    OUTPUT_SCHEMA,
    PREAMBLE,
    SCOPE_RULE,
    Launch,
    build_launch,
    check_config,
    check_name,
    enclosing_job,
    job_request,
    preamble,
)
from codex_subagents.worktree.location import Worktree


def launch(
    settings: Settings,
    environ: dict[str, str],
    *,
    prompt: str = "task",
    model: str | None = None,
    config: Sequence[str] = (),
    sandbox: str = "workspace-write",
) -> Launch:
    """Build a worker launch with plain defaults for what a test does not vary."""
    return build_launch(
        settings,
        job_id="j-1",
        label="lbl",
        prompt=prompt,
        cwd=Path("/repo"),
        sandbox=sandbox,
        model=model,
        profile=None,
        config=config,
        schema_path=Path("/s/schema.json"),
        last_message_path=Path("/s/last.txt"),
        environ=environ,
    )


def test_the_prompt_goes_to_stdin_after_the_contract_never_to_argv(tmp_path: Path) -> None:
    """The task travels on stdin behind the preamble; argv ends with `-` and holds no user text."""
    settings = Settings(codex=Path("/bin/codex"), state_dir=tmp_path)
    built = launch(
        settings,
        {"HOME": str(tmp_path)},
        prompt="--version; do the task",
        model="gpt-5.5",
        config=["model_reasoning_effort=low"],
    )
    assert built.argv[-1] == "-"
    assert not any("do the task" in arg for arg in built.argv)
    assert built.stdin.decode().startswith('You are a worker agent (job j-1, "lbl")')
    assert built.stdin.decode().endswith("--version; do the task")
    assert "--disable" in built.argv and "multi_agent_v2" in built.argv
    assert "--model=gpt-5.5" in built.argv
    assert built.argv[built.argv.index("model_reasoning_effort=low") - 1] == "-c"
    assert built.env[JOB_ENV] == "j-1"


def test_isolated_workers_get_a_private_codex_home_and_ignore_user_config(tmp_path: Path) -> None:
    """In isolated mode workers neither read the user's config nor share its CODEX_HOME."""
    settings = Settings(codex=Path("/bin/codex"), state_dir=tmp_path, isolated=True)
    built = launch(settings, {"CODEX_HOME": "/home/me/.codex"}, sandbox="read-only")
    assert "--ignore-user-config" in built.argv
    assert built.env["CODEX_HOME"] == str(tmp_path / "codex-home")


def test_this_server_is_disabled_in_workers_only_where_the_user_configured_it(tmp_path: Path) -> None:
    """Entries running codex-subagents are disabled by name; a config without one adds nothing."""
    home = tmp_path / "codex"
    home.mkdir()
    (home / "config.toml").write_text(
        '[mcp_servers.subagents]\ncommand = "codex-subagents"\nargs = ["serve"]\n'
        '[mcp_servers.docs]\ncommand = "docs-server"\n'
    )
    settings = Settings(codex=Path("/bin/codex"), state_dir=tmp_path)
    argv = launch(settings, {"CODEX_HOME": str(home)}).argv
    assert "mcp_servers.subagents.enabled=false" in argv
    assert not any("docs" in arg for arg in argv)
    assert not any("mcp_servers" in arg for arg in launch(settings, {"CODEX_HOME": str(tmp_path / "none")}).argv)


def plugin_home(home: Path, servers: dict[str, object], *, enabled: bool = True) -> None:
    """A Codex home with one plugin installed from the marketplace ``market``, declaring ``servers``."""
    folder = home / "plugins" / "cache" / "market" / "codex-subagents" / "0.1.0"
    (folder / ".codex-plugin").mkdir(parents=True, exist_ok=True)
    (folder / ".codex-plugin" / "plugin.json").write_text(json.dumps({"mcpServers": "./.mcp.json"}))
    (folder / ".mcp.json").write_text(json.dumps({"mcpServers": servers}))
    flag = "true" if enabled else "false"
    (home / "config.toml").write_text(f'[plugins."codex-subagents@market"]\nenabled = {flag}\n')


def test_a_plugins_server_is_shadowed_by_a_disabled_entry_of_its_name(tmp_path: Path) -> None:
    """Codex reads plugins from the user's file alone, so a worker gets a disabled entry in place of the plugin's."""
    home = tmp_path / "codex"
    plugin_home(home, {"codex-subagents": {"command": "uvx", "args": ["codex-subagents", "serve"]}, "x y": {}})
    settings = Settings(codex=Path("/bin/codex"), state_dir=tmp_path)
    argv = launch(settings, {"CODEX_HOME": str(home)}).argv
    shadow = 'mcp_servers.codex-subagents={command = "codex-subagents", enabled = false}'
    assert argv[argv.index(shadow) - 1] == "-c"
    assert [arg for arg in argv if arg.startswith("mcp_servers")] == [shadow]
    plugin_home(home, {"codex-subagents": {"command": "uvx"}}, enabled=False)
    assert not any("mcp_servers" in arg for arg in launch(settings, {"CODEX_HOME": str(home)}).argv)


@pytest.mark.parametrize("isolated", [False, True])
def test_every_worker_has_the_boss_skill_switched_off_by_name(tmp_path: Path, isolated: bool) -> None:
    """Whether or not it reads the user's config, a worker lists no codex-subagents skill, its own or the plugin's."""
    settings = Settings(codex=Path("/bin/codex"), state_dir=tmp_path, isolated=isolated)
    argv = launch(settings, {"HOME": str(tmp_path)}).argv
    (rule,) = [arg for arg in argv if arg.startswith("skills.config=")]
    assert argv[argv.index(rule) - 1] == "-c"
    assert rule == (
        'skills.config=[{name = "codex-subagents", enabled = false}, '
        '{name = "codex-subagents:codex-subagents", enabled = false}]'
    )


@pytest.mark.parametrize("value", ["--help", "-m", "", "gpt 5", "a;rm -rf /", "x" * 200])
def test_models_and_profiles_that_look_like_flags_are_refused(value: str) -> None:
    """Only plain names pass, so a model can never become an option; the refusal names the value."""
    with pytest.raises(InputError, match=re.escape(f"model {value!r}")):
        check_name("model", value)


@pytest.mark.parametrize(
    ("item", "why"),
    [
        ("sandbox_mode=danger-full-access", "sandbox_mode"),
        ("mcp_servers.codex-subagents.enabled=true", "mcp_servers.codex-subagents.enabled"),
        ("features.multi_agent=true", "features.multi_agent"),
        ('notify=["sh", "-c", "touch /tmp/pwned"]', "notify"),
        ("model_provider=elsewhere", "model_provider"),
        ('model_providers.elsewhere.base_url="https://example.com"', "model_providers.elsewhere.base_url"),
        ("shell_environment_policy.inherit=all", "shell_environment_policy.inherit"),
        ("model.x=1", "model.x"),
        ('skills.config=[{name="codex-subagents",enabled=true}]', "skills.config"),
        ("--dangerously-bypass-approvals-and-sandbox", "KEY=VALUE"),
        ("noequals", "KEY=VALUE"),
    ],
)
def test_per_spawn_config_cannot_loosen_the_contract(item: str, why: str) -> None:
    """Any key outside the allowlist (sandbox, MCP servers, features, notify, providers), and flag-like items, are
    refused; the refusal names the key and how to set it on the server instead."""
    with pytest.raises(InputError, match=re.escape(why)) as refused:
        check_config([item])
    assert "KEY=VALUE" in str(refused.value) or "--worker-config" in str(refused.value)


def test_per_spawn_config_passes_the_model_keys() -> None:
    """The keys of how the worker's model thinks and answers pass as given."""
    items = ["model=gpt-5.5", "model_reasoning_effort=low", "model_reasoning_summary=none", "model_verbosity=low"]
    assert check_config(items) == items


def test_the_output_schema_asks_for_summary_and_modified_files() -> None:
    """The schema is strict: both fields required, nothing else allowed."""
    assert OUTPUT_SCHEMA["required"] == ["summary", "modifiedFiles"]
    assert OUTPUT_SCHEMA["additionalProperties"] is False


def test_a_process_below_a_worker_knows_it_is_inside_that_job() -> None:
    """The job marker is found on an ancestor even when the process's own environment lacks it."""
    code = (
        "import subprocess, sys;"
        "print(subprocess.run([sys.executable, '-c', "
        "'from codex_subagents.jobs.worker import enclosing_job; print(enclosing_job(environ={}))'],"
        "env={k: v for k, v in __import__('os').environ.items() if k != 'CODEX_SUBAGENTS_JOB_ID'},"
        "capture_output=True, text=True).stdout.strip())"
    )
    env = {**os.environ, JOB_ENV: "j-parent"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "j-parent"
    assert enclosing_job(environ={}) is None
    assert json.loads(json.dumps(OUTPUT_SCHEMA))["type"] == "object"


def test_a_scoped_worker_is_told_the_paths_it_owns_in_its_first_rule() -> None:
    """The first rule names the owned paths as seen from the worker's cwd; the rest of the contract is unchanged."""
    plain = PREAMBLE.format(job_id="j-1", label="lbl")
    text = preamble("j-1", "lbl", ["a.py", "../docs/**"])
    first_rule = text[text.index("1. ") : text.index("\n2. ")]
    assert "own, relative to your working directory (globs allowed): a.py, ../docs/**." in first_rule
    assert text.replace(SCOPE_RULE.format(owned="a.py, ../docs/**"), "") == plain
    assert preamble("j-1", "lbl") == plain


def spawn_request(settings: Settings, cwd: str, scope: Sequence[str] = ()) -> JobRequest:
    """Check a plain spawn in ``cwd`` of the worktree ``/repo`` with ``scope``."""
    return job_request(
        settings,
        Path(cwd),
        Worktree(Path("/repo"), Path("/repo/.git"), Path("/repo/.git"), ignore_case=False),
        prompt="task",
        label=None,
        sandbox=None,
        model=None,
        profile=None,
        config=(),
        wall_timeout_s=None,
        idle_timeout_s=None,
        scope=scope,
    )


def test_a_spawn_records_its_worktree_and_its_scope_from_the_worktree_top(tmp_path: Path) -> None:
    """The scope given from the cwd is stored from the root, and one leading outside the worktree is refused."""
    settings = Settings(codex=Path("/bin/codex"), state_dir=tmp_path)
    request = spawn_request(settings, "/repo/sub", ["*.py", "../docs"])
    assert (request.root, request.scope) == ("/repo", ["sub/*.py", "docs"])
    assert (spawn_request(settings, "/repo").root, spawn_request(settings, "/repo").scope) == ("/repo", [])
    with pytest.raises(InputError):
        spawn_request(settings, "/repo", ["../x"])
