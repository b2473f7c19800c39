"""Workers stay inside the allowed roots and nothing a boss writes is read as an option.

Each refusal is checked three ways: the call returns an ``is_error`` result
whose message names the refused value, the server knows no new job, and the
counting fake codex was never started. A valid spawn on the same server is the
control that shows the fake does count.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult

from codex_subagents import build_server
from codex_subagents.core.config import Settings
from reliability.support import Json, counting_codex, git, items, make_repo, starts, structured

pytestmark = pytest.mark.anyio


@dataclass
class Confined:
    """A server whose only allowed root is ``repo``, and the places a boss might try to reach instead."""

    client: Client
    repo: Path
    outside: Path
    counter: Path

    async def call(self, tool: str, **arguments: object) -> CallToolResult:
        """Call a tool, bounded in time."""
        with anyio.fail_after(20):
            return await self.client.call_tool(tool, arguments)

    async def refused(self, tool: str, **arguments: object) -> str:
        """Call a tool that must be refused; return the refusal and check no job or process was started."""
        jobs = await self.jobs()
        result = await self.call(tool, **arguments)
        text = " ".join(getattr(block, "text", "") for block in result.content)
        assert result.is_error, f"{tool}({arguments}) was accepted"
        assert text.startswith(f"Error executing tool {tool}: "), f"not a clear refusal: {text!r}"
        assert await self.jobs() == jobs
        assert starts(self.counter) == 0, "a refused call started codex"
        return text

    async def ok(self, tool: str, **arguments: object) -> Json:
        """Call a tool that must succeed; return its structured result."""
        return structured(await self.call(tool, **arguments))

    async def jobs(self) -> list[object]:
        """The ids of the jobs the server knows."""
        return [job["job_id"] for job in items((await self.ok("codex_status"))["jobs"])]


async def _confined(tmp_path: Path, **overrides: object) -> AsyncGenerator[Confined]:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n", "sub/b.txt": "b\n"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the root\n")
    (repo / "escape").symlink_to(outside, target_is_directory=True)
    codex, counter = counting_codex(tmp_path)
    settings = Settings(state_dir=tmp_path / "state", allow_roots=(repo,), codex=codex, kill_grace_s=1.0)
    async with Client(build_server(replace(settings, **overrides))) as client:
        yield Confined(client, repo, outside, counter)


@pytest.fixture
async def confined(tmp_path: Path) -> AsyncGenerator[Confined]:
    """A server on a repository that holds a symlink to a directory outside it."""
    async for world in _confined(tmp_path):
        yield world


async def test_a_cwd_outside_the_allowed_roots_is_refused(confined: Confined) -> None:
    """Outside directories, ``..`` that climbs out, and a symlink inside the repo that leads out are all refused."""
    repo, outside = confined.repo, confined.outside
    for cwd in (
        str(outside),
        "/",
        "/tmp",
        f"{repo}/..",
        f"{repo}/../outside",
        "../outside",
        f"{repo}/escape",
        "escape",
    ):
        text = await confined.refused("codex_spawn", prompt="do it", cwd=cwd)
        assert "outside the allowed roots" in text, text
        assert repr(cwd) in text
    for tool in ("codex_baseline", "codex_baselines"):
        assert "outside the allowed roots" in await confined.refused(tool, cwd=f"{repo}/escape")


async def test_a_cwd_that_is_no_directory_or_holds_a_nul_byte_is_refused(confined: Confined) -> None:
    """A file, a missing directory and a NUL byte are refused before anything starts."""
    assert "not a directory" in await confined.refused("codex_spawn", prompt="p", cwd=f"{confined.repo}/a.txt")
    assert "not a directory" in await confined.refused("codex_spawn", prompt="p", cwd=f"{confined.repo}/nope")
    assert "NUL" in await confined.refused("codex_spawn", prompt="p", cwd=f"{confined.repo}/\x00")


async def test_refs_baseline_ids_and_rollback_paths_that_look_like_options_are_refused(confined: Confined) -> None:
    """Ids and paths starting with ``-``, climbing out, absolute or through the symlink never reach git."""
    good = (await confined.ok("codex_baseline"))["baseline_id"]
    for bad_id in ("-rf", "--output=/tmp/x", "--all", "-", "../../HEAD", "HEAD", "b..c", "a b"):
        for tool in ("codex_rollback", "codex_baseline_drop"):
            text = await confined.refused(tool, baseline_id=bad_id)
            assert repr(bad_id) in text, text
        await confined.refused("codex_overlaps", baseline_id=bad_id, job_ids=["j-1"])
    before = (confined.outside / "secret.txt").read_bytes()
    for path in ("-x", "--force", "--", "../outside/secret.txt", "/etc/passwd", "a/../../x", "escape/secret.txt"):
        text = await confined.refused("codex_rollback", baseline_id=good, paths=[path])
        assert repr(path) in text, text
    assert (confined.outside / "secret.txt").read_bytes() == before
    assert git(confined.repo, "for-each-ref", "--format=%(refname)").count("baselines/") == 1


async def test_models_profiles_and_config_that_look_like_flags_are_refused(confined: Confined) -> None:
    """A model, profile or ``-c`` item that would be read as an option, or loosen the contract, is refused."""
    for model in ("-c", "--dangerously-bypass-approvals-and-sandbox", "gpt 5", "x\x00y", "--model=o3"):
        assert repr(model) in await confined.refused("codex_spawn", prompt="p", model=model)
        assert repr(model) in await confined.refused("codex_spawn", prompt="p", profile=model)
    for item in (
        "-c",
        "--x=y",
        "=x",
        "novalue",
        "sandbox_mode=danger-full-access",
        "mcp_servers.x.command=sh",
        "features.multi_agent=true",
        "approval_policy=never",
        "agents.max_depth=9",
        "a b=c",
    ):
        text = await confined.refused("codex_spawn", prompt="p", config=[item])
        assert repr(item.partition("=")[0]) in text or repr(item) in text, text


async def test_danger_full_access_needs_the_server_flag(confined: Confined, tmp_path: Path) -> None:
    """Without --allow-danger-full-access the sandbox is refused; with it the same spawn starts a worker."""
    text = await confined.refused("codex_spawn", prompt="p", sandbox="danger-full-access")
    assert "--allow-danger-full-access" in text
    async for allowed in _confined(tmp_path / "allowed", allow_danger_full_access=True):
        await allowed.ok("codex_spawn", prompt='FAKE:{"lines": []}', sandbox="danger-full-access")
        await allowed.ok("codex_wait_any", timeout_s=10)
        assert starts(allowed.counter) == 1


async def test_a_prompt_that_looks_like_flags_travels_on_stdin_only(confined: Confined) -> None:
    """Option-like words in a prompt or label never reach codex's command line, which ends with ``-``."""
    hostile = "--dangerously-bypass-approvals-and-sandbox -c sandbox_mode=danger-full-access --cd=/ "
    spawned = await confined.ok("codex_spawn", prompt=hostile + 'FAKE:{"echo_argv": true}', label="--help", cwd="sub")
    job_id = spawned["job_id"]
    await confined.ok("codex_wait_any", job_ids=[job_id], timeout_s=10)
    [event] = items((await confined.ok("codex_events", job_id=job_id))["events"])
    item = event["item"]
    assert isinstance(item, dict)
    text = cast("Json", item)["text"]
    assert isinstance(text, str)
    argv: list[str] = json.loads(text)
    assert argv[-1] == "-"
    assert f"--cd={confined.repo / 'sub'}" in argv
    assert "--sandbox=workspace-write" in argv
    assert not [arg for arg in argv if "dangerously" in arg or "danger-full-access" in arg or arg == "--help"]
    assert starts(confined.counter) == 1


async def test_a_config_value_with_a_nul_byte_is_refused_and_the_server_lives_on(tmp_path: Path) -> None:
    """A NUL byte in a ``-c`` value is refused like any malformed item, and the server keeps answering."""
    async for confined in _confined(tmp_path):
        text = await confined.refused("codex_spawn", prompt="p", config=["model=a\x00b"])
        assert "model=a" in text


async def test_a_blank_prompt_is_refused_with_a_message(confined: Confined) -> None:
    """A prompt of only whitespace is refused as such, not met with a crash."""
    assert "blank" in await confined.refused("codex_spawn", prompt=" \n ")


async def test_a_cwd_naming_an_unknown_home_is_refused_with_a_message(confined: Confined) -> None:
    """``~nosuchuser`` as cwd is refused with the value named, not met with a crash."""
    assert "~nosuchuser/x" in await confined.refused("codex_baseline", cwd="~nosuchuser/x")


async def test_a_cwd_with_an_overlong_name_is_refused_with_a_message(confined: Confined) -> None:
    """A directory name longer than the filesystem allows is refused, not met with a crash."""
    long = f"{confined.repo}/{'a' * 300}"
    assert "a" * 300 in await confined.refused("codex_baselines", cwd=long)
