"""One headless Chromium for every page a test reads, driven over the DevTools protocol on a pipe.

Starting Chromium costs seconds; reading a page in a running one costs a fraction of that. So the session
starts the browser once, and each page gets a fresh tab of its own that is closed after it is read. A page is
read as ``chromium --headless --virtual-time-budget=10000`` reads it: virtual time runs for ten seconds
once nothing is being fetched, so timers and scripts have run by the time the DOM is read. What the page
writes to its console, and every uncaught error, is kept per page; Chromium's own log (stderr) is kept too,
so a console line the protocol did not report is still seen.

The protocol is JSON messages ended by a NUL byte, which Chromium reads on its descriptor 3 and writes on
its descriptor 4 (``--remote-debugging-pipe``); no WebSocket library is needed.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

Message = dict[str, Any]

_ON_FDS_3_AND_4 = (
    "import fcntl, os, sys\n"
    "commands, replies = (fcntl.fcntl(int(fd), fcntl.F_DUPFD, 10) for fd in sys.argv[1:3])\n"
    "os.dup2(commands, 3)\n"
    "os.dup2(replies, 4)\n"
    "os.execv(sys.argv[3], sys.argv[3:])\n"
)
"""Runs a program with the two pipe ends named first as its descriptors 3 and 4, where Chromium looks.

The ends are first copied above 9, so that neither is overwritten before it is moved, and ``dup2`` always
makes the descriptors 3 and 4 that the program inherits."""

VIRTUAL_TIME_BUDGET_MS = 10_000
"""What ``--virtual-time-budget`` gave each page when every page had a browser of its own."""


class DevToolsError(AssertionError):
    """Raised when the browser answers a command with an error, dies, or stays silent past the bound."""


@dataclass(frozen=True)
class Visit:
    """What reading one page gave: its DOM once its scripts ran, and what it wrote to its console."""

    dom: str
    console: list[str]


@dataclass
class _Tab:
    """A page being read: its address, its target and session, and the console lines it wrote so far."""

    url: str
    target: str
    session: str
    console: list[str]


class Browser:
    """A running headless Chromium; `visit` reads one page in a fresh tab, `visit_all` several at once."""

    def __init__(self, commands: int, replies: int, log: Path) -> None:
        self._commands, self._replies, self.log = commands, replies, log
        self._ids = itertools.count(1)
        self._buffer = b""
        self._events: list[Message] = []

    def call(self, method: str, params: Message | None = None, *, session: str | None = None) -> Message:
        """Send one command and return its result; events that arrive meanwhile are kept for `_next_event`."""
        number = next(self._ids)
        message: Message = {"id": number, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive(60, f"an answer to {method}")
            if reply.get("id") != number:
                if "sessionId" in reply:
                    self._events.append(reply)
                continue
            if "error" in reply:
                raise DevToolsError(f"{method} failed: {reply['error']}")
            return cast("Message", reply.get("result", {}))

    def visit(self, url: str, *, width: int = 1280, height: int = 800, screenshot: Path | None = None) -> Visit:
        """Read ``url`` in a new ``width`` x ``height`` tab; with ``screenshot``, save a PNG of the view there."""
        tab = self._open(url, width, height)
        while (event := self._next_event({tab.session}))["method"] != "Emulation.virtualTimeBudgetExpired":
            tab.console += _console_lines(event)
        return self._finish(tab, screenshot)

    def visit_all(self, urls: list[str], *, at_once: int = 3) -> dict[str, Visit]:
        """Read each of ``urls`` in a 1280 x 800 tab of its own, ``at_once`` tabs at a time; by URL."""
        waiting, reading, read = list(urls), dict[str, _Tab](), dict[str, Visit]()
        while waiting or reading:
            while waiting and len(reading) < at_once:
                tab = self._open(waiting.pop(0), 1280, 800)
                reading[tab.session] = tab
            event = self._next_event(set(reading))
            tab = reading[event["sessionId"]]
            if event["method"] != "Emulation.virtualTimeBudgetExpired":
                tab.console += _console_lines(event)
                continue
            read[tab.url] = self._finish(reading.pop(tab.session), None)
        return read

    def _open(self, url: str, width: int, height: int) -> _Tab:
        """Open a tab, start reading ``url`` in it and let virtual time run once it is under way."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for method in ("Page.enable", "Runtime.enable", "Log.enable"):
            self.call(method, session=session)
        metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
        self.call("Emulation.setDeviceMetricsOverride", metrics, session=session)
        self._drain(session)
        self.call("Emulation.setVirtualTimePolicy", {"policy": "pause"}, session=session)
        self.call("Page.navigate", {"url": url}, session=session)
        budget = {"policy": "pauseIfNetworkFetchesPending", "budget": VIRTUAL_TIME_BUDGET_MS}
        self.call("Emulation.setVirtualTimePolicy", budget, session=session)
        return _Tab(url, target, session, [])

    def _finish(self, tab: _Tab, screenshot: Path | None) -> Visit:
        """Read the tab's DOM (and with ``screenshot``, its picture) once its virtual time ran out, and close it."""
        try:
            evaluate = {"expression": "document.documentElement.outerHTML", "returnByValue": True}
            dom = self.call("Runtime.evaluate", evaluate, session=tab.session)["result"]["value"]
            if screenshot is not None:
                shot = self.call("Page.captureScreenshot", {"format": "png"}, session=tab.session)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
        finally:
            self.call("Target.closeTarget", {"targetId": tab.target})
        console = tab.console + [line for event in self._drain(tab.session) for line in _console_lines(event)]
        return Visit(dom=str(dom), console=console)

    def _next_event(self, sessions: set[str]) -> Message:
        """The next event of one of the tabs ``sessions``, queued or still to come."""
        for index, event in enumerate(self._events):
            if event.get("sessionId") in sessions:
                return self._events.pop(index)
        while True:
            event = self._receive(120, "a page to run out its virtual time")
            if event.get("sessionId") in sessions and "method" in event:
                return event
            if "sessionId" in event:
                self._events.append(event)

    def _drain(self, session: str) -> list[Message]:
        mine = [event for event in self._events if event.get("sessionId") == session]
        self._events = [event for event in self._events if event.get("sessionId") != session]
        return mine

    def _receive(self, bound_s: float, awaited: str) -> Message:
        deadline = time.monotonic() + bound_s
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._replies], [], [], left)[0]:
                raise DevToolsError(f"Chromium said nothing for {bound_s} s while the test waited for {awaited}")
            chunk = os.read(self._replies, 1 << 16)
            if not chunk:
                raise DevToolsError(f"Chromium exited while the test waited for {awaited}; its log: {self.log}")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return cast("Message", json.loads(message))


