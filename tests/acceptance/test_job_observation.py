"""The job-observation scenarios: the watch, the log and the alerts a restart keeps, with real workers.

A person runs the commands as they would in a terminal beside Codex: ``codex-subagents`` in the
repository, naming the state dir the server was started with, its output read from a pipe.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from harness import Json
from pytest_bdd import parsers, scenarios, then, when

from world import World, dump, names, records, result_of

scenarios("job-observation.feature")

BOUND_S = 60
"""How long a command of a person may take before the scenario fails."""


@pytest.fixture
def followed() -> Iterator[dict[str, subprocess.Popen[str]]]:
    """The ``log --follow`` commands a scenario started, stopped if still running at its end."""
    started: dict[str, subprocess.Popen[str]] = {}
    yield started
    for process in started.values():
        if process.poll() is None:
            process.kill()
            process.wait(BOUND_S)


def command(world: World, *args: str) -> list[str]:
    """The command line of ``codex-subagents`` with ``args``, on the state dir the server uses."""
    assert world.journals is not None
    return [sys.executable, "-m", "codex_subagents", *args, "--state-dir", str(world.journals)]


def run(world: World, key: str, *args: str) -> None:
    """Run a command as a person would, keeping its exit code and its output under ``key``."""
    done = subprocess.run(command(world, *args), cwd=world.path("."), capture_output=True, text=True, timeout=BOUND_S)
    world.answers[key] = {"code": done.returncode, "out": done.stdout, "err": done.stderr}


def output(world: World, key: str) -> tuple[int, str, str]:
    """The exit code, standard output and standard error of the command run under ``key``."""
    answer = world.answers[key]
    code, out, err = answer["code"], answer["out"], answer["err"]
    assert isinstance(code, int) and isinstance(out, str) and isinstance(err, str)
    return code, out, err


def watch_line(world: World, name: str) -> dict[str, object]:
    """The ``watch --json`` line of job ``name``."""
    code, out, err = output(world, "watch")
    assert code == 0, err
    lines = [json.loads(text) for text in out.splitlines()]
    found = [entry for entry in lines if entry["job_id"] == world.job(name)]
    assert len(found) == 1, out
    return found[0]


def state_files(world: World) -> Json:
    """Every file of the state dir with its bytes and its modification time."""
    assert world.journals is not None
    return {
        str(path.relative_to(world.journals)): f"{path.read_bytes().hex()} {path.stat().st_mtime_ns}"
        for path in sorted(world.journals.rglob("*"))
        if path.is_file()
    }


# -- a person's commands ----------------------------------------------------------------------------


@when(parsers.parse('a person runs the watch with "{flags}"'))
def watch_with(world: World, flags: str) -> None:
    """``codex-subagents watch`` with flags; the state dir as it was just before is kept to compare."""
    world.answers["state before"] = state_files(world)
    run(world, "watch", "watch", *flags.split())


@when("a person runs the watch with its output to a pipe")
def watch_piped(world: World) -> None:
    """``codex-subagents watch`` with no flag: its output is no terminal."""
    run(world, "watch", "watch")


@when(parsers.parse('a person runs the watch with "--once" on a state dir no server has used'))
def watch_unused(world: World) -> None:
    """The watch on a state dir that does not exist."""
    world.journals = world.tmp / "never-used"
    run(world, "watch", "watch", "--once")


@when(parsers.parse('a person runs the log of job "{name}"'))
def log_of(world: World, name: str) -> None:
    """``codex-subagents log JOB``."""
    run(world, "log", "log", world.job(name))


@when(parsers.parse('a person runs the log of job "{name}" with its id\'s last character changed'))
def log_of_near(world: World, name: str) -> None:
    """A job id mistyped in its last character."""
    job_id = world.job(name)
    run(world, "log", "log", job_id[:-1] + ("0" if job_id[-1] != "0" else "1"))


@when(parsers.parse('a person follows the log of job "{name}"'))
def follow_log(world: World, name: str, followed: dict[str, subprocess.Popen[str]]) -> None:
    """``codex-subagents log --follow JOB`` in the background, as in another terminal."""
    followed[name] = subprocess.Popen(
        command(world, "log", "--follow", world.job(name)),
        cwd=world.path("."),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@when("a person writes the report of the batch")
def report_batch(world: World) -> None:
    """``codex-subagents report --html FILE`` for the latest batch."""
    run(world, "report", "report", "--html", str(world.tmp / "report.html"))


@when(parsers.parse('a person writes the report of the baseline "{baseline}"'))
def report_baseline(world: World, baseline: str) -> None:
    """``codex-subagents report --html FILE --baseline ID``."""
    run(world, "report", "report", "--html", str(world.tmp / "report.html"), "--baseline", baseline)


# -- what the person sees ---------------------------------------------------------------------------


@then(parsers.parse('the watch\'s line for "{name}" has state "{state}" and files "{files}"'))
def line_state_files(world: World, name: str, state: str, files: str) -> None:
    """The job's line says its state and the files it touched."""
    entry = watch_line(world, name)
    assert (entry["state"], entry["files"]) == (state, names(files)), dump(entry)


