"""The built documentation site and a headless Chromium to read it with, for the tests of tests/docs.

The site is built once per session from a directory other than the repository,
so a build that depends on the current directory fails here first. Chromium is
Debian's package (``apt-get install chromium``); where it is missing, the
browser tests are skipped with that instruction.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Generator
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
MERMAID_BLOCK = re.compile(r'<pre class="mermaid"[^>]*><code>(.*?)</code></pre>', re.DOTALL)
INSTALL_CHROMIUM = "headless Chromium is needed: install it with `apt-get install chromium` (Debian, Ubuntu)"


def load_hook() -> ModuleType:
    """Import the mkdocs hook that generates pages."""
    spec = importlib.util.spec_from_file_location("docs_hook", ROOT / "docs" / "hooks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_site(destination: Path) -> Path:
    """Build the site strictly into ``destination``, from a directory that is not the repository."""
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(ROOT / "mkdocs.yml")]
    subprocess.run(
        [*command, "--site-dir", str(destination)],
        cwd=destination.parent,
        check=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return destination


def pages(site: Path) -> list[Path]:
    """Every HTML page of the built site, the 404 page aside."""
    return sorted(page for page in site.rglob("index.html") if "assets" not in page.parts)


def mermaid_sources(site: Path) -> dict[str, str]:
    """Every Mermaid diagram of the site, keyed by page and position, as the browser receives it."""
    found: dict[str, str] = {}
    for page in pages(site):
        for number, block in enumerate(MERMAID_BLOCK.findall(page.read_text())):
            found[f"{page.relative_to(site)}#{number}"] = html.unescape(block)
    return found


_MACOS_BROWSERS = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
)
"""Where macOS keeps a browser that is not on PATH (GitHub's macOS runners have Google Chrome there)."""


@functools.cache
def chromium() -> str | None:
    """The path of a headless-capable Chromium, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", *_MACOS_BROWSERS):
        found = shutil.which(name)
        if found:
            return found
    return None


def console_messages(log: str) -> list[str]:
    """The lines pages wrote to their console, out of Chromium's log."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


@contextlib.contextmanager
def serve(site: Path) -> Generator[str]:
    """Serve ``site`` over HTTP on the loopback interface, as a reader's browser would fetch it."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(site), **kwargs)  # pyright: ignore[reportArgumentType] -- forwarded as received

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            thread.join(timeout=10)
