"""How an event reads as a line: a worker's text shown, never obeyed by the person's terminal."""

from __future__ import annotations

from codex_subagents.jobs.models import Alert
from codex_subagents.observe.activity import short
from codex_subagents.observe.rows import alert_words


def test_a_control_sequence_in_a_workers_text_is_shown_as_a_mark_not_sent_to_the_terminal() -> None:
    """Escape, bell and C1 characters become the replacement character; the rest of the text stays."""
    assert short("echo \x1b]0;owned\x07 \x9b2J done") == "echo �]0;owned� �2J done"


def test_a_long_text_is_one_line_cut_to_two_hundred_characters() -> None:
    """Newlines and tabs fold to spaces, and a long line ends in an ellipsis."""
    assert short("a\n\tb") == "a b"
    assert short("x" * 300) == "x" * 199 + "…"


def test_an_alerts_words_show_a_workers_file_name_without_its_control_characters() -> None:
    """An alert names the path a worker wrote; an escape in it is a mark in ``log``, the pane and the table."""
    alert = Alert(kind="collision", path="a\x1b[2J.py", jobs=["j-1", "j-2"], seen="file_change", at=0.0)
    assert alert_words(alert, "j-2") == "⚠ collision a�[2J.py with j-1"
