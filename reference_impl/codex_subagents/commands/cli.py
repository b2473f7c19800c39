"""The ``codex-subagents`` command: ``serve`` the MCP server, run the ``demo``, check the set-up with ``doctor``,
print or install the ``skill``, ``watch`` the jobs or read one job's ``log``, or run a ``scripted-model``."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import get_args

from ..codex_home.codex_setup import codex_home
from ..core.config import DEFAULT_ENV_ALLOWLIST, Sandbox, Settings, find_codex
from ..core.errors import ConfigError
from .views import COMMANDS as VIEW_COMMANDS
from .views import add_view_commands, run_view
from .where import git_dirs, state_dir

TEST_COMMAND = "scripted-model"
"""The command that serves the scripted model to the tests and the demo: it parses its own options, and it is
left out of the everyday ``--help``."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == [TEST_COMMAND]:
        from ..scripted_model import main as scripted_main

        return scripted_main(arguments[1:])
    args = _parser().parse_args(arguments)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "doctor":
            return _doctor(args)
        if args.command == "skill":
            return _skill(args)
        if args.command in VIEW_COMMANDS:
            return run_view(args)
        from .demo import run_demo

        return run_demo(json_output=args.json, keep=args.keep)
    except ConfigError as exc:
        print(f"codex-subagents: {exc}", file=sys.stderr)
        return 2


def settings_from(args: argparse.Namespace, cwd: Path | None = None) -> Settings:
    """Turn ``serve`` arguments into settings, with defaults taken from the git repository at ``cwd``."""
    here = (cwd or Path.cwd()).resolve()
    top, git_dir = git_dirs(here)
    roots = tuple(Path(root).expanduser().resolve() for root in args.allow_root) or ((top or here),)
    for root in roots:
        if not root.is_dir():
            raise ConfigError(f"--allow-root {str(root)!r} is not a directory.")
    state = state_dir(args.state_dir, here, git_dir)
    return Settings(
        cap=args.cap,
        queue_limit=args.queue_limit,
        state_dir=state,
        allow_roots=roots,
        worker_config=tuple(args.worker_config),
        isolated=args.isolated,
        allow_danger_full_access=args.allow_danger_full_access,
        codex=find_codex(args.codex),
        default_sandbox=args.sandbox,
        server_name=args.server_name,
        env_allowlist=(*DEFAULT_ENV_ALLOWLIST, *args.env_allow),
        wall_timeout_s=args.wall_timeout,
        idle_timeout_s=args.idle_timeout,
        max_wait_s=args.max_wait,
        kill_grace_s=args.kill_grace,
    )


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import Setup, run_doctor

    here = Path.cwd().resolve()
    state = state_dir(args.state_dir, here, git_dirs(here)[1])
    setup = Setup(_codex_home(), Path.home(), here, state, args.server_name, args.codex, args.timeout)
    return run_doctor(setup, json_output=args.json)


def _skill(args: argparse.Namespace) -> int:
    from ..codex_home.skill import install_skill, packaged_skill

    if args.action == "print":
        print((packaged_skill() / "SKILL.md").read_text(encoding="utf-8"), end="")
        return 0
    print(install_skill(Path(args.dest) if args.dest else _codex_home() / "skills", force=args.force))
    return 0


def _codex_home() -> Path:
    return codex_home(os.environ)


