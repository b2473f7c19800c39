"""The MCP server: each tool validates its input, calls the supervisor or coordination, returns a model.

The tools are primitives, not a workflow: the boss decides when to baseline,
spawn, wait, compare and roll back. Failures a better call can fix are raised
as `SubagentsError` subclasses, which the server (`stdio.Server`) returns as
``isError`` results the model reads; a request that does not match a tool's schema is rejected by
the SDK itself.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, TypeVar

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from ..coordination import batch
from ..core.config import Sandbox, Settings
from ..core.errors import RecursionRefusedError
from ..jobs import models
from ..jobs.registry import live_jobs_in
from ..jobs.worker import enclosing_job, job_request
from ..supervision.supervisor import JobSupervisor
from ..worktree import baselines, description, location
from ..worktree.rollback import RollbackResult
from . import stdio

INSTRUCTIONS = """\
Run Codex worker jobs in the background and coordinate them in one git worktree.
Record a baseline (codex_baseline), spawn workers on disjoint files (codex_spawn returns at once),
loop codex_wait_any until its pending list is empty (it returns early with collision alerts), read
codex_result, then check codex_overlaps with every job id of the batch. On an overlap or an unclaimed change:
codex_rollback those paths to the baseline and re-run that work one worker at a time, once. Stop and tell
the user on beyond_rollback, on git_state, or when a re-run leaves the path broken again.
"""

ToolFunction = TypeVar("ToolFunction", bound=Callable[..., object])
_TOOLS: list[tuple[Callable[..., object], ToolAnnotations]] = []
JobId = Annotated[str, Field(min_length=1, max_length=64, description="A job id returned by codex_spawn")]
BaselineId = Annotated[str, Field(min_length=1, max_length=80, description="An id returned by codex_baseline")]
Pattern = Annotated[str, Field(min_length=1, max_length=4096, description="* ? [..] in a name, ** any dirs")]
Cwd = Annotated[
    str | None,
    Field(max_length=4096, description="A directory inside the server's allowed roots; default: the first root"),
]

_READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)
_WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
_DESTROY = ToolAnnotations(read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=False)


@dataclass(frozen=True)
class App:
    """What every tool reaches through its context: the settings, the supervisor, and whether this runs in a job."""

    settings: Settings
    supervisor: JobSupervisor
    inside_job: str | None


Ctx = Context[App]


def build_server(settings: Settings) -> MCPServer[App]:
    """Build the codex-subagents MCP server for ``settings``."""
    inside_job = enclosing_job()

    @asynccontextmanager
    async def lifespan(_: MCPServer[App]) -> AsyncGenerator[App]:
        async with JobSupervisor(settings) as supervisor, baselines.child_kept_ready():
            yield App(settings, supervisor, inside_job)

    mcp = stdio.Server[App](
        "codex-subagents", instructions=INSTRUCTIONS, lifespan=lifespan, version=version("codex-subagents")
    )
    for function, hints in _TOOLS:
        mcp.add_tool(function, description=inspect.cleandoc(function.__doc__ or ""), annotations=hints)
    return mcp


def _tool(annotations: ToolAnnotations) -> Callable[[ToolFunction], ToolFunction]:
    """Register a tool; its description is its docstring without the source indentation."""

    def register(function: ToolFunction) -> ToolFunction:
        _TOOLS.append((function, annotations))
        return function

    return register


def _roots(ctx: Ctx) -> tuple[Path, ...]:
    return ctx.request_context.lifespan_context.settings.allow_roots


@_tool(_WRITE)
async def codex_spawn(
    ctx: Ctx,
    prompt: Annotated[str, Field(min_length=1, max_length=500_000, description="The worker's task")],
    cwd: Cwd = None,
    label: Annotated[str | None, Field(max_length=80, description="A short name shown in digests")] = None,
    model: Annotated[str | None, Field(max_length=128, description="Codex model for this worker")] = None,
    profile: Annotated[str | None, Field(max_length=128, description="Codex config profile")] = None,
    sandbox: Annotated[Sandbox | None, Field(description="Default: the server's (serve --sandbox)")] = None,
    config: Annotated[
        list[str] | None,
        Field(max_length=64, description="Codex -c KEY=VALUE overrides of model keys only (model_reasoning_effort...)"),
    ] = None,
    wall_timeout_s: Annotated[float | None, Field(gt=0, le=86_400, description="Wall-clock budget")] = None,
    idle_timeout_s: Annotated[float | None, Field(gt=0, le=86_400, description="Budget of silence")] = None,
    scope: Annotated[
        list[Pattern] | None, Field(max_length=256, description="Paths or globs relative to cwd the worker owns")
    ] = None,
) -> models.SpawnResult:
    """Start a Codex worker on a task in the background and return its job id at once.

    The worker shares the worktree with others, must not commit, and ends by
    reporting {summary, modifiedFiles}. Past the server's cap the job waits in a
    FIFO queue, and while its scope intersects a running or earlier queued job's.
    Follow it with codex_wait_any, codex_events and codex_result.
    """
    app = ctx.request_context.lifespan_context
    if app.inside_job is not None:
        raise RecursionRefusedError(app.inside_job)
    directory, worktree = await location.located(_roots(ctx), cwd)
    request = job_request(
        app.settings,
        directory,
        worktree,
        prompt=prompt,
        label=label,
        sandbox=sandbox,
        model=model,
        profile=profile,
        config=config or [],
        wall_timeout_s=wall_timeout_s,
        idle_timeout_s=idle_timeout_s,
        scope=scope or [],
    )
    return app.supervisor.digest(await app.supervisor.spawn(request))


@_tool(_READ)
async def codex_events(
    ctx: Ctx,
    job_id: JobId,
    cursor: Annotated[int, Field(ge=0, description="The next_cursor of the previous page; 0 to start")] = 0,
    limit: Annotated[int, Field(ge=1, le=500, description="At most this many events")] = 100,
) -> models.EventsPage:
    """Read a page of a job's normalized events from a cursor, while it runs or after."""
    return await ctx.request_context.lifespan_context.supervisor.events(job_id, cursor, limit)


