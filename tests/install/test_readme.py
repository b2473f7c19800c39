"""The README's manual set-up, followed to the letter in a fresh home, ends with a working boss.

The test reads the commands out of README.md and runs them as a user would, from a checkout:
``uv tool install .`` (offline, from the uv cache), ``codex mcp add``, the skill copy, then the TOML
lines merged into the table ``codex mcp add`` wrote, and finally the README's ``codex exec`` boss.
Only two things are given rather than done: the pinned Codex CLI stands in for ``npm install -g``,
and the model is the scripted provider (a user has an API key instead).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import anyio
import pytest
from fresh_home import PROJECT_ROOT, Home, make_home, merge_keys

from boss.discovery import tool_use
from codex_subagents.scripted_model import ScriptedModel, load_scripts

pytestmark = pytest.mark.codex

README = (PROJECT_ROOT / "README.md").read_text()


def section(title: str) -> str:
    """The README's text under a ``###`` heading, up to the next heading."""
    return re.split(r"\n#{2,3} ", README.split(f"\n### {title}\n", 1)[1], maxsplit=1)[0]


def blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of one language in ``text``."""
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def commands(block: str) -> list[str]:
    """The shell commands of a block, without their trailing comments."""
    return [re.sub(r"\s+# .*$", "", line) for line in block.splitlines() if line.strip()]


def user_env(home: Home) -> dict[str, str]:
    """The user's environment: uv's tool directory on PATH (as uv asks), and uv on the shared cache.

    Resolution is held to the locked versions (``UV_CONSTRAINT``), the ones ``scripts/setup`` put in
    the cache, so the install reads wheels from there and needs the package index at most for metadata.
    """
    uv = str(home.bin / "uv")
    cache = subprocess.run([uv, "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip()
    locked = subprocess.run(
        [uv, "export", "--frozen", "--offline", "--no-default-groups", "--no-hashes", "--no-emit-project"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    constraints = home.path.parent / "locked.txt"
    constraints.write_text(locked)
    env = home.env
    env["PATH"] = os.pathsep.join([str(home.path / ".local" / "bin"), env["PATH"]])
    return {**env, "UV_CACHE_DIR": cache, "UV_PYTHON_DOWNLOADS": "never", "UV_CONSTRAINT": str(constraints)}


def sh(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one README command with ``sh``, without a terminal, bounded."""
    return subprocess.run(
        ["sh", "-c", command], cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300
    )


def test_the_manual_steps_are_the_three_documented_commands() -> None:
    """The test below runs exactly these; a README change that drops one is caught here."""
    steps = commands(blocks(section("By hand (from a checkout)"), "sh")[0])
    assert steps == [
        "uv tool install .",
        "codex mcp add codex-subagents -- codex-subagents serve",
        "mkdir -p ~/.codex/skills && cp -r skills/codex-subagents ~/.codex/skills/",
    ]


def test_following_the_readme_by_hand_gives_a_working_boss(tmp_path: Path) -> None:
    """After the README's steps, its codex exec boss finds the tools, runs a real worker and rolls back."""
    home = make_home(tmp_path)
    (home.bin / "uv").symlink_to(PROJECT_ROOT / ".tools" / "bin" / "uv")
    env = user_env(home)
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=u", "-c", "user.email=u@example.invalid", "commit", "-q",
                    "--allow-empty", "-m", "start"], cwd=repo, check=True)  # fmt: skip

    async def run() -> tuple[subprocess.CompletedProcess[str], ScriptedModel]:
        scripts = load_scripts(Path(__file__).parent / "boss" / "readme.toml")
        async with ScriptedModel(scripts, log_path=tmp_path / "model-requests.jsonl") as model:
            model.prepare_codex_home(home.codex_home)
            for command in commands(blocks(section("By hand (from a checkout)"), "sh")[0]):
                done = await anyio.to_thread.run_sync(lambda command=command: sh(command, env, PROJECT_ROOT))
                assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
            keys = blocks(section("By hand (from a checkout)"), "toml")[0]
            merge_keys(home.codex_home / "config.toml", "mcp_servers.codex-subagents", keys)
            (boss,) = [line for line in commands(blocks(section("Start a boss"), "sh")[0]) if "codex exec" in line]
            return await anyio.to_thread.run_sync(lambda: sh(boss, env, repo)), model

    done, model = anyio.run(run)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith('worker=succeeded clean=true removed=["notes.txt"]')
    assert not (repo / "notes.txt").exists()
    boss = [request for request in model.requests if request.script == "boss"]
    use = tool_use(boss[-1].body)
    assert use.searches == 1 and use.undiscovered == []
    assert "mcp__codex_subagents.codex_rollback" in use.called
    assert "<name>codex-subagents</name>" in json.dumps(boss[0].body)
    assert (home.path / ".local" / "bin" / "codex-subagents").exists()
