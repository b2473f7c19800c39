"""The overlap story needs its rollback: without it, re-running the conflicting work doubles it.

This is the headline scenario "Same-file overlap is rolled back and re-run" with the
rollback step left out, so a suite that stopped calling rollback would be caught.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness import boss_session, make_repo

from codex_subagents.scripted_model import parse_scripts

pytestmark = pytest.mark.codex


def appender(name: str, line: str) -> dict[str, object]:
    """A worker script that appends ``line`` to shared.txt and reports it."""
    return {
        "match": f"[script {name}]",
        "turns": [
            {"shell": f"printf '%s\\n' '{line}' >> shared.txt", "login": False},
            {"final_json": {"summary": "appended", "modifiedFiles": ["shared.txt"]}},
        ],
    }


def test_skipping_the_rollback_leaves_the_overlap_in_the_file(tmp_path: Path) -> None:
    """Re-running both appenders without rolling back first leaves each line twice, not once."""
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n"})
    with boss_session(repo, tmp_path / "state") as boss:
        boss.model.add_scripts(
            parse_scripts({"scripts": {"app-a": appender("app-a", "from a"), "app-b": appender("app-b", "from b")}})
        )
        baseline = boss.call("codex_baseline")["baseline_id"]
        first = [boss.call("codex_spawn", prompt=f"[script {n}] append")["job_id"] for n in ("app-a", "app-b")]
        boss.wait_all([str(job) for job in first])
        report = boss.call("codex_overlaps", baseline_id=baseline, job_ids=first)
        assert report["overlaps"] == {"shared.txt": sorted(str(job) for job in first)}
        for name in ("app-a", "app-b"):
            job = boss.call("codex_spawn", prompt=f"[script {name}] append again")["job_id"]
            boss.wait_all([str(job)])
    lines = (repo / "shared.txt").read_text().splitlines()
    assert sorted(lines) == ["from a", "from a", "from b", "from b"]
    assert lines != ["from a", "from b"]
