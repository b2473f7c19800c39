"""``python -m codex_subagents.scripted_model`` announces its address, serves, and stops cleanly on a signal."""

from __future__ import annotations

import json
import signal
import socket
import sys
from pathlib import Path

import anyio
import httpx2
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from codex_subagents.scripted_model import main

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_the_command_prints_its_address_serves_and_exits_0_on_a_signal(
    example_path: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    """The first stdout line is JSON with the base URL; requests are served and logged until the signal."""
    log = tmp_path / "log.jsonl"
    command = [sys.executable, "-m", "codex_subagents.scripted_model", "--script", str(example_path), "--log", str(log)]
    async with await anyio.open_process(command) as process, httpx2.AsyncClient(trust_env=False) as client:
        assert process.stdout is not None
        with anyio.fail_after(60):  # a hang guard: a Python start under coverage on a busy 2-core machine takes 10 s
            ready = json.loads(await BufferedByteReceiveStream(process.stdout).receive_until(b"\n", 65536))
            user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "ECHO-TASK"}]}
            answer = await client.post(f"{ready['base_url']}/responses", json={"input": [user]})
            process.send_signal(stop)
            assert await process.wait() == 0
    assert ready["base_url"] == f"http://127.0.0.1:{ready['port']}/v1"
    assert ready["codex_overrides"][0] == "model_provider=scripted"
    assert answer.status_code == 200
    assert json.loads(log.read_text())["script"] == "echo"


def test_unusable_scripts_exit_2_with_the_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing or malformed script file stops the command before it listens."""
    assert main(["--script", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read script file" in capsys.readouterr().err


def test_a_taken_port_exits_1(example_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Binding a port already in use is reported, not raised."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--script", str(example_path), "--port", str(port)]) == 1
    assert f"cannot listen on port {port}" in capsys.readouterr().err
