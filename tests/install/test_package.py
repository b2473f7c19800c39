"""The package is ready to publish: one version, the skill inside the wheel and the sdist, and registry metadata.

``uv build`` makes the sdist and then the wheel from it, as a release does; an installed wheel can
print the skill without the repository. ``server.json`` is checked against the MCP Registry's
schema (vendored in ``schemas/``), and the README carries the ``mcp-name`` line that proves the
PyPI package belongs to that registry name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from fresh_home import PROJECT_ROOT
from jsonschema import Draft7Validator

from codex_subagents.codex_home.skill import skill_files

PROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
SKILL = PROJECT_ROOT / "skills" / "codex-subagents"
UV = PROJECT_ROOT / ".tools" / "bin" / "uv"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the sdist and the wheel once, offline, into a fresh directory."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [str(UV), "build", "--offline", "--out-dir", str(out), str(PROJECT_ROOT)],
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_PYTHON": sys.executable},
        capture_output=True,
        check=True,
        timeout=300,
    )
    return out


def test_the_wheel_carries_the_skill_and_prints_it_when_installed(dist: Path, tmp_path: Path) -> None:
    """The wheel holds the skill byte for byte, and its package prints it with no checkout around."""
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "site")
    assert skill_files(tmp_path / "site" / "codex_subagents" / "skill") == skill_files(SKILL)
    printed = subprocess.run(
        [sys.executable, "-m", "codex_subagents", "skill", "print"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert printed.stdout == (SKILL / "SKILL.md").read_text()


def test_the_sdist_carries_the_skill(dist: Path) -> None:
    """A wheel built from the sdist (as uv build does) finds the skill there too."""
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames()}
    assert {"skills/codex-subagents/SKILL.md", "skills/codex-subagents/agents/openai.yaml", "LICENSE"} <= names


def test_the_metadata_names_the_platforms_urls_and_keywords(dist: Path) -> None:
    """PyPI shows Linux and macOS as the supported systems, the project's links and its keywords."""
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"codex_subagents-{version('codex-subagents')}.dist-info/METADATA").decode()
    metadata = Parser().parsestr(text)
    classifiers = metadata.get_all("Classifier") or []
    assert {"Operating System :: POSIX :: Linux", "Operating System :: MacOS"} <= set(classifiers)
    assert {url.split(",")[0] for url in metadata.get_all("Project-URL") or []} >= {"Documentation", "Source", "Issues"}
    assert "mcp" in (metadata["Keywords"] or "").split(",")


def test_one_version_is_reported_everywhere() -> None:
    """pyproject's version is what the installed package, the plugin and server.json say."""
    installed = subprocess.run(
        [sys.executable, "-m", "codex_subagents", "--version"], capture_output=True, text=True, check=True
    )
    server = json.loads((PROJECT_ROOT / "server.json").read_text())
    plugin = json.loads((PROJECT_ROOT / "plugins" / "codex-subagents" / ".codex-plugin" / "plugin.json").read_text())
    assert installed.stdout.split() == ["codex-subagents", PROJECT["version"]]
    assert server["version"] == server["packages"][0]["version"] == plugin["version"] == PROJECT["version"]


def test_server_json_is_valid_for_the_mcp_registry() -> None:
    """server.json follows the registry's schema, names this PyPI package, and the README proves the name."""
    schema = json.loads((Path(__file__).parent / "schemas" / "server.schema.json").read_text())
    server = json.loads((PROJECT_ROOT / "server.json").read_text())
    assert server["$schema"] == schema["$id"]
    errors = [error.message for error in Draft7Validator(schema).iter_errors(server)]  # pyright: ignore[reportUnknownMemberType] -- a deprecated overload of jsonschema leaves one parameter untyped
    assert errors == []
    package = server["packages"][0]
    assert (package["registryType"], package["identifier"]) == ("pypi", PROJECT["name"])
    assert f"mcp-name: {server['name']}" in (PROJECT_ROOT / "README.md").read_text()


def test_the_registry_schema_rejects_a_description_it_would_refuse() -> None:
    """The vendored schema is the strict one: a description over 100 characters is an error."""
    schema = json.loads((Path(__file__).parent / "schemas" / "server.schema.json").read_text())
    server = {**json.loads((PROJECT_ROOT / "server.json").read_text()), "description": "x" * 101}
    assert not Draft7Validator(schema).is_valid(server)  # pyright: ignore[reportUnknownMemberType] -- as above


def test_ci_runs_the_gate_on_linux_and_macos_and_release_publishes_with_trusted_publishing() -> None:
    """CI's matrix covers both supported systems and both ends of the tested Codex range (the gate on the
    pinned oldest, the Codex tests on the newest); the release job builds, checks and publishes without a token."""
    workflows = PROJECT_ROOT / ".github" / "workflows"
    ci = yaml.safe_load((workflows / "ci.yml").read_text())
    matrix = ci["jobs"]["check"]["strategy"]["matrix"]
    assert (matrix["os"], matrix["codex"]) == (["ubuntu-latest", "macos-latest"], ["oldest", "newest"])
    runs = {step["if"]: step["run"] for step in ci["jobs"]["check"]["steps"] if "if" in step}
    assert runs == {
        "runner.os == 'Linux'": "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
        "matrix.codex == 'oldest'": "scripts/test",
        "matrix.codex == 'newest'": "scripts/test-codex newest",
    }
    release = yaml.safe_load((workflows / "release.yml").read_text())
    build = [step.get("run", step.get("uses")) for step in release["jobs"]["build"]["steps"]]
    assert "uv build" in build and "uvx twine check --strict dist/*" in build
    publish = release["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["steps"][-1]["uses"] == "pypa/gh-action-pypi-publish@release/v1"
