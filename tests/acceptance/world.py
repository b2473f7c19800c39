"""The scenario world and the helpers that steps share: what a scenario has built, and how the boss acts on it.

Each scenario gets a `World`: a temporary git repository, a scripted model and a
real stdio session to ``codex-subagents serve`` whose workers are the real Codex
CLI. Worker scripts are written from the step's words into the model's scripts,
and each worker's prompt carries the marker ``[script NAME]`` that selects its
script. The steps themselves live in ``conftest.py`` (shared) and in each
feature's test module (its own); both import what they need from here.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from harness import Boss, Json, ToolFailedError, boss_session, git
from pydantic import JsonValue

from codex_subagents.scripted_model import parse_scripts


@dataclass
class World:
    """What one scenario has built so far."""

    tmp: Path
    stack: ExitStack
    repo: Path | None = None
    boss: Boss | None = None
    second: Boss | None = None
    """A second server on the same repository and journals, started by a step that needs two."""
    server_args: list[str] = field(default_factory=list[str])
    server_env: dict[str, str] = field(default_factory=dict[str, str])
    isolated: bool = True
    """Whether workers ignore the user's Codex configuration (the server's ``--isolated``)."""
    jobs: dict[str, str] = field(default_factory=dict[str, str])
    contents: dict[str, str] = field(default_factory=dict[str, str])
    baseline: str | None = None
    answers: dict[str, Json] = field(default_factory=dict[str, Json])
    error: str | None = None
    templates: dict[str, list[Json]] = field(default_factory=dict[str, list[Json]])
    prompts: dict[str, str] = field(default_factory=dict[str, str])
    instances: dict[str, str] = field(default_factory=dict[str, str])
    baseline_bytes: dict[str, bytes] = field(default_factory=dict[str, bytes])
    user_content: dict[str, str] = field(default_factory=dict[str, str])
    head: str | None = None
    journals: Path | None = None
    """Where the server keeps its job journals; None: its default, the repository's git directory."""

    @property
    def live(self) -> Boss:
        """The boss's session; the scenario must have started the server."""
        assert self.boss is not None, "start the server first"
        return self.boss

    def path(self, name: str) -> Path:
        """A path in the repository."""
        assert self.repo is not None, "create the repository first"
        return self.repo / name

    def add_script(self, name: str, turns: list[Json]) -> None:
        """Declare the worker script ``name``; every spawn of it plays its own copy of ``turns``."""
        self.templates[name] = turns

    def instance(self, name: str) -> str:
        """Serve a fresh copy of script ``name`` and return its marker name, so each job is held apart."""
        instance = f"{name}--{len(self.instances) + 1}"
        scripts = parse_scripts(
            {"scripts": {instance: {"match": f"[script {instance}]", "turns": self.templates[name]}}}
        )
        self.live.model.add_scripts(scripts)
        return instance

    def start_server(self, *extra: str) -> None:
        """Start the scripted model and the server on the repository."""
        assert self.repo is not None, "create the repository first"
        self.boss = self.stack.enter_context(
            boss_session(
                self.repo, self.journals, *self.server_args, *extra, environ=self.server_env, isolated=self.isolated
            )
        )

    def start_second_server(self) -> None:
        """Start another server on the same repository and journals, sharing the first one's scripted model."""
        live = self.live
        second = Boss(
            portal=live.portal,
            repo=live.repo,
            model=live.model,
            state_dir=self.journals,
            extra=(*self.server_args,),
            environ=self.server_env,
            isolated=self.isolated,
        )
        second.start()
        self.stack.callback(second.stop)
        self.second = second

    def journal(self, name: str) -> Path:
        """The directory of the journal of the job that ran script ``name``."""
        root = self.journals or self.path(".git") / "codex-subagents"
        return root / "jobs" / self.job(name)

    def job(self, name: str) -> str:
        """The job id of the worker that ran script ``name``."""
        return self.jobs[name]


def commit(world: World, *paths: str) -> None:
    """Commit the given paths as the user would."""
    repo = world.path(".")
    git(repo, "add", "--", *paths)
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"add {', '.join(paths)}")


def baseline_files(world: World) -> list[str]:
    """Every path the baseline commit records."""
    commit_id = str(world.answers["baseline"]["commit"])
    return git(world.path("."), "ls-tree", "-r", "--name-only", f"{commit_id}:worktree").splitlines()


def strings(value: object) -> list[str]:
    """A result field that must be a list of strings."""
    assert isinstance(value, list)
    items: list[object] = list(value)  # pyright: ignore[reportUnknownArgumentType]
    assert all(isinstance(item, str) for item in items), items
    return [str(item) for item in items]


def records(value: object) -> list[Json]:
    """A result field that must be a list of objects, such as events or job digests."""
    assert isinstance(value, list)
    items: list[object] = list(value)  # pyright: ignore[reportUnknownArgumentType]
    assert all(isinstance(item, dict) for item in items), items
    return [cast("Json", item) for item in items]


def names(text: str) -> list[str]:
    """Split a step's comma-separated list of names."""
    return [part.strip() for part in text.split(",") if part.strip()]


