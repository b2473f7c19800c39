"""The repository-safety scenarios: real repositories shaped like users' ones, real Codex workers that break rules.

Workers change files from the shell with ``printf`` and octal escapes, so that the
exact bytes (carriage returns, names that are not UTF-8) reach the disk whatever
the step says; the workers that commit, stash and reset, or plant hooks, run under
``danger-full-access``, as they must in containers without user namespaces.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from typing import cast

from harness import git
from pytest_bdd import given, parsers, scenarios, then, when

from codex_subagents.core.paths import git_unquoted
from world import World, attempt, commit, dump, final, items, names, records, strings

scenarios("repository-safety.feature")

_PLAIN = re.compile(rb"[A-Za-z0-9 ._/-]")
_QUOTED_LIST = r'(?P<files>"[^"]+"(?:(?:, | and )"[^"]+")*)'
_WORKER = ["-c", "user.name=worker", "-c", "user.email=worker@localhost"]
_USERS_HOOK = b"#!/bin/sh\necho the hook the user wrote\n"
_EXIT_CODE = re.compile(r"Process exited with code (-?\d+)")


def octal(data: bytes) -> str:
    """``data`` as a printf format that prints exactly those bytes: every byte not plainly safe as an escape."""
    return "".join(chr(byte) if _PLAIN.fullmatch(bytes([byte])) else f"\\{byte:03o}" for byte in data)


def shell_write(name: str, data: bytes) -> str:
    """A shell command that makes the file ``name`` (any bytes) hold exactly ``data``."""
    return f"printf '{octal(data)}' > \"$(printf '{octal(os.fsencode(name))}')\""


def quoted(text: str) -> str:
    """The path a step names in git's quoted form, such as ``caf\\351.txt``."""
    return git_unquoted(f'"{text}"')


def git_whats(changes: object) -> list[str]:
    """The ``what`` of each git state change of a result, sorted."""
    return sorted(str(change["what"]) for change in records(changes))


# -- the repository ------------------------------------------------------------------------------


@given(parsers.parse('git\'s "{key}" is "{value}"'))
def git_config(world: World, key: str, value: str) -> None:
    """A setting of the repository's own configuration."""
    git(world.path("."), "config", key, value)


@given(parsers.parse('a committed file "{file}" with CRLF line endings'))
def crlf_file(world: World, file: str) -> None:
    """A file committed from a CRLF working copy; whatever git stores, the disk keeps CRLF."""
    world.path(file).write_bytes(b"line one\r\nline two\r\n")
    commit(world, file)
    assert world.path(file).read_bytes() == b"line one\r\nline two\r\n"


@given(parsers.parse('the user has an untracked file "{file}" with mixed line endings'))
def mixed_file(world: World, file: str) -> None:
    """CRLF, LF and a lone CR in one file."""
    world.path(file).write_bytes(b"crlf\r\nlf\nlone cr\rend\r\n")


@given(parsers.parse('"{attributes}" runs "{file}" through a clean filter that drops its "{word}" lines'))
def clean_filter(world: World, attributes: str, file: str, word: str) -> None:
    """A filter like a notebook-output stripper: git stores the file without those lines, the disk keeps them."""
    repo = world.path(".")
    git(repo, "config", "filter.drop.clean", f"sed /{word}/d")
    git(repo, "config", "filter.drop.smudge", "cat")
    world.path(attributes).write_text(f"{file} filter=drop\n")
    world.path(file).write_bytes(b'{"cells": 1,\n "output": "a large plot",\n "end": true}\n')
    commit(world, attributes, file)
    assert word.encode() not in git(repo, "show", f"HEAD:{file}").encode()
    assert word.encode() in world.path(file).read_bytes()


@given(parsers.parse('the user has an untracked file "{file}" with the mode {mode}'))
def file_with_mode(world: World, file: str, mode: str) -> None:
    """A private file, readable by its owner alone."""
    world.path(file).write_bytes(b"-----BEGIN PRIVATE KEY-----\nsecret\n")
    world.path(file).chmod(int(mode, 8))


@given(parsers.parse('the user has an ignored file "{file}" of {size:d} MiB'))
def large_file(world: World, file: str, size: int) -> None:
    """An ignored file above the size limit of protected ignored files."""
    with world.path(file).open("wb") as stream:
        stream.truncate(size * 1024 * 1024)


@given("the user has a stash entry")
def user_stash(world: World) -> None:
    """An entry the user stashed before the baseline, which must survive the worker's stash."""
    repo = world.path(".")
    world.path("b.txt").write_text("the user's stashed edit\n")
    git(
        repo,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "stash",
        "push",
        "-q",
        "-m",
        "the user's stash",
        "--",
        "b.txt",
    )
    world.answers["user stash"] = {"list": git(repo, "stash", "list", "--format=%H %gs")}


