"""A scripted model provider: a loopback Responses API server that lets the real codex run offline.

Tests start `ScriptedModel` with scripts from `load_scripts` (TOML or JSON, format in `_script`)
or `parse_scripts`, point ``codex exec`` at it with `ScriptedModel.codex_overrides`, and assert on
``model.requests``. It stands beside the MCP server and is never imported by it.
"""

from ._cli import main
from ._script import Script, ScriptError, load_scripts, parse_scripts
from ._server import RecordedRequest, ScriptedModel

__all__ = ["RecordedRequest", "Script", "ScriptError", "ScriptedModel", "load_scripts", "main", "parse_scripts"]
