"""Pages that quote the software say what the software says: they are generated from it when the site is built."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from typing import cast

import anyio
import pytest
from built_site import ROOT, load_hook

from codex_subagents.jobs.worker import PREAMBLE

sys.path[:0] = [str(ROOT / "docs" / "hooks")]


def text_of(site: Path, page: str) -> str:
    """A built page's main text, tags removed and entities decoded."""
    body = (site / page / "index.html").read_text()
    article = body[body.index("<article") : body.index("</article>")]
    return html.unescape(re.sub(r"<[^>]+>", "", article))


def table_rows(site: Path, page: str) -> list[str]:
    """The text of every table row of a built page, one string per row."""
    body = (site / page / "index.html").read_text()
    return [html.unescape(re.sub(r"<[^>]+>", " ", row)) for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


def test_the_worker_contract_page_shows_the_preamble_a_worker_receives(site: Path) -> None:
    """Every line of the real preamble appears as text, with single braces, never as Python source."""
    page = text_of(site, "worker-contract")
    for line in PREAMBLE.format(job_id="j-0123456789ab", label="add the parser").splitlines():
        assert line in page
    assert "PREAMBLE" not in page and "{{" not in page


def test_the_tool_reference_defines_every_type_its_schemas_refer_to(site: Path) -> None:
    """Each $ref of any tool schema has a heading on the page that its links point to."""
    hook = load_hook()
    tools = anyio.run(hook._server().list_tools)
    page = (site / "reference" / "tools" / "index.html").read_text()
    names = hook.tool_reference.referenced_types(tools)
    assert {"FinishedJob", "JobDigest", "Usage", "Timings"} <= names
    for name in names:
        anchor = hook.tool_reference.type_anchor(name)
        assert f'id="{anchor}"' in page
        assert f'href="#{anchor}"' in page


def test_the_tool_reference_prints_json_values_limits_and_server_caps(site: Path) -> None:
    """Defaults are JSON (null, not None), list items are typed, and schema limits and server caps are shown."""
    page = text_of(site, "reference/tools")
    assert "None" not in page
    assert "list of object" not in page
    assert "at most 500,000 characters" in page
    assert "≤ 500" in page
    assert "capped by the server's --max-wait (240 s by default)" in page


def test_the_quick_reference_lists_every_tool_with_every_input_and_result_field(site: Path) -> None:
    """The quick table is generated from the schemas, so no field can be missing from it."""
    tools = anyio.run(load_hook()._server().list_tools)
    rows = table_rows(site, "quick-reference")
    for tool in tools:
        row = next(row for row in rows if row.split()[0] == tool.name)
        output: dict[str, object] = tool.output_schema or {}
        names = [*tool.input_schema.get("properties", {}), *cast(dict[str, object], output.get("properties", {}))]
        for name in names:
            assert name in row, (tool.name, name)


def test_each_specification_is_in_the_navigation_under_a_readable_title(site: Path) -> None:
    """The spec pages are listed in the navigation, titled "A2 coordination" and not by their slug."""
    home = (site / "index.html").read_text()
    specs = sorted(path.parent.name for path in (ROOT / "openspec" / "specs").glob("*/spec.md"))
    assert len(specs) >= 7
    for capability in specs:
        assert f'href="specs/{capability}/"' in home
        assert "Specification</h1>" not in (site / "specs" / capability / "index.html").read_text()
    assert "A2 coordination" in home


def test_the_command_line_page_lists_every_option_of_the_real_parser_with_its_default(site: Path) -> None:
    """Each subcommand and each of its options appears, with the parser's own default where it has one."""
    hook = load_hook()
    cli = hook.cli_reference
    parser = cli.command_parser()
    page = text_of(site, "reference/cli")
    rows = table_rows(site, "reference/cli")
    commands = cli.subcommands(parser)
    assert {"serve", "demo", "doctor", "skill"} <= set(commands)
    assert "--script FILE" in page, "scripted-model's own parser is shown too"
    for name, sub in commands.items():
        assert f"codex-subagents {name}" in page
        for action in cli.options(sub):
            row = next(row for row in rows if row.split()[0] == cli.usage_name(action).split()[0])
            default = action.default
            if isinstance(default, int | float) and not isinstance(default, bool):
                assert f" {default:g} " in row


def test_the_configuration_page_lists_every_serve_flag(site: Path) -> None:
    """The server flags table is the serve parser's, so a new flag cannot be missing from it."""
    cli = load_hook().cli_reference
    page = text_of(site, "configuration")
    for action in cli.options(cli.subcommands(cli.command_parser())["serve"]):
        assert cli.usage_name(action) in page


def test_troubleshooting_quotes_the_servers_own_error_texts(site: Path) -> None:
    """The messages on the page (queue full, rollback refused, the refusals of untrusted input) are the code's."""
    from codex_subagents.core.config import Settings
    from codex_subagents.core.errors import QueueFullError

    page = text_of(site, "troubleshooting")
    assert str(QueueFullError(Settings().cap, Settings().queue_limit, Settings().cap)) in page
    assert "is busy with this session's jobs ['j-0123456789ab'] (wait for them with codex_wait_any" in page
    facts = load_hook().facts
    for name in ("config-key", "quoted-path", "unreadable-record", "other-worktree", "serve-bound"):
        assert " ".join(facts.error_text(name).split()) in page, name


def test_the_pages_give_the_tested_codex_range_the_code_declares(site: Path) -> None:
    """Getting started, the FAQ, troubleshooting and the compatibility section read the range from compat.py."""
    from codex_subagents.core.compat import install_command, range_text, requirement

    assert f"Codex CLI {requirement()}" in text_of(site, "getting-started")
    assert f"Codex CLI {requirement()}" in text_of(site, "faq")
    assert install_command() in text_of(site, "troubleshooting")
    assert f"Codex CLI from {range_text()}" in text_of(site, "testing")
    assert "@openai/codex@" not in text_of(site, "getting-started")


def test_the_journal_directory_outside_git_is_named_by_a_hash_of_the_directory(tmp_path: Path) -> None:
    """The configuration page's description of the state directory outside git matches the code."""
    from codex_subagents.commands.where import default_state_dir

    page = (ROOT / "docs" / "configuration.md").read_text()
    assert "`$XDG_STATE_HOME/codex-subagents/<hash>/`" in page
    assert "first 16 hex digits of the SHA-256" in page
    state = default_state_dir(tmp_path, None)
    assert state.parent.name == "codex-subagents"
    assert re.fullmatch(r"[0-9a-f]{16}", state.name)


def test_two_different_result_types_with_one_name_stop_the_build() -> None:
    """The reference defines each type once by name, so two different types of one name are refused, not merged."""
    from mcp_types import Tool

    def tool(name: str, fields: dict[str, object]) -> Tool:
        usage = {"type": "object", "properties": fields}
        output = {"type": "object", "properties": {"usage": {"$ref": "#/$defs/Usage"}}, "$defs": {"Usage": usage}}
        return Tool(name=name, input_schema={"type": "object"}, output_schema=output)

    reference = load_hook().tool_reference
    same = [tool("a", {"tokens": {"type": "integer"}}), tool("b", {"tokens": {"type": "integer"}})]
    assert "### Usage" in reference.render_reference(same, {})
    with pytest.raises(ValueError, match="'Usage'"):
        reference.render_reference([*same, tool("c", {"seconds": {"type": "number"}})], {})
