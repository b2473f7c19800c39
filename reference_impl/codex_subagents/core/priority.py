"""The priority a process runs at: its own nice value and, on Linux, its session's.

Linux kernels with autogroup scheduling (on by default in desktop distributions)
share the processor out between sessions first, and a nice value only orders
the processes of one session. A session's own nice value, in the process's
``autogroup`` file, is what ranks it against the others. An unprivileged
user may make one such change per 100 ms, machine-wide, and may raise a
session's nice value but not lower it below 0.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def _autogroup() -> Path | None:
    """The file of this process's session as Linux's scheduler groups it (``/autogroup-N nice V``); None elsewhere."""
    if sys.platform == "linux":
        return Path("/proc/self/autogroup")
    return None


def session_niceness() -> int | None:
    """The nice value of this process's session, or None where the kernel schedules no sessions as groups."""
    autogroup = _autogroup()
    if autogroup is None:
        return None
    try:
        words = autogroup.read_text().split()
    except OSError:
        return None
    if len(words) != 3 or words[1] != "nice" or not words[2].lstrip("-").isdigit():
        return None
    return int(words[2])


def set_session_niceness(value: int, *, tries: int = 3) -> bool:
    """Give this process's session the nice value ``value``; say whether it took.

    A change refused for another one made in the last 100 ms is tried again, up
    to ``tries`` times, 100 ms apart; any other refusal (no autogroup, too high a
    priority asked) is final, the process's own nice value then still orders it in
    its session.
    """
    autogroup = _autogroup()
    if autogroup is None:
        return False
    for attempt in range(tries):
        try:
            autogroup.write_text(str(value))
        except BlockingIOError:
            if attempt + 1 < tries:
                time.sleep(0.1)
        except OSError:
            return False
        else:
            return True
    return False
