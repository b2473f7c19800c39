"""What the server relies on in the Codex CLI under test, each checked by name against that release.

A Codex release can rename an event field, drop a flag, stop reading a config key or a plugin manifest
field. Each test here asks the release itself (its ``--help``, its feature list, its config loader, its
plugin installer, a real worker run on the scripted model) about exactly what the server's code sends
or reads, and a failure names the release and the field. ``scripts/test-codex newest`` runs them against
the newest tested release.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import anyio
import pytest
from pydantic import BaseModel

from codex_subagents.codex_home.boss_only import SKILL_OFF
from codex_subagents.core.config import Settings
from codex_subagents.jobs import events
from codex_subagents.jobs.worker import build_launch, write_schema
from codex_subagents.scripted_model import ScriptedModel, load_scripts
from codex_under_test import PROJECT_ROOT, codex_under_test, release_name
from install.fresh_home import install_plugin, make_home

pytestmark = pytest.mark.codex

PLUGIN = PROJECT_ROOT / "plugins" / "codex-subagents"
WRITER = PROJECT_ROOT / "tests" / "scripted_model" / "scripts" / "example.toml"
# Fields the server fills itself, never read from a line.
_OWN_FIELDS = {"seq", "at", "search_id"}


def launch_argv(
    tmp_path: Path, *, isolated: bool, worker_config: tuple[str, ...] = (), cwd: Path | None = None
) -> list[str]:
    """A worker's ``codex exec`` command line, as the server builds it, with a model and a profile named."""
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir(exist_ok=True)
    (codex_home / "config.toml").write_text('[mcp_servers.codex-subagents]\ncommand = "codex-subagents"\n')
    settings = Settings(
        codex=codex_under_test(), isolated=isolated, state_dir=tmp_path / "state", worker_config=worker_config
    )
    return build_launch(
        settings,
        job_id="j-1",
        label="contract",
        prompt="WRITER-TASK",
        cwd=cwd or tmp_path,
        sandbox="workspace-write",
        model="gpt-5.5",
        profile="work" if not isolated else None,
        config=(),
        schema_path=write_schema(tmp_path / "state"),
        last_message_path=tmp_path / "last.txt",
        environ={"CODEX_HOME": str(codex_home), "PATH": os.environ["PATH"]},
    ).argv


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the Codex CLI under test without a terminal."""
    return subprocess.run(
        [str(codex_under_test()), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_every_flag_a_worker_gets_is_one_codex_exec_takes(tmp_path: Path) -> None:
    """Each ``--flag`` of a worker's command line, isolated or not, is listed by ``codex exec --help``."""
    listed = set(re.findall(r"--[a-z][a-z-]+", run("exec", "--help").stdout))
    argv = launch_argv(tmp_path, isolated=True) + launch_argv(tmp_path, isolated=False)
    flags = {arg.split("=")[0] for arg in argv if arg.startswith("--")}
    missing = sorted(flags - listed)
    assert missing == [], f"{release_name()}: codex exec no longer takes {missing} (worker.py passes them)"


def test_every_feature_a_worker_disables_is_one_codex_knows(tmp_path: Path) -> None:
    """Each ``--disable NAME`` of a worker names a feature ``codex features list`` still has."""
    argv = launch_argv(tmp_path, isolated=True)
    disabled = {argv[index + 1] for index, arg in enumerate(argv) if arg == "--disable"}
    known = {line.split()[0] for line in run("features", "list").stdout.splitlines() if line.strip()}
    missing = sorted(disabled - known)
    assert missing == [], f"{release_name()}: codex features list has no {missing} (worker.py disables them)"


def test_the_server_entry_keys_users_write_are_ones_codex_reads(tmp_path: Path) -> None:
    """The plugin's server entry, as a ``config.toml`` table, loads under ``codex exec --strict-config``."""
    entry = json.loads((PLUGIN / ".mcp.json").read_text())["mcpServers"]["codex-subagents"]
    home = tmp_path / "home"
    home.mkdir()
    table = "".join(f"{key} = {json.dumps(value)}\n" for key, value in entry.items())
    (home / "config.toml").write_text(f"[mcp_servers.codex-subagents]\n{table}")
    tomllib.loads((home / "config.toml").read_text())
    # An unknown provider stops the run once the config has loaded, before any model is asked.
    args = ["exec", "--strict-config", "--skip-git-repo-check", "--ephemeral", "-c", "model_provider=unknown", "hi"]
    done = run(*args, env={**os.environ, "CODEX_HOME": str(home)}, cwd=tmp_path)
    unknown = re.findall(r"unknown configuration field `([^`]+)`", done.stderr)
    assert unknown == [], f"{release_name()}: config.toml no longer takes {unknown} (the plugin's .mcp.json sets them)"
    assert "model provider `unknown` not found" in done.stderr.lower(), done.stderr[-2000:]