# Not read-only nor idempotent: it marks what it reported, so a parallel call or a retry would miss a job.
@_tool(_WRITE)
async def codex_wait_any(
    ctx: Ctx,
    job_ids: Annotated[
        list[str] | None, Field(max_length=256, description="Jobs to wait for; default: every job")
    ] = None,
    timeout_s: Annotated[
        float, Field(ge=0, le=3600, description="Give up after this long (capped by the server)")
    ] = 60,
) -> models.WaitResult:
    """Block until at least one of the jobs finishes, an alert names one, or the timeout passes.

    Returns each finished job exactly once across calls, and a digest of the
    jobs still running, so no other call is needed to see progress. Returns at
    once when no job of the set is left queued or running, and early with
    alerts: a collision (two running jobs touched one path) or a write outside
    a job's scope, each listed once; cancel one colliding job and let the other
    finish. Loop until pending is empty; a job whose answer was lost is no longer
    pending: codex_status shows it finished, codex_result gives its result.
    """

    async def progress(done: int, total: int, message: str) -> None:
        await ctx.report_progress(done, total, message)

    return await ctx.request_context.lifespan_context.supervisor.wait_any(job_ids, timeout_s, progress)


@_tool(_READ)
async def codex_result(ctx: Ctx, job_id: JobId) -> models.JobResult:
    """Return a finished job's result: state, summary, modified and observed files, usage, errors."""
    return ctx.request_context.lifespan_context.supervisor.result(job_id)


@_tool(_DESTROY)
async def codex_cancel(ctx: Ctx, job_id: JobId) -> models.CancelResult:
    """Stop a job: remove it from the queue, or stop its worker and every process it started."""
    return await ctx.request_context.lifespan_context.supervisor.cancel(job_id)


@_tool(_READ)
async def codex_status(
    ctx: Ctx,
    job_ids: Annotated[list[str] | None, Field(max_length=256, description="Default: every job")] = None,
) -> models.StatusResult:
    """List jobs (state, queue position, latest event, whether a wait reported it), the server's load, alerts,
    the jobs' summed usage, and the live jobs of other Codex sessions (elsewhere)."""
    supervisor = ctx.request_context.lifespan_context.supervisor
    return supervisor.status(job_ids, await supervisor.live_elsewhere())


