"""A batch as an SVG timeline, written as text: a lane per job, its touches, alerts, rollbacks and re-runs.

Time runs left to right from the first job queued. Each lane shows the job's
queued part (a dashed outline) and its run (a solid bar), a circle at each file
touch with a time, a square past the lane's end for each path seen without one,
a ring around the touch of a path that jobs running at the same time both
touched (an overlap; one after another is none), and its tokens on the right. A
collision is a line joining the lanes of the jobs it names at the time it was
raised, with a ⚠ at each end; an out-of-scope write is a ✗ on its lane; a
rollback is a line across every lane; a re-run's label starts with ↻. Every mark
is told apart by its shape and its text, not by colour alone, and carries a
``<title>`` a browser shows on hover. The SVG holds its own style, so it reads
the same alone, inside the report's page, or in the documentation.
No library draws it: the few shapes are written as text, which keeps the page
self-contained and the package without a charting dependency.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..jobs.models import Alert
from .activity import clock
from .batch import Batch
from .findings import Overlap, Rerun
from .rows import MARKS, duration
from .story import JobStory

WIDTH = 1000
LEFT = 280
"""The width of the lanes' labels."""
RIGHT = 120
"""The width of the tokens column, with room for the marks past a lane's end."""
TOP = 52
LANE = 30
BOTTOM = 16
_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
STYLE = """
.tl text { font: 12px system-ui, sans-serif; fill: #1f2328; }
.tl .axis line { stroke: #d0d7de; }
.tl .axis text { fill: #57606a; font-size: 11px; }
.tl .queued { fill: none; stroke: #6e7781; stroke-dasharray: 3 2; }
.tl .run { fill: #54aeff; stroke: #0969da; }
.tl .run.failed, .tl .run.timed_out, .tl .run.cancelled, .tl .run.interrupted { fill: #ffb8b0; stroke: #cf222e; }
.tl .touch { fill: #ffffff; stroke: #1f2328; stroke-width: 1.5; }
.tl .seen { fill: #eaeef2; stroke: #1f2328; stroke-width: 1.2; }
.tl .ring { fill: none; stroke: #bf8700; stroke-width: 2; }
.tl .collision line { stroke: #cf222e; stroke-width: 2.5; }
.tl .collision text, .tl .outside text { fill: #cf222e; font-weight: bold; }
.tl .rollback line { stroke: #8250df; stroke-width: 2; stroke-dasharray: 6 3; }
.tl .rollback text { fill: #8250df; font-weight: bold; }
.tl .rerun text.label { font-style: italic; }
.tl .tokens { fill: #57606a; }
"""


