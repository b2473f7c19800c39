"""Declared scopes: patterns are read relative to a job's cwd, own what they match and what lies below it,
and two scopes are said to intersect whenever some path could belong to both."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_subagents.core.errors import InputError
from codex_subagents.worktree.scope import (
    could_intersect,
    covers,
    meets,
    normalize,
    out_of_scope,
    owned,
    relative_to_cwd,
)

ROOT = Path("/repo")


@pytest.mark.parametrize(
    ("cwd", "pattern", "expected"),
    [
        ("/repo", "src/api", "src/api"),
        ("/repo", "./src/api/", "src/api"),
        ("/repo", "src//*.py", "src/*.py"),
        ("/repo/sub", "*.py", "sub/*.py"),
        ("/repo/sub", "../docs/**", "docs/**"),
        ("/repo/sub", "../*.md", "*.md"),
        ("/repo/sub", ".", "sub"),
        ("/repo", ".", "**"),
        ("/repo/sub", "/repo/lib/x.py", "lib/x.py"),
        ("/repo", "**/", "**"),
        ("/repo", "src/*/./x", "src/*/x"),
    ],
)
def test_patterns_from_the_cwd_become_patterns_from_the_worktree_top(cwd: str, pattern: str, expected: str) -> None:
    """A pattern given from the job's cwd (or absolute inside the worktree) is stored from the worktree's top."""
    assert normalize(ROOT, Path(cwd), [pattern]) == [expected]


@pytest.mark.parametrize(
    "pattern",
    ["", "  ", "a\0b", "../../outside", "/etc/passwd", "/**", "src/*/../../x", "sub/../../../x", "x" * 4097],
)
def test_a_pattern_that_is_empty_or_leaves_the_worktree_is_refused(pattern: str) -> None:
    """Empty patterns, NULs, escapes above the root and absolute paths elsewhere are refused before anything runs."""
    with pytest.raises(InputError):
        normalize(ROOT, Path("/repo/sub"), [pattern])


def test_a_scope_of_more_than_256_patterns_is_refused() -> None:
    """The number of patterns is bounded, so scheduling stays cheap."""
    normalize(ROOT, ROOT, ["a"] * 256)
    with pytest.raises(InputError):
        normalize(ROOT, ROOT, ["a"] * 257)


def test_a_worker_is_shown_its_scope_from_its_own_cwd() -> None:
    """The stored root-relative patterns are turned back into patterns from the worker's cwd."""
    stored = ["sub/a.py", "docs/**", "**", "sub"]
    assert relative_to_cwd(ROOT, Path("/repo/sub"), stored) == ["a.py", "../docs/**", "../**", "."]
    assert relative_to_cwd(ROOT, ROOT, stored) == stored


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        (["src/api"], "src/api", True),
        (["src/api"], "src/api/x.py", True),
        (["src/api"], "src/apis/x.py", False),
        (["src/*.py"], "src/a.py", True),
        (["src/*.py"], "src/sub/a.py", False),
        (["src/**"], "src/sub/deep/a.py", True),
        (["src/**/test_*.py"], "src/test_a.py", True),
        (["src/**/test_*.py"], "src/x/y/test_a.py", True),
        (["src/**/test_*.py"], "src/x/y/a.py", False),
        (["a?c"], "abc", True),
        (["a[!b]c"], "abc", False),
        (["[ab]"], "b/x", True),
        (["**"], "anything/at/all", True),
        ([], "a", False),
    ],
)
def test_a_scope_owns_what_its_patterns_match_and_what_lies_below(
    patterns: list[str], path: str, expected: bool
) -> None:
    """Wildcards stay within a segment, ``**`` spans segments, and a match owns the tree below it."""
    assert covers(patterns, path) is expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (["src/api"], ["src/api/x.py"], True),
        (["src/api"], ["src/apis"], False),
        (["src/a.py"], ["src/*.py"], True),
        (["src/a.md"], ["src/*.py"], False),
        (["src/*.py"], ["src/*.md"], False),
        (["src/*.py"], ["src/test_*"], True),
        (["src/**"], ["src/a.py"], True),
        (["a/**"], ["b/**"], False),
        (["**/x.py"], ["a/b/x.py"], True),
        (["**/x.py"], ["a/b/y.py"], True),  # a directory a/b/y.py could hold an x.py
        (["*/x"], ["a/*"], True),
        (["*/x"], ["a/y"], False),
        (["src/*"], ["src/a/b.py"], True),
        (["a[0-9]"], ["ab"], False),
        (["a**b"], ["ab"], True),
        (["a**b"], ["ba"], False),
        (["a*c*b*c"], ["*ab*c"], True),
        (["**/a/**/b"], ["**/b/**/a"], True),
        (["a[0-9]"], ["a[!x]"], True),
        (["a", "b"], ["c", "b/**"], True),
        ([], ["**"], False),
        (["**"], ["anything"], True),
    ],
)
def test_two_scopes_intersect_exactly_when_a_path_could_belong_to_both(
    a: list[str], b: list[str], expected: bool
) -> None:
    """Literals, globs in one directory and ``**`` are told apart exactly; the answer is the same both ways."""
    assert could_intersect(a, b) is expected
    assert could_intersect(b, a) is expected


