"""Where the server keeps what outlives it: one directory, shared by every server on the repository.

Every path in it is named here, so that the servers, the workers they start and the
tools that read their journals agree on where each thing is.
"""

from __future__ import annotations

from pathlib import Path


def jobs(state_dir: Path) -> Path:
    """The folder of the job directories, one per job, named by its id."""
    return state_dir / "jobs"


def job(state_dir: Path, job_id: str) -> Path:
    """The directory of one job: its request, its record and its event journal."""
    return jobs(state_dir) / job_id


def servers(state_dir: Path) -> Path:
    """The folder of the servers' locks: a lock held is a server alive."""
    return state_dir / "servers"


def server_lock(state_dir: Path, server_id: str) -> Path:
    """The lock a live server holds for its whole life."""
    return servers(state_dir) / f"{server_id}.lock"


def adoption_lock(state_dir: Path) -> Path:
    """The lock a starting server holds while it adopts the jobs of servers that are gone."""
    return servers(state_dir) / "adopt.lock"


def codex_home(state_dir: Path) -> Path:
    """The empty private Codex home of workers of an ``--isolated`` server."""
    return state_dir / "codex-home"


def output_schema(state_dir: Path) -> Path:
    """The JSON schema file a worker's final message must match (``codex exec --output-schema``)."""
    return state_dir / "worker-output-schema.json"
