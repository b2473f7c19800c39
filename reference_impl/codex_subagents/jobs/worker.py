"""How one worker is started: its ``codex exec`` command line, contract, schema and environment.

The prompt travels on stdin (``codex exec -``), so nothing a boss writes can be
read as a flag. Every worker gets the contract preamble, the output schema that
asks for ``{summary, modifiedFiles}``, Codex's own sub-agent features switched
off, and neither this server nor the boss skill (``boss_only``). Each worker
carries ``CODEX_SUBAGENTS_JOB_ID`` in its environment; a server that finds that
marker on itself or on an ancestor process knows it runs inside a worker and
refuses to spawn.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..codex_home.boss_only import SKILL_OFF, servers_off
from ..core import state_layout as layout
from ..core.config import Settings
from ..core.errors import InputError
from ..core.paths import git_quoted
from ..core.procs import environment, parent_of
from ..worktree.location import Worktree
from ..worktree.scope import normalize
from .journal import JobRequest

JOB_ENV = "CODEX_SUBAGENTS_JOB_ID"

OUTPUT_SCHEMA: dict[str, object] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string"},
        "modifiedFiles": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["summary", "modifiedFiles"],
    "additionalProperties": False,
}

PREAMBLE = """\
You are a worker agent (job {job_id}, "{label}") started by a boss agent through codex-subagents.
Other workers are editing this same git worktree at the same time. Your contract:
1. Do only the task below and change only the files it gives you.
   If another file must change, do not change it: say so in your summary.
2. Do not start sub-agents or other workers, and do not call codex-subagents tools.
   Do the work yourself.
3. Do not commit, stash, reset, checkout, restore, revert or clean anything in git,
   and never undo a change you did not make.
4. Files you did not touch may change while you work. That is expected:
   ignore them and keep going, without stopping to ask.
5. A skill that tells an agent to orchestrate workers is for the boss, not for you.
6. End with a final message that is only the JSON object
   {{"summary": "...", "modifiedFiles": ["..."]}}, listing every file you created,
   modified or deleted (paths relative to your working directory),
   including files written by shell commands.

Your task:
"""

SCOPE_RULE = """
   The paths you own, relative to your working directory (globs allowed): {owned}.
   Change nothing outside them: other workers own the rest."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}")
_CONFIG_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-\"]{0,199}")
SPAWN_CONFIG_KEYS = (
    "model",
    "model_reasoning_effort",
    "model_reasoning_summary",
    "model_verbosity",
    "model_supports_reasoning_summaries",
    "model_context_window",
    "model_auto_compact_token_limit",
    "hide_agent_reasoning",
    "show_raw_agent_reasoning",
)
"""The only keys a spawn's ``config`` may set: how the worker's model thinks and answers.

An allowlist, because the boss is a model that reads untrusted files: a key such as
``notify`` runs a program outside every sandbox, ``model_provider`` sends the worker's
requests (the code they carry included) to any URL, and a key a later Codex adds is
unknown here. The server's own settings (``serve --worker-config``) are not limited.
"""


@dataclass(frozen=True)
class Launch:
    """A worker's complete command line, standard input and environment."""

    argv: list[str]
    stdin: bytes
    env: dict[str, str]


def check_name(kind: str, value: str) -> str:
    """Return ``value`` if it is a plain model or profile name, never something read as a flag."""
    if not _NAME.fullmatch(value):
        raise InputError(f"{kind} {value!r} is not a plain name (letters, digits, . _ : / @ + -); pass e.g. gpt-5.5.")
    return value


def check_config(items: Sequence[str]) -> list[str]:
    """Return per-spawn ``KEY=VALUE`` overrides, refusing any key outside `SPAWN_CONFIG_KEYS`."""
    for item in items:
        key, sep, _ = item.partition("=")
        if not sep or not _CONFIG_KEY.fullmatch(key) or "\0" in item or "\n" in item:
            raise InputError(f"config item {item!r} is not KEY=VALUE; write e.g. model_reasoning_effort=low.")
        if key not in SPAWN_CONFIG_KEYS:
            raise InputError(
                f"config key {key!r} is not one a spawn may set ({', '.join(SPAWN_CONFIG_KEYS)}): others can run "
                "programs or send a worker's requests elsewhere. Set it for every worker on the server instead: "
                f"serve --worker-config {key}=VALUE, or in the user's Codex config."
            )
    return list(items)