def test_very_long_patterns_are_compared_without_exhausting_the_stack() -> None:
    """Patterns at the length limit, with many segments or characters, still get an answer."""
    deep = "/".join(["*"] * 2000)
    wide = "a*" * 2000
    assert could_intersect([deep], ["/".join(["x"] * 2000)])
    assert could_intersect([wide], ["a" * 4000])
    assert covers([deep], "/".join(["y"] * 2001))


def test_out_of_scope_names_the_touched_paths_no_pattern_owns() -> None:
    """Paths named by the worker (from its cwd or absolute) and paths seen changing are checked, each once."""
    found = out_of_scope(
        ROOT,
        Path("/repo/sub"),
        ["sub/src/**"],
        ["src/a.py", "notes.md", "/repo/sub/notes.md", "/elsewhere/x"],
        ["sub/src/b.py", "top.txt", "caf\udce9.txt"],
    )
    assert found == ['"caf\\351.txt"', "sub/notes.md", "top.txt"]
    assert out_of_scope(ROOT, ROOT, [], ["anything"], ["else"]) == []


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (("/w/one", "src/**"), ("/w/one", "src/a.py"), True),
        (("/w/one", "src/**"), ("/w/two", "src/**"), False),
        (("/w", "lib/**"), ("/w/lib", "a.py"), True),
        (("/w", "lib/b.py"), ("/w/lib", "a.py"), False),
        (("/w", "**"), ("/w/lib", "*.py"), True),
        (("/w/proj[1]", "a.py"), ("/w/proj[1]", "*.py"), True),
        (("/w/proj[1]", "a.py"), ("/w/proj1", "a.py"), False),
        (("/w/p*", "a.py"), ("/w/px", "a.py"), False),
        (("/", "w/a.py"), ("/w", "a.py"), True),
    ],
)
def test_scopes_of_worktrees_meet_on_the_files_they_name(
    a: tuple[str, str], b: tuple[str, str], expected: bool
) -> None:
    """The same pattern in two worktrees names other files; a nested worktree's files are its enclosing one's too.

    A worktree whose path holds wildcard characters is read literally.
    """
    first, second = owned(a[0], [a[1]], False), owned(b[0], [b[1]], False)
    assert (meets(first, second), meets(second, first)) == (expected, expected)


def test_where_names_ignore_case_scopes_and_paths_compare_without_case() -> None:
    """As on macOS, ``Docs/**`` owns ``docs/a.md``; where either worktree's names keep their case, they differ."""
    docs, lower = owned("/w", ["Docs/**"], True), owned("/w", ["docs/a.md"], False)
    assert (meets(docs, lower), meets(lower, docs)) == (True, True)
    assert not meets(docs._replace(fold=False), lower)
    assert covers(["Docs/**"], "docs/a.md", fold=True)
    assert not covers(["Docs/**"], "docs/a.md")
    assert out_of_scope(ROOT, ROOT, ["Docs/**"], ["DOCS/b.md"], ["docs/a.md", "src/x.py"], fold=True) == ["src/x.py"]


def test_a_job_recorded_without_its_worktree_keeps_its_patterns_as_given() -> None:
    """A journal from before worktrees were recorded still compares its scopes with each other."""
    assert owned(None, ["src/**"], False).patterns == ("src/**",)
    assert meets(owned(None, ["src/**"], False), owned(None, ["src/a.py"], False))


_SEGMENT = st.sampled_from(["a", "b", "ab", "ba", "*", "?", "a*", "*b", "[ab]", "[!a]", "a?", "**"])
_PATTERN = st.lists(_SEGMENT, min_size=1, max_size=4).map("/".join)
_NAME = st.sampled_from(["a", "b", "ab", "ba", "aa", "bb", "c", "abb"])
_PATH = st.lists(_NAME, min_size=1, max_size=5).map("/".join)


def _owns(pattern: list[str], parts: list[str]) -> bool:
    """The reference: the pattern matches the path's segments, ``**`` taking any number of them."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return _owns(pattern[1:], parts) or (bool(parts) and _owns(pattern, parts[1:]))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _owns(pattern[1:], parts[1:])


@given(st.lists(_PATTERN, min_size=1, max_size=3), _PATH)
def test_a_scope_owns_a_path_when_a_pattern_matches_it_or_a_directory_above_it(patterns: list[str], path: str) -> None:
    """covers agrees with a plain recursive matcher applied to the path and each directory above it."""
    parts = path.split("/")
    expected = any(_owns(p.split("/"), parts[:k]) for p in patterns for k in range(1, len(parts) + 1))
    assert covers(patterns, path) is expected


@given(st.lists(_PATTERN, min_size=1, max_size=3), st.lists(_PATTERN, min_size=1, max_size=3), _PATH)
def test_scopes_that_both_own_a_path_always_intersect(a: list[str], b: list[str], path: str) -> None:
    """Soundness: the scheduler never runs two jobs at once whose scopes both own some path."""
    if covers(a, path) and covers(b, path):
        assert could_intersect(a, b)


@given(_PATH, _PATH)
def test_two_plain_paths_intersect_exactly_when_one_lies_under_the_other(a: str, b: str) -> None:
    """Without wildcards the answer is exact: a path and what lies below it."""
    below = a == b or a.startswith(b + "/") or b.startswith(a + "/")
    assert could_intersect([a], [b]) is below
