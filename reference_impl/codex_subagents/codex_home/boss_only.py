"""What of the user's Codex set-up is the boss's alone, and the ``-c`` items that keep it out of every worker.

A worker reads the same Codex set-up as its boss. This server's entries there (``[mcp_servers.<name>]``
from ``codex mcp add``, or the ``.mcp.json`` of an enabled plugin) would start a server in every worker,
one the worker must wait for and cannot use, and the boss skill (the user's copy, a project's, or the
plugin's) would be listed in every model request. Codex 0.169 reads ``plugins`` from the user's config
file alone, so a plugin cannot be switched off for one run: its server is shadowed instead by a disabled
entry of the same name, which Codex takes over the plugin's, and the skill is switched off by name
(``skills.config``, which Codex reads from ``-c`` too), as its own and as the plugin's. Nothing else of
the user's set-up changes.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping

from .codex_setup import codex_home, config_servers, plugin_servers, read_config
from .skill import SKILL_NAME

SKILL_OFF = (
    f'skills.config=[{{name = "{SKILL_NAME}", enabled = false}}, '
    f'{{name = "{SKILL_NAME}:{SKILL_NAME}", enabled = false}}]'
)
"""The boss skill switched off by name: a copy of its own, and the copy the plugin of the same name brings."""

_STAND_IN = '{command = "codex-subagents", enabled = false}'
"""The disabled entry that takes a plugin's server's place in a worker; Codex never starts it."""
_SERVER_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")


def servers_off(server_name: str, environ: Mapping[str, str]) -> list[str]:
    """The ``-c`` items that disable, in one worker, each entry of the user's set-up that starts this server.

    An entry of the config is disabled in place (``mcp_servers.<name>.enabled=false``); a plugin's is
    shadowed by a disabled entry of the same name. ``environ`` is the worker's, which names its Codex home.
    """
    home = codex_home(environ)
    try:
        config = read_config(home)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    declared = config_servers(config)
    items = [f"mcp_servers.{name}.enabled=false" for name, entry in declared.items() if _ours(server_name, name, entry)]
    for _, servers in plugin_servers(home, config, strict=False):  # a broken plugin fails the doctor, not every spawn
        for name, entry in servers.items():
            if name not in declared and _ours(server_name, name, entry):
                items.append(f"mcp_servers.{name}={_STAND_IN}")
    return list(dict.fromkeys(items))


def _ours(server_name: str, name: str, entry: object) -> bool:
    """Whether the entry ``name`` starts this server: by its name, or by a command or argument naming the package."""
    if not _SERVER_NAME.fullmatch(name):
        return False
    text = json.dumps(entry, default=str)
    return name == server_name or "codex-subagents" in text or "codex_subagents" in text
