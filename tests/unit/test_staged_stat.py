"""The blob ids the user's index proves: taken only where git's blob is the raw bytes and its stat cache holds."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from codex_subagents.coordination import batch
from codex_subagents.worktree import baselines, raw_git, staged_stat
from codex_subagents.worktree.location import worktree_at
from unit.repos import git

pytestmark = pytest.mark.anyio
_HOUR_AGO = time.time_ns() - 3600 * 10**9


def aged(root: Path, *names: str) -> None:
    """Give files an mtime an hour old, as files a user staged long ago have."""
    for name in names:
        os.utime(root / name, ns=(_HOUR_AGO, _HOUR_AGO), follow_symlinks=False)


def seen(root: Path, *names: str) -> dict[str, staged_stat.Seen]:
    """What a snapshot sees of ``names`` before reading them: no blob id, the link flag, the ``lstat`` signature."""
    found: dict[str, staged_stat.Seen] = {}
    for name in names:
        info = os.lstat(root / name)
        signature = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        found[name] = ("", info.st_mode & 0o777, os.path.islink(root / name), signature)
    return found


async def proof(root: Path, *names: str) -> dict[str, str]:
    """The blob ids the index proves for ``names``, as a baseline asks: from the index's listing and git's
    judgement of its stat cache."""
    worktree = await worktree_at(root)
    records = (record.split("\t", 1) for record in git(root, "ls-files", "-z", "--stage").split("\0") if record)
    indexed = {path: stage for stage, path in records}
    raw = await raw_git.made(worktree, root.parent / "scratch")
    return await staged_stat.proven(
        worktree, seen(root, *names), indexed, await staged_stat.judged(raw, worktree.index)
    )


def written_later(root: Path) -> None:
    """Date the index file a minute ahead, as if git wrote it after every file's last change: only git's own
    judgement of an entry then tells whether its file changed since it was staged."""
    later = time.time_ns() + 60 * 10**9
    os.utime(root / ".git" / "index", ns=(later, later))


def raw_id(root: Path, name: str) -> str:
    return git(root, "hash-object", "--no-filters", "--", name).strip()


@pytest.fixture
def staged(tmp_path: Path) -> Path:
    """A repository whose files were staged an hour after they were last written, its index written after their
    last change: git trusts their stat."""
    root = (tmp_path / "repo").resolve()
    root.mkdir()
    git(root, "init", "-q")
    (root / "plain.txt").write_bytes(b"plain\n")
    (root / "crlf.txt").write_bytes(b"one\r\ntwo\r\n")
    (root / "link").symlink_to("plain.txt")
    aged(root, "plain.txt", "crlf.txt", "link")
    git(root, "add", "-A")
    written_later(root)
    return root


async def test_an_entry_whose_stat_matches_is_proven_with_its_raw_blob_id(staged: Path) -> None:
    """A file and a link that git staged long ago, unchanged since, are taken with the ids of their raw bytes."""
    found = await proof(staged, "plain.txt", "crlf.txt", "link")
    assert found == {name: raw_id(staged, name) for name in ("plain.txt", "crlf.txt")} | {
        "link": git(staged, "rev-parse", ":link").strip()
    }


async def test_a_file_changed_after_the_index_was_written_is_not_proven(staged: Path) -> None:
    """A file whose change time is not older than the index file may differ from what git judged: it is read."""
    os.utime(staged / ".git" / "index", ns=(_HOUR_AGO, _HOUR_AGO))
    assert await proof(staged, "plain.txt", "link") == {}


async def test_an_entry_whose_stat_differs_is_not_proven(staged: Path) -> None:
    """A file rewritten with bytes of the same size since git hashed it, as an editor writes it, is read again."""
    (staged / "plain.txt").write_bytes(b"PLAIN\n")
    written_later(staged)
    assert await proof(staged, "plain.txt") == {}


@pytest.mark.parametrize("flag", ["--assume-unchanged", "--skip-worktree"])
async def test_an_entry_git_is_told_not_to_look_at_is_not_proven(staged: Path, flag: str) -> None:
    """Git compares no stat for an assume-unchanged or skip-worktree entry, so its blob may be older than the file:
    the file is read, as a user's local edit hidden that way is exactly what a rollback must bring back."""
    git(staged, "update-index", flag, "plain.txt")
    (staged / "plain.txt").write_bytes(b"local edit\n")
    aged(staged, "plain.txt")
    written_later(staged)
    assert await proof(staged, "plain.txt", "link") == {"link": git(staged, "rev-parse", ":link").strip()}


