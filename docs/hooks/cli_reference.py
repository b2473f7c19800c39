"""Markdown for the command-line reference, read from the real ``argparse`` parser of ``codex-subagents``.

Every option, its metavar, choices, default and help text comes from the parser
the command itself runs, so a new flag or a changed default shows up on the
site without anyone retyping it. ``argparse`` exposes its actions only through
private attributes; reading them is the price of never writing a flag twice.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
from collections.abc import Iterator

_SUBCOMMANDS = argparse._SubParsersAction  # pyright: ignore[reportPrivateUsage] -- argparse names the subcommand action only privately


def command_parser() -> argparse.ArgumentParser:
    """The parser ``codex-subagents`` runs."""
    from codex_subagents.commands import cli

    return cli._parser()  # pyright: ignore[reportPrivateUsage] -- the one parser the command uses, read as is


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's name and parser, in the order ``--help`` lists them."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in _actions(parser):
        if isinstance(action, _SUBCOMMANDS):
            found.update(action.choices)  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType] -- typed by argparse as a bare dict
    return found


def options(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    """The options and positional arguments a reader can pass, ``--help`` and ``--version`` aside."""
    for action in _actions(parser):
        if isinstance(action, _SUBCOMMANDS | argparse._HelpAction | argparse._VersionAction):  # pyright: ignore[reportPrivateUsage] -- argparse's own action types
            continue
        yield action


def usage_name(action: argparse.Action) -> str:
    """How a reader writes the option: ``--cap N``, ``--isolated``, ``--sandbox SANDBOX``, ``action``."""
    if not action.option_strings:
        return str(action.metavar or action.dest)
    flag = max(action.option_strings, key=len)
    if action.nargs == 0:
        return flag
    return f"{flag} {action.metavar or action.dest.upper()}"


def render_options(parser: argparse.ArgumentParser) -> str:
    """A table of one parser's options: how to write each, its default and its help."""
    rows = ["| option | default | meaning |", "| --- | --- | --- |"]
    for action in options(parser):
        meaning = html.escape((action.help or "") % vars(action)).replace("|", "\\|")
        if action.choices is not None:
            meaning += f" (one of {', '.join(f'`{choice}`' for choice in action.choices)})"
        if action.required and action.option_strings:
            meaning += " (required)"
        if action.option_strings and action.nargs != 0 and action.default == [] and "repeatable" not in meaning:
            meaning += "; repeatable"
        rows.append(f"| `{usage_name(action)}` | {_default(action)} | {meaning} |")
    return "\n".join(rows) + "\n"


def render_commands(parser: argparse.ArgumentParser) -> str:
    """Every subcommand: its summary, description and option table."""
    helps = {
        choice.dest: choice.help or ""
        for action in _actions(parser)
        if isinstance(action, _SUBCOMMANDS)
        for choice in action._choices_actions
    }
    sections: list[str] = []
    for name, sub in subcommands(parser).items():
        summary = html.escape(sub.description or helps.get(name, ""))
        lines = [f"## `{parser.prog} {name}`", "", f"{summary[:1].upper()}{summary[1:].rstrip('.')}.", ""]
        if any(options(sub)):
            lines.append(render_options(sub))
        else:
            lines += [
                "It parses its own options; its `--help` says:",
                "",
                f"```text\n{own_help(name).rstrip()}\n```",
                "",
            ]
        sections.append("\n".join(lines))
    from codex_subagents.commands import cli

    sections.append(
        f"## `{parser.prog} {cli.TEST_COMMAND}`\n\nServes the scripted model to the tests and the demo; "
        f"it is not listed by `--help`. Its own `--help` says:\n\n```text\n{own_help(cli.TEST_COMMAND).rstrip()}\n```\n"
    )
    return "\n".join(sections)


def own_help(command: str) -> str:
    """What ``codex-subagents COMMAND --help`` prints, for a subcommand whose arguments go to a parser of its own."""
    from codex_subagents.commands import cli

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.suppress(SystemExit):
        cli.main([command, "--help"])
    return printed.getvalue()


def _default(action: argparse.Action) -> str:
    if not action.option_strings:
        return "required"
    if action.nargs == 0:
        return "off" if action.default is False else f"`{action.default}`"
    if action.default in (None, []):
        return "none"
    return f"`{action.default:g}`" if isinstance(action.default, float) else f"`{action.default}`"


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return parser._actions
