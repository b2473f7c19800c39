"""The report of a batch as a reader's browser shows it: a page that logs no error, a lane per job, the collision."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import anyio
from built_site import ROOT
from devtools import Browser

from codex_subagents.observe.batch import Choice, select
from codex_subagents.observe.page import html
from unit.batches import story


def test_the_report_opens_in_chromium_with_a_lane_per_job_the_collision_and_a_screenshot(
    tmp_path: Path, browser: Browser
) -> None:
    """Headless Chromium renders the page without a console message; its DOM has one lane per job and the
    collision's connector; a screenshot of the window is taken."""
    _, state = story(tmp_path)
    page = tmp_path / "report.html"
    page.write_text(html(anyio.run(select, state, None, Choice())))
    assert not re.search(r'(src|href)="(https?:)?//', page.read_text())
    shot = tmp_path / "report.png"
    visit = browser.visit(page.as_uri(), width=1100, height=900, screenshot=shot)
    dom = visit.dom
    assert visit.console == []
    assert re.findall(r'<g class="lane[^"]*"[^>]*data-job="([^"]+)"', dom) == ["j-docs", "j-bye", "j-shout", "j-bye2"]
    assert re.search(r'<g class="collision"><title>collision on greet\.py: jobs j-shout, j-bye', dom)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1100, 900)


def test_the_docs_show_the_demos_batch_drawn_from_its_recorded_state_dir(site: Path) -> None:
    """The home page and the orchestration guide each hold the timeline the report draws of the recorded demo:
    a lane per recorded job, the re-runs marked and the rollback across the lanes."""
    recorded = ROOT / "docs_src" / "demo-batch" / "state" / "jobs"
    jobs = sorted(directory.name for directory in recorded.iterdir())
    for page in ("index.html", "orchestration/index.html"):
        text = (site / page).read_text()
        assert sorted(re.findall(r'<g class="lane[^"]*"[^>]*data-job="([^"]+)"', text)) == jobs
        assert len(re.findall(r'<g class="lane rerun"', text)) == 2
        assert text.count('<g class="rollback">') == 1
