"""Build-time pages: what the site says about the software is read from the software when the site is built.

A page asks for a generated part with a marker comment, ``<!-- generated: NAME -->``
or ``<!-- generated: NAME ARGUMENT -->``, which this hook replaces:

- ``tools`` and ``quick-tools``: the tool reference and the quick reference's table,
  from the tools `build_server` registers (names, descriptions, annotations, schemas);
- ``cli`` and ``cli COMMAND``: the command line, from the real argument parser, and
  ``default DEST``: the default of one ``serve`` option;
- ``preamble``, ``output-schema``, ``config-keys`` and ``error NAME``: what a worker is
  told, what it must answer, and the server's own error texts (see ``facts.py``);
- ``codex requirement``, ``codex range`` and ``codex install``: the Codex CLI releases the server
  is tested with, from ``codex_subagents/core/compat.py``;
- ``specs``: the list of specifications;
- ``demo-timeline``: the timeline ``codex-subagents report`` draws of the demo's batch, from the demo's
  state dir recorded under ``docs_src/demo-batch/`` (building the site cannot run the demo).

Each capability's page is the text of its ``openspec/specs/<capability>/spec.md``
under a readable title, listed in the navigation. Mermaid comes from the npm package
pinned in ``package.json``, so the site's diagrams need no CDN.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol, cast

import anyio
import cli_reference
import facts
import tool_reference
from mcp_types import Tool
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "openspec" / "specs"
MARKER = re.compile(r"<!-- generated: ([a-z-]+)(?: ([a-z_-]+))? -->")
SPECS_SECTION = "Specifications"
DEMO_BATCH = ROOT / "docs_src" / "demo-batch"


class ListsTools(Protocol):
    """Anything that lists MCP tools, such as an `MCPServer`."""

    async def list_tools(self) -> list[Tool]: ...


def render_tools(server: ListsTools) -> str:
    """Render every tool of ``server`` as Markdown: description, hints, inputs with limits, results, nested types."""
    return tool_reference.render_reference(anyio.run(server.list_tools), server_caps())


def server_caps() -> dict[tuple[str, str], str]:
    """The inputs a server setting bounds beyond their schema, with that setting's flag and default."""
    serve = {
        action.dest: action
        for action in cli_reference.options(cli_reference.subcommands(cli_reference.command_parser())["serve"])
    }

    def by(dest: str, words: str) -> str:
        action = serve[dest]
        return f"{words} `{max(action.option_strings, key=len)}` ({action.default:g} s by default)"

    return {
        ("codex_wait_any", "timeout_s"): by("max_wait", "capped by the server's"),
        ("codex_spawn", "wall_timeout_s"): by("wall_timeout", "default: the server's"),
        ("codex_spawn", "idle_timeout_s"): by("idle_timeout", "default: the server's"),
    }


def serve_default(dest: str) -> str:
    """The default of the ``serve`` option stored as ``dest``, as a reader would type it."""
    parser = cli_reference.subcommands(cli_reference.command_parser())["serve"]
    value = parser.get_default(dest)
    if value is None:
        raise ValueError(f"serve has no option {dest!r} with a default")
    return f"{value:g}" if isinstance(value, float) else str(value)


def spec_title(capability: str) -> str:
    """A capability's readable title: ``a2-coordination`` becomes "A2 coordination"."""
    return capability.replace("-", " ").capitalize()


def _server() -> ListsTools:
    from codex_subagents.core.config import Settings
    from codex_subagents.server.tools import build_server

    with tempfile.TemporaryDirectory() as scratch:
        return build_server(Settings(state_dir=Path(scratch), allow_roots=(ROOT,)))