async def test_a_file_with_a_filter_or_line_ending_attribute_is_not_proven(staged: Path) -> None:
    """Where git converts bytes on their way in, its blob is not the file's bytes: such files are read again."""
    (staged / ".gitattributes").write_bytes(b"crlf.txt text\nplain.txt filter=strip\n")
    assert await proof(staged, "plain.txt", "crlf.txt", "link") == {"link": git(staged, "rev-parse", ":link").strip()}


@pytest.mark.parametrize("value", ["true", "input"])
async def test_no_entry_is_proven_under_autocrlf(staged: Path, value: str) -> None:
    """With core.autocrlf on, git may convert any file's line endings, so every file is read again."""
    git(staged, "config", "core.autocrlf", value)
    assert await proof(staged, "plain.txt", "crlf.txt") == {}


async def test_an_intent_to_add_entry_is_not_proven(staged: Path) -> None:
    """An entry made by ``git add -N`` names the empty blob, not the file's bytes."""
    (staged / "new.txt").write_bytes(b"new\n")
    aged(staged, "new.txt")
    git(staged, "add", "-N", "new.txt")
    assert "new.txt" not in await proof(staged, "new.txt")


async def test_index_version_4_is_read_as_version_2(staged: Path) -> None:
    """Prefix-compressed names (index version 4, set by feature.manyFiles) prove the same ids."""
    (staged / "dir").mkdir()
    for name in ("dir/a.txt", "dir/ab.txt", "dir/b.txt"):
        (staged / name).write_bytes(name.encode())
    aged(staged, "dir/a.txt", "dir/ab.txt", "dir/b.txt")
    git(staged, "add", "-A")
    names = ("plain.txt", "crlf.txt", "link", "dir/a.txt", "dir/ab.txt", "dir/b.txt")
    written_later(staged)
    before = await proof(staged, *names)
    git(staged, "update-index", "--index-version", "4")
    written_later(staged)
    assert await proof(staged, *names) == before
    assert set(before) == set(names)


async def test_a_crlf_file_git_stores_as_lf_comes_back_with_crlf_though_its_stat_is_trusted(staged: Path) -> None:
    """A baseline reads a file under a text attribute itself, so a rollback restores its CRLF bytes, not git's LF."""
    (staged / ".gitattributes").write_bytes(b"*.txt text\n")
    aged(staged, ".gitattributes")
    git(staged, "add", "--renormalize", ".")
    git(staged, "add", "-A")
    assert git(staged, "cat-file", "blob", ":crlf.txt") == "one\ntwo\n"
    worktree = await worktree_at(staged)
    baseline = await baselines.create(worktree, None)
    (staged / "crlf.txt").write_bytes(b"changed\n")
    await batch.roll_back(worktree, baseline.info.baseline_id, None, busy=batch.Busy(), claims={})
    assert (staged / "crlf.txt").read_bytes() == b"one\r\ntwo\r\n"


