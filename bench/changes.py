"""P7's second half: ``codex_overlaps`` and ``codex_rollback`` cost what the change costs, beside ``git status``.

Both tools compare the worktree with a baseline, which needs an ``lstat`` of
every path (``git status`` needs it too, so it is shown on the same tree as the
floor) and then work in proportion to the paths that changed. Each round
changes some files (appends to three in four, adds a new file for the fourth),
times ``batch.overlaps`` with two jobs that claim half each, then
``git status --porcelain``, then ``batch.roll_back`` of everything,
which puts the tree back for the next round. Counts run smallest first on each
tree, so that no round meets files a larger round rewrote moments before.
"""

from __future__ import annotations

from codex_subagents.coordination import batch
from codex_subagents.coordination.claims import Claim
from codex_subagents.worktree import baselines
from codex_subagents.worktree.location import worktree_at

from .plan import Plan
from .report import Figure, info, median
from .tree import Tree, change, status_seconds
from .world import BenchError, clock


async def measure(plan: Plan, big: Tree, small: Tree) -> tuple[list[Figure], dict[str, object]]:
    """Time overlaps, git status and rollback for each count of changes on ``big``, and the fewest on ``small``."""
    few, many = plan.changed_paths
    on_big = (await baselines.create_in_child(await worktree_at(big.root), "bench-changes")).baseline_id
    on_small = (await baselines.create_in_child(await worktree_at(small.root), "bench-changes")).baseline_id
    runs = {
        (big.files, few): await _rounds(big, on_big, few, plan.change_repeats),
        (big.files, many): await _rounds(big, on_big, many, plan.change_repeats),
        (small.files, few): await _rounds(small, on_small, few, plan.change_repeats),
    }
    costs = {run: {tool: median(times) for tool, times in timings.items()} for run, timings in runs.items()}
    large, little = costs[(big.files, few)], costs[(small.files, few)]
    grown = large["status"] / little["status"]
    figures: list[Figure] = [info("P7", f"git status, {big.files:,} ÷ {small.files:,} files ({few} changed)", grown)]
    for tool, name in (("overlaps", "codex_overlaps"), ("rollback", "codex_rollback")):
        figures += [
            _no_faster_than(f"{name}, {big.files:,} ÷ {small.files:,} files ({few} changed)", large, little, tool),
            info(
                "P7",
                f"{name}, {many:,} ÷ {few} changed paths ({big.files:,} files)",
                costs[(big.files, many)][tool] / large[tool],
            ),
            info("P7", f"{name} ÷ git status ({big.files:,} files, {few} changed)", large[tool] / large["status"]),
            info("P7", f"{name} ({big.files:,} files, {few} changed)", large[tool] * 1000, " ms", 0),
        ]
    figures.append(info("P7", f"git status ({big.files:,} files, {few} changed)", large["status"] * 1000, " ms", 0))
    details: dict[str, object] = {
        f"changes_{files}_files_{count}_paths_s": timings for (files, count), timings in runs.items()
    }
    return figures, details


def _no_faster_than(name: str, large: dict[str, float], little: dict[str, float], tool: str) -> Figure:
    """A figure that passes when ``tool`` grows with the tree's size at most 1.2 times as fast as ``git status``."""
    grown, floor = large[tool] / little[tool], large["status"] / little["status"]
    bound = 1.2 * floor
    return Figure("P7", name, grown, f"{grown:.2f}x", f"≤ {bound:.2f}x (1.2 times git status's)", grown <= bound)


async def _rounds(tree: Tree, baseline_id: str, count: int, repeats: int) -> dict[str, list[float]]:
    """Change ``count`` paths and time overlaps, git status and rollback, ``repeats`` times."""
    timings: dict[str, list[float]] = {"overlaps": [], "status": [], "rollback": []}
    for repeat in range(repeats):
        paths = change(tree, count, f"r{repeat}")
        claims = {
            "job-a": Claim(reported=frozenset(paths[::2]), observed=frozenset()),
            "job-b": Claim(reported=frozenset(paths[1::2]), observed=frozenset()),
        }
        start = clock()
        found = await batch.overlaps(await worktree_at(tree.root), baseline_id, list(claims), claims)
        timings["overlaps"].append(clock() - start)
        if len(found.changed) != count or not found.clean:
            raise BenchError(f"codex_overlaps saw {len(found.changed)} of {count} changes in {tree.root}: {found}")
        timings["status"].append(status_seconds(tree))
        start = clock()
        undone = await batch.roll_back(await worktree_at(tree.root), baseline_id, None, batch.Busy(), {})
        timings["rollback"].append(clock() - start)
        if len(undone.restored) + len(undone.removed) != count:
            raise BenchError(f"codex_rollback put back {undone} in {tree.root}, not {count} paths")
    return timings
