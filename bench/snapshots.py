"""P7, the cost of safety: a baseline against git's own floor, and comparisons that follow the change, not the tree.

A baseline is taken through the tool's code path (``baselines.create_in_child``) on the
large tree of `bench.tree`. Its floor is what git itself pays to record the
same files, the way ``git stash create`` does: a copy of the user's index
(``GIT_INDEX_FILE`` naming the copy), so that git trusts its cached ``lstat``
of every unchanged tracked file as it would for the user, then ``git add --all``
(plus ``--force`` for the ignored files a baseline protects) and ``git
write-tree``. A fresh empty index would make git read every file again, a cost
no user pays. Both are measured cold, as at a first baseline, when the user's
uncommitted files have contents git has not stored yet (each cold run meets
new ones) and no baseline of ours has kept an index, and warm, as at the next
baseline, when every blob is already stored (each side's warm run follows its
own cold one, since a cold step writes new contents); the sides take turns, so
that drift in the machine's load touches both alike. The baseline's child
process is started ahead, as a server starts it once it runs and again after
each baseline, so neither warmth pays the interpreter's start; its processor
time is counted with the baseline it served. The cost of ``codex_overlaps`` and ``codex_rollback`` is measured
by `bench.changes`.
"""

from __future__ import annotations

import os
import resource
import shutil
import tempfile
from pathlib import Path
from typing import TextIO

import anyio

from codex_subagents.core.git import NICENESS
from codex_subagents.worktree import baselines
from codex_subagents.worktree.location import worktree_at

from . import changes
from .plan import Plan
from .report import Figure, at_most, info, median
from .tree import Tree, built, freshen
from .world import BenchError, clock

_SIDES = ("floor", "baseline")


async def measure(plan: Plan, tmp: Path, errlog: TextIO) -> tuple[list[Figure], dict[str, object]]:
    """Run P7 and return its figures and raw timings."""
    del errlog
    big = built(tmp, plan.tree_files)
    timings: dict[str, list[float]] = {f"{side}_{warmth}": [] for side in _SIDES for warmth in ("cold", "warm")}
    cpu: dict[str, list[float]] = {key: [] for key in timings}
    async with baselines.child_kept_ready():  # as a server does from its start: no baseline starts Python
        for repeat in range(plan.snapshot_repeats):
            sides = _SIDES if repeat % 2 == 0 else _SIDES[::-1]
            for side in sides:
                # each side's warm run follows its own cold one: the other side's cold step writes new contents
                freshen(big, f"{side}-{repeat}")
                forget(big)
                for warmth in ("cold", "warm"):
                    wall, processor = await _timed(side, big)
                    timings[f"{side}_{warmth}"].append(wall)
                    cpu[f"{side}_{warmth}"].append(processor)
    figures: list[Figure] = []
    for warmth in ("cold", "warm"):
        ours, floor = median(timings[f"baseline_{warmth}"]), median(timings[f"floor_{warmth}"])
        name = f"codex_baseline ÷ git's floor, {warmth} ({big.files:,} files)"
        figures.append(at_most("P7", name, ours / floor, 1.2, "x"))
        figures.append(info("P7", f"codex_baseline, {warmth}", ours, " s"))
        figures.append(info("P7", f"git add --all + write-tree, {warmth}", floor, " s"))
        processor = median(cpu[f"baseline_{warmth}"]) / median(cpu[f"floor_{warmth}"])
        figures.append(info("P7", f"codex_baseline ÷ git's floor, {warmth}, processor time", processor, "x"))
    figures[0].note = (
        f"{big.files:,} files, {big.size / 2**20:.0f} MB; cold: the uncommitted files' blobs are not stored yet; "
        "no index of ours kept; warm: every blob is stored"
    )
    change_figures, change_details = await changes.measure(plan, big, built(tmp, plan.small_tree_files))
    details: dict[str, object] = {
        "files": big.files,
        "bytes": big.size,
        **{f"{key}_s": values for key, values in timings.items()},
        **{f"{key}_cpu_s": values for key, values in cpu.items()},
        **change_details,
    }
    return figures + change_figures, details


async def _timed(side: str, tree: Tree) -> tuple[float, float]:
    """The wall time of one baseline or one floor over ``tree``, and the processor time of its processes.

    The processor time is robust to other load on the machine, which the baseline's child yields to more
    than the floor's git does (it lowers its session's priority too).
    """
    start, processor = clock(), _children_cpu()
    if side == "baseline":
        await baselines.create_in_child(await worktree_at(tree.root), "bench")
    else:
        await floor(tree)
    return clock() - start, _children_cpu() - processor


def _children_cpu() -> float:
    """User and system time of the child processes waited for so far, theirs included."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def forget(tree: Tree) -> None:
    """Delete the indexes earlier baselines kept, so that the next baseline is a first one."""
    shutil.rmtree(tree.root / ".git" / "codex-subagents" / "baselines", ignore_errors=True)


async def floor(tree: Tree) -> None:
    """Record the tree's files the way git itself would, in a copy of the user's index, never the index itself.

    Git runs at the nice value of a baseline's child process, so that other load on the machine weighs on both
    alike (the child's session priority, lowered too on Linux, only matters against other load).
    """
    with tempfile.TemporaryDirectory(dir=tree.root / ".git", prefix="bench-floor-") as scratch:
        env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
        env["GIT_INDEX_FILE"] = str(Path(scratch) / "index")
        shutil.copy2(tree.root / ".git" / "index", env["GIT_INDEX_FILE"])
        ignored = "\0".join(tree.protected_ignored).encode()
        for args, stdin in (
            (["add", "--all"], None),
            (["add", "--force", "--pathspec-from-file=-", "--pathspec-file-nul"], ignored),
            (["write-tree"], None),
        ):
            command = ["nice", "-n", str(NICENESS), "git", *args]
            done = await anyio.run_process(command, input=stdin, cwd=tree.root, env=env, check=False)
            if done.returncode:
                raise BenchError(f"git {args[0]} failed in {tree.root}: {done.stderr.decode(errors='replace')}")
