"""The report of a batch: which jobs make the batch, and the timeline drawn of them, element by element."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import anyio
import pytest

from codex_subagents.commands.cli import main
from codex_subagents.commands.report import report_of
from codex_subagents.core.errors import ConfigError
from codex_subagents.jobs.journal import read_record
from codex_subagents.jobs.models import Alert
from codex_subagents.observe.batch import Batch, Choice, current, moment, select
from codex_subagents.observe.findings import alerts, overlaps, reruns
from codex_subagents.observe.page import html
from codex_subagents.observe.timeline import svg
from codex_subagents.worktree import baselines, description, rollback_log
from codex_subagents.worktree.location import worktree_at
from unit.batches import T0, collision, finished_job, story
from unit.repos import committed

SVG = "{http://www.w3.org/2000/svg}"


def drawn(batch: Batch) -> ElementTree.Element:
    """The batch's timeline as parsed XML."""
    return ElementTree.fromstring(svg(batch, overlaps(batch), reruns(batch), alerts(batch)))


def classed(tree: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    """The elements of ``tree`` whose class list holds ``name``."""
    return [element for element in tree.iter() if name in (element.get("class") or "").split()]


def test_without_a_baseline_the_batch_is_every_job_of_the_state_dir(tmp_path: Path) -> None:
    """A state dir read outside any repository shows all its jobs, oldest first."""
    _, state = story(tmp_path)
    batch = anyio.run(select, state, None, Choice())
    assert [job.job_id for job in batch.jobs] == ["j-docs", "j-bye", "j-shout", "j-bye2"]
    assert "every job" in batch.chosen


def test_a_time_range_holds_the_jobs_queued_in_it(tmp_path: Path) -> None:
    """``--since`` is inclusive and ``--until`` exclusive, on the time each job was queued."""
    _, state = story(tmp_path)
    batch = anyio.run(select, state, None, Choice(since=T0 + 0.2, until=T0 + 11))
    assert [job.job_id for job in batch.jobs] == ["j-bye", "j-shout"]


def test_times_are_epoch_seconds_or_iso_and_anything_else_is_named(tmp_path: Path) -> None:
    """An ISO time with a zone, epoch seconds, and a refusal that says what a time looks like."""
    assert moment("1700000000") == T0
    assert moment("2023-11-14T22:13:20+00:00") == T0
    assert moment("2023-11-14T23:13:20+01:00") == T0
    with pytest.raises(ConfigError, match="not a time"):
        moment("yesterday")


async def _two_baselines(root: Path) -> tuple[description.BaselineInfo, description.BaselineInfo]:
    worktree = await worktree_at(root)
    first = (await baselines.create(worktree, "first")).info
    second = (await baselines.create(worktree, "second")).info
    return first, second


def test_a_baseline_chooses_the_jobs_queued_until_the_next_baseline_and_the_latest_is_the_default(
    tmp_path: Path,
) -> None:
    """The default is the batch since the newest baseline; an older baseline's batch ends where the next begins,
    and a job of another worktree is not in either."""
    root = committed(tmp_path / "repo", {"greet.py": "x\n"})
    state = tmp_path / "state"
    first, second = anyio.run(_two_baselines, root)
    finished_job(
        state, root, "j-old", label="old", queued=first.created_at + 0.001, ran=(first.created_at, first.created_at)
    )
    now = time.time()
    finished_job(state, root, "j-new", label="new", queued=now, ran=(now, now + 1))
    finished_job(state, tmp_path / "elsewhere", "j-other", label="other", queued=now, ran=(now, now + 1))
    latest = anyio.run(select, state, root, Choice())
    older = anyio.run(select, state, root, Choice(baseline_id=first.baseline_id))
    assert [job.job_id for job in latest.jobs] == ["j-new"]
    assert latest.baseline is not None and latest.baseline.baseline_id == second.baseline_id
    assert [job.job_id for job in older.jobs] == ["j-old"]
    assert older.until == second.created_at


def test_an_unknown_baseline_is_refused_with_the_ids_it_may_mean(tmp_path: Path) -> None:
    """A mistyped id gets the close ones; no batch is drawn."""
    root = committed(tmp_path / "repo", {"greet.py": "x\n"})
    first, _ = anyio.run(_two_baselines, root)
    with pytest.raises(ConfigError, match="Did you mean") as raised:
        anyio.run(select, tmp_path / "state", root, Choice(baseline_id=first.baseline_id[:-1] + "?"))
    assert first.baseline_id in str(raised.value)


def test_the_rollbacks_of_the_worktree_during_the_batch_come_with_it(tmp_path: Path) -> None:
    """A rollback made between the jobs is in the batch; one made long before is not."""
    root = committed(tmp_path / "repo", {"greet.py": "x\n"})
    _, state = story(tmp_path)
    worktree = anyio.run(worktree_at, root)
    anyio.run(rollback_log.record, worktree, T0 - 1000, ["greet.py"])
    anyio.run(rollback_log.record, worktree, T0 + 10, ["greet.py"])
    batch = anyio.run(select, state, root, Choice(since=T0))
    assert [rollback.at for rollback in batch.rollbacks] == [T0 + 10]


def test_the_timeline_has_one_lane_per_job_a_collision_connector_and_a_rollback_line(tmp_path: Path) -> None:
    """The collision joins the two jobs' lanes, the rollback crosses all, the re-run is marked and the touch
    seen without a time is a square."""
    root, state = story(tmp_path)
    batch = anyio.run(select, state, None, Choice())
    batch.rollbacks = [rollback_log.Rollback(at=T0 + 10, paths=frozenset({"greet.py"}))]
    tree = drawn(batch)
    lanes = classed(tree, "lane")
    assert [lane.get("data-job") for lane in lanes] == ["j-docs", "j-bye", "j-shout", "j-bye2"]
    assert 'id="rollbacks"' in html(batch)
    (connector,) = classed(tree, "collision")
    line = connector.find(f"{SVG}line")
    assert line is not None and line.get("y1") != line.get("y2")
    assert "collision on greet.py" in (connector.findtext(f"{SVG}title") or "")
    (rollback,) = classed(tree, "rollback")
    assert "put back greet.py" in (rollback.findtext(f"{SVG}title") or "")
    assert [lane.get("data-job") for lane in classed(tree, "rerun")] == ["j-bye2"]
    assert len(classed(tree, "seen")) == 1 and len(classed(tree, "touch")) == 3
    assert {lane.findtext(f"{SVG}title") is not None for lane in lanes} == {True}
    del root


def test_an_overlap_is_ringed_and_split_by_the_rollback_that_undid_it(tmp_path: Path) -> None:
    """Two jobs that wrote greet.py before the rollback overlap, undone; the re-run alone after it does not."""
    _, state = story(tmp_path)
    batch = anyio.run(select, state, None, Choice())
    batch.rollbacks = [rollback_log.Rollback(at=T0 + 10, paths=frozenset({"greet.py"}))]
    (overlap,) = overlaps(batch)
    assert (overlap.path, overlap.jobs, overlap.undone_at, overlap.together) == (
        "greet.py", ("j-bye", "j-shout"), T0 + 10, True,
    )  # fmt: skip
    assert len(classed(drawn(batch), "ring")) == 2
    assert reruns(batch)["j-bye2"].of == ("j-bye",)


def test_a_job_after_a_rollback_that_touches_a_path_it_put_back_is_a_re_run(tmp_path: Path) -> None:
    """Without the label's suffix, the rollback names what the job does again."""
    root, state = tmp_path / "repo", tmp_path / "state"
    finished_job(state, root, "j-a", label="a", queued=T0, ran=(T0, T0 + 1), touches=[("x.py", T0 + 0.5)])
    finished_job(state, root, "j-b", label="b", queued=T0 + 3, ran=(T0 + 3, T0 + 4), touches=[("x.py", T0 + 3.5)])
    finished_job(state, root, "j-c", label="c", queued=T0 + 3, ran=(T0 + 3, T0 + 4), seen=['"bad\\777"'])
    finished_job(state, root, "j-d", label="d", queued=T0 + 3, ran=(T0 + 3, T0 + 4), seen=['"bad\\777"'])
    batch = anyio.run(select, state, None, Choice())
    batch.rollbacks = [rollback_log.Rollback(at=T0 + 2, paths=None)]
    assert reruns(batch)["j-b"].of == ("j-a",)
    assert [overlap.path for overlap in overlaps(batch)] == ['"bad\\777"']
    assert "No collision and no out-of-scope write" in html(batch)


def test_a_damaged_record_and_a_torn_journal_still_make_a_correct_page(tmp_path: Path) -> None:
    """A record that is not JSON is shown from its request, with the problem; a journal's torn last line and a
    garbled line are left out; a job with nothing readable is a lane marked damaged."""
    root, state = story(tmp_path)
    (state / "jobs" / "j-docs" / "job.json").write_text("{not json")
    with (state / "jobs" / "j-shout" / "events.jsonl").open("a") as events:
        events.write('garbage\n{"type":"item.completed","item":{"id":"x","type":"file_cha')
    (state / "jobs" / "j-lost").mkdir()
    batch = anyio.run(select, state, None, Choice())
    page = html(batch)
    by_id = {job.job_id: job for job in batch.jobs}
    assert by_id["j-docs"].problem is not None and "record cannot be read" in by_id["j-docs"].problem
    assert by_id["j-docs"].label == "docs"
    assert by_id["j-shout"].files == ["greet.py"]
    assert by_id["j-lost"].state == "damaged"
    assert len(classed(drawn(batch), "lane")) == 5
    assert "1 line(s) of its events cannot be read" in page
    del root


def test_an_empty_batch_is_a_page_that_says_so(tmp_path: Path) -> None:
    """No job in the range: the page says there is nothing to draw, and draws no lane."""
    page = html(anyio.run(select, tmp_path / "nowhere", None, Choice()))
    assert 'id="empty"' in page and "<svg" not in page


def test_jobs_written_before_the_range_are_passed_over_and_an_unreadable_entry_is_shown(tmp_path: Path) -> None:
    """A job directory whose files all changed before ``--since`` is not read; an entry of the jobs folder that
    cannot be listed is shown as a damaged job rather than hidden."""
    _, state = story(tmp_path)
    (state / "jobs" / "stray").write_text("not a job directory")
    batch = anyio.run(select, state, None, Choice(since=time.time() + 3600))
    assert [(job.job_id, job.state) for job in batch.jobs] == [("stray", "damaged")]


def test_report_writes_the_page_and_refuses_bad_input_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command writes one self-contained page; an unknown baseline and a bad time exit 2 with the reason."""
    root = committed(tmp_path / "repo", {"greet.py": "x\n"})
    _, state = story(tmp_path)
    monkeypatch.chdir(root)
    target = tmp_path / "report.html"
    assert main(["report", "--html", str(target), "--state-dir", str(state)]) == 0
    page = target.read_text()
    assert (
        page.count('class="lane') == 4
        and "<script" not in page
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "report of 4 jobs" in capsys.readouterr().err
    assert main(["report", "--html", str(target), "--baseline", "b-nope", "--state-dir", str(state)]) == 2
    assert "No baseline 'b-nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["report", "--html", str(target), "--since", "soon"])
    assert exited.value.code == 2
    assert "not a time" in capsys.readouterr().err


def test_the_current_batch_is_since_the_newest_baseline_with_its_rollbacks_and_outside_git_there_is_none(
    tmp_path: Path,
) -> None:
    """The watch's batch begins at the newest baseline and holds the rollbacks made since; outside a repository
    there is no baseline, and no error."""
    root = committed(tmp_path / "repo", {"greet.py": "x\n"})
    _, second = anyio.run(_two_baselines, root)
    worktree = anyio.run(worktree_at, root)
    anyio.run(rollback_log.record, worktree, second.created_at - 1, ["greet.py"])
    anyio.run(rollback_log.record, worktree, second.created_at + 1, ["greet.py"])
    batch = anyio.run(current, root)
    assert str(batch).startswith(second.baseline_id) and batch.since == second.created_at
    assert [rollback.at for rollback in batch.rollbacks] == [second.created_at + 1]
    (tmp_path / "plain").mkdir()
    assert (str(anyio.run(current, tmp_path / "plain")), anyio.run(current, tmp_path / "plain").since) == (
        "none yet",
        0,
    )


def test_a_range_that_ends_before_it_starts_and_a_baseline_outside_a_repository_are_refused(tmp_path: Path) -> None:
    """Both say what to do instead."""
    with pytest.raises(ConfigError, match="swap them"):
        anyio.run(select, tmp_path, None, Choice(since=T0 + 1, until=T0))
    with pytest.raises(ConfigError, match="run report inside the repository"):
        anyio.run(select, tmp_path, None, Choice(baseline_id="b-1"))


def test_a_worktree_whose_git_cannot_be_read_gives_a_batch_without_rollbacks(tmp_path: Path) -> None:
    """A directory that is not a repository has no baselines and no rollback log: every job, none rolled back."""
    root, state = story(tmp_path)
    batch = anyio.run(select, state, root, Choice())
    assert len(batch.jobs) == 4 and batch.rollbacks == []


def test_queued_failed_and_out_of_scope_jobs_are_drawn_each_with_its_own_mark(tmp_path: Path) -> None:
    """A job that never started has only its queued part, a failed one its state's mark, an out-of-scope write a
    ✗ on its lane; an alert naming only jobs of another batch is not drawn; the page says there was no rollback."""
    root, state = tmp_path / "repo", tmp_path / "state"
    outside = Alert(kind="out_of_scope", path="b.py", jobs=["j-a"], seen="worktree", at=T0 + 1)
    stranger = collision("b.py", ["j-x", "j-y"], T0 + 1)
    finished_job(state, root, "j-a", label="a", queued=T0, ran=(T0, T0 + 2), alerts=[outside, stranger])
    failed = finished_job(state, root, "j-b", label="b", queued=T0, ran=(T0, T0 + 30))
    record = read_record(failed / "job.json")
    (failed / "job.json").write_text(record.model_copy(update={"state": "failed"}).model_dump_json())
    waiting = finished_job(state, root, "j-c", label="c", queued=T0 + 1, ran=(T0, T0))
    record = read_record(waiting / "job.json")
    (waiting / "job.json").write_text(
        record.model_copy(update={"state": "queued", "started_at": None, "result": None}).model_dump_json()
    )
    batch = anyio.run(select, state, None, Choice())
    tree = drawn(batch)
    assert [element.findtext(f"{SVG}text") for element in classed(tree, "outside")] == ["✗"]
    assert classed(tree, "collision") == []
    assert len(classed(tree, "run")) == 2 and classed(tree, "failed")
    page = html(batch)
    assert "No rollback was made" in page and "No path was touched by more than one job" in page


def test_report_prints_to_stdout_and_the_demo_gets_its_report_or_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--html -`` prints the page; ``--until`` with a baseline is refused; the demo's report is written, or the
    reason it cannot be is returned instead of raised."""
    _, state = story(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--html", "-", "--state-dir", str(state)]) == 0
    assert capsys.readouterr().out.count('<g class="lane') == 4
    assert main(["report", "--html", "-", "--baseline", "b-1", "--until", "1"]) == 2
    assert "--until goes with --since" in capsys.readouterr().err
    assert "4 jobs" in report_of(state, tmp_path / "repo", tmp_path / "report.html")
    assert (tmp_path / "report.html").read_text().startswith("<!doctype html>")
    assert report_of(state, tmp_path, tmp_path / "missing" / "report.html").startswith("no report of the batch")


def test_a_path_a_worker_named_is_text_on_the_page_never_markup(tmp_path: Path) -> None:
    """A file name is the worker's choice: written into the page (the re-run's reason, the tables, the timeline's
    hover text), it is escaped, so no name adds an element."""
    root, state = tmp_path / "repo", tmp_path / "state"
    name = "<img src=x onerror=alert(1)>.py"
    finished_job(state, root, "j-a", label="a", queued=T0, ran=(T0, T0 + 1), touches=[(name, T0 + 0.5)])
    finished_job(state, root, "j-b", label="b", queued=T0 + 3, ran=(T0 + 3, T0 + 4), touches=[(name, T0 + 3.5)])
    batch = anyio.run(select, state, None, Choice())
    batch.rollbacks = [rollback_log.Rollback(at=T0 + 2, paths=None)]
    assert name in reruns(batch)["j-b"].why
    page = html(batch)
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;.py" in page