def _serve(args: argparse.Namespace) -> int:
    if sys.platform not in ("linux", "darwin"):
        raise ConfigError(
            f"codex-subagents serve runs on Linux and macOS, not on {sys.platform!r}: it needs POSIX process "
            "groups and file locks; run it in WSL or on a Linux or macOS machine."
        )
    from ..server.tools import build_server

    server = build_server(settings_from(args))
    # What the imports and the build made lives as long as the process: out of every full collection, whose
    # pause over it reached 60 to 80 ms on a loaded machine, a stall every caller would wait out.
    gc.freeze()
    server.run("stdio")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codex-subagents",
        description="Run several Codex worker agents at once, safely, in one git worktree.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('codex-subagents')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(commands)
    demo = commands.add_parser("demo", help="watch a boss run three workers, detect a collision and recover")
    demo.add_argument("--json", action="store_true", help="print the story as JSON lines")
    demo.add_argument("--keep", action="store_true", help="keep the temporary repository and print its path")
    _add_setup_commands(commands)
    add_view_commands(commands)
    return parser


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage] -- argparse names the subparsers type only privately
    defaults = Settings()  # the settings' own defaults, written once
    serve = commands.add_parser(
        "serve",
        help="run the MCP server over stdio (what Codex starts)",
        description="Run the MCP server over stdio. Register it with: codex mcp add codex-subagents -- "
        "codex-subagents serve",
    )
    serve.add_argument(
        "--cap", type=int, default=defaults.cap, metavar="N", help="workers running at once (default %(default)s)"
    )
    serve.add_argument(
        "--queue-limit",
        type=int,
        default=defaults.queue_limit,
        metavar="N",
        help="jobs waiting for a slot or their scope before spawn fails (%(default)s)",
    )
    serve.add_argument(
        "--state-dir", metavar="DIR", help="where job journals live (default: <git dir>/codex-subagents)"
    )
    serve.add_argument(
        "--allow-root",
        action="append",
        default=[],
        metavar="DIR",
        help="a directory workers may run in; repeatable (default: the repository the server starts in)",
    )
    serve.add_argument(
        "--worker-config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="passed to every worker as codex -c KEY=VALUE; repeatable",
    )
    serve.add_argument(
        "--isolated",
        action="store_true",
        help="workers get an empty private CODEX_HOME and --ignore-user-config (no user MCP servers or config)",
    )
    serve.add_argument(
        "--allow-danger-full-access",
        action="store_true",
        help="accept sandbox=danger-full-access in codex_spawn (for containers without user namespaces)",
    )
    serve.add_argument(
        "--sandbox",
        choices=get_args(Sandbox),
        default=defaults.default_sandbox,
        help="default worker sandbox (%(default)s)",
    )
    serve.add_argument(
        "--codex", metavar="PATH", help="the Codex CLI (default: CODEX_SUBAGENTS_CODEX, then codex on PATH)"
    )
    serve.add_argument(
        "--server-name",
        default=defaults.server_name,
        metavar="NAME",
        help="this server's name in the Codex config; disabled inside workers (default %(default)s)",
    )
    serve.add_argument(
        "--env-allow",
        action="append",
        default=[],
        metavar="NAME",
        help="another environment variable (or PREFIX_*) workers may inherit; repeatable",
    )
    _add_budgets(serve, defaults)


def _add_budgets(serve: argparse.ArgumentParser, defaults: Settings) -> None:
    """The serve flags that bound time: a job's budgets, a wait's cap, a stop's grace."""
    serve.add_argument(
        "--wall-timeout",
        type=float,
        default=defaults.wall_timeout_s,
        metavar="S",
        help="default wall-clock budget of a job (%(default)g)",
    )
    serve.add_argument(
        "--idle-timeout",
        type=float,
        default=defaults.idle_timeout_s,
        metavar="S",
        help="default budget of silence of a job (%(default)g)",
    )
    serve.add_argument(
        "--max-wait",
        type=float,
        default=defaults.max_wait_s,
        metavar="S",
        help="cap of one codex_wait_any, below the client's tool timeout (%(default)g)",
    )
    serve.add_argument(
        "--kill-grace",
        type=float,
        default=defaults.kill_grace_s,
        metavar="S",
        help="SIGTERM to SIGKILL grace (%(default)g)",
    )


def _add_setup_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage] -- argparse names the subparsers type only privately
    doctor = commands.add_parser(
        "doctor", help="check the Codex set-up for this server and say how to fix what is off (exit 1 if any fails)"
    )
    doctor.add_argument("--json", action="store_true", help="print the checks as one JSON object")
    doctor.add_argument("--codex", metavar="PATH", help="the Codex CLI to check (default: as serve finds it)")
    doctor.add_argument("--server-name", default="codex-subagents", metavar="NAME", help="the server's name in Codex")
    doctor.add_argument("--state-dir", metavar="DIR", help="the state directory serve will use (default: as serve)")
    doctor.add_argument("--timeout", type=float, default=60.0, metavar="S", help="bound of each command run (60)")
    skill = commands.add_parser("skill", help="print the boss skill, or install it where Codex finds it")
    skill.add_argument("action", choices=("print", "install"), help="print SKILL.md, or copy the skill folder")
    skill.add_argument("--dest", metavar="DIR", help="the skills folder to install into (default: ~/.codex/skills)")
    skill.add_argument("--force", action="store_true", help="replace a different copy already there")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
