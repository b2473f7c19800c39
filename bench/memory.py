"""The memory a measuring child process holds: its resident size now, and the largest seen while a task runs."""

from __future__ import annotations

import anyio
import psutil


def rss_kb() -> int:
    """This process's resident set size, in KiB."""
    return psutil.Process().memory_info().rss // 1024


async def sample_peak(peak: list[int], every_s: float) -> None:
    """Keep the largest RSS seen in ``peak[0]`` until cancelled (no portable interface resets the kernel's peak)."""
    while True:
        peak[0] = max(peak[0], rss_kb())
        await anyio.sleep(every_s)