@given(parsers.parse('a repository "{name}" made by git init without a commit, holding "{file}"'))
def nested_repository(world: World, name: str, file: str) -> None:
    """A nested repository whose HEAD names a branch with no commit yet."""
    world.path(name).mkdir()
    git(world.path(name), "init", "-q")
    world.path(f"{name}/{file}").write_text(f"the user's {file}\n")


@given(parsers.parse('a committed file named "{name}" in git\'s quoted form'))
def odd_name(world: World, name: str) -> None:
    """A committed file whose name is not UTF-8."""
    world.path(quoted(name)).write_bytes(b"original bytes\n")
    commit(world, quoted(name))


@given(parsers.parse('a linked worktree "{name}" of the repository'))
def linked_worktree(world: World, name: str) -> None:
    """A second worktree of the same repository, beside the first."""
    git(world.path("."), "worktree", "add", "-q", str(world.tmp / name))


@given(parsers.parse('the server is running with the linked worktree "{name}" allowed too'))
def server_with_linked(world: World, name: str) -> None:
    """The server may work in both worktrees."""
    world.start_server("--allow-root", str(world.tmp / name))


@given(parsers.parse('the user has the hook "{hook}" with the mode {mode}'))
def users_hook(world: World, hook: str, mode: str) -> None:
    """A hook of the user's, readable and runnable by its owner alone."""
    path = world.path(f".git/hooks/{hook}")
    path.write_bytes(_USERS_HOOK)
    path.chmod(int(mode, 8))


@given(
    parsers.parse('the user\'s configuration defines the required filter "{driver}", whose clean command leaves a mark')
)
def marking_filter(world: World, driver: str) -> None:
    """A filter of the user's that git must run (``required``) and that leaves a file beside the repository when run;
    it passes the bytes through unchanged, so that only the mark tells a run."""
    repo = world.path(".")
    git(repo, "config", f"filter.{driver}.clean", f"touch '{repo.parent / 'filter-ran'}'; cat")
    git(repo, "config", f"filter.{driver}.smudge", "cat")
    git(repo, "config", f"filter.{driver}.required", "true")


# -- workers -----------------------------------------------------------------------------------------


@given(
    parsers.re(
        rf'a worker script "(?P<name>[^"]+)" that rewrites {_QUOTED_LIST} with LF line endings '
        r'and no "(?P<word>[^"]+)" line$'
    )
)
def rewrites_with_lf(world: World, name: str, files: str, word: str) -> None:
    """A worker that writes each file again with LF endings and without the lines holding ``word``."""
    commands: list[str] = []
    for file in files.split('"')[1::2]:
        lines = world.path(file).read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n").splitlines(keepends=True)
        commands.append(shell_write(file, b"".join(line for line in lines if word.encode() not in line)))
    world.add_script(name, [{"shell": " && ".join(commands), "login": False}, final([])])


@given(
    parsers.parse(
        'a worker script "{name}" that runs git reset --hard, commits a new file "{file}" '
        'and stashes a new file "{other}"'
    )
)
def git_breaker(world: World, name: str, file: str, other: str) -> None:
    """A worker that breaks its contract with every git command that moves the user's state."""
    who = " ".join(_WORKER)
    command = (
        f"git reset -q --hard && printf 'c\\n' > {file} && git add -- {file} && git {who} commit -qm 'worker commit' "
        f"&& printf 'd\\n' > {other} && git {who} stash push -q -u -m 'worker stash'"
    )
    world.add_script(name, [{"shell": command, "login": False}, final([file])])


@given(parsers.parse('a worker script "{name}" that overwrites the file named "{file}" from the shell'))
def overwrites_odd_name(world: World, name: str, file: str) -> None:
    """A worker that writes a file whose name is not UTF-8, and reports nothing."""
    world.add_script(
        name, [{"shell": shell_write(quoted(file), b"written by the worker\n"), "login": False}, final([])]
    )


@given(
    parsers.parse(
        'a worker script "{name}" that overwrites the hook "{hook}", adds the hook "{other}" '
        'and sets the alias "{alias}"'
    )
)
def hook_planter(world: World, name: str, hook: str, other: str, alias: str) -> None:
    """A worker that changes what the user's next git command runs, from the shell, and reports nothing."""
    plant = "printf '#!/bin/sh\\ntouch planted\\n' > .git/hooks/{0} && chmod 755 .git/hooks/{0}"
    command = f"{plant.format(hook)} && {plant.format(other)} && git config alias.{alias} '!touch planted'"
    world.add_script(name, [{"shell": command, "login": False}, final([])])


