"""The command line: serve settings come from flags and the repository, and bad setups fail clearly."""

from __future__ import annotations

import argparse
import re
import subprocess
from pathlib import Path

import pytest

from codex_subagents.commands.cli import _parser, main, settings_from  # pyright: ignore[reportPrivateUsage]
from codex_subagents.core.compat import install_command
from codex_subagents.core.errors import ConfigError


def serve_args(*flags: str) -> argparse.Namespace:
    """Parse ``serve`` flags."""
    return _parser().parse_args(["serve", *flags])


def test_serve_defaults_to_the_repository_it_starts_in(tmp_path: Path) -> None:
    """Without flags, workers may run in the enclosing repository and journals live in its git dir."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "sub").mkdir()
    settings = settings_from(serve_args(), cwd=tmp_path / "sub")
    assert settings.allow_roots == (tmp_path.resolve(),)
    assert settings.state_dir == tmp_path.resolve() / ".git" / "codex-subagents"
    assert settings.codex.name in {"codex", "codex.js"}


def test_serve_flags_reach_the_settings(tmp_path: Path) -> None:
    """Each documented flag sets its setting."""
    args = serve_args(
        "--cap", "2", "--queue-limit", "5", "--state-dir", str(tmp_path / "s"), "--allow-root", str(tmp_path),
        "--worker-config", "model=gpt-5.5", "--isolated", "--allow-danger-full-access", "--sandbox", "read-only",
        "--env-allow", "MY_*", "--max-wait", "30", "--idle-timeout", "9", "--wall-timeout", "99",
    )  # fmt: skip
    settings = settings_from(args, cwd=tmp_path)
    assert (settings.cap, settings.queue_limit, settings.isolated, settings.allow_danger_full_access) == (
        2,
        5,
        True,
        True,
    )
    assert (settings.default_sandbox, settings.max_wait_s, settings.idle_timeout_s, settings.wall_timeout_s) == (
        "read-only",
        30.0,
        9.0,
        99.0,
    )
    assert settings.worker_config == ("model=gpt-5.5",)
    assert "MY_*" in settings.env_allowlist


def test_outside_git_the_state_goes_to_the_user_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server started outside any repository still starts; its journals go under XDG_STATE_HOME."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    settings = settings_from(serve_args(), cwd=tmp_path)
    assert settings.state_dir.parent == tmp_path / "xdg" / "codex-subagents"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--cap", "0"], "--cap must be from 1 to 256, got 0"),
        (["--queue-limit", "-1"], "--queue-limit must be from 0 to 100000, got -1"),
        (["--idle-timeout", "0"], "--idle-timeout must be more than 0 and at most 86400 seconds, got 0.0"),
        (["--wall-timeout", "inf"], "--wall-timeout must be more than 0 and at most 86400 seconds, got inf"),
        (["--max-wait", "-1"], "--max-wait must be more than 0 and at most 3600 seconds, got -1.0"),
        (["--max-wait", "nan"], "--max-wait must be more than 0 and at most 3600 seconds, got nan"),
        (["--kill-grace", "-3"], "--kill-grace must be more than 0 and at most 600 seconds, got -3.0"),
        (["--server-name", "a b"], "--server-name 'a b' is not a Codex MCP server name"),
        (["--codex", "/nonexistent/codex"], install_command()),
        (["--allow-root", "/nonexistent/dir"], "is not a directory"),
        (["--worker-config", "novalue"], "is not KEY=VALUE"),
    ],
)
def test_bad_serve_setups_exit_2_with_a_clear_message(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A setup that cannot work exits with code 2 and says what to fix, before serving anything."""
    assert main(["serve", *flags]) == 2
    assert message in capsys.readouterr().err


def test_missing_codex_is_named_with_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With no codex anywhere, the error names every place looked at and the install command."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CODEX_SUBAGENTS_CODEX", raising=False)
    monkeypatch.chdir(tmp_path)
    from codex_subagents.core import config

    monkeypatch.setattr(config, "_PROJECT_ROOT", tmp_path)
    with pytest.raises(ConfigError, match=re.escape("CODEX_SUBAGENTS_CODEX and PATH")):
        config.find_codex()


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_a_repository_shipping_its_own_codex_does_not_pick_the_workers_binary(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A repository with node_modules/.bin/codex, served from inside it, still runs the user's codex on PATH."""
    repo = tmp_path / "hostile"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    _executable(repo / "node_modules" / ".bin" / "codex")
    users = _executable(tmp_path / "bin" / "codex")
    monkeypatch.setenv("PATH", str(users.parent))
    monkeypatch.delenv("CODEX_SUBAGENTS_CODEX", raising=False)
    monkeypatch.chdir(repo)
    from codex_subagents.core import config

    monkeypatch.setattr(config, "_PROJECT_ROOT", tmp_path / "installed")
    assert settings_from(serve_args(), cwd=repo).codex == users.resolve()
    assert settings_from(serve_args("--allow-root", str(repo)), cwd=repo).codex == users.resolve()


def test_the_checkouts_pinned_codex_serves_its_own_tests(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run from this project's checkout, the pinned copy comes before PATH; CODEX_SUBAGENTS_CODEX before both."""
    from codex_subagents.core import config

    monkeypatch.setenv("PATH", str(_executable(tmp_path / "bin" / "codex").parent))
    monkeypatch.delenv("CODEX_SUBAGENTS_CODEX", raising=False)
    assert config.find_codex() == (config._PROJECT_ROOT / "node_modules" / ".bin" / "codex").resolve()  # pyright: ignore[reportPrivateUsage]
    chosen = _executable(tmp_path / "chosen" / "codex")
    monkeypatch.setenv("CODEX_SUBAGENTS_CODEX", str(chosen))
    assert config.find_codex() == chosen.resolve()


def test_the_scripted_model_is_left_out_of_the_everyday_help_but_still_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """``--help`` lists the commands a user runs; the test tool answers its own ``--help`` by name."""
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    assert "serve" in listed and "scripted-model" not in listed
    with pytest.raises(SystemExit):
        main(["scripted-model", "--help"])
    assert "--script FILE" in capsys.readouterr().out
