"""The packaged skill can be printed and installed, and a different copy is never overwritten silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_subagents.codex_home.skill import install_skill, packaged_skill, skill_files
from codex_subagents.commands.cli import main
from codex_subagents.core.errors import ConfigError


def test_skill_print_shows_the_skill(capsys: pytest.CaptureFixture[str]) -> None:
    """``codex-subagents skill print`` prints SKILL.md as the package carries it."""
    assert main(["skill", "print"]) == 0
    assert capsys.readouterr().out == (packaged_skill() / "SKILL.md").read_text()


def test_skill_install_copies_the_folder_and_keeps_an_identical_copy(tmp_path: Path) -> None:
    """Installing twice gives one current copy; the second run changes nothing."""
    assert main(["skill", "install", "--dest", str(tmp_path)]) == 0
    target = install_skill(tmp_path)
    assert target == tmp_path.resolve() / "codex-subagents"
    assert skill_files(target) == skill_files(packaged_skill())


def test_a_different_copy_is_replaced_only_with_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stale copy stays until --force; the refusal says how to replace it."""
    target = install_skill(tmp_path)
    (target / "SKILL.md").write_text("old\n")
    with pytest.raises(ConfigError):
        install_skill(tmp_path)
    assert main(["skill", "install", "--dest", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["skill", "install", "--dest", str(tmp_path), "--force"]) == 0
    assert skill_files(target) == skill_files(packaged_skill())