@_tool(_WRITE)
async def codex_baseline(
    ctx: Ctx,
    cwd: Cwd = None,
    label: Annotated[str | None, Field(max_length=80, description="A note kept with the baseline")] = None,
) -> description.BaselineInfo:
    """Record the whole worktree as it is now, the user's uncommitted work included, to roll back to.

    Records every file's exact bytes and permission bits (ignored files too, up to
    a size limit), HEAD, the index and the stash list. Touches no file, nor HEAD,
    the index or the stash. Lists what it does not protect (ignored directories,
    large ignored files) in unprotected.
    """
    return await baselines.create_in_child(await location.worktree(_roots(ctx), cwd), label)


@_tool(_READ)
async def codex_baselines(ctx: Ctx, cwd: Cwd = None) -> description.BaselineList:
    """List the worktree's baselines, newest first."""
    return await baselines.listed(await location.worktree(_roots(ctx), cwd))


@_tool(_DESTROY)
async def codex_baseline_drop(ctx: Ctx, baseline_id: BaselineId, cwd: Cwd = None) -> description.DropResult:
    """Delete a baseline once its work is kept or discarded."""
    return await baselines.drop(await location.worktree(_roots(ctx), cwd), baseline_id)


@_tool(_READ)
async def codex_overlaps(
    ctx: Ctx,
    baseline_id: BaselineId,
    job_ids: Annotated[list[str], Field(min_length=1, max_length=256, description="The jobs to compare")],
    cwd: Cwd = None,
) -> batch.OverlapResult:
    """Compare the jobs' changes since a baseline: overlaps, unclaimed changes, claims that did not change.

    Uses three signals: each job's reported modifiedFiles, its file_change events, and
    the worktree itself (bytes and permission bits); also names any move of HEAD, the
    index or the stash. Two jobs overlap on a path only if their runs overlapped in time;
    touches one after another are in_sequence. A change is unclaimed only if no job of the
    worktree accounts for it, and a touch a later rollback undid no longer counts, so after
    a rollback and serial re-runs the report comes out clean. Changes that jobs of another
    server (another Codex session in this repository) claim are listed under elsewhere, not
    unclaimed. Paths that are not UTF-8 are shown quoted the way git quotes them.
    """
    worktree = await location.worktree(_roots(ctx), cwd)
    supervisor = ctx.request_context.lifespan_context.supervisor
    given = [job.job_id for job in supervisor.jobs(job_ids)]
    return await batch.overlaps(worktree, baseline_id, given, await supervisor.claims(worktree.root))


@_tool(_DESTROY)
async def codex_rollback(
    ctx: Ctx,
    baseline_id: BaselineId,
    paths: Annotated[
        list[str] | None, Field(max_length=10_000, description="Only these paths; default: every change")
    ] = None,
    cwd: Cwd = None,
) -> RollbackResult:
    """Put the worktree (or only the given paths) back exactly as the baseline recorded it.

    Without paths, HEAD, the index and the stash list are put back too; whatever a
    worker made there (commits, stash entries) stays reachable under kept_refs.
    Refused while a job in this worktree is queued or running: cancel or wait for it first
    (another Codex session's jobs are listed by codex_status under elsewhere until they finish).
    Paths that a job of another server (another Codex session) changed are left as they are,
    under not_restored.
    """
    worktree = await location.worktree(_roots(ctx), cwd)
    app = ctx.request_context.lifespan_context
    live = await anyio.to_thread.run_sync(lambda: live_jobs_in(app.settings.state_dir, worktree.root, strict=True))
    ours = {job.job_id for job in app.supervisor.jobs()}
    busy = batch.Busy(tuple(j for j in live if j in ours), tuple(j for j in live if j not in ours))
    return await batch.roll_back(worktree, baseline_id, paths, busy, await app.supervisor.claims(worktree.root))


@_tool(_READ)
async def codex_integrity(ctx: Ctx, job_id: JobId, baseline_id: BaselineId, cwd: Cwd = None) -> batch.IntegrityResult:
    """After a cancel or failure, name the paths the job left changed and the changes no other job claims."""
    supervisor = ctx.request_context.lifespan_context.supervisor
    supervisor.result(job_id)
    worktree = await location.worktree(_roots(ctx), cwd)
    return await batch.integrity(worktree, baseline_id, job_id, await supervisor.claims(worktree.root))
