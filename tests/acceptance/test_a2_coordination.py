"""The a2-coordination scenarios, played through a real MCP session with real Codex workers and real git."""

from __future__ import annotations

import stat

from harness import git
from pytest_bdd import given, parsers, scenarios, then, when

from world import (
    World,
    attempt,
    baseline_files,
    commit,
    dump,
    final,
    git_state,
    names,
    records,
    spawn,
    strings,
    wait_answer,
)

scenarios("a2-coordination.feature")


# -- the worktree ------------------------------------------------------------------------------------


@given(parsers.parse('a committed binary file "{file}"'))
def binary_file(world: World, file: str) -> None:
    """Every byte value, NUL and CR LF included, committed as the user's binary."""
    world.path(file).write_bytes(bytes(range(256)) + b"\r\n\x00")
    commit(world, file)


@when(parsers.parse('the binary file "{file}" is overwritten'))
def overwrite_binary(world: World, file: str) -> None:
    """Different bytes of another length."""
    world.path(file).write_bytes(bytes(reversed(range(256))) * 3)


@given(parsers.parse('an executable committed file "{file}"'))
def executable_file(world: World, file: str) -> None:
    """A committed script with its executable bit."""
    world.path(file).write_text("#!/bin/sh\necho run\n")
    world.path(file).chmod(0o755)
    commit(world, file)


@given(parsers.parse('a committed symlink "{link}" to "{target}"'))
def committed_symlink(world: World, link: str, target: str) -> None:
    """A committed symbolic link."""
    world.path(link).symlink_to(target)
    commit(world, link)


@when(parsers.parse('the file "{file}" is deleted'))
def delete(world: World, file: str) -> None:
    """Someone deletes the file after the baseline."""
    world.path(file).unlink()


@when(parsers.parse('the file "{file}" is created'))
def create(world: World, file: str) -> None:
    """Someone creates the file, and its directories, after the baseline."""
    world.path(file).parent.mkdir(parents=True, exist_ok=True)
    world.path(file).write_text("new after the baseline\n")


@when(parsers.parse('the file "{file}" loses its executable bit'))
def lose_exec(world: World, file: str) -> None:
    """A mode change only."""
    world.path(file).chmod(0o644)


@when(parsers.parse('the symlink "{link}" is pointed at "{target}"'))
def repoint(world: World, link: str, target: str) -> None:
    """The link now points elsewhere."""
    world.path(link).unlink()
    world.path(link).symlink_to(target)


# -- workers -----------------------------------------------------------------------------------------


@given(parsers.parse('a worker script "{name}" that writes "{file}" and reports no files'))
def patches_unreported(world: World, name: str, file: str) -> None:
    """A worker that patches a file and leaves it out of its report.

    The patch only adds a line at the end, so it applies whichever worker writes the file first.
    """
    patch = f"*** Begin Patch\n*** Update File: {file}\n@@\n+written by {name}\n*** End Patch\n"
    world.add_script(name, [{"patch": patch}, final([])])


@given(parsers.parse('a worker script "{name}" that reports "{file}" without writing it'))
def claims_only(world: World, name: str, file: str) -> None:
    """A worker whose report claims a file it never touched."""
    world.add_script(name, [final([file])])


# -- the boss's calls ------------------------------------------------------------------------------


@when(parsers.parse('the boss takes a baseline labelled "{label}"'))
def labelled_baseline(world: World, label: str) -> None:
    """Record a baseline under a label, and remember its id and ref."""
    world.answers[f"baseline {label}"] = world.live.call("codex_baseline", label=label)


@when(parsers.parse('the boss drops the baseline "{label}"'))
def drop(world: World, label: str) -> None:
    """Drop one baseline."""
    baseline_id = world.answers[f"baseline {label}"]["baseline_id"]
    answer = world.live.call("codex_baseline_drop", baseline_id=baseline_id)
    assert answer["dropped"] is True, dump(answer)


@when(parsers.parse('the boss re-runs job "{name}" as "{key}" and waits until it is reported'))
def rerun_as(world: World, name: str, key: str) -> None:
    """Run the same script again, alone, known as ``key`` so the first run's job id stays in the batch."""
    spawn(world, name, key, prompt="Do the task again.")
    assert key in world.jobs, world.error
    world.live.wait_all([world.job(key)])


@when(parsers.parse('the boss of the second server waits until job "{name}" is reported'))
def wait_on_second(world: World, name: str) -> None:
    """The other session's boss waits for its own worker."""
    assert world.second is not None, "start the second server first"
    world.second.wait_all([world.job(name)])


@when(parsers.parse('the boss rolls back everything to the baseline id "{baseline_id}"'))
def roll_back_to(world: World, baseline_id: str) -> None:
    """A rollback naming a baseline id the boss made up."""
    attempt(world, "codex_rollback", baseline_id=baseline_id)


# -- what the boss sees ----------------------------------------------------------------------------


@then("HEAD, the index, the stash list and every file are unchanged")
def untouched(world: World) -> None:
    """The baseline changed nothing the user can see, not even the index's stat data."""
    assert git_state(world) == world.answers["before baseline"]


@then(parsers.parse('the baseline commit holds "{file}" with the user\'s edit'))
def holds_edit(world: World, file: str) -> None:
    """The user's uncommitted bytes are in the baseline."""
    commit_id = str(world.answers["baseline"]["commit"])
    assert git(world.path("."), "show", f"{commit_id}:worktree/{file}") == world.user_content[file]


