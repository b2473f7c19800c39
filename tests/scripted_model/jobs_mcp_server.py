"""A tiny stdio MCP server for the real-codex test of namespaced calls and ``{{output:...}}`` templating.

``start`` returns a job id derived from the prompt and ``status`` echoes it back, so a scripted boss
can only pass the second call if the id from the first one was substituted correctly.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel

server = MCPServer("jobs")


class Job(BaseModel):
    """A job as the tools report it."""

    job_id: str
    state: str


@server.tool()
def start(prompt: str) -> Job:
    """Start a job for ``prompt``."""
    return Job(job_id=f"job-{len(prompt)}", state="started")


@server.tool()
def status(job_id: str) -> Job:
    """Report the job's state."""
    return Job(job_id=job_id, state="running")


if __name__ == "__main__":
    server.run("stdio")
