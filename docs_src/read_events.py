"""Spawn a worker, wait for it, and read all its events, page by page, by cursor."""

from __future__ import annotations

from typing import Any, cast

from mcp import Client


async def call(client: Client, tool: str, **arguments: object) -> dict[str, Any]:
    """Call a tool and return its structured result, raising on a tool error."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        texts = [getattr(block, "text", "") for block in result.content]
        raise RuntimeError(" ".join(texts))
    return cast("dict[str, Any]", result.structured_content)


def kind(event: dict[str, Any]) -> str:
    """A short name for an event: its type, and for an item event its item's."""
    item = event.get("item")
    if isinstance(item, dict):
        return f"{event['type']} {item['type']}"
    return event["type"]


async def run_and_read(
    client: Client,
    prompt: str,
    page_size: int = 2,
) -> list[str]:
    """Run one worker to its end; return the kinds of all its events, in order."""
    job_id = (await call(client, "codex_spawn", prompt=prompt))["job_id"]
    while True:
        wait = await call(client, "codex_wait_any", job_ids=[job_id], timeout_s=60)
        if wait["finished"]:
            break  # else the wait timed out while the worker still runs
    kinds: list[str] = []
    cursor = 0
    while True:
        page = await call(
            client,
            "codex_events",
            job_id=job_id,
            cursor=cursor,
            limit=page_size,
        )
        kinds += [kind(event) for event in page["events"]]
        cursor = page["next_cursor"]
        if page["finished"]:
            return kinds
