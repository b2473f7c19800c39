"""The figures of one run, the machine they were measured on, and how they are printed and saved.

A `Figure` is a ratio or a bound measured side by side in the same run; a target
makes it pass or miss, and a figure without a target is shown for context only.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from .world import CODEX

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Figure:
    """One measured figure: what it is, its value as shown, its target and whether it met it."""

    key: str
    name: str
    value: float
    shown: str
    target: str = ""
    passed: bool | None = None
    note: str = ""


@dataclass
class Run:
    """Everything one ``python -m bench`` produced."""

    mode: str
    machine: dict[str, object]
    figures: list[Figure] = field(default_factory=list[Figure])
    details: dict[str, object] = field(default_factory=dict[str, object])
    seconds: float = 0.0

    @property
    def misses(self) -> list[Figure]:
        """The figures that missed their target."""
        return [figure for figure in self.figures if figure.passed is False]


def at_most(key: str, name: str, value: float, bound: float, unit: str = "", digits: int = 2) -> Figure:
    """A figure that passes when ``value <= bound``."""
    return Figure(key, name, value, f"{value:.{digits}f}{unit}", f"≤ {bound:g}{unit}", value <= bound)


def at_least(key: str, name: str, value: float, bound: float, unit: str = "", digits: int = 2) -> Figure:
    """A figure that passes when ``value >= bound``."""
    return Figure(key, name, value, f"{value:.{digits}f}{unit}", f"≥ {bound:g}{unit}", value >= bound)


def info(key: str, name: str, value: float, unit: str = "", digits: int = 2) -> Figure:
    """A figure shown for context, with no target."""
    return Figure(key, name, value, f"{value:.{digits}f}{unit}")


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile of ``values`` by linear interpolation (0.5 is the median)."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)


def machine() -> dict[str, object]:
    """The facts that explain the figures: cores, CPU, Python, Codex and the load when the run began."""
    codex = subprocess.run([str(CODEX), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    usable = psutil.Process().cpu_affinity() if hasattr(psutil.Process, "cpu_affinity") else None
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(usable) if usable else os.cpu_count(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "codex": codex or "not found",
        "os": f"{platform.system()} {platform.release()}",
        "load_at_start": [round(load, 2) for load in os.getloadavg()],
    }


def _cpu_model() -> str:
    """The processor's name as the system gives it (``lscpu`` on Linux, ``sysctl`` on macOS)."""
    darwin = sys.platform == "darwin"
    command = ["sysctl", "-n", "machdep.cpu.brand_string"] if darwin else ["lscpu"]
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    except OSError:
        out = ""
    names = [line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name:")]
    if darwin and out.strip():
        names = [out.strip()]
    return names[0] if names else platform.processor() or "unknown"


def table(run: Run) -> str:
    """Render the run as a plain-text table, machine facts first."""
    facts = run.machine
    lines = [
        f"codex-subagents bench ({run.mode} mode, {run.seconds:.0f} s)",
        f"machine: {facts['cores']} cores ({facts['cpu']}), Python {facts['python']}, {facts['codex']}, "
        f"load {facts['load_at_start']} at start, {facts.get('load_at_end')} at end",
        "",
    ]
    rows = [("", "figure", "value", "target", "result")]
    for figure in run.figures:
        result = "" if figure.passed is None else ("pass" if figure.passed else "MISS")
        rows.append((figure.key, figure.name, figure.shown, figure.target, result))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    for number, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [f"{figure.key} {figure.name}: {figure.note}" for figure in run.figures if figure.note]
    if notes:
        lines += ["", *notes]
    misses = run.misses
    lines += ["", f"{len(misses)} miss(es)" if misses else "every target met"]
    return "\n".join(lines)


def save(run: Run) -> list[Path]:
    """Write the run as JSON to ``bench/results/``: ``latest.json`` and a dated copy for history."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {
        "mode": run.mode,
        "seconds": round(run.seconds, 1),
        "machine": run.machine,
        "figures": [asdict(figure) for figure in run.figures],
        "details": run.details,
    }
    text = json.dumps(data, indent=1) + "\n"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    written = [RESULTS / "latest.json", RESULTS / f"{stamp}-{run.mode}.json"]
    for path in written:
        path.write_text(text)
    return written
