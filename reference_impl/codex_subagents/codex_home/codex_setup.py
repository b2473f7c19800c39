"""Read what a user's Codex set-up says about this server and its skill, from the files Codex reads.

The server is registered either in ``$CODEX_HOME/config.toml`` (``[mcp_servers.<name>]``, what
``codex mcp add`` writes) or by an enabled plugin (``[plugins."<plugin>@<marketplace>"]``, whose
installed copy under ``$CODEX_HOME/plugins/cache`` names a ``.mcp.json``). Skills are found where
Codex 0.169 scans for them. Nothing here starts a process, so `doctor` can read it all at once.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from ..core.errors import ConfigError
from .skill import SKILL_NAME


@dataclass(frozen=True)
class Registration:
    """One server entry as Codex would start it, and the file that declares it."""

    source: Path
    entry: Mapping[str, object]

    def number(self, key: str) -> float | None:
        """A numeric setting such as ``tool_timeout_sec``, or None when it is not set."""
        value = self.entry.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def option(self, flag: str) -> str | None:
        """The value of a ``serve`` option (``--max-wait``) in the entry's ``args``, or None."""
        args = self.entry.get("args")
        items = [str(arg) for arg in cast("list[object]", args)] if isinstance(args, list) else []
        for index, arg in enumerate(items):
            if arg.startswith(f"{flag}="):
                return arg.split("=", 1)[1]
            if arg == flag and index + 1 < len(items):
                return items[index + 1]
        return None

    def rollback_approved(self) -> bool:
        """Whether ``codex_rollback``, the destructive tool, runs without asking for approval."""
        tools = self.entry.get("tools")
        rollback = cast("Mapping[str, object]", tools).get("codex_rollback") if isinstance(tools, Mapping) else None
        if isinstance(rollback, Mapping) and "approval_mode" in rollback:
            return cast("Mapping[str, object]", rollback)["approval_mode"] == "approve"
        return self.entry.get("default_tools_approval_mode") == "approve"


def codex_home(environ: Mapping[str, str]) -> Path:
    """The Codex home a process with ``environ`` reads: ``CODEX_HOME``, else ``~/.codex`` of its ``HOME``."""
    return Path(environ.get("CODEX_HOME") or Path(environ.get("HOME", "~")) / ".codex").expanduser()


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = data.get(key)
    return cast("Mapping[str, object]", value) if isinstance(value, Mapping) else {}


def read_config(codex_home: Path) -> Mapping[str, object]:
    """Parse ``config.toml`` (empty when missing); a malformed file raises ``tomllib.TOMLDecodeError``."""
    path = codex_home / "config.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def installed_plugins(codex_home: Path, config: Mapping[str, object]) -> Iterator[Path]:
    """Yield the installed folder of each plugin the config enables (the newest version of each)."""
    for selector, settings in _table(config, "plugins").items():
        plugin, _, marketplace = selector.partition("@")
        if not (isinstance(settings, Mapping) and cast("Mapping[str, object]", settings).get("enabled") is True):
            continue
        versions = codex_home / "plugins" / "cache" / marketplace / plugin
        found = sorted((path for path in versions.glob("*") if path.is_dir()), key=lambda path: path.stat().st_mtime)
        if found:
            yield found[-1]


def config_servers(config: Mapping[str, object]) -> Mapping[str, object]:
    """The config's own ``[mcp_servers]`` table, by server name (empty when it has none)."""
    return _table(config, "mcp_servers")


def plugin_servers(
    codex_home: Path, config: Mapping[str, object], *, strict: bool = True
) -> Iterator[tuple[Path, Mapping[str, object]]]:
    """Yield the servers file of each enabled plugin that declares one, with its servers by name.

    A plugin whose manifest names no server file declares none. One whose manifest or server file cannot be
    read is broken, not silent: it may be the one that registers the server; without ``strict`` it is passed over.

    Raises:
        ConfigError: with ``strict``, for an enabled plugin's manifest or server file that cannot be read.
    """
    for folder in installed_plugins(codex_home, config):
        manifest = folder / ".codex-plugin" / "plugin.json"
        if not manifest.exists():
            continue
        servers_file = manifest
        try:
            listed = json.loads(manifest.read_text()).get("mcpServers")
            if listed is None:
                continue
            servers_file = folder / str(listed)
            servers = json.loads(servers_file.read_text())["mcpServers"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            if not strict:
                continue
            raise ConfigError(
                f"the plugin file {str(servers_file)!r} cannot be read ({type(exc).__name__}: {exc}); "
                "fix that file, or install its plugin again"
            ) from exc
        if isinstance(servers, dict):
            yield servers_file, cast("dict[str, object]", servers)


def find_registration(codex_home: Path, config: Mapping[str, object], name: str) -> Registration | None:
    """Return the server entry called ``name``: the config's own first, then an enabled plugin's.

    Raises:
        ConfigError: for an enabled plugin's manifest or server file that cannot be read.
    """
    entry = _table(config_servers(config), name)
    if entry:
        return Registration(codex_home / "config.toml", entry)
    for servers_file, servers in plugin_servers(codex_home, config):
        if found := _table(servers, name):
            return Registration(servers_file, found)
    return None


def skill_roots(codex_home: Path, home: Path, cwd: Path, config: Mapping[str, object]) -> list[Path]:
    """The folders Codex 0.169 scans for skills, for a session started in ``cwd``, each once."""
    roots = [cwd / ".codex" / "skills", codex_home / "skills", home / ".agents" / "skills", Path("/etc/codex/skills")]
    project = next((folder for folder in (cwd, *cwd.parents) if (folder / ".git").exists()), cwd)
    roots += [folder / ".agents" / "skills" for folder in (cwd, *cwd.parents) if folder.is_relative_to(project)]
    roots += [folder / "skills" for folder in installed_plugins(codex_home, config)]
    return list(dict.fromkeys(root.resolve() for root in roots))


def skill_copies(roots: list[Path]) -> list[Path]:
    """Every folder named like this skill, holding a SKILL.md, under the roots (hidden folders skipped)."""
    copies: list[Path] = []
    for root in roots:
        for skill in sorted(root.rglob("SKILL.md")) if root.is_dir() else []:
            parts = skill.relative_to(root).parts
            if skill.parent.name == SKILL_NAME and not any(part.startswith(".") for part in parts):
                copies.append(skill.parent)
    return copies
