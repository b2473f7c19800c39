"""The live watch yields the processor to the server and workers it shows, and gives its terminal's session back its
own priority: the real ``codex-subagents watch`` in a pseudo-terminal, in a session of its own as a terminal's shell
starts it, on Linux with autogroup scheduling (where a session has a nice value of its own)."""

from __future__ import annotations

import os
import pty
import signal
import struct
import sys
import termios
from fcntl import ioctl
from pathlib import Path

import anyio
import psutil
import pytest

from codex_subagents.core.git import NICENESS
from codex_subagents.core.priority import session_niceness

SERVE = Path(sys.executable).parent / "codex-subagents"
SHELL = 'b=$1 a=$2; shift 2; cat /proc/self/autogroup > "$b"; "$0" "$@"; cat /proc/self/autogroup > "$a"'
"""A terminal's shell, reduced: the session's group before the command it is given, the command, the group after."""
pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(session_niceness() is None, reason="a session has a nice value of its own only on Linux"),
]


async def in_session(command: list[str], before: Path, after: Path, *, quit_by: str | None) -> bytes:
    """Run ``command`` from `SHELL` in a session of its own, on an 80x24 pseudo-terminal; once ``quit`` is on it,
    check the command runs at `NICENESS`, its session too, and quit it by ``quit_by`` (a key or a signal's name);
    return all that was drawn."""
    master, slave = pty.openpty()
    ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    argv = ["sh", "-c", SHELL, command[0], str(before), str(after), *command[1:]]
    shell = await anyio.open_process(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    drawn = bytearray()
    try:
        while b"quit" not in drawn[-4096:] and (chunk := await read(master)):
            drawn += chunk
        if quit_by is not None:
            (child,) = psutil.Process(shell.pid).children()
            assert child.nice() == NICENESS
            assert group_niceness(child.pid) == NICENESS
            if quit_by.startswith("SIG"):
                child.send_signal(getattr(signal, quit_by))
            else:
                os.write(master, {"q": b"q", "ctrl+c": b"\x03"}[quit_by])
        while chunk := await read(master):
            drawn += chunk
        await shell.wait()
    finally:
        os.close(master)
        if shell.returncode is None:
            shell.kill()
            await shell.wait()
    return bytes(drawn)


def group_niceness(pid: int) -> int:
    """The nice value of process ``pid``'s session, as the scheduler groups it."""
    return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])


async def read(master: int) -> bytes:
    """What the terminal shows next, or nothing once every process on it has ended."""
    await anyio.wait_readable(master)
    try:
        return os.read(master, 1 << 16)
    except OSError:  # EIO: the last process holding the terminal's other end is gone
        return b""


@pytest.mark.parametrize("quit_by", ["q", "ctrl+c", "SIGTERM"])
async def test_the_watch_runs_at_a_lower_priority_and_its_session_gets_its_own_back(
    tmp_path: Path, quit_by: str
) -> None:
    """While the watch runs, it and its session run at `NICENESS`; after it quits, by a key or by SIGTERM, the
    session (the shell that started it) is back at the value it had."""
    before, after = tmp_path / "before", tmp_path / "after"
    command = [str(SERVE), "watch", "--state-dir", str(tmp_path / "state")]
    with anyio.fail_after(60):
        await in_session(command, before, after, quit_by=quit_by)
    assert before.read_text().split()[-1] == "0"
    assert after.read_text() == before.read_text()


async def test_an_error_in_the_watch_gives_the_session_its_own_back(tmp_path: Path) -> None:
    """An exception raised while the watch's priority is lowered still restores its session's value."""
    before, after = tmp_path / "before", tmp_path / "after"
    raising = (
        "from codex_subagents.commands.watch import as_viewer\n"
        "with as_viewer():\n"
        "    print('quit', flush=True)\n"
        "    raise RuntimeError('the watch failed')\n"
    )
    with anyio.fail_after(60):
        drawn = await in_session([sys.executable, "-c", raising], before, after, quit_by=None)
    assert b"the watch failed" in drawn
    assert before.read_text().split()[-1] == "0"
    assert after.read_text() == before.read_text()