@pytest.mark.parametrize("removal", ["emptied", "deleted"])
async def test_a_file_staged_under_a_rule_removed_since_is_read_not_proven(staged: Path, removal: str) -> None:
    """Git's LF blob of a CRLF file stays in the index after its text attribute is removed, the file untouched: a
    baseline reads that file itself, so a rollback restores its CRLF bytes."""
    (staged / ".gitattributes").write_bytes(b"*.txt text\n")
    aged(staged, ".gitattributes")
    git(staged, "add", "--renormalize", ".")
    git(staged, "add", "-A")
    if removal == "emptied":
        (staged / ".gitattributes").write_bytes(b"")
    else:
        (staged / ".gitattributes").unlink()
    assert git(staged, "cat-file", "blob", ":crlf.txt") == "one\ntwo\n"
    worktree = await worktree_at(staged)
    assert "crlf.txt" not in await proof(staged, "crlf.txt")
    baseline = await baselines.create(worktree, None)
    (staged / "crlf.txt").write_bytes(b"changed\n")
    await batch.roll_back(worktree, baseline.info.baseline_id, ["crlf.txt"], busy=batch.Busy(), claims={})
    assert (staged / "crlf.txt").read_bytes() == b"one\r\ntwo\r\n"


async def test_a_file_staged_under_a_rule_of_an_untracked_attributes_file_emptied_since_is_read_not_proven(
    staged: Path,
) -> None:
    """The rule that made git's LF blob may live in a ``.gitattributes`` the user never committed: emptied since, a
    first baseline reads the file itself, and a rollback restores its CRLF bytes."""
    (staged / ".gitattributes").write_bytes(b"*.txt text\n")
    aged(staged, ".gitattributes")
    git(staged, "add", "--renormalize", "crlf.txt")
    assert git(staged, "cat-file", "blob", ":crlf.txt") == "one\ntwo\n"
    (staged / ".gitattributes").write_bytes(b"")
    written_later(staged)
    assert ".gitattributes" not in git(staged, "ls-files")
    worktree = await worktree_at(staged)
    baseline = await baselines.create(worktree, None)
    (staged / "crlf.txt").write_bytes(b"changed\n")
    await batch.roll_back(worktree, baseline.info.baseline_id, ["crlf.txt"], busy=batch.Busy(), claims={})
    assert (staged / "crlf.txt").read_bytes() == b"one\r\ntwo\r\n"


async def test_a_file_staged_under_a_rule_of_the_users_own_attributes_file_removed_since_is_read_not_proven(
    staged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own attributes file (``~/.config/git/attributes`` when neither ``XDG_CONFIG_HOME`` nor
    ``core.attributesFile`` names another) counts as the worktree's do: a rule removed from it since a file was
    staged makes a baseline read that file itself."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    rules = tmp_path / ".config" / "git" / "attributes"
    rules.parent.mkdir(parents=True)
    rules.write_bytes(b"*.txt text\n")
    git(staged, "add", "--renormalize", ".")
    assert git(staged, "cat-file", "blob", ":crlf.txt") == "one\ntwo\n"
    rules.write_bytes(b"")
    assert "crlf.txt" not in await proof(staged, "crlf.txt")


async def test_git_judges_the_users_index_without_running_the_repositorys_filters(tmp_path: Path) -> None:
    """Git compares a racily clean entry's bytes to judge it; it does so through the server's own git directory, so
    a clean filter the repository names is not run by the server, and the file is still recorded as its raw bytes."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    marker = tmp_path / "a filter ran"
    git(root, "config", "filter.mark.clean", f"touch '{marker}'; cat")
    (root / ".gitattributes").write_text("*.up filter=mark\n")
    (root / "b.up").write_text("lower\n")
    git(root, "add", "-A")
    index = root / ".git" / "index"
    made = (root / "b.up").stat().st_mtime_ns
    os.utime(index, ns=(made, made))  # racily clean: the file is as new as the index
    marker.unlink(missing_ok=True)
    baseline = await baselines.create(await worktree_at(root), None)
    assert not marker.exists()
    assert (
        git(root, "rev-parse", f"{baseline.info.commit}:worktree/b.up").strip()
        == git(root, "hash-object", "--no-filters", "b.up").strip()
    )