class _Scale:
    """Where a time falls across the lanes' width."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.span = max(end - start, 1e-3)

    def x(self, at: float) -> float:
        return round(LEFT + (at - self.start) / self.span * (WIDTH - LEFT - RIGHT), 1)


def svg(batch: Batch, overlaps: Sequence[Overlap], reruns: dict[str, Rerun], alerts: Sequence[Alert]) -> str:
    """The batch's timeline as one ``<svg>`` element."""
    jobs = batch.jobs
    lanes = {job.job_id: n for n, job in enumerate(jobs)}
    times = [t for job in jobs for t in (job.queued_at, job.end)] + [a.at for a in alerts]
    times += [r.at for r in batch.rollbacks]
    scale = _Scale(min(times, default=0.0), max(times, default=1.0))
    height = TOP + LANE * max(len(jobs), 1) + BOTTOM
    overlapping = {(overlap.path, job_id) for overlap in overlaps if overlap.together for job_id in overlap.jobs}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="tl" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-labelledby="tl-title tl-desc">',
        f'<title id="tl-title">Timeline of {len(jobs)} job{"s" if len(jobs) != 1 else ""}</title>',
        f'<desc id="tl-desc">{_text(batch.chosen)}. One lane per job from queued to finished.</desc>',
        f"<style>{STYLE}</style>",
        *_axis(scale, height),
    ]
    for job in jobs:
        parts += _lane(job, lanes[job.job_id], scale, overlapping, reruns.get(job.job_id))
    for alert in alerts:
        parts += _alert(alert, lanes, scale)
    for rollback in batch.rollbacks:
        paths = "every path" if rollback.paths is None else ", ".join(sorted(rollback.paths))
        x = scale.x(rollback.at)
        parts += [
            f'<g class="rollback"><title>rollback at {clock(rollback.at)}: put back {_text(paths)}</title>',
            f'<line x1="{x}" y1="{TOP - 14}" x2="{x}" y2="{height - BOTTOM}"/>',
            f'<text x="{x + 3}" y="{TOP - 16}">↺ rollback</text></g>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def _axis(scale: _Scale, height: int) -> list[str]:
    """The time axis: a tick at each round step from the first job queued."""
    step = next((s for s in _STEPS if scale.span / s <= 8), _STEPS[-1])
    parts = ['<g class="axis">', f'<text x="8" y="{TOP - 32}">time from {clock(scale.start)}</text>']
    tick = 0.0
    while tick <= scale.span + 1e-9:
        x = scale.x(scale.start + tick)
        parts.append(f'<line x1="{x}" y1="{TOP - 8}" x2="{x}" y2="{height - BOTTOM}"/>')
        parts.append(f'<text x="{x}" y="{TOP - 32}" text-anchor="middle">+{_ticked(tick)}</text>')
        tick += step
    parts.append("</g>")
    return parts


def _lane(
    job: JobStory, number: int, scale: _Scale, overlapping: set[tuple[str, str]], rerun: Rerun | None
) -> list[str]:
    """One job's lane: its label, its queued part and its run, its touches and its tokens."""
    y = TOP + number * LANE
    mid = y + LANE / 2
    started, end = job.started_at, job.end
    mark = MARKS.get(job.state, "?")
    label = f"{'↻ ' if rerun else ''}{job.job_id}  {_cut(job.label, 28)}"
    summary = f"{job.job_id} {job.label}: {mark} {job.state}, queued {clock(job.queued_at)}"
    if started is not None:
        summary += f", started {clock(started)}, ran {duration(end - started)}"
    if rerun:
        summary += f"; re-run of {', '.join(rerun.of)} ({rerun.why})"
    if job.problem:
        summary += f"; {job.problem}"
    classes = "lane rerun" if rerun else "lane"
    parts = [
        f'<g class="{classes}" id="lane-{_text(job.job_id)}" data-job="{_text(job.job_id)}">',
        f"<title>{_text(summary)}</title>",
        f'<text class="label" x="8" y="{mid + 4}">{_text(label)}</text>',
    ]
    queue_end = started if started is not None else end
    x0, x1 = scale.x(job.queued_at), scale.x(queue_end)
    parts.append(f'<rect class="queued" x="{x0}" y="{mid - 4}" width="{max(x1 - x0, 1)}" height="8"/>')
    if started is not None:
        x2 = scale.x(end)
        parts.append(
            f'<rect class="run {job.state}" x="{x1}" y="{mid - 6}" width="{max(x2 - x1, 2)}" height="12" rx="2"/>'
        )
    parts.append(f'<text x="{scale.x(end) + 3}" y="{mid - 8}" font-size="10">{mark}</text>')
    parts += _touches(job, mid, scale, overlapping)
    parts.append(f'<text class="tokens" x="{WIDTH - 6}" y="{mid + 4}" text-anchor="end">{job.tokens:,} tok</text>')
    parts.append("</g>")
    return parts


def _touches(job: JobStory, mid: float, scale: _Scale, overlapping: set[tuple[str, str]]) -> list[str]:
    """A circle at each timed touch, a square past the lane's end for each untimed one, a ring on an overlap."""
    parts: list[str] = []
    untimed = 0
    for touch in job.touches:
        shared = (touch.path, job.job_id) in overlapping
        words = f"{touch.path}: " + (f"touched at {clock(touch.at)}" if touch.at else "seen, time not known")
        words += " (overlap: a job running at the same time touched it too)" if shared else ""
        if touch.at is not None:
            x = scale.x(touch.at)
            shape = f'<circle class="touch" cx="{x}" cy="{mid}" r="4"/>'
        else:
            x = round(scale.x(job.end) + 12 + 10 * untimed, 1)
            untimed += 1
            shape = f'<rect class="seen" x="{x - 3.5}" y="{mid - 3.5}" width="7" height="7"/>'
        ring = f'<circle class="ring" cx="{x}" cy="{mid}" r="7.5"/>' if shared else ""
        kind = "mark overlap" if shared else "mark"
        parts.append(f'<g class="{kind}"><title>{_text(words)}</title>{ring}{shape}</g>')
    return parts


def _alert(alert: Alert, lanes: dict[str, int], scale: _Scale) -> list[str]:
    """A collision as a line between the lanes of its jobs; an out-of-scope write as a ✗ on its lane."""
    rows = sorted(lanes[job_id] for job_id in alert.jobs if job_id in lanes)
    if not rows:
        return []
    x = scale.x(alert.at)
    words = f"{alert.message()} at {clock(alert.at)}"
    ys = [TOP + row * LANE + LANE / 2 for row in rows]
    if alert.kind == "out_of_scope":
        return [f'<g class="outside"><title>{_text(words)}</title><text x="{x - 4}" y="{ys[0] + 4}">✗</text></g>']
    parts = [f'<g class="collision"><title>{_text(words)}</title>']
    parts.append(f'<line x1="{x}" y1="{ys[0]}" x2="{x}" y2="{ys[-1]}"/>')
    parts += [f'<text x="{x + 5}" y="{y - 3}">⚠</text>' for y in ys]
    parts.append("</g>")
    return parts


def _ticked(seconds: float) -> str:
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    return duration(seconds)


def _cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _text(text: str) -> str:
    return escape(text, quote=True)
