"""A stand-in for ``codex exec --json`` used by the supervisor's unit tests.

It reads the prompt on stdin like the real CLI and acts out the JSON plan that
follows the last ``FAKE:`` marker: write files, print the given stdout lines, write the
``-o`` file, start child processes, hang until killed, or exit with a code.
Acceptance tests never use it: they run the real Codex CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> int:
    prompt = sys.stdin.read()
    plan = json.loads(prompt.rsplit("FAKE:", 1)[1])
    last_message = next((arg.split("=", 1)[1] for arg in sys.argv if arg.startswith("--output-last-message=")), None)
    if plan.get("echo_env"):
        print(
            json.dumps(
                {
                    "type": "item.completed",
                    "item": {"id": "env", "type": "agent_message", "text": json.dumps(dict(os.environ))},
                }
            )
        )
    if plan.get("echo_argv"):
        print(
            json.dumps(
                {
                    "type": "item.completed",
                    "item": {"id": "argv", "type": "agent_message", "text": json.dumps(sys.argv[1:])},
                }
            )
        )
    for name, text in plan.get("write", {}).items():
        with open(name, "w") as stream:
            stream.write(text)
    for _ in range(plan.get("children", 0)):
        subprocess.Popen(["sleep", "600"])
    out = sys.stdout.buffer
    for line in plan.get("lines", []):
        out.write(line.encode() if isinstance(line, str) else bytes(line))
        out.write(b"\n")
        out.flush()
    if "raw" in plan:
        out.write(plan["raw"].encode())
        out.flush()
    if plan.get("hang"):
        while True:
            time.sleep(60)
    if last_message is not None and "last_message" in plan:
        with open(last_message, "w") as stream:
            stream.write(plan["last_message"])
    return int(plan.get("exit", 0))


if __name__ == "__main__":
    sys.exit(main())