def job_request(
    settings: Settings,
    cwd: Path,
    worktree: Worktree,
    *,
    prompt: str,
    label: str | None,
    sandbox: str | None,
    model: str | None,
    profile: str | None,
    config: Sequence[str],
    wall_timeout_s: float | None,
    idle_timeout_s: float | None,
    scope: Sequence[str] = (),
) -> JobRequest:
    """Check a spawn's arguments against the contract and the server's settings, and fill the defaults.

    ``worktree`` is the one that holds ``cwd``; ``scope`` (patterns from ``cwd``) is stored from its top, and
    the job keeps the worktree's case rule.

    Raises:
        InputError: for a blank prompt, a sandbox the server does not allow, a name
            that could be read as a flag, a config key a spawn may not set, or a
            scope pattern that is empty or leads outside the worktree.
    """
    if not prompt.strip():
        raise InputError("prompt is blank; say what the worker should do.")
    chosen = sandbox or settings.default_sandbox
    if chosen == "danger-full-access" and not settings.allow_danger_full_access:
        raise InputError(
            "sandbox 'danger-full-access' is refused: the server was not started with "
            "--allow-danger-full-access; use 'workspace-write'."
        )
    return JobRequest(
        prompt=prompt,
        cwd=str(cwd),
        label=label or prompt.strip().splitlines()[0][:40],
        sandbox=chosen,
        model=check_name("model", model) if model else None,
        profile=check_name("profile", profile) if profile else None,
        config=check_config(config),
        wall_timeout_s=wall_timeout_s or settings.wall_timeout_s,
        idle_timeout_s=idle_timeout_s or settings.idle_timeout_s,
        root=str(worktree.root),
        scope=normalize(worktree.root, cwd, scope),
        ignore_case=worktree.ignore_case,
    )


def build_launch(
    settings: Settings,
    *,
    job_id: str,
    label: str,
    prompt: str,
    cwd: Path,
    sandbox: str,
    model: str | None,
    profile: str | None,
    config: Sequence[str],
    schema_path: Path,
    last_message_path: Path,
    environ: Mapping[str, str],
    scope: Sequence[str] = (),
) -> Launch:
    """Assemble the ``codex exec`` invocation of one worker; ``scope`` is what it owns, from its ``cwd``."""
    env = worker_environment(settings, environ)
    env[JOB_ENV] = job_id
    argv = [
        str(settings.codex),
        "exec",
        "--json",
        "--skip-git-repo-check",
        "--ephemeral",
        "--disable",
        "multi_agent",
        "--disable",
        "multi_agent_v2",
        f"--sandbox={sandbox}",
        f"--cd={cwd}",
        f"--output-last-message={last_message_path}",
        f"--output-schema={schema_path}",
    ]
    if settings.isolated:
        argv.append("--ignore-user-config")
        env["CODEX_HOME"] = str(layout.codex_home(settings.state_dir))
    else:
        for item in servers_off(settings.server_name, env):
            argv += ["-c", item]
    argv += ["-c", SKILL_OFF]
    if model:
        argv.append(f"--model={model}")
    if profile:
        argv.append(f"--profile={profile}")
    for item in (*settings.worker_config, *config):
        argv += ["-c", item]
    argv.append("-")
    text = preamble(job_id, label, scope) + prompt
    return Launch(argv=argv, stdin=text.encode(), env=env)


def preamble(job_id: str, label: str, scope: Sequence[str] = ()) -> str:
    """The contract a worker reads before its task; a scoped worker's first rule names the paths it owns."""
    text = PREAMBLE.format(job_id=job_id, label=label)
    if not scope:
        return text
    first, second, rest = text.partition("\n2. ")
    return first + SCOPE_RULE.format(owned=", ".join(git_quoted(pattern) for pattern in scope)) + second + rest


def write_schema(directory: Path) -> Path:
    """Write the worker output schema file once into the state dir ``directory`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = layout.output_schema(directory)
    path.write_text(json.dumps(OUTPUT_SCHEMA, indent=1))
    return path


def worker_environment(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """Return the part of ``environ`` a worker may see, by the allowlist."""
    return {
        name: value
        for name, value in environ.items()
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in settings.env_allowlist) and name != JOB_ENV
    }


def marker(job_id: str) -> str:
    """The ``NAME=value`` entry that every process of job ``job_id`` inherits, to find them all when it stops."""
    return f"{JOB_ENV}={job_id}"


def enclosing_job(pid: int | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """Return the job id of the worker this process runs inside, if any.

    Codex passes only a few variables to the MCP servers it starts, so the
    marker is looked for on every ancestor process as well as on this one.
    """
    own = (os.environ if environ is None else environ).get(JOB_ENV)
    if own:
        return own
    current = os.getpid() if pid is None else pid
    for _ in range(64):
        parent = parent_of(current)
        if parent is None or parent <= 1:
            return None
        found = environment(parent).get(JOB_ENV)
        if found:
            return found
        current = parent
    return None
