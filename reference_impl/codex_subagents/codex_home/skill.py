"""The boss skill the package carries: where it is, how to tell copies apart, and how to install it.

A checkout keeps the skill in ``skills/codex-subagents/``; the wheel carries the same folder as
``codex_subagents/skill/`` (pyproject's force-include), so an installed package can print or
install it without the repository. Copies are compared byte for byte, file by file, so a stale
copy left in a skill directory can be told from the current one.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ..core.errors import ConfigError

SKILL_NAME = "codex-subagents"
_HERE = Path(__file__).resolve().parent


def packaged_skill() -> Path:
    """Return the folder of the skill this package carries (the checkout's, when run from one).

    Raises:
        ConfigError: neither the wheel's copy nor the checkout's is there.
    """
    for folder in (_HERE.parent / "skill", _HERE.parents[2] / "skills" / SKILL_NAME):
        if (folder / "SKILL.md").is_file():
            return folder
    raise ConfigError(
        f"The {SKILL_NAME} skill is missing from this installation ({_HERE}); reinstall the package: "
        "uv tool install --force codex-subagents."
    )


def skill_files(folder: Path) -> dict[str, bytes]:
    """Map each file of a skill folder, by its path relative to the folder, to its bytes."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def install_skill(skills_dir: Path, *, force: bool = False) -> Path:
    """Copy the packaged skill to ``skills_dir/codex-subagents`` and return that folder.

    An identical copy is left as it is; a different one is replaced only with ``force``.

    Raises:
        ConfigError: a different copy is there and ``force`` is not set.
    """
    source, target = packaged_skill(), skills_dir.expanduser().resolve() / SKILL_NAME
    if target.exists():
        if skill_files(target) == skill_files(source):
            return target
        if not force:
            raise ConfigError(
                f"{str(target)!r} holds another version of the skill; "
                "run again with --force to replace it with this package's."
            )
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target
