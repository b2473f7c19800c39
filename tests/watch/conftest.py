"""A state dir made by the real server and real Codex workers, shared by the tests of one module.

The batch is what a person watches in the middle of a run: one job finished, two
running that collided on ``shared.txt`` (each holds its last turn until released),
and one queued behind them for want of a free slot. The server stays up while the
module's tests look at it, and is stopped (its workers released) at the end.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from live_batch import HELD, Batch, boss_session, make_repo, scripts_file, spawn


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Batch]:
    """One finished job, two running ones that collided, one queued: made once per module by the real server."""
    tmp = tmp_path_factory.mktemp("batch")
    repo = make_repo(tmp / "repo", {"README.md": "hi\n"})
    state = tmp / "state"
    with boss_session(repo, state, "--cap", "2", scripts=[scripts_file(tmp / "scripts.json")]) as boss:
        live = Batch(repo, state, boss, {})
        live.jobs["talker"] = spawn(boss, "talker")
        boss.wait_all([live.jobs["talker"]])
        live.jobs["holder"] = spawn(boss, "holder")
        live.asked("holder", 1)
        live.jobs["patcher"] = spawn(boss, "patcher")
        live.asked("patcher", 1)
        answer = boss.call("codex_wait_any", job_ids=[live.jobs["holder"], live.jobs["patcher"]], timeout_s=60)
        assert answer["alerts"] and not answer["finished"], f"the two writers of shared.txt did not collide: {answer}"
        live.jobs["later"] = spawn(boss, "later")
        try:
            yield live
        finally:
            for name in HELD:
                live.release(name)