def final(files: list[str], summary: str = "done") -> Json:
    """A turn that ends the worker with its contract report."""
    return {"final_json": {"summary": summary, "modifiedFiles": files}}


def write_patch(world: World, file: str, text: str) -> str:
    """An apply_patch that makes ``file`` hold exactly ``text`` (one line)."""
    target = world.path(file)
    if target.exists():
        old = "".join(f"-{line}\n" for line in target.read_text().splitlines())
        return f"*** Begin Patch\n*** Update File: {file}\n@@\n{old}+{text}\n*** End Patch\n"
    return f"*** Begin Patch\n*** Add File: {file}\n+{text}\n*** End Patch\n"


def spawn(world: World, name: str, key: str | None = None, **arguments: object) -> None:
    """Spawn a worker playing a fresh copy of script ``name``, known afterwards as ``key`` (default: ``name``).

    A refused spawn is kept in ``world.error`` for a later step to check.
    """
    spawn_on(world.live, world, name, key, **arguments)


def spawn_on(boss: Boss, world: World, name: str, key: str | None = None, /, **arguments: object) -> None:
    """`spawn` through the server of ``boss``, which need not be the first one."""
    key = key or name
    instance = world.instance(name)
    prompt = arguments.pop("prompt", world.prompts.get(name, f"Do the task of script {name}."))
    try:
        answer = boss.call("codex_spawn", prompt=f"[script {instance}] {prompt}", **arguments)
    except ToolFailedError as exc:
        world.error = str(exc)
        return
    world.jobs[key] = str(answer["job_id"])
    world.instances[key] = instance
    world.answers[f"spawn {key}"] = answer


def attempt(world: World, tool: str, **arguments: object) -> Json | None:
    """Call a tool whose refusal a later step checks; keep the refusal in ``world.error``."""
    try:
        return world.live.call(tool, **arguments)
    except ToolFailedError as exc:
        world.error = str(exc)
        return None


def snapshot_files(repo: Path) -> dict[str, bytes]:
    """Every file of the worktree outside .git, as bytes (symlinks as their target)."""
    files: dict[str, bytes] = {}
    for path in sorted(repo.rglob("*")):
        relative = path.relative_to(repo).as_posix()
        if relative == ".git" or relative.startswith(".git/"):
            continue
        if path.is_symlink():
            files[relative] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            files[relative] = path.read_bytes()
    return files


def state_of(world: World, name: str) -> Json:
    """The job's line in codex_status."""
    jobs = world.live.call("codex_status", job_ids=[world.job(name)])["jobs"]
    assert isinstance(jobs, list) and len(jobs) == 1  # pyright: ignore[reportUnknownArgumentType]
    entry = jobs[0]  # pyright: ignore[reportUnknownVariableType]
    assert isinstance(entry, dict)
    return entry  # pyright: ignore[reportUnknownVariableType]


def release(world: World, key: str) -> None:
    """Let the held turn of job ``key``'s worker answer."""
    instance = world.instances[key]
    world.live.portal.call(lambda: _release(world, instance))


async def _release(world: World, instance: str) -> None:
    world.live.model.release(instance)


def first_request(world: World, name: str) -> dict[str, JsonValue]:
    """The body of the first request the job's worker sent to its model."""
    instance = world.instances[name]
    body = next(r.body for r in world.live.model.requests if r.script == instance and r.turn == 0)
    assert isinstance(body, dict)
    return body


def result_of(world: World, name: str) -> Json:
    """The result the boss read for the job."""
    return world.answers.get(f"result {name}") or world.live.call("codex_result", job_id=world.job(name))


def dump(value: object) -> str:
    """Show a value in assertion messages."""
    return json.dumps(value, indent=1, default=str)


def digest(world: World, name: str, entries: object) -> Json:
    """The entry of job ``name`` in a list of job digests."""
    found = [entry for entry in records(entries) if entry["job_id"] == world.job(name)]
    assert len(found) == 1, f"job {name} ({world.job(name)}) not listed once in {dump(entries)}"
    return found[0]


def wait_answer(world: World) -> Json:
    """The answer of the boss's last codex_wait_any."""
    return world.answers["wait"]


def page(world: World) -> Json:
    """The page the boss read last."""
    return world.answers["page"]


def events_of(world: World, name: str) -> list[Json]:
    """Every event the boss read of job ``name`` while paging to the end."""
    return records(world.answers[f"all events {name}"]["events"])


def git_state(world: World) -> Json:
    """HEAD, the index, the stash list and the bytes of every file: what a baseline must leave alone."""
    repo = world.path(".")
    return {
        "head": git(repo, "rev-parse", "HEAD"),
        "index": git(repo, "ls-files", "--stage", "--debug"),
        "stash": git(repo, "stash", "list"),
        "files": {name: data.hex() for name, data in snapshot_files(repo).items()},
    }


def items(events: list[Json], item_type: str) -> dict[str, Json]:
    """The item events of one item type, by phase (``started``, ``completed``)."""
    found: dict[str, Json] = {}
    for event in events:
        if "item" in event and (item := records([event["item"]])[0])["type"] == item_type:
            found[str(event["type"]).removeprefix("item.")] = item
    return found
