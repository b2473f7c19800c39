"""How an event reads as a line: a worker's text shown, never obeyed by the person's terminal."""

from __future__ import annotations

from codex_subagents.jobs.models import Alert
from codex_subagents.observe.activity import short
from codex_subagents.observe.rows import alert_words, plain


def test_a_control_sequence_in_a_workers_text_is_shown_as_a_mark_not_sent_to_the_terminal() -> None:
    """Escape, bell and C1 characters become the replacement character; the rest of the text stays."""
    assert short("echo \x1b]0;owned\x07 \x9b2J done") == "echo �]0;owned� �2J done"


def test_a_long_text_is_one_line_cut_to_two_hundred_characters() -> None:
    """Newlines and tabs fold to spaces, and a long line ends in an ellipsis."""
    assert short("a\n\tb") == "a b"
    assert short("x" * 300) == "x" * 199 + "…"


def test_a_plain_table_shows_a_label_a_path_and_an_alert_without_their_control_characters() -> None:
    """``watch --once`` prints a boss's label, a worker's file name and the alert that names it as marks."""
    alert = Alert(kind="collision", path="a\x1b[2J.py", jobs=["j-1", "j-2"], seen="file_change", at=0.0)
    assert alert_words(alert, "j-2") == "⚠ collision a�[2J.py with j-1"
    cells = ("j-2", "fix\x1b]0;owned\x07", "▶ running", "3s", "idle", "1: a\x1b[2J.py", "0", alert_words(alert, "j-2"))
    table = plain("jobs of /repo\x9b2J\n1 running", [cells])
    assert not {char for char in table if ord(char) < 32 or 127 <= ord(char) < 160} - {"\n"}
    assert "fix�]0;owned�" in table and "jobs of /repo�2J" in table
