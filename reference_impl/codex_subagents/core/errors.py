"""The exceptions a caller of codex-subagents can catch, as one small tree.

Every message names the bad value and the next step, because the reader is
usually a model deciding what to call next. The server reports one that a tool
raises as that tool's ``isError`` result carrying the message (`server.stdio`),
while a malformed request stays a protocol error. The tree is plain Python, not
the MCP SDK's: the commands and a baseline's child process, which never speak
MCP, raise these too and need not import the SDK (about a second)::

    SubagentsError
    ├── ConfigError          the server's own settings or environment are unusable
    ├── InputError           a tool argument is refused (path, ref, sandbox, prompt)
    ├── UnknownJobError      no job has that id
    ├── JobStateError        the job is not in a state that allows the call
    ├── QueueFullError       the cap is reached and the queue is full
    ├── RecursionRefusedError  a worker tried to spawn workers of its own
    ├── WorktreeBusyError    a rollback waits for jobs that may still write in the worktree
    └── GitError             a git step failed or the worktree is unfit
        └── BaselineError    no such baseline
"""

from __future__ import annotations


class SubagentsError(Exception):
    """Raised for any failure that a better call or setup could fix."""


class ConfigError(SubagentsError):
    """Raised when the server's settings or environment cannot work."""


class InputError(SubagentsError):
    """Raised when a tool argument is refused before anything is started or changed."""


class UnknownJobError(SubagentsError):
    """Raised when a job id names no job this server knows."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"No job {job_id!r}; call codex_status to list the job ids this server knows.")
        self.job_id = job_id


class JobStateError(SubagentsError):
    """Raised when a job's state does not allow the call (e.g. a result of a running job)."""


class QueueFullError(SubagentsError):
    """Raised when a job would have to wait (no free slot, or its scope is taken) and the queue is at its limit."""

    def __init__(self, running: int, queued: int, cap: int) -> None:
        why = f"the cap of {cap} running workers is reached" if running >= cap else "its scope meets a busy job's"
        super().__init__(
            f"The job would wait ({why}) and {queued} jobs already wait, the queue limit; "
            "wait for one to finish with codex_wait_any, then spawn again."
        )


class RecursionRefusedError(SubagentsError):
    """Raised when codex_spawn reaches a server that was started from inside a worker."""

    def __init__(self, parent_job: str) -> None:
        super().__init__(
            f"This server runs inside worker job {parent_job!r}; workers must not start sub-agents. "
            "Do the work yourself and report it in modifiedFiles."
        )


class WorktreeBusyError(SubagentsError):
    """Raised when a rollback is refused because jobs may still write in the worktree."""

    def __init__(self, root: str, ours: list[str], theirs: list[str]) -> None:
        steps: list[str] = []
        if ours:
            steps.append(
                f"this session's jobs {ours} (wait for them with codex_wait_any or stop them with codex_cancel)"
            )
        if theirs:
            steps.append(
                f"another Codex session's jobs {theirs} (only that session can stop them; "
                "call codex_status until its elsewhere no longer lists them, or ask the user)"
            )
        super().__init__(f"Rollback refused: the worktree {root!r} is busy with {' and '.join(steps)}; then roll back.")
        self.ours, self.theirs = ours, theirs


class GitError(SubagentsError):
    """Raised when a git step fails or the directory is not a usable git worktree."""


class BaselineError(GitError):
    """Raised when a baseline does not exist."""