def _console_lines(event: Message) -> list[str]:
    """The console lines one protocol event stands for: a console call, an uncaught error or a browser message.

    A failed fetch is not one: the pages ask GitHub's API for the repository's figures, which a machine without
    a network cannot reach, and Chromium's own log of console lines never listed failed fetches either.
    """
    params = cast("Message", event.get("params", {}))
    if event["method"] == "Runtime.consoleAPICalled":
        words = [str(arg.get("value", arg.get("description", ""))) for arg in params.get("args", [])]
        return [f"console.{params['type']}: {' '.join(words)}"]
    if event["method"] == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        return [f"uncaught: {details.get('exception', {}).get('description', details.get('text'))}"]
    if event["method"] == "Log.entryAdded" and params["entry"]["source"] != "network":
        entry = params["entry"]
        return [f"{entry['source']} {entry['level']}: {entry['text']} ({entry.get('url', '')})"]
    return []


@contextmanager
def chromium_session(executable: str, workdir: Path) -> Generator[Browser]:
    """Start headless Chromium once, its profile and log in ``workdir``, and close it when the caller is done."""
    commands_read, commands = os.pipe()
    replies, replies_write = os.pipe()
    log = workdir / "chromium.log"
    argv = [
        executable,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        "--remote-debugging-pipe",
        f"--user-data-dir={workdir / 'profile'}",
    ]
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", _ON_FDS_3_AND_4, str(commands_read), str(replies_write), *argv],
            pass_fds=(commands_read, replies_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    os.close(commands_read)
    os.close(replies_write)
    try:
        yield Browser(commands, replies, log)
    finally:
        try:
            os.write(commands, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait(timeout=30)
        finally:
            os.close(commands)
            os.close(replies)
