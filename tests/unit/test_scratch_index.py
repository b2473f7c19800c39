"""A baseline's tree of the worktree, written from a copy of the user's index: exactly the files on disk, whatever
the index holds, and the user's index left as it was."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from codex_subagents.worktree import baselines
from codex_subagents.worktree.location import worktree_at
from unit.repos import committed, git

pytestmark = pytest.mark.anyio


def recorded(root: Path, commit: str) -> dict[str, str]:
    """The baseline's ``worktree`` tree as path -> "mode blob"."""
    found: dict[str, str] = {}
    for record in git(root, "ls-tree", "-r", "-z", "--full-tree", f"{commit}:worktree").split("\0"):
        if record:
            meta, _, path = record.partition("\t")
            mode, _, sha = meta.split(" ")
            found[path] = f"{mode} {sha}"
    return found


def on_disk(root: Path, *names: str) -> dict[str, str]:
    """What git would store for ``names`` as their raw bytes, with the mode of each."""
    found: dict[str, str] = {}
    for name in names:
        path = root / name
        data = os.fsencode(os.readlink(path)) if path.is_symlink() else path.read_bytes()
        blob = subprocess.run(["git", "hash-object", "--stdin"], cwd=root, input=data, capture_output=True, check=True)
        mode = "120000" if path.is_symlink() else "100755" if os.access(path, os.X_OK) else "100644"
        found[name] = f"{mode} {blob.stdout.decode().strip()}"
    return found


def merged_with_a_conflict(root: Path) -> bool:
    """Merge the branch ``other`` into the current one; whether git stopped at a conflict."""
    return subprocess.run(["git", "merge", "-q", "other"], cwd=root, capture_output=True, check=False).returncode == 1


async def test_the_tree_holds_the_files_on_disk_not_what_the_index_stages(tmp_path: Path) -> None:
    """Staged but changed since, deleted from disk, replaced by a directory, intent-to-add and empty, made executable
    or a link: the tree holds each as it is on disk, and the user's index keeps its bytes."""
    root = committed(tmp_path / "repo", {"kept.txt": "kept\n", "staged.txt": "a\n", "gone.txt": "g\n", "dir": "f\n"})
    (root / "staged.txt").write_text("b\n")
    git(root, "add", "staged.txt")
    (root / "staged.txt").write_text("c, unstaged\n")
    (root / "gone.txt").unlink()
    (root / "dir").unlink()
    (root / "dir").mkdir()
    (root / "dir" / "inside.txt").write_text("inside\n")
    (root / "empty.txt").write_text("")
    git(root, "add", "--intent-to-add", "empty.txt")
    (root / "kept.txt").chmod(0o755)
    (root / "link").symlink_to("kept.txt")
    index = (root / ".git" / "index").read_bytes()
    baseline = await baselines.create(await worktree_at(root), None)
    names = ("dir/inside.txt", "empty.txt", "kept.txt", "link", "staged.txt")
    assert recorded(root, baseline.info.commit) == on_disk(root, *names)
    assert (root / ".git" / "index").read_bytes() == index


async def test_a_conflicted_index_and_a_submodule_leave_only_the_files_on_disk(tmp_path: Path) -> None:
    """Conflicted entries are replaced by the file's bytes, and a submodule's entry by the files in it."""
    root = committed(tmp_path / "repo", {"both.txt": "base\n"})
    git(root, "checkout", "-qb", "other")
    (root / "both.txt").write_text("other\n")
    git(root, "commit", "-qam", "other")
    git(root, "checkout", "-q", "-")
    (root / "both.txt").write_text("ours\n")
    git(root, "commit", "-qam", "ours")
    assert merged_with_a_conflict(root)
    sub = committed(root / "sub", {"inner.txt": "inner\n"})
    git(root, "update-index", "--add", "--cacheinfo", f"160000,{git(sub, 'rev-parse', 'HEAD').strip()},sub")
    baseline = await baselines.create(await worktree_at(root), None)
    assert recorded(root, baseline.info.commit) == on_disk(root, "both.txt", "sub/inner.txt")


async def test_a_baseline_after_another_holds_the_files_on_disk_not_the_earlier_tree(tmp_path: Path) -> None:
    """The next baseline starts from the previous one's tree: a file changed, made executable, replaced by a link,
    deleted, an untracked file gone and a new one, a new protected ignored file: the tree holds each as it is now."""
    root = committed(tmp_path / "repo", {"kept.txt": "kept\n", "edited.txt": "a\n", "gone.txt": "g\n", "x": "x\n"})
    (root / ".gitignore").write_text(".env\n")
    (root / "draft.txt").write_text("draft\n")
    (root / "notes.txt").write_text("notes\n")
    worktree = await worktree_at(root)
    first = await baselines.create(worktree, None)
    (root / "edited.txt").write_bytes(b"b\r\n")
    (root / "kept.txt").chmod(0o755)
    (root / "x").unlink()
    (root / "x").symlink_to("kept.txt")
    (root / "gone.txt").unlink()
    (root / "draft.txt").unlink()
    (root / "new.txt").write_text("new\n")
    (root / ".env").write_text("KEY=1\n")
    second = await baselines.create(worktree, None)
    names = (".env", ".gitignore", "edited.txt", "kept.txt", "new.txt", "notes.txt", "x")
    assert recorded(root, second.info.commit) == on_disk(root, *names)
    assert "draft.txt" in recorded(root, first.info.commit)


async def test_the_staged_tree_is_what_the_users_index_stages_at_a_first_baseline_and_the_next(tmp_path: Path) -> None:
    """A change staged and then edited again, an untracked file beside: the baseline keeps what the index stages,
    not what is on disk, whether its worktree's tree is written through the same copy of the index or not."""
    root = committed(tmp_path / "repo", {"a.txt": "a\n"})
    (root / "a.txt").write_text("staged\n")
    git(root, "add", "a.txt")
    (root / "a.txt").write_text("on disk\n")
    (root / "new.txt").write_text("untracked\n")
    staged = git(root, "write-tree").strip()
    worktree = await worktree_at(root)
    for _ in range(2):
        baseline = await baselines.create(worktree, None)
        assert git(root, "rev-parse", f"{baseline.info.commit}:staged").strip() == staged