@given(
    parsers.parse(
        'a worker script "{name}" that points "{file}" at the filter "{driver}" and rewrites it with as many bytes'
    )
)
def filter_pointer(world: World, name: str, file: str, driver: str) -> None:
    """A worker that names a filter of the user's for a file and writes the file in the same size, so that git can
    tell the change only by reading the file through that filter; it reports nothing."""
    attributes = shell_write(".gitattributes", f"{file} filter={driver}\n".encode())
    command = f"{attributes} && {shell_write(file, world.path(file).read_bytes().swapcase())}"
    world.add_script(name, [{"shell": command, "login": False}, final([])])


# -- the boss's calls ------------------------------------------------------------------------------


@when(parsers.parse('the boss rolls back the file named "{file}" in git\'s quoted form'))
def roll_back_odd_name(world: World, file: str) -> None:
    """Roll back one path given in the form the tools showed it (a refusal is kept as the call's error)."""
    world.answers["rollback"] = attempt(world, "codex_rollback", baseline_id=world.baseline, paths=[f'"{file}"']) or {}


@when(parsers.parse('the boss lists the baselines with the cwd "{name}"'))
def list_in(world: World, name: str) -> None:
    """List the baselines of another worktree."""
    world.answers["baselines"] = world.live.call("codex_baselines", cwd=str(world.tmp / name))


@when(parsers.parse('the boss rolls back everything with the cwd "{name}"'))
def roll_back_in(world: World, name: str) -> None:
    """Roll another worktree back to this worktree's baseline."""
    attempt(world, "codex_rollback", baseline_id=world.baseline, cwd=str(world.tmp / name))


# -- what the boss sees ----------------------------------------------------------------------------


@then(parsers.parse('the overlaps list "{files}" as "{kind}"'))
def changed_as(world: World, files: str, kind: str) -> None:
    """Each path differs from the baseline in that way."""
    changed = world.answers["overlaps"]["changed"]
    assert isinstance(changed, dict)
    kinds = cast("dict[str, str]", changed)
    assert {file: kinds.get(file) for file in names(files)} == dict.fromkeys(names(files), kind), dump(kinds)


@then(parsers.parse('the file "{file}" has the mode {mode}'))
def has_mode(world: World, file: str, mode: str) -> None:
    """The exact permission bits, not only the executable bit."""
    assert stat.S_IMODE(world.path(file).lstat().st_mode) == int(mode, 8), oct(world.path(file).lstat().st_mode)


@then(parsers.parse('the baseline lists "{path}" as unprotected because "{reason}"'))
def unprotected(world: World, path: str, reason: str) -> None:
    """The boss is told before it spawns what a rollback will not undo."""
    entries = records(world.answers["baseline"]["unprotected"])
    assert {"path": path, "reason": reason} in entries, dump(entries)


@then(parsers.parse("the baseline counts {count:d} unprotected paths"))
def unprotected_count(world: World, count: int) -> None:
    """Nothing else is left out."""
    assert world.answers["baseline"]["unprotected_count"] == count, dump(world.answers["baseline"])


@then(parsers.parse('the baseline lists "{file}" among the ignored files it protects'))
def protected_ignored(world: World, file: str) -> None:
    """An ignored file within the limits is protected like a tracked one."""
    assert strings(world.answers["baseline"]["ignored_files"]) == [file], dump(world.answers["baseline"])


@then(parsers.parse('the overlaps name "{whats}" under git_state'))
def git_state_named(world: World, whats: str) -> None:
    """Each part of git's state the worker moved is named."""
    assert git_whats(world.answers["overlaps"]["git_state"]) == sorted(names(whats)), dump(world.answers["overlaps"])


@then(parsers.parse('the overlaps name the files "{files}" of the git directory under git_state'))
def git_files_named(world: World, files: str) -> None:
    """Each file of the git directory the worker changed is a ``git_file`` change whose detail names it first."""
    changes = records(world.answers["overlaps"]["git_state"])
    named = sorted(str(change["detail"]).split(" ")[0] for change in changes if change["what"] == "git_file")
    assert named == names(files), dump(changes)


@then("the overlaps name nothing under git_state")
def no_git_state(world: World) -> None:
    """Nothing of git's own state moved."""
    assert world.answers["overlaps"]["git_state"] == [], dump(world.answers["overlaps"])


