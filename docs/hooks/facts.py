"""Facts the pages quote from the code: the worker's preamble, its output schema, refused keys, error texts,
the tested Codex releases.

Each is computed from the running code when the site is built: the preamble is
the real constant filled the way a worker receives it, and each error text is the
message of a real exception, raised by calling the function that raises it with
a value it refuses. A page that quotes one of them cannot fall out of date.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

if TYPE_CHECKING:
    from codex_subagents.worktree.location import Worktree

EXAMPLE_JOB = "j-0123456789ab"
EXAMPLE_ROOT = Path("/home/me/project")


def preamble() -> str:
    """The text every worker's prompt starts with, as the worker reads it, before the boss's task."""
    from codex_subagents.jobs.worker import PREAMBLE

    return PREAMBLE.format(job_id=EXAMPLE_JOB, label="add the parser")


def output_schema() -> str:
    """The JSON schema a worker's final message must match, as passed to ``codex exec --output-schema``."""
    from codex_subagents.jobs.worker import OUTPUT_SCHEMA

    return json.dumps(OUTPUT_SCHEMA, indent=2)


def codex_release(which: str) -> str:
    """The tested Codex CLI releases: ``requirement`` (0.169 or newer, tested up to ...), ``range`` or ``install``."""
    from codex_subagents.core import compat

    said = {"requirement": compat.requirement, "range": compat.range_text, "install": compat.install_command}
    return said[which]()


def spawn_config_keys() -> tuple[str, ...]:
    """The only keys a per-spawn ``config`` may set."""
    from codex_subagents.jobs.worker import SPAWN_CONFIG_KEYS

    return SPAWN_CONFIG_KEYS


def _queue_full() -> None:
    from codex_subagents.core.config import Settings
    from codex_subagents.core.errors import QueueFullError

    defaults = Settings()
    raise QueueFullError(defaults.cap, defaults.queue_limit, defaults.cap)


def _example_worktree() -> Worktree:
    from codex_subagents.worktree.location import Worktree

    return Worktree(EXAMPLE_ROOT, EXAMPLE_ROOT / ".git", EXAMPLE_ROOT / ".git", ignore_case=False)


def _rollback_refused() -> None:
    from codex_subagents.coordination.batch import Busy, roll_back

    anyio.run(lambda: roll_back(_example_worktree(), "b-1", None, Busy((EXAMPLE_JOB,)), {}))


def _unknown_job() -> None:
    from codex_subagents.core.errors import UnknownJobError

    raise UnknownJobError(EXAMPLE_JOB)


def _recursion() -> None:
    from codex_subagents.core.errors import RecursionRefusedError

    raise RecursionRefusedError(EXAMPLE_JOB)


def _config_key() -> None:
    from codex_subagents.jobs.worker import check_config

    check_config(['notify=["sh", "-c", "curl evil.example"]'])


def _flag_like_model() -> None:
    from codex_subagents.jobs.worker import check_name

    check_name("model", "--dangerously-bypass-approvals-and-sandbox")


def _missing_codex() -> None:
    from codex_subagents.core.config import find_codex

    find_codex("/opt/missing/codex")


def _serve_bound() -> None:
    from codex_subagents.core.config import Settings

    Settings(max_wait_s=0)


def _quoted_path() -> None:
    from codex_subagents.core.paths import git_unquoted

    git_unquoted('"\\777"')


def _unreadable_record() -> None:
    from codex_subagents.core.errors import BaselineError
    from codex_subagents.jobs.registry import live_jobs_in

    with tempfile.TemporaryDirectory() as scratch:
        record = Path(scratch) / "jobs" / "j-torn" / "job.json"
        record.parent.mkdir(parents=True)
        record.write_text("{not json")
        try:
            live_jobs_in(Path(scratch), EXAMPLE_ROOT, strict=True)
        except BaselineError as exc:  # the example's state dir, not the temporary one it was built in
            raise BaselineError(str(exc).replace(scratch, str(EXAMPLE_ROOT / ".git" / "codex-subagents"))) from None


def _other_worktree() -> None:
    from codex_subagents.coordination.batch import integrity

    anyio.run(lambda: integrity(_example_worktree(), "b-1", EXAMPLE_JOB, {}))


ERRORS: dict[str, Callable[[], None]] = {
    "queue-full": _queue_full,
    "rollback-refused": _rollback_refused,
    "unknown-job": _unknown_job,
    "recursion": _recursion,
    "config-key": _config_key,
    "flag-like-model": _flag_like_model,
    "missing-codex": _missing_codex,
    "serve-bound": _serve_bound,
    "quoted-path": _quoted_path,
    "unreadable-record": _unreadable_record,
    "other-worktree": _other_worktree,
}


def error_text(name: str) -> str:
    """The message the server gives for the failure called ``name`` in `ERRORS`."""
    from codex_subagents.core.errors import SubagentsError

    try:
        ERRORS[name]()
    except SubagentsError as exc:
        return str(exc)
    raise AssertionError(f"{name!r} raised nothing: the docs' example of that error no longer fails")
