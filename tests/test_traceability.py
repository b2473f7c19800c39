"""Check that the OpenSpec scenarios and the Gherkin scenarios are one set, and that pytest-bdd binds them.

The OpenSpec side is `openspec/specs/<capability>/spec.md` as it will read once every active change in
`openspec/changes/` (never `archive/`) is archived: ADDED and MODIFIED requirement blocks replace the block of
the same name, REMOVED blocks are dropped and RENAMED ones renamed, in the order of the change names.
The Gherkin side is `features/<capability>.feature`.
A scenario is known by its title, which is unique on each side and must be the same on both.
Each Gherkin scenario sits in its capability's feature file and carries exactly one `@req:<slug>` tag,
the kebab-case name of its requirement.
Each scenario, `@pending` ones included, must be collected by pytest-bdd from `tests/acceptance/`, so that
each runs under its marks; the collection runs `pytest --collect-only` there in a child process with a small
recording plugin, so it sees every binding (`scenarios(...)`, `@scenario(...)`, any base directory, any
conftest) exactly as the real run does. The plugin also looks up each step's definition as pytest-bdd will
at run time: a `@pending` scenario must still have a step without one. A pending scenario whose steps all
exist fails this module, without running it, even in a run that deselects it with `-m "not pending"`.

`python tests/test_traceability.py` prints the pending scenarios and any problem without pytest.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import pytest
from pytest_bdd.exceptions import StepDefinitionNotFoundError
from pytest_bdd.gherkin_parser import Child, Tag, get_gherkin_document
from pytest_bdd.scenario import find_fixturedefs_for_step, scenario_wrapper_template_registry

from _pending import PENDING_REASON, PENDING_TAG, REQUIREMENT_TAG_PREFIX, apply_tag, register_markers

REPO_ROOT = Path(__file__).resolve().parents[1]
OPENSPEC_DIR = REPO_ROOT / "openspec"
FEATURES_DIR = REPO_ROOT / "features"
TESTS_DIR = REPO_ROOT / "tests"
ACCEPTANCE_DIR = TESTS_DIR / "acceptance"

_COLLECT_FLAG = "--collect-bound"
_REQUIREMENT_HEADER = re.compile(r"^###\s*Requirement:\s*(.+?)\s*$", re.IGNORECASE)
_SCENARIO_HEADER = re.compile(r"^####\s*Scenario:\s*(.+?)\s*$", re.IGNORECASE)
_SECTION_HEADER = re.compile(r"^##\s+(.+?)\s*$")
_REMOVED_NAME = re.compile(r"^\s*(?:-\s*)?`?###\s*Requirement:\s*(.+?)`?\s*$", re.IGNORECASE)
_RENAMED_NAME = re.compile(r"^\s*(?:-\s*)?(FROM|TO):\s*`?###\s*Requirement:\s*(.+?)`?\s*$", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(```|~~~)")
_CLOSING_HASHES = re.compile(r"[ \t]+#+[ \t]*$")


@dataclass(frozen=True)
class Requirement:
    """One `### Requirement:` block of a spec: its name, its text as written and its scenario titles."""

    name: str
    raw: str
    scenarios: tuple[str, ...]


@dataclass(frozen=True)
class Delta:
    """The requirement operations one active change makes to one capability."""

    capability: str
    source: Path
    added: tuple[Requirement, ...]
    modified: tuple[Requirement, ...]
    removed: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SpecScenario:
    """An OpenSpec scenario with the capability and requirement it belongs to."""

    capability: str
    requirement: str
    title: str


@dataclass(frozen=True)
class GherkinScenario:
    """A Gherkin scenario with its capability (the feature file's name) and its tags without `@`."""

    capability: str
    title: str
    tags: frozenset[str]
    source: Path

    @property
    def pending(self) -> bool:
        """Whether the scenario is tagged `@pending`."""
        return PENDING_TAG in self.tags

    @property
    def requirement_tags(self) -> list[str]:
        """The slugs of the scenario's `@req:` tags."""
        return sorted(tag.removeprefix(REQUIREMENT_TAG_PREFIX) for tag in self.tags if _is_req(tag))


@dataclass(frozen=True)
class TitleDiff:
    """The scenario titles found on one side only."""

    only_in_specs: list[str]
    only_in_features: list[str]


@dataclass(frozen=True)
class _Line:
    text: str
    fenced: bool


def _is_req(tag: str) -> bool:
    return tag.startswith(REQUIREMENT_TAG_PREFIX)


def _heading_name(text: str) -> str:
    return _CLOSING_HASHES.sub("", text).strip()


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    fenced = False
    for text_line in text.replace("\r\n", "\n").split("\n"):
        fence = _FENCE.match(text_line) is not None
        lines.append(_Line(text_line, fenced or fence))
        if fence:
            fenced = not fenced
    return lines


def _sections(lines: Sequence[_Line]) -> dict[str, list[_Line]]:
    sections: dict[str, list[_Line]] = {}
    current: list[_Line] | None = None
    for line in lines:
        header = None if line.fenced else _SECTION_HEADER.match(line.text)
        if header is not None:
            current = sections.setdefault(header.group(1).strip().lower(), [])
        elif current is not None:
            current.append(line)
    return sections


def _requirements(lines: Sequence[_Line]) -> list[Requirement]:
    blocks: list[list[_Line]] = []
    for line in lines:
        if not line.fenced and _REQUIREMENT_HEADER.match(line.text):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return [_requirement(block) for block in blocks]


def _requirement(block: Sequence[_Line]) -> Requirement:
    header = _REQUIREMENT_HEADER.match(block[0].text)
    assert header is not None
    titles = (None if line.fenced else _SCENARIO_HEADER.match(line.text) for line in block)
    return Requirement(
        name=_heading_name(header.group(1)),
        raw="\n".join(line.text for line in block).strip(),
        scenarios=tuple(_heading_name(title.group(1)) for title in titles if title is not None),
    )


def _names(lines: Sequence[_Line], pattern: re.Pattern[str]) -> list[re.Match[str]]:
    matches = (None if line.fenced else pattern.match(line.text) for line in lines)
    return [match for match in matches if match is not None]


def read_main_specs(openspec_dir: Path) -> dict[str, dict[str, Requirement]]:
    """Read `specs/**/spec.md` under `openspec_dir` as capability -> requirement name -> block."""
    specs_dir = openspec_dir / "specs"
    specs: dict[str, dict[str, Requirement]] = {}
    for path in sorted(specs_dir.glob("**/spec.md")):
        section = _sections(_lines(path.read_text(encoding="utf-8"))).get("requirements", [])
        specs[path.parent.relative_to(specs_dir).as_posix()] = {r.name: r for r in _requirements(section)}
    return specs


def read_deltas(openspec_dir: Path) -> list[Delta]:
    """Read the spec deltas of every active change, ordered by change name and capability."""
    changes_dir = openspec_dir / "changes"
    deltas: list[Delta] = []
    for change_dir in sorted(p for p in changes_dir.glob("*") if p.is_dir() and p.name != "archive"):
        specs_dir = change_dir / "specs"
        for path in sorted(specs_dir.glob("**/spec.md")):
            sections = _sections(_lines(path.read_text(encoding="utf-8")))
            renames = _names(sections.get("renamed requirements", []), _RENAMED_NAME)
            froms = [_heading_name(m.group(2)) for m in renames if m.group(1).upper() == "FROM"]
            tos = [_heading_name(m.group(2)) for m in renames if m.group(1).upper() == "TO"]
            deltas.append(
                Delta(
                    capability=path.parent.relative_to(specs_dir).as_posix(),
                    source=path,
                    added=tuple(_requirements(sections.get("added requirements", []))),
                    modified=tuple(_requirements(sections.get("modified requirements", []))),
                    removed=tuple(
                        _heading_name(m.group(1))
                        for m in _names(sections.get("removed requirements", []), _REMOVED_NAME)
                    ),
                    renamed=tuple(zip(froms, tos, strict=True)),
                )
            )
    return deltas


def apply_deltas(
    specs: dict[str, dict[str, Requirement]], deltas: Iterable[Delta]
) -> dict[str, dict[str, Requirement]]:
    """Return the specs as they read after archiving the deltas, in the order `openspec archive` applies them."""
    result = {capability: dict(requirements) for capability, requirements in specs.items()}
    for delta in deltas:
        requirements = result.setdefault(delta.capability, {})
        for old, new in delta.renamed:
            if old in requirements:
                block = requirements.pop(old)
                header, _, body = block.raw.partition("\n")
                renamed_header = header.replace(old, new, 1)
                requirements[new] = replace(block, name=new, raw=f"{renamed_header}\n{body}".strip())
        for name in delta.removed:
            requirements.pop(name, None)
        for requirement in (*delta.modified, *delta.added):
            requirements[requirement.name] = requirement
    return result


def read_spec_scenarios(openspec_dir: Path) -> list[SpecScenario]:
    """Read every OpenSpec scenario, with the active changes applied."""
    specs = apply_deltas(read_main_specs(openspec_dir), read_deltas(openspec_dir))
    return [
        SpecScenario(capability, requirement.name, title)
        for capability, requirements in sorted(specs.items())
        for requirement in requirements.values()
        for title in requirement.scenarios
    ]


def _tag_names(tags: Iterable[Tag]) -> frozenset[str]:
    return frozenset(tag.name.removeprefix("@") for tag in tags)


def _gherkin_scenarios(
    children: Iterable[Child], inherited: frozenset[str], capability: str, source: Path
) -> Iterator[GherkinScenario]:
    for child in children:
        if child.scenario is not None:
            tags = inherited | _tag_names(child.scenario.tags)
            yield GherkinScenario(capability, child.scenario.name.strip(), tags, source)
        elif child.rule is not None:
            tags = inherited | _tag_names(child.rule.tags)
            yield from _gherkin_scenarios(child.rule.children, tags, capability, source)


def read_gherkin_scenarios(features_dir: Path) -> list[GherkinScenario]:
    """Read every Gherkin scenario of `features_dir/**/*.feature` with its feature and rule tags."""
    scenarios: list[GherkinScenario] = []
    for path in sorted(features_dir.glob("**/*.feature")):
        feature = get_gherkin_document(str(path)).feature
        capability = path.relative_to(features_dir).with_suffix("").as_posix()
        scenarios.extend(_gherkin_scenarios(feature.children, _tag_names(feature.tags), capability, path))
    return scenarios


def requirement_slug(name: str) -> str:
    """Return the `@req:` slug of a requirement name: lower case, apostrophes dropped, other runs as `-`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")


def compare_titles(specs: Iterable[SpecScenario], features: Iterable[GherkinScenario]) -> TitleDiff:
    """Return the scenario titles that appear on one side only."""
    spec_titles = {scenario.title for scenario in specs}
    feature_titles = {scenario.title for scenario in features}
    return TitleDiff(sorted(spec_titles - feature_titles), sorted(feature_titles - spec_titles))


def duplicate_titles(titles: Iterable[str]) -> list[str]:
    """Return every title that appears more than once."""
    return sorted(title for title, count in Counter(titles).items() if count > 1)


def placement_problems(specs: Iterable[SpecScenario], features: Iterable[GherkinScenario]) -> list[str]:
    """Report Gherkin scenarios with the wrong `@req:` tags or in the wrong feature file."""
    by_title = {scenario.title: scenario for scenario in specs}
    problems: list[str] = []
    for scenario in features:
        spec = by_title.get(scenario.title)
        if spec is None:
            continue
        expected = requirement_slug(spec.requirement)
        if scenario.requirement_tags != [expected]:
            problems.append(
                f"{scenario.source.name}: {scenario.title!r} must carry exactly one requirement tag, "
                f"@{REQUIREMENT_TAG_PREFIX}{expected}, not {scenario.requirement_tags}"
            )
        if scenario.capability != spec.capability:
            problems.append(f"{scenario.source.name}: {scenario.title!r} belongs in features/{spec.capability}.feature")
    return problems


def archive_conflicts(openspec_dir: Path) -> list[str]:
    """Report ADDED requirements that `openspec archive` would refuse because the main spec differs."""
    main = read_main_specs(openspec_dir)
    problems: list[str] = []
    for delta in read_deltas(openspec_dir):
        existing = main.get(delta.capability, {})
        for requirement in delta.added:
            current = existing.get(requirement.name)
            if current is not None and current.raw != requirement.raw:
                problems.append(
                    f"{delta.source.relative_to(openspec_dir).as_posix()}: ADDED {requirement.name!r} differs "
                    f"from specs/{delta.capability}/spec.md; make them identical or `openspec archive` refuses"
                )
    return problems


def check_traceability(openspec_dir: Path, features_dir: Path) -> list[str]:
    """Return every problem between the OpenSpec tree and the Gherkin tree; empty when they agree."""
    specs = read_spec_scenarios(openspec_dir)
    features = read_gherkin_scenarios(features_dir)
    diff = compare_titles(specs, features)
    return [
        *(f"only in OpenSpec: {title!r}" for title in diff.only_in_specs),
        *(f"only in Gherkin: {title!r}" for title in diff.only_in_features),
        *(f"repeated in OpenSpec: {title!r}" for title in duplicate_titles(s.title for s in specs)),
        *(f"repeated in Gherkin: {title!r}" for title in duplicate_titles(s.title for s in features)),
        *placement_problems(specs, features),
        *archive_conflicts(openspec_dir),
    ]


def pending_report(features: Sequence[GherkinScenario]) -> str:
    """Describe the `@pending` scenarios, one line each."""
    pending = [scenario for scenario in features if scenario.pending]
    lines = [f"{len(pending)} of {len(features)} scenarios are @pending"]
    lines += [f"  {scenario.capability}: {scenario.title}" for scenario in pending]
    return "\n".join(lines)


Bound = dict[tuple[Path, str], tuple[str, ...]]
"""The scenarios pytest-bdd binds, by (feature file, title), each with the steps it finds no definition for."""


class _BoundScenarioRecorder:
    """A pytest plugin that records every collected pytest-bdd scenario and the steps it has no definition for.

    A step's definitions are looked up from the collected test, as pytest-bdd does when it runs the step,
    so a definition in another test module does not count.
    """

    def __init__(self) -> None:
        self.bound: dict[tuple[str, str], set[str]] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        fixtures = session.config.pluginmanager.get_plugin("funcmanage")
        assert fixtures is not None, "pytest registers its fixture manager as the plugin 'funcmanage'"
        for item in [item for item in session.items if isinstance(item, pytest.Function)]:
            template = scenario_wrapper_template_registry.get(item.obj)
            if template is None:
                continue
            example = item.callspec.params if hasattr(item, "callspec") else {}
            steps = template.render(cast("dict[str, object]", example.get("_pytest_bdd_example", {}))).steps
            undefined = self.bound.setdefault((str(Path(template.feature.filename).resolve()), template.name), set())
            undefined.update(
                f"{step.type} {step.name}"
                for step in steps
                if next(iter(find_fixturedefs_for_step(step, fixtures, item)), None) is None
            )


def collect_bound_scenarios(tests_dir: Path, rootdir: Path) -> Bound:
    """Collect `tests_dir` with pytest in a child process and return the scenarios pytest-bdd binds."""
    if not tests_dir.is_dir():
        return {}
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "bound.json"
        completed = subprocess.run(
            [sys.executable, __file__, _COLLECT_FLAG, str(tests_dir), str(output)],
            cwd=rootdir,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        collected = completed.returncode in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
        assert collected, f"collecting {tests_dir} failed:\n{completed.stdout}\n{completed.stderr}"
        rows: list[tuple[str, str, list[str]]] = json.loads(output.read_text(encoding="utf-8"))
    return {(Path(path), title): tuple(undefined) for path, title, undefined in rows}


def unbound_scenarios(features: Iterable[GherkinScenario], bound: Bound) -> list[GherkinScenario]:
    """Return the scenarios, `@pending` ones included, that no collected test binds."""
    return [s for s in features if (s.source.resolve(), s.title) not in bound]


def ready_pending_scenarios(features: Iterable[GherkinScenario], bound: Bound) -> list[GherkinScenario]:
    """Return the `@pending` scenarios that are bound and have a definition for every step."""
    return [s for s in features if s.pending and bound.get((s.source.resolve(), s.title)) == ()]


def _collect_bound_main(tests_dir: Path, output: Path) -> int:
    recorder = _BoundScenarioRecorder()
    # This module imported pytest-bdd already, so assertion rewriting, useless for collecting, is turned off.
    arguments = ["--collect-only", "-q", "--assert=plain", "-p", "no:cacheprovider", str(tests_dir)]
    code = pytest.main(arguments, plugins=[recorder])
    rows = [(path, title, sorted(undefined)) for (path, title), undefined in sorted(recorder.bound.items())]
    output.write_text(json.dumps(rows), encoding="utf-8")
    return int(code)


def _main(argv: Sequence[str]) -> int:
    if argv[:1] == [_COLLECT_FLAG]:
        return _collect_bound_main(Path(argv[1]), Path(argv[2]))
    print(pending_report(read_gherkin_scenarios(FEATURES_DIR)))
    problems = check_traceability(OPENSPEC_DIR, FEATURES_DIR)
    print("\n".join(problems) or "OpenSpec and Gherkin agree")
    return 1 if problems else 0


# The repository's own trees.


def test_both_sides_cover_the_same_capabilities() -> None:
    """Every capability has a spec and a feature file, so an empty or misplaced tree cannot pass unnoticed."""
    capabilities = {scenario.capability for scenario in read_spec_scenarios(OPENSPEC_DIR)}
    feature_files = {scenario.capability for scenario in read_gherkin_scenarios(FEATURES_DIR)}
    assert capabilities
    assert capabilities == feature_files


def test_every_spec_scenario_is_a_gherkin_scenario_and_back() -> None:
    """The OpenSpec and Gherkin scenario titles are the same set."""
    diff = compare_titles(read_spec_scenarios(OPENSPEC_DIR), read_gherkin_scenarios(FEATURES_DIR))
    assert diff == TitleDiff(only_in_specs=[], only_in_features=[])


def test_scenario_titles_are_unique() -> None:
    """No title is used twice on either side, so a title names one scenario."""
    assert duplicate_titles(s.title for s in read_spec_scenarios(OPENSPEC_DIR)) == []
    assert duplicate_titles(s.title for s in read_gherkin_scenarios(FEATURES_DIR)) == []


def test_gherkin_scenarios_name_their_requirement_and_capability() -> None:
    """Each Gherkin scenario has the `@req:` tag of its requirement and sits in its capability's feature file."""
    specs = read_spec_scenarios(OPENSPEC_DIR)
    assert placement_problems(specs, read_gherkin_scenarios(FEATURES_DIR)) == []


def test_active_changes_can_be_archived() -> None:
    """A requirement already written into openspec/specs is identical to its change's ADDED block."""
    assert archive_conflicts(OPENSPEC_DIR) == []


@pytest.fixture(scope="module")
def acceptance_bound() -> Bound:
    """The scenarios the acceptance suite binds, collected once for this module."""
    return collect_bound_scenarios(ACCEPTANCE_DIR, REPO_ROOT)


def test_every_scenario_is_bound(acceptance_bound: Bound) -> None:
    """pytest-bdd collects every scenario, `@pending` ones too, so none is left out of the run or out of its marks."""
    unbound = unbound_scenarios(read_gherkin_scenarios(FEATURES_DIR), acceptance_bound)
    assert [f"{s.source.name}: {s.title}" for s in unbound] == []


def test_a_pending_scenario_still_lacks_a_step_definition(acceptance_bound: Bound) -> None:
    """Each `@pending` scenario has a step without a definition; once every step has one, the tag must go."""
    features = read_gherkin_scenarios(FEATURES_DIR)
    print(pending_report(features))
    ready = ready_pending_scenarios(features, acceptance_bound)
    assert [f"{s.source.name}: {s.title} has every step; remove its @pending tag" for s in ready] == []


# The checker catches what it should, shown on copies of the trees and on small made-up trees.


def _copy_trees(tmp_path: Path) -> tuple[Path, Path]:
    openspec_dir, features_dir = tmp_path / "openspec", tmp_path / "features"
    shutil.copytree(OPENSPEC_DIR, openspec_dir)
    shutil.copytree(FEATURES_DIR, features_dir)
    return openspec_dir, features_dir


def _cut(path: Path, starts: Callable[[str], bool], ends: Callable[[str], bool], back: str = "") -> bool:
    """Delete from the line where `starts` holds (and the `back`-prefixed lines above it) up to where `ends` holds."""
    lines = path.read_text(encoding="utf-8").split("\n")
    first = next((i for i, line in enumerate(lines) if starts(line)), None)
    if first is None:
        return False
    last = next((i for i in range(first + 1, len(lines)) if ends(lines[i])), len(lines))
    while back and first > 0 and lines[first - 1].strip().startswith(back):
        first -= 1
    path.write_text("\n".join(lines[:first] + lines[last:]), encoding="utf-8")
    return True


def _remove_spec_scenario(openspec_dir: Path, title: str) -> int:
    paths = [p for p in openspec_dir.rglob("spec.md") if "archive" not in p.relative_to(openspec_dir).parts]
    return sum(
        _cut(path, lambda line: line.strip() == f"#### Scenario: {title}", lambda line: line.startswith("#"))
        for path in paths
    )


def _remove_gherkin_scenario(features_dir: Path, title: str) -> int:
    def starts(line: str) -> bool:
        return re.fullmatch(rf"\s*Scenario(?: Outline)?:\s*{re.escape(title)}\s*", line) is not None

    def ends(line: str) -> bool:
        return line.strip().startswith(("@", "Scenario", "Rule:"))

    return sum(_cut(path, starts, ends, back="@") for path in features_dir.glob("**/*.feature"))


def test_a_scenario_removed_from_the_specs_is_reported(tmp_path: Path) -> None:
    """Deleting one scenario from every spec file leaves exactly that title on the Gherkin side only."""
    openspec_dir, features_dir = _copy_trees(tmp_path)
    title = read_spec_scenarios(openspec_dir)[0].title
    assert _remove_spec_scenario(openspec_dir, title) >= 1
    diff = compare_titles(read_spec_scenarios(openspec_dir), read_gherkin_scenarios(features_dir))
    assert diff == TitleDiff(only_in_specs=[], only_in_features=[title])
    assert check_traceability(openspec_dir, features_dir) == [f"only in Gherkin: {title!r}"]


def test_a_scenario_removed_from_the_features_is_reported(tmp_path: Path) -> None:
    """Deleting one Gherkin scenario leaves exactly that title on the OpenSpec side only."""
    openspec_dir, features_dir = _copy_trees(tmp_path)
    title = read_gherkin_scenarios(features_dir)[-1].title
    assert _remove_gherkin_scenario(features_dir, title) == 1
    diff = compare_titles(read_spec_scenarios(openspec_dir), read_gherkin_scenarios(features_dir))
    assert diff == TitleDiff(only_in_specs=[title], only_in_features=[])
    assert check_traceability(openspec_dir, features_dir) == [f"only in OpenSpec: {title!r}"]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


_MAIN_SPEC = """
    # demo Specification

    ## Purpose
    A capability that exists only to exercise the traceability checker.

    ## Requirements

    ### Requirement: Kept
    The system SHALL keep this.

    #### Scenario: Kept as is
    - **WHEN** nothing changes
    - **THEN** this stays

    ### Requirement: Changed
    The system SHALL change this.

    #### Scenario: Old wording
    - **WHEN** the change is archived
    - **THEN** this is replaced

    ### Requirement: Dropped
    The system SHALL drop this.

    #### Scenario: Dropped scenario
    - **WHEN** the change is archived
    - **THEN** this is gone

    ### Requirement: Old name
    The system SHALL rename this.

    #### Scenario: Scenario of a renamed requirement
    - **WHEN** the change is archived
    - **THEN** this moves to the new name
    """

_DELTA = """
    ## ADDED Requirements

    ### Requirement: Added
    The system SHALL add this.

    #### Scenario: Added scenario
    - **WHEN** the change is archived
    - **THEN** this appears

    ```markdown
    #### Scenario: Inside a code fence
    ```

    ## MODIFIED Requirements

    ### Requirement: Changed
    The system SHALL change this.

    #### Scenario: New wording
    - **WHEN** the change is archived
    - **THEN** this replaces the old wording

    ## REMOVED Requirements

    ### Requirement: Dropped
    **Reason**: Not needed.
    **Migration**: None.

    ## RENAMED Requirements

    - FROM: `### Requirement: Old name`
    - TO: `### Requirement: New name`
    """


def test_active_changes_are_read_as_archive_applies_them(tmp_path: Path) -> None:
    """ADDED, MODIFIED, REMOVED and RENAMED blocks of an active change count; archived changes and fences do not."""
    _write(tmp_path / "specs" / "demo" / "spec.md", _MAIN_SPEC)
    _write(tmp_path / "changes" / "demo-change" / "specs" / "demo" / "spec.md", _DELTA)
    _write(
        tmp_path / "changes" / "archive" / "2000-01-01-old" / "specs" / "demo" / "spec.md",
        "## ADDED Requirements\n\n### Requirement: Ancient\n\n#### Scenario: Archived scenario\n",
    )
    assert {(s.requirement, s.title) for s in read_spec_scenarios(tmp_path)} == {
        ("Kept", "Kept as is"),
        ("Changed", "New wording"),
        ("New name", "Scenario of a renamed requirement"),
        ("Added", "Added scenario"),
    }


def test_an_added_requirement_that_differs_from_the_main_spec_is_reported(tmp_path: Path) -> None:
    """An ADDED block whose requirement already exists in the main spec with other text is an archive conflict."""
    main = textwrap.dedent(_MAIN_SPEC).lstrip()
    kept = "### Requirement: Kept" + main.split("### Requirement: Kept")[1].split("### Requirement:")[0]
    changed = "### Requirement: Changed\nThe system SHALL change this differently.\n"
    _write(tmp_path / "specs" / "demo" / "spec.md", main)
    _write(
        tmp_path / "changes" / "demo-change" / "specs" / "demo" / "spec.md", f"## ADDED Requirements\n\n{kept}{changed}"
    )
    problems = archive_conflicts(tmp_path)
    assert len(problems) == 1
    assert "'Changed'" in problems[0]


def test_a_wrong_requirement_tag_or_feature_file_is_reported(tmp_path: Path) -> None:
    """A Gherkin scenario with another requirement's tag, or in another capability's file, is reported."""
    _write(tmp_path / "openspec" / "specs" / "demo" / "spec.md", _MAIN_SPEC)
    _write(
        tmp_path / "features" / "other.feature",
        """
        Feature: Other
          @req:changed
          Scenario: Kept as is
            Given nothing
        """,
    )
    specs = read_spec_scenarios(tmp_path / "openspec")
    problems = placement_problems(specs, read_gherkin_scenarios(tmp_path / "features"))
    assert len(problems) == 2
    assert "@req:kept" in problems[0]
    assert "features/demo.feature" in problems[1]


def test_requirement_slugs_are_kebab_case() -> None:
    """Slugs drop apostrophes and turn every other run of punctuation or spaces into one hyphen."""
    assert requirement_slug("Full access needs the operator's opt-in") == "full-access-needs-the-operators-opt-in"
    assert requirement_slug("Wait-any reports each finished job once") == "wait-any-reports-each-finished-job-once"


# The tag hook the acceptance suite uses.


def _marks(function: Callable[..., object]) -> list[pytest.Mark]:
    marks = cast("list[object]", getattr(function, "pytestmark", []))
    return [mark for mark in marks if isinstance(mark, pytest.Mark)]


def _scenario_function() -> Callable[[], None]:
    def scenario() -> None:
        """Stand in for a pytest-bdd scenario function."""

    return scenario


def test_pending_tag_expects_an_undefined_step(pytestconfig: pytest.Config) -> None:
    """`@pending` becomes a strict xfail that only a missing step definition satisfies, plus the `pending` mark."""
    register_markers(pytestconfig)
    function = _scenario_function()
    assert apply_tag(PENDING_TAG, function) is True
    xfail, pending = _marks(function)
    assert (xfail.name, pending.name) == ("xfail", PENDING_TAG)
    assert xfail.kwargs == {
        "strict": True,
        "raises": StepDefinitionNotFoundError,
        "reason": PENDING_REASON,
    }


def test_requirement_tag_becomes_a_req_mark(pytestconfig: pytest.Config) -> None:
    """`@req:<slug>` becomes `pytest.mark.req(slug)`, and other tags are left to pytest-bdd."""
    register_markers(pytestconfig)
    function = _scenario_function()
    assert apply_tag("req:spawn-returns-at-once", function) is True
    assert apply_tag("slow", function) is None
    [req] = _marks(function)
    assert (req.name, req.args) == ("req", ("spawn-returns-at-once",))


_DEMO_FEATURE = """
    Feature: Demo
      @pending @req:demo
      Scenario: Steps are missing
        Given a step that exists
        When a step that does not exist

      @pending @req:demo
      Scenario: Steps all exist
        Given a step that exists

      @req:demo
      Scenario: A ready scenario passes
        Given a step that exists
    """

_DEMO_CONFTEST = """
    from _pending import apply_tag, register_markers


    def pytest_configure(config):
        register_markers(config)


    def pytest_bdd_apply_tag(tag, function):
        return apply_tag(tag, function)
    """

_DEMO_TEST = """
    from pytest_bdd import given, scenarios

    scenarios("demo.feature")


    @given("a step that exists")
    def _():
        pass
    """


def test_pending_scenarios_xfail_until_their_steps_exist(tmp_path: Path) -> None:
    """Through the conftest recipe, a pending scenario with a missing step xfails and one that passes fails."""
    _write(tmp_path / "pytest.ini", "[pytest]\nxfail_strict = true\naddopts = --strict-markers -p no:cacheprovider\n")
    _write(tmp_path / "conftest.py", _DEMO_CONFTEST)
    _write(tmp_path / "demo.feature", _DEMO_FEATURE)
    _write(tmp_path / "test_demo.py", _DEMO_TEST)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}, "PYTHONPATH": str(TESTS_DIR)},
    )
    summary = completed.stdout.strip().splitlines()[-1]
    counts = {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", summary)}
    assert counts == {"failed": 1, "passed": 1, "xfailed": 1}, completed.stdout
    assert "XPASS(strict)" in completed.stdout


_DEMO_OUTLINE = """
    Feature: Outline
      @pending @req:demo
      Scenario Outline: One example lacks a step
        Given a step that <state>

        Examples:
          | state      |
          | exists     |
          | is missing |
    """

_DEMO_OTHER_TEST = """
    from pytest_bdd import given, scenarios, when

    scenarios("outline.feature")


    @given("a step that exists")
    def _():
        pass


    @when("a step that does not exist")
    def _():
        pass
    """


def test_a_pending_scenario_with_every_step_or_with_no_test_is_reported(tmp_path: Path) -> None:
    """A pending scenario whose steps all exist, and one no test binds, are found; one that lacks a step is not.

    Steps are looked up as pytest-bdd runs them: a step defined only in another test module is still missing,
    and each example of an outline counts with its own values.
    """
    _write(tmp_path / "pytest.ini", "[pytest]\nxfail_strict = true\naddopts = --strict-markers\n")
    _write(tmp_path / "conftest.py", _DEMO_CONFTEST)
    _write(tmp_path / "demo.feature", _DEMO_FEATURE)
    _write(tmp_path / "test_demo.py", _DEMO_TEST)
    _write(tmp_path / "outline.feature", _DEMO_OUTLINE)
    _write(tmp_path / "test_other.py", _DEMO_OTHER_TEST)
    _write(tmp_path / "unbound.feature", "Feature: Unbound\n  @pending @req:demo\n  Scenario: No test binds this\n")
    bound = collect_bound_scenarios(tmp_path, tmp_path)
    features = read_gherkin_scenarios(tmp_path)
    assert [s.title for s in ready_pending_scenarios(features, bound)] == ["Steps all exist"]
    assert [s.title for s in unbound_scenarios(features, bound)] == ["No test binds this"]
    root = tmp_path.resolve()
    assert bound[(root / "demo.feature", "Steps are missing")] == ("when a step that does not exist",)
    assert bound[(root / "outline.feature", "One example lacks a step")] == ("given a step that is missing",)


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