def test_the_config_overrides_a_worker_gets_take_effect(tmp_path: Path) -> None:
    """The ``-c`` items a worker gets parse in the release's config, and the one that disables this server in a
    worker's Codex config shows in ``codex mcp get``."""
    argv = launch_argv(tmp_path, isolated=False)
    overrides = [argv[index + 1] for index, arg in enumerate(argv) if arg == "-c"]
    assert overrides == ["mcp_servers.codex-subagents.enabled=false", SKILL_OFF]
    env = {**os.environ, "CODEX_HOME": str(tmp_path / "codex-home")}
    given = [part for item in overrides for part in ("-c", item)]
    shown = json.loads(run(*given, "mcp", "get", "codex-subagents", "--json", env=env).stdout)
    assert shown.get("enabled") is False, f"{release_name()}: -c {overrides[0]} no longer disables the server: {shown}"


def test_every_plugin_manifest_field_is_installed(tmp_path: Path) -> None:
    """Installed with the release's own plugin commands, the manifest's skills and server are where Codex reads them."""
    manifest = json.loads((PLUGIN / ".codex-plugin" / "plugin.json").read_text())
    home = make_home(tmp_path)
    anyio.run(install_plugin, home)
    cache = home.codex_home / "plugins" / "cache" / "codex-subagents" / "codex-subagents"
    (installed,) = cache.iterdir()
    for field in ("skills", "mcpServers"):
        assert (installed / manifest[field]).exists(), f"{release_name()}: manifest field {field!r} was not installed"
    shown = json.loads(home.run(["codex", "mcp", "get", manifest["name"], "--json"]))
    transport = shown["transport"]
    assert [transport["command"], *transport["args"]] == ["uvx", "codex-subagents", "serve"], (
        f"{release_name()}: the manifest's mcpServers entry is not the server Codex starts: {shown}"
    )


def _fields(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields) - _OWN_FIELDS


def _missing_fields(line: bytes, event: events.Event) -> list[str]:
    """The fields the event's model (and its item's) reads that the raw line lacks."""
    raw = json.loads(line)
    missing = [f"{raw['type']}.{name}" for name in sorted(_fields(type(event)) - raw.keys())]
    if isinstance(event, events.TurnCompleted):
        missing += [f"usage.{name}" for name in sorted(_fields(events.Usage) - raw["usage"].keys())]
    if isinstance(event, events.ItemEvent):
        item = raw["item"]
        missing += [f"{item['type']}.{name}" for name in sorted(_fields(type(event.item)) - item.keys())]
    return missing


@pytest.mark.anyio
async def test_a_workers_stream_has_every_event_field_the_server_reads(tmp_path: Path) -> None:
    """A worker run as the server runs it prints only events the server knows, each with every field it reads."""
    repo = tmp_path / "repo"
    await anyio.run_process(["git", "init", "-q", str(repo)])
    async with ScriptedModel(load_scripts([WRITER])) as model:
        config = (*model.codex_overrides(), "model=gpt-5.5")
        argv = launch_argv(tmp_path, isolated=True, worker_config=config, cwd=repo)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("OPENAI_", "CODEX_"))}
        env["CODEX_HOME"] = str(tmp_path / "codex-home")
        with anyio.fail_after(90):
            done = await anyio.run_process(argv, input=b"WRITER-TASK", env=env, check=False)
    lines = done.stdout.splitlines()
    parsed = [events.parse_line(line, seq, 0.0) for seq, line in enumerate(lines)]
    unknown = [(event.reason, event.excerpt[:200]) for event in parsed if isinstance(event, events.Unparsed)]
    assert unknown == [], f"{release_name()}: lines the server cannot read: {unknown}"
    missing = sorted({name for line, event in zip(lines, parsed, strict=True) for name in _missing_fields(line, event)})
    assert missing == [], f"{release_name()}: events lack the fields {missing} the server reads"
    kinds = {event.item.type if isinstance(event, events.ItemEvent) else event.type for event in parsed}
    expected = {"thread.started", "turn.started", "file_change", "command_execution", "agent_message"}
    assert kinds >= expected | {"turn.completed"}, f"{release_name()}: the stream lacks {expected - kinds}"