def demo_timeline() -> str:
    """The demo's batch as the report draws it, from the recorded state dir and the worktree's rollback log.

    The rollbacks are read where a worktree keeps them, so the log is put in a
    scratch repository's git directory, and its jobs are all of the batch.
    """
    from codex_subagents.observe.batch import Choice, select
    from codex_subagents.observe.page import timeline

    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "repo"
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        (repo / ".git" / "codex-subagents").mkdir()
        shutil.copy(DEMO_BATCH / "rollbacks.jsonl", repo / ".git" / "codex-subagents" / "rollbacks.jsonl")
        batch = anyio.run(select, DEMO_BATCH / "state", repo, Choice())
    return f'<div class="batch-timeline" data-search-exclude>\n{timeline(batch)}\n</div>'


def _fenced(language: str, text: str) -> str:
    return f"```{language}\n{text.rstrip()}\n```"


def _prose(text: str) -> str:
    """Text a person or a model reads (a preamble, an error), shown verbatim but wrapped, not scrolled sideways."""
    return f'<div class="verbatim-prose" markdown>\n\n{_fenced("text", text)}\n\n</div>'


def _specs_listing() -> str:
    return "\n".join(
        f"- [{spec_title(spec.parent.name)}]({spec.parent.name}.md)" for spec in sorted(SPECS.glob("*/spec.md"))
    )


_GENERATORS: dict[str, Callable[[str], str]] = {
    "tools": lambda _: render_tools(_server()),
    "quick-tools": lambda _: tool_reference.render_quick_table(anyio.run(_server().list_tools)),
    "cli": lambda command: (
        cli_reference.render_options(cli_reference.subcommands(cli_reference.command_parser())[command])
        if command
        else cli_reference.render_commands(cli_reference.command_parser())
    ),
    "default": serve_default,
    "preamble": lambda _: _prose(facts.preamble()),
    "output-schema": lambda _: _fenced("json", facts.output_schema()),
    "config-keys": lambda _: ", ".join(f"`{key}`" for key in facts.spawn_config_keys()),
    "error": lambda name: _prose(facts.error_text(name)),
    "codex": facts.codex_release,
    "specs": lambda _: _specs_listing(),
    "demo-timeline": lambda _: demo_timeline(),
}


def fill(markdown: str) -> str:
    """Replace every generated-part marker in ``markdown`` with what the code says."""

    def generated(match: re.Match[str]) -> str:
        name, argument = match.group(1), match.group(2) or ""
        if name not in _GENERATORS:
            raise ValueError(f"unknown generated part {name!r}; known: {sorted(_GENERATORS)}")
        return _GENERATORS[name](argument)

    return MARKER.sub(generated, markdown)


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """List every specification under the Specifications section of the navigation, and show the version."""
    specs: list[Any] = [f"specs/{spec.parent.name}.md" for spec in sorted(SPECS.glob("*/spec.md"))]

    def expand(items: list[Any]) -> None:
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for title, value in item.items():  # pyright: ignore[reportUnknownVariableType] -- YAML
                if title == SPECS_SECTION and isinstance(value, str):
                    items[index] = {title: [{"Overview": value}, *specs]}
                elif isinstance(value, list):
                    expand(value)  # pyright: ignore[reportUnknownArgumentType] -- YAML

    expand(cast(list[Any], config["nav"] or []))
    config.copyright = f"codex-subagents {version('codex-subagents')}"
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add one page per OpenSpec capability, and the pinned Mermaid so diagrams render without a CDN."""
    mermaid = ROOT / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
    files.append(File.generated(config, "assets/javascripts/mermaid.min.js", abs_src_path=str(mermaid)))
    for spec in sorted(SPECS.glob("*/spec.md")):
        capability = spec.parent.name
        text = re.sub(r"\A# .*", f"# {spec_title(capability)}", spec.read_text(), count=1)
        files.append(File.generated(config, f"specs/{capability}.md", content=text))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill the generated parts of a page."""
    del page, config, files
    return fill(markdown)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Keep diagram sources out of the search index: a reader searches prose, not Mermaid syntax."""
    del page, config, files
    return html.replace('<pre class="mermaid">', '<pre class="mermaid" data-search-exclude>')
