"""A batch the real server runs, with real Codex workers on the scripted model: what the watch's tests look at."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from pydantic import JsonValue

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "tests" / "acceptance")]

from harness import Boss, boss_session, make_repo  # noqa: E402

__all__ = ["HELD", "Batch", "boss_session", "make_repo", "scripts_file", "spawn"]

HELD = ("holder", "patcher")
"""The scripts whose last turn waits until the fixture releases it."""


@dataclass
class Batch:
    """A live batch: its repository, its state dir, the server's session and the jobs by script name."""

    repo: Path
    state_dir: Path
    boss: Boss
    jobs: dict[str, str]

    def release(self, name: str) -> None:
        """Let the held last turn of the job of script ``name`` answer."""

        async def release() -> None:
            self.boss.model.release(name)

        self.boss.portal.call(release)

    def asked(self, name: str, turn: int) -> None:
        """Wait until the worker of script ``name`` has asked its model for turn ``turn``."""
        model = self.boss.model
        self.boss.portal.call(lambda: model.wait_for(lambda r: r.script == name and r.turn == turn))


def _patch(file: str, text: str) -> str:
    return f"*** Begin Patch\n*** Add File: {file}\n+{text}\n*** End Patch\n"


def scripts_file(path: Path) -> Path:
    """Write the batch's worker scripts to ``path``: each is selected by ``[script NAME]`` in its prompt."""
    final: dict[str, JsonValue] = {"final_json": {"summary": "done", "modifiedFiles": []}}
    scripts: dict[str, JsonValue] = {
        "talker": [{"reasoning": "Write the notes.", "shell": "echo hi > notes.txt", "login": False}, final],
        "holder": [{"patch": _patch("shared.txt", "holder")}, {"hold": True, **final}],
        "patcher": [{"shell": "echo b >> shared.txt", "login": False}, {"hold": True, **final}],
        "later": [final],
    }
    body: dict[str, JsonValue] = {
        "scripts": {name: {"match": f"[script {name}]", "turns": turns} for name, turns in scripts.items()}
    }
    path.write_text(json.dumps(body))
    return path


def spawn(boss: Boss, name: str) -> str:
    """Spawn the worker of script ``name`` (labelled so) and return its job id."""
    return str(boss.call("codex_spawn", prompt=f"[script {name}] Do the {name} task.", label=name)["job_id"])
