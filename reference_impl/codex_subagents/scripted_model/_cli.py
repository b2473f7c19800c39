"""``python -m codex_subagents.scripted_model``: serve script files until SIGTERM or SIGINT.

When ready it prints one JSON line, ``{"base_url", "port", "codex_overrides"}``, so a test or a
shell script can read the address and point codex at it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import anyio

from ._script import Script, ScriptError, load_scripts
from ._server import ScriptedModel


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for unusable scripts, 1 if the port is taken)."""
    parser = argparse.ArgumentParser(
        prog="codex-subagents scripted-model",
        description="Serve scripted Responses API answers to codex on 127.0.0.1, for offline tests.",
    )
    parser.add_argument("--script", action="append", required=True, type=Path, metavar="FILE", help="repeatable")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    parser.add_argument("--log", type=Path, metavar="FILE", help="append every request to FILE as JSON lines")
    args = parser.parse_args(argv)
    try:
        scripts = load_scripts(args.script)
    except ScriptError as exc:
        print(f"scripted-model: {exc}", file=sys.stderr)
        return 2
    try:
        anyio.run(_serve, scripts, args.port, args.log)
    except OSError as exc:
        print(f"scripted-model: cannot listen on port {args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(scripts: tuple[Script, ...], port: int, log: Path | None) -> None:
    async with ScriptedModel(scripts, log_path=log, port=port) as model:
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            ready = {"base_url": model.base_url, "port": model.port, "codex_overrides": model.codex_overrides()}
            print(json.dumps(ready), flush=True)
            async for _ in signals:
                return
