"""The overlap scenario needs its rollback step: without it, the scenario itself fails where it checks the file.

The bound scenario "Same-file overlap is rolled back and re-run" is run again in a child pytest,
through its own test module and step definitions, from a copy of its feature file that holds only
that scenario, with the rollback step taken out. A probe plugin records each step's outcome, so the
test knows not only that the run failed but which step failed, and how: every step up to the final
check of the shared file passes, and that check fails on its assertion. A scenario that still passed
without its rollback, or that failed for another reason, would not prove that the rollback matters.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from harness import PROJECT_ROOT

pytestmark = pytest.mark.codex

FEATURES = PROJECT_ROOT / "features"
FEATURE = "boss-workflow.feature"
MODULE = PROJECT_ROOT / "tests" / "acceptance" / "test_boss_workflow.py"
TITLE = "Same-file overlap is rolled back and re-run"
ROLLBACK = 'When the boss rolls back "shared.txt"'
CHECK = 'the file "shared.txt" holds the lines "from a" and "from b"'
PROBE = "rollback_probe"


def overlap_without_rollback(feature: str) -> str:
    """The feature's header and Background, then only the overlap scenario, its rollback step removed.

    The step after the rollback starts with ``And``, which would make it a ``Then`` once the
    ``When`` before it is gone, so it becomes a ``When`` itself.
    """
    lines = feature.splitlines()

    def starts_block(line: str) -> bool:
        return line.strip().startswith(("@", "Scenario"))

    title = next((i for i, line in enumerate(lines) if line.strip() == f"Scenario: {TITLE}"), None)
    assert title is not None, f"{FEATURE} has no scenario {TITLE!r}; update this test"
    begin = title
    while lines[begin - 1].strip().startswith("@"):
        begin -= 1
    end = next((i for i in range(title + 1, len(lines)) if starts_block(lines[i])), len(lines))
    head = lines[: next(i for i, line in enumerate(lines) if starts_block(line))]
    block = lines[begin:end]
    found = [i for i, line in enumerate(block) if line.strip() == ROLLBACK]
    assert len(found) == 1, f"{TITLE!r} must have the step {ROLLBACK!r} once; update this test"
    at = found[0]
    following = block[at + 1]
    assert following.strip().startswith("And "), f"the step after the rollback is {following!r}; update this test"
    block[at : at + 2] = [following.replace("And ", "When ", 1)]
    return "\n".join([*head, *block]) + "\n"


def probe(log: Path) -> str:
    """A pytest plugin that appends ``[step, outcome]`` to ``log`` for every step pytest-bdd runs or cannot find."""
    return textwrap.dedent(
        f"""
        import json

        LOG = {str(log)!r}


        def record(step, outcome):
            with open(LOG, "a", encoding="utf-8") as log:
                log.write(json.dumps([step.name, outcome]) + "\\n")


        def pytest_bdd_after_step(step):
            record(step, "passed")


        def pytest_bdd_step_error(step, exception):
            record(step, type(exception).__name__)


        def pytest_bdd_step_func_lookup_error(step):
            record(step, "undefined")
        """
    ).lstrip()


def test_the_overlap_scenario_fails_on_the_file_check_without_its_rollback(tmp_path: Path) -> None:
    """Without its rollback step, the bound scenario fails exactly at the check that the file holds each line once."""
    features = tmp_path / "features"
    shutil.copytree(FEATURES, features)
    (features / FEATURE).write_text(overlap_without_rollback((FEATURES / FEATURE).read_text()))
    log = tmp_path / "steps.jsonl"
    (tmp_path / f"{PROBE}.py").write_text(probe(log))
    environ = {name: value for name, value in os.environ.items() if not name.startswith("PYTEST_")}
    path = os.pathsep.join(filter(None, [str(tmp_path), environ.get("PYTHONPATH")]))
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", str(MODULE), "-q", "-p", PROBE, "-p", "no:cacheprovider"),
            *("-o", f"bdd_features_base_dir={features}", f"--basetemp={tmp_path / 'basetemp'}"),
        ],
        cwd=PROJECT_ROOT,
        env=environ | {"PYTHONPATH": path},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    output = f"{completed.stdout}\n{completed.stderr}"
    assert completed.returncode == pytest.ExitCode.TESTS_FAILED, output
    assert "1 failed" in completed.stdout.splitlines()[-1], output
    steps = [tuple(json.loads(line)) for line in log.read_text().splitlines()]
    *before, last = steps
    assert last == (CHECK, "AssertionError"), output
    assert {outcome for _, outcome in before} == {"passed"}, steps
    reruns = {f'the boss re-runs job "{name}" and waits until it is reported' for name in ("appender-a", "appender-b")}
    assert reruns <= {step for step, _ in before}, steps
    assert ROLLBACK.removeprefix("When ") not in {step for step, _ in steps}, steps