@then(parsers.parse('the watch\'s line for "{name}" counts the tokens of its result'))
def line_tokens(world: World, name: str) -> None:
    """The tokens are what the model read and wrote in the job's turn, as its result says."""
    usage = records([result_of(world, name)["usage"]])[0]
    expected = int(str(usage["input_tokens"])) + int(str(usage["output_tokens"]))
    assert watch_line(world, name)["tokens"] == expected > 0


@then(parsers.parse("the watch exits 0 with a header counting 0 running, 0 queued and 1 finished"))
def table_header(world: World) -> None:
    """The plain table's header counts the jobs by state."""
    code, out, err = output(world, "watch")
    assert code == 0, err
    assert "0 running · 0 queued · 1 finished" in out.splitlines()[1], out


@then(parsers.parse('the watch\'s table has a row for "{name}"'))
def table_row(world: World, name: str) -> None:
    """One row of the table starts with the job's id and names its state."""
    rows = [row for row in output(world, "watch")[1].splitlines() if row.startswith(world.job(name))]
    assert len(rows) == 1 and "succeeded" in rows[0], rows


@then("every file of the state dir has the bytes and modification time it had before the watch")
def nothing_written(world: World) -> None:
    """The watch wrote nothing: no file was added, changed or touched."""
    assert output(world, "watch")[0] == 0
    assert state_files(world) == world.answers["state before"]


@then("the watch exits 0 saying that no state dir exists yet, with its path")
def no_state_dir(world: World) -> None:
    """A state dir that does not exist is said in a sentence, not raised."""
    code, out, err = output(world, "watch")
    assert code == 0 and err == "", err
    assert f"no state dir at {world.journals} yet" in out, out
    assert not (world.tmp / "never-used").exists()


@then(parsers.parse('the watch\'s line for "{name}" has state "damaged" and says its record cannot be read'))
def line_damaged(world: World, name: str) -> None:
    """A record cut in half is a damaged job, with the reason in its line."""
    entry = watch_line(world, name)
    assert entry["state"] == "damaged" and "record cannot be read" in str(entry["doing"]), dump(entry)


@then(parsers.parse('the watch\'s lines for "{first}" and "{second}" each list the collision on "{file}"'))
def lines_collision(world: World, first: str, second: str, file: str) -> None:
    """The collision is read from each job's own directory."""
    for name in (first, second):
        alerts = records(watch_line(world, name)["alerts"])
        assert [(a["kind"], a["path"]) for a in alerts] == [("collision", file)], dump(alerts)
        assert alerts[0]["jobs"] == [world.job(first), world.job(second)], dump(alerts)


