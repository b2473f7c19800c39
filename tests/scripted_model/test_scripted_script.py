"""Scenario scripts load from TOML, JSON and dicts, and mistakes are refused with the script named."""

from __future__ import annotations

import json
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from inline_snapshot import snapshot

from codex_subagents import scripted_model
from codex_subagents.scripted_model import Script, ScriptError, load_scripts, parse_scripts


def _one_turn(**turn: object) -> dict[str, object]:
    return {"scripts": {"s": {"match": "M", "turns": [turn]}}}


def test_the_public_surface_is_pinned() -> None:
    """The package exports exactly these names, alphabetically."""
    assert scripted_model.__all__ == snapshot(
        ["RecordedRequest", "Script", "ScriptError", "ScriptedModel", "load_scripts", "main", "parse_scripts"]
    )


def test_the_format_reference_example_is_valid() -> None:
    """The TOML example in the format reference (``_script``'s docstring) parses into the turns it describes."""
    doc = sys.modules[Script.__module__].__doc__ or ""
    example = textwrap.dedent(doc.split("::\n\n", 1)[1].split("\nTurn keys:", 1)[0])
    [script] = parse_scripts(tomllib.loads(example))
    assert [len(turn.calls) for turn in script.turns] == [1, 2, 0]
    assert script.turns[1].calls[1].mcp is not None
    assert script.turns[1].calls[1].mcp.arguments == {"prompt": "WORKER-B"}


def test_the_example_file_loads_in_declaration_order(example: tuple[Script, ...]) -> None:
    """The example's scripts keep their file order, and a call written on the turn becomes its only call."""
    assert [(script.name, script.match, len(script.turns)) for script in example] == [
        ("writer", "WRITER-TASK", 3),
        ("echo", "ECHO-TASK", 2),
    ]
    writer = example[0]
    assert writer.turns[0].calls[0].patch is not None
    assert writer.turns[0].calls[0].patch.startswith("*** Begin Patch\n*** Add File: alpha.txt\n")
    assert writer.turns[1].calls[0].shell == "printf 'gamma\\n' > gamma.txt"


def test_inline_calls_follow_the_calls_list() -> None:
    """A call written directly on the turn is appended after the ``calls`` list, keeping its options."""
    [script] = parse_scripts(_one_turn(calls=[{"shell": "a"}], shell="b", yield_time_ms=500, login=False))
    assert [(call.shell, call.yield_time_ms, call.login) for call in script.turns[0].calls] == [
        ("a", None, None),
        ("b", 500, False),
    ]


def test_json_files_and_several_files_load_together(tmp_path: Path, example_path: Path) -> None:
    """A ``.json`` file holds the same shape as TOML, and scripts from several files are concatenated."""
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps(_one_turn(final="done")))
    scripts = load_scripts([example_path, extra])
    assert [script.name for script in scripts] == ["writer", "echo", "s"]
    assert scripts[2].turns[0].final == "done"


@pytest.mark.parametrize(
    "turn",
    [
        pytest.param({"calls": [{"shell": "a", "patch": "b"}]}, id="two-kinds-in-one-call"),
        pytest.param({"calls": [{"id": "nothing"}]}, id="empty-call"),
        pytest.param({"patch": "p", "yield_time_ms": 5}, id="yield-without-shell"),
        pytest.param({"final": "a", "final_json": {}}, id="final-and-final-json"),
        pytest.param({"shell": "a", "final": "b"}, id="calls-and-final"),
        pytest.param({"fail": "server_error", "reasoning": "r"}, id="fail-with-content"),
        pytest.param({"fail": "server_error", "search": "q"}, id="fail-with-search"),
        pytest.param({"fail": 200}, id="success-status-as-failure"),
        pytest.param({"stream_chunks": 0, "final": "x"}, id="no-chunks"),
        pytest.param({"shell": "a", "colour": "red"}, id="unknown-key"),
        pytest.param({"calls": [{"id": "a:b", "shell": "x"}]}, id="colon-in-call-id"),
    ],
)
def test_malformed_turns_are_refused(turn: dict[str, object]) -> None:
    """A turn that breaks the format raises `ScriptError` naming the script."""
    with pytest.raises(ScriptError, match=r"^script 's'"):
        parse_scripts(_one_turn(**turn))


def test_a_turn_after_a_final_answer_is_refused_as_unreachable() -> None:
    """Codex stops at a response without tool calls, so a later turn could never be played."""
    data = {"scripts": {"s": {"match": "M", "turns": [{"final": "a"}, {"final": "b"}]}}}
    with pytest.raises(ScriptError, match="turn 1 is unreachable"):
        parse_scripts(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"script": {}}, id="wrong-top-key"),
        pytest.param({"scripts": []}, id="scripts-not-a-table"),
        pytest.param({"scripts": {"s": "x"}}, id="script-not-a-table"),
        pytest.param({"scripts": {"bad name": {"match": "M", "turns": [{"final": "x"}]}}}, id="bad-name"),
        pytest.param({"scripts": {"s": {"match": "", "turns": [{"final": "x"}]}}}, id="empty-match"),
        pytest.param({"scripts": {"s": {"match": "M", "turns": []}}}, id="no-turns"),
        pytest.param({"scripts": {"s": {"match": "M", "turns": ["x"]}}}, id="turn-not-a-table"),
    ],
)
def test_malformed_files_are_refused(data: dict[str, object]) -> None:
    """The top level must be one ``scripts`` table of named, non-empty scripts."""
    with pytest.raises(ScriptError):
        parse_scripts(data)


def test_unreadable_files_and_repeated_names_are_refused(tmp_path: Path, example_path: Path) -> None:
    """A missing file, bad TOML, a non-table JSON file and a name used twice each raise `ScriptError`."""
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[scripts\n")
    not_table = tmp_path / "list.json"
    not_table.write_text("[]")
    for paths in (tmp_path / "missing.toml", bad_toml, not_table, [example_path, example_path]):
        with pytest.raises(ScriptError):
            load_scripts(paths)


def test_a_file_error_names_the_file(tmp_path: Path) -> None:
    """A format error inside a file says which file it came from."""
    path = tmp_path / "s.json"
    path.write_text(json.dumps(_one_turn(final="a", final_json={})))
    with pytest.raises(ScriptError, match=r"s\.json: script 's'"):
        load_scripts(str(path))
