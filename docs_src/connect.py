"""Start `codex-subagents serve` over stdio, list its tools and read its status.

Any MCP client can do the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters


async def status(
    repo: Path,
    command: str = "codex-subagents",
) -> tuple[list[str], object]:
    """Return the tool names and codex_status answer for the repository ``repo``."""
    server = StdioServerParameters(
        command=command,
        args=["serve", "--allow-root", str(repo)],
        cwd=repo,
    )
    async with Client(server) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        answer = await client.call_tool("codex_status", {})
        return tools, answer.structured_content


if __name__ == "__main__":
    print(anyio.run(status, Path(sys.argv[1])))