@then(parsers.parse('the baseline commit holds "{first}" and "{second}"'))
def holds_both(world: World, first: str, second: str) -> None:
    """Staged and untracked files are in the baseline."""
    assert {first, second} <= set(baseline_files(world)), baseline_files(world)


@then(parsers.parse('a ref under "{prefix}" points at the baseline commit'))
def ref_points(world: World, prefix: str) -> None:
    """The baseline is kept alive by a private ref, not by a branch or the stash."""
    answer = world.answers["baseline"]
    refs = git(world.path("."), "for-each-ref", "--format=%(refname) %(objectname)", prefix).splitlines()
    assert refs == [f"{answer['ref']} {answer['commit']}"], refs
    assert str(answer["ref"]).startswith(prefix)


@then(parsers.parse('the baselines listed are "{labels}"'))
def listed(world: World, labels: str) -> None:
    """What codex_baselines lists, by label."""
    baselines = records(world.live.call("codex_baselines")["baselines"])
    assert [baseline["label"] for baseline in baselines] == labels.split(", "), dump(baselines)


@then(parsers.parse('the ref of the baseline "{label}" no longer exists'))
def ref_gone(world: World, label: str) -> None:
    """Dropping removes the ref, so git may collect the commit."""
    ref = str(world.answers[f"baseline {label}"]["ref"])
    assert git(world.path("."), "for-each-ref", ref) == ""


@then(parsers.parse('unchanged_claims holds "{file}" for job "{name}"'))
def unchanged_claim(world: World, file: str, name: str) -> None:
    """A reported path that did not change is named under its job."""
    report = world.answers["overlaps"]
    assert report["unchanged_claims"] == {world.job(name): [file]}, dump(report)


@then(parsers.parse('the file "{file}" is executable'))
def executable(world: World, file: str) -> None:
    """The mode is back."""
    assert world.path(file).stat().st_mode & 0o777 == 0o755, oct(world.path(file).stat().st_mode)
    assert stat.S_ISREG(world.path(file).lstat().st_mode)


@then(parsers.parse('the symlink "{link}" points at "{target}"'))
def points_at(world: World, link: str, target: str) -> None:
    """The link is a link again, to its old target."""
    assert world.path(link).is_symlink() and str(world.path(link).readlink()) == target


@then(parsers.parse('the overlaps list "{file}" elsewhere for job "{name}"'))
def listed_elsewhere(world: World, file: str, name: str) -> None:
    """The other session's change is named with its job, and is not unclaimed."""
    report = world.answers["overlaps"]
    assert report["elsewhere"] == {file: [world.job(name)]}, dump(report)
    assert file not in strings(report["unclaimed"])


@then(parsers.parse('the rollback left "{file}" as it was, naming job "{name}"'))
def left_for_its_job(world: World, file: str, name: str) -> None:
    """The rollback says which path it left and whose it is."""
    left = records(world.answers["rollback"]["not_restored"])
    assert [item["path"] for item in left] == [file], dump(world.answers["rollback"])
    assert world.job(name) in str(left[0]["reason"])


@then(parsers.parse('in_sequence maps "{file}" to jobs "{jobs}" in that order'))
def in_sequence(world: World, file: str, jobs: str) -> None:
    """The path is listed once, with the jobs that touched it one after the other, in the order they ran."""
    report = world.answers["overlaps"]
    assert report["in_sequence"] == {file: [world.job(name) for name in names(jobs)]}, dump(report)


@then(parsers.parse('wait-any lists one out_of_scope alert on "{file}" by job "{name}", seen by "{seen}"'))
def one_out_of_scope(world: World, file: str, name: str, seen: str) -> None:
    """The wait's one alert is the stray write, which shows the watch has seen it."""
    alerts = records(wait_answer(world)["alerts"])
    expected = {"kind": "out_of_scope", "path": file, "jobs": [world.job(name)], "seen": seen}
    assert [{key: alert[key] for key in expected} for alert in alerts] == [expected], dump(wait_answer(world))
    assert isinstance(alerts[0]["at"], float), dump(alerts)


@then(parsers.parse('seen lists "{file}" for job "{name}"'))
def seen_for(world: World, file: str, name: str) -> None:
    """The job claims the path only because the watch saw it change: it neither reported nor patched it."""
    report = world.answers["overlaps"]
    assert report["seen"] == {world.job(name): [file]}, dump(report)


@then(parsers.parse('beyond_rollback names "{file}" with the job id of "{name}"'))
def beyond_rollback(world: World, file: str, name: str) -> None:
    """The overlap no rollback clears is named, and the reason names the other session's job."""
    report = world.answers["overlaps"]
    reasons = report["beyond_rollback"]
    assert isinstance(reasons, dict) and list(reasons) == [file], dump(report)  # pyright: ignore[reportUnknownArgumentType]
    assert world.job(name) in str(reasons[file]), dump(report)  # pyright: ignore[reportUnknownArgumentType]


@then(parsers.parse('codex_status lists the job of "{name}" under elsewhere'))
def status_elsewhere(world: World, name: str) -> None:
    """This server's status shows the other session's running job, with its directory."""
    status = world.live.call("codex_status")
    assert status["elsewhere"] == {world.job(name): str(world.path(".").resolve())}, dump(status)


@then(parsers.parse('the integrity report lists "{file}" as changed by job "{name}" or as a suspect'))
def integrity_either(world: World, file: str, name: str) -> None:
    """The shell write is the job's when the watch put it on the job alone, else a change no job claims."""
    report = world.answers["integrity"]
    assert report["job_id"] == world.job(name)
    assert (file in strings(report["changed_by_job"])) != (file in strings(report["suspects"])), dump(report)