@then(parsers.parse('the shell command of job "{name}" exited with a code other than 0'))
def command_failed(world: World, name: str) -> None:
    """The sandbox refused the write, so the worker's command failed.

    Codex reports a command its sandbox refuses early to the model without a ``command_execution`` item in its
    stream (openai/codex#47433), which happens on some machines and not others; the exit code is then read from
    the tool result Codex sent the model, the one place it still shows.
    """
    events = records(world.live.call("codex_events", job_id=world.job(name), limit=500)["events"])
    completed = items(events, "command_execution").get("completed")
    if completed is not None:
        assert completed["exit_code"] not in (0, None), dump(completed)
        return
    outputs = [
        str(item.get("output"))
        for request in world.live.model.requests
        if request.script == world.instances[name]
        for item in request.input_items("function_call_output")
    ]
    codes = [int(code) for output in outputs for code in _EXIT_CODE.findall(output)]
    assert codes and 0 not in codes, dump(outputs)


@then("the filter's clean command has not run")
def filter_not_run(world: World) -> None:
    """The mark the user's filter leaves when run is absent: no git call of the server's ran it."""
    assert not (world.path(".").parent / "filter-ran").exists()


@then(parsers.parse('the hook "{hook}" holds the user\'s bytes with the mode {mode}'))
def hook_kept(world: World, hook: str, mode: str) -> None:
    """The user's hook is byte for byte and bit for bit what it was."""
    path = world.path(f".git/hooks/{hook}")
    assert (path.read_bytes(), stat.S_IMODE(path.lstat().st_mode)) == (_USERS_HOOK, int(mode, 8))


@then(parsers.parse('there is no hook "{hook}"'))
def no_hook(world: World, hook: str) -> None:
    """A hook the worker added is gone, or never came."""
    assert not world.path(f".git/hooks/{hook}").exists()


@then(parsers.parse('git has no alias "{alias}"'))
def no_alias(world: World, alias: str) -> None:
    """The configuration holds no alias the worker set."""
    found = subprocess.run(["git", "config", "--get", f"alias.{alias}"], cwd=world.path("."), capture_output=True)
    assert found.returncode == 1, found.stdout


@then("the stash list holds only the user's entry")
def stash_kept(world: World) -> None:
    """The user's stash entry is back and the worker's is gone from the list."""
    assert git(world.path("."), "stash", "list", "--format=%H %gs") == world.answers["user stash"]["list"]


@then(parsers.parse('the rollback names "{whats}" under git_restored'))
def git_restored(world: World, whats: str) -> None:
    """The rollback says what it moved back."""
    assert git_whats(world.answers["rollback"]["git_restored"]) == sorted(names(whats)), dump(world.answers)


@then(
    parsers.parse(
        'the rollback keeps the worker\'s commit of "{file}" and its stash entry of "{other}" under kept_refs'
    )
)
def kept(world: World, file: str, other: str) -> None:
    """Nothing the worker made is destroyed: its commit and its stash entry stay reachable."""
    repo = world.path(".")
    refs = strings(world.answers["rollback"]["kept_refs"])
    assert all(ref.startswith(f"refs/codex-subagents/kept/{world.baseline}/") for ref in refs), refs
    commits = [ref for ref in refs if git(repo, "cat-file", "-t", ref).strip() == "commit"]
    subjects = {git(repo, "log", "-1", "--format=%s", ref).strip(): ref for ref in commits}
    assert set(subjects) == {"worker commit", "On main: worker stash"}, subjects
    assert git(repo, "show", f"{subjects['worker commit']}:{file}") == "c\n"
    assert git(repo, "show", f"{subjects['On main: worker stash']}^3:{other}") == "d\n"


@then(parsers.parse('unclaimed holds the file named "{file}" in git\'s quoted form'))
def unclaimed_quoted(world: World, file: str) -> None:
    """The name comes back in the form git itself would print."""
    assert world.answers["overlaps"]["unclaimed"] == [f'"{file}"'], dump(world.answers["overlaps"])


@then(parsers.parse('the rollback restored the file named "{file}" in git\'s quoted form'))
def restored_quoted(world: World, file: str) -> None:
    """The name given back round-trips to the same file."""
    assert world.answers["rollback"]["restored"] == [f'"{file}"'], dump(world.answers["rollback"])


@then(parsers.parse('the file named "{file}" holds its baseline bytes'))
def odd_name_restored(world: World, file: str) -> None:
    """The file with the odd name is byte for byte what the baseline recorded."""
    assert world.path(quoted(file)).read_bytes() == world.baseline_bytes[quoted(file)] == b"original bytes\n"


@then("no baseline is listed")
def none_listed(world: World) -> None:
    """Another worktree's baselines are not this one's."""
    assert world.answers["baselines"]["baselines"] == [], dump(world.answers["baselines"])


@then(parsers.parse('the call is a tool error mentioning the baseline id and "{word}"'))
def error_names_baseline(world: World, word: str) -> None:
    """The refusal names the baseline and the call that lists the usable ones."""
    assert world.error is not None and str(world.baseline) in world.error and word in world.error, world.error
