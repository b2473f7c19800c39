"""The report of a batch as one self-contained HTML page: the timeline, then the same facts as tables.

Nothing is fetched when the page is opened: its style is inline, the timeline is
an inline SVG (`timeline`), and it has no script. The tables say in words what
the marks show, so a reader who cannot see the picture reads the batch too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from ..jobs.models import Alert
from .activity import clock
from .batch import Batch
from .findings import Overlap, Rerun, alerts, overlaps, reruns
from .rows import MARKS, SYMBOLS, duration
from .timeline import svg

PAGE_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1f2328; background: #ffffff; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 6px; }
.facts { color: #57606a; margin: 0 0 12px; }
.scroll { overflow-x: auto; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }
table { border-collapse: collapse; } td, th { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; }
th { border-bottom: 1px solid #d0d7de; } td:first-child { white-space: nowrap; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
ul.legend svg { vertical-align: middle; }
.problem { color: #cf222e; }
"""
_LEGEND = (
    ('<rect x="1" y="6" width="22" height="6" fill="none" stroke="#6e7781" stroke-dasharray="3 2"/>', "queued"),
    ('<rect x="1" y="3" width="22" height="12" rx="2" fill="#54aeff" stroke="#0969da"/>', "running"),
    ('<circle cx="12" cy="9" r="4" fill="#fff" stroke="#1f2328" stroke-width="1.5"/>', "file touch, at its time"),
    ('<rect x="8.5" y="5.5" width="7" height="7" fill="#eaeef2" stroke="#1f2328"/>', "path seen, time not known"),
    (
        '<circle cx="12" cy="9" r="7.5" fill="none" stroke="#bf8700" stroke-width="2"/>',
        "overlap: jobs at the same time (ring)",
    ),
    ('<line x1="12" y1="1" x2="12" y2="17" stroke="#cf222e" stroke-width="2.5"/>', "⚠ collision"),
    ('<line x1="12" y1="1" x2="12" y2="17" stroke="#8250df" stroke-width="2" stroke-dasharray="6 3"/>', "↺ rollback"),
)


def timeline(batch: Batch) -> str:
    """The batch's timeline alone, as one ``<svg>`` element, with what it shows across the jobs."""
    return svg(batch, overlaps(batch), reruns(batch), alerts(batch))


def html(batch: Batch) -> str:
    """The whole page of ``batch``."""
    raised, shared, again = alerts(batch), overlaps(batch), reruns(batch)
    jobs = batch.jobs
    states: dict[str, int] = {}
    for job in jobs:
        states[job.state] = states.get(job.state, 0) + 1
    counts = ", ".join(f"{MARKS.get(state, '?')} {number} {state}" for state, number in sorted(states.items()))
    facts = f"{len(jobs)} job{'s' if len(jobs) != 1 else ''}" + (f" ({counts})" if counts else "")
    facts += f" · {sum(job.tokens for job in jobs):,} tokens · {len(batch.rollbacks)} rollback(s)"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>codex-subagents report: {len(jobs)} jobs</title>",
        f"<style>{PAGE_STYLE}</style></head><body>",
        "<h1>codex-subagents: a batch of jobs</h1>",
        f'<p class="facts">{_e(batch.chosen)}<br>{_e(facts)}<br>written {_e(_when(datetime.now().timestamp()))}</p>',
    ]
    if not jobs:
        parts.append('<p id="empty">No job was queued in this batch: there is nothing to draw.</p>')
    else:
        legend = "".join(
            f'<li><svg width="24" height="18" aria-hidden="true">{shape}</svg> {_e(words)}</li>'
            for shape, words in _LEGEND
        )
        parts += [
            f'<ul class="legend">{legend}<li>↻ re-run</li></ul>',
            f'<div class="scroll">{svg(batch, shared, again, raised)}</div>',
        ]
        parts += _jobs_table(batch, again)
        parts += _alerts_table(raised)
        parts += _overlaps_table(shared)
        parts += _rollbacks_list(batch)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _jobs_table(batch: Batch, again: dict[str, Rerun]) -> list[str]:
    rows = ["<h2>Jobs</h2>", '<table id="jobs"><tr><th>job</th><th>label</th><th>state</th><th>queued</th>'
            "<th>waited</th><th>ran</th><th>tokens</th><th>files</th><th>notes</th></tr>"]  # fmt: skip
    for job in batch.jobs:
        started = job.started_at
        waited = duration((started or job.end) - job.queued_at)
        ran = duration(job.end - started) if started is not None else "-"
        rerun = again.get(job.job_id)
        notes = [_e(f"↻ re-run of {', '.join(rerun.of)}: {rerun.why}")] if rerun else []
        notes += [f'<span class="problem">{_e(job.problem)}</span>'] if job.problem else []
        cells = [
            _e(job.job_id), _e(job.label), _e(f"{MARKS.get(job.state, '?')} {job.state}"), _e(clock(job.queued_at)),
            waited, ran, f'<td class="n">{job.tokens:,}', _e(", ".join(job.files)), "<br>".join(notes),
        ]  # fmt: skip
        rows.append("<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}" for c in cells) + "</tr>")
    rows.append("</table>")
    return rows


def _alerts_table(raised: Sequence[Alert]) -> list[str]:
    if not raised:
        return ["<h2>Alerts</h2>", "<p>No collision and no out-of-scope write was raised while the jobs ran.</p>"]
    rows = ["<h2>Alerts</h2>", '<table id="alerts"><tr><th>time</th><th>alert</th><th>path</th><th>jobs</th></tr>']
    for alert in raised:
        words = (_e(clock(alert.at)), _e(SYMBOLS[alert.kind]), _e(alert.path), _e(", ".join(alert.jobs)))
        rows.append("<tr>" + "".join(f"<td>{cell}" for cell in words) + "</tr>")
    rows.append("</table>")
    return rows


def _overlaps_table(shared: Sequence[Overlap]) -> list[str]:
    if not shared:
        return ["<h2>Overlaps</h2>", "<p>No path was touched by more than one job.</p>"]
    rows = ["<h2>Overlaps</h2>", '<table id="overlaps"><tr><th>path</th><th>jobs</th><th>how</th><th>now</th></tr>']
    for overlap in shared:
        how = "at the same time" if overlap.together else "one after another"
        now = "kept" if overlap.undone_at is None else f"undone by the rollback at {clock(overlap.undone_at)}"
        cells = (_e(overlap.path), _e(", ".join(overlap.jobs)), how, _e(now))
        rows.append("<tr>" + "".join(f"<td>{cell}" for cell in cells) + "</tr>")
    rows.append("</table>")
    return rows


def _rollbacks_list(batch: Batch) -> list[str]:
    if not batch.rollbacks:
        return ["<h2>Rollbacks</h2>", "<p>No rollback was made during the batch.</p>"]
    items = [
        f"<li>{_e(clock(r.at))}: put back {_e('every path' if r.paths is None else ', '.join(sorted(r.paths)))}</li>"
        for r in batch.rollbacks
    ]
    return ["<h2>Rollbacks</h2>", '<ul id="rollbacks">', *items, "</ul>"]


def _when(at: float) -> str:
    return datetime.fromtimestamp(at).isoformat(" ", "seconds")


def _e(text: str) -> str:
    return escape(text, quote=True)