@then(parsers.parse('codex_status lists the collision on "{file}" by jobs "{first}" then "{second}"'))
def status_collision(world: World, file: str, first: str, second: str) -> None:
    """The restarted server took the alert back from the jobs' directories."""
    status = world.live.call("codex_status")
    alerts = [(a["kind"], a["path"], a["jobs"]) for a in records(status["alerts"])]
    assert alerts == [("collision", file, [world.job(first), world.job(second)])], dump(status)


@then("each line of the log starts with a time")
def log_times(world: World) -> None:
    """Every line opens with the time of day of its event."""
    code, out, err = output(world, "log")
    assert code == 0, err
    assert out and all(re.match(r"\d\d:\d\d:\d\d  ", text) for text in out.splitlines()), out


@then(parsers.parse('the log says that "{file}" was patched and what "{name}" said last'))
def log_patch_and_message(world: World, file: str, name: str) -> None:
    """The patch names its file, and the last message is the worker's final answer."""
    lines = output(world, "log")[1].splitlines()
    assert any("patched" in text and file in text for text in lines), lines
    said = " ".join(str(result_of(world, name)["final_message"]).split())
    assert any(text.endswith(f"said: {said}") for text in lines), lines


@then("the followed log ends with exit code 0 after a line saying the turn completed")
def follow_ended(followed: dict[str, subprocess.Popen[str]]) -> None:
    """``--follow`` stops once the job has finished and its last events are printed."""
    (process,) = followed.values()
    out, err = process.communicate(timeout=BOUND_S)
    assert process.returncode == 0, err
    assert out.splitlines()[-1].split("  ", 1)[1].startswith("turn completed"), out


@then(parsers.parse('the log exits 2 naming the job id of "{name}" as the one it may mean'))
def log_refused(world: World, name: str) -> None:
    """A mistyped id is refused with the id it may mean."""
    code, _, err = output(world, "log")
    assert code == 2 and f"Did you mean {world.job(name)}?" in err, err


@then("the log printed nothing on its standard output")
def log_silent(world: World) -> None:
    """A refused command prints only its error."""
    assert output(world, "log")[1] == ""


def report_page(world: World) -> str:
    """The report's page, once its command succeeded."""
    code, _, err = output(world, "report")
    assert code == 0, err
    return (world.tmp / "report.html").read_text()


@then(parsers.parse('the report has one lane for "{first}" and one for "{second}"'))
def report_lanes(world: World, first: str, second: str) -> None:
    """The batch is the two jobs spawned after the baseline, one lane each, in the order they were queued."""
    lanes = re.findall(r'<g class="lane[^"]*"[^>]*data-job="([^"]+)"', report_page(world))
    assert lanes == [world.job(first), world.job(second)], lanes


@then(parsers.parse('the report marks a collision on "{file}" between "{first}" and "{second}"'))
def report_collision(world: World, file: str, first: str, second: str) -> None:
    """The collision the server raised is drawn between the two lanes, with its path and jobs in its hover text."""
    words = f"collision on {file}: jobs {world.job(first)}, {world.job(second)}"
    assert f'<g class="collision"><title>{words}' in report_page(world)


@then("the report names no address outside itself")
def report_offline(world: World) -> None:
    """Nothing on the page would be fetched when it is opened: no link, source or import of any address."""
    page = report_page(world)
    assert not re.search(r"(?:src|href)\s*=|url\(|@import|https?://(?!www\.w3\.org/2000/svg)", page), page[:2000]


@then(parsers.parse('the report command exits 2 naming "{baseline}"'))
def report_refused(world: World, baseline: str) -> None:
    """An unknown baseline is refused, by name."""
    code, _, err = output(world, "report")
    assert code == 2 and baseline in err, err


@then("no report file was written")
def report_absent(world: World) -> None:
    """A refused report leaves nothing behind."""
    assert not (world.tmp / "report.html").exists()
