"""The journal pages events by cursor from disk and survives a torn tail."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_subagents.jobs.events import EVENT_ADAPTER, parse_line
from codex_subagents.jobs.journal import Journal, recorded


def fill(journal: Journal, count: int) -> None:
    """Append ``count`` distinguishable events, as a worker prints them."""
    for seq in range(journal.count, journal.count + count):
        line = b'{"type":"item.completed","item":{"type":"agent_message","id":"m","text":"event %d"}}' % seq
        journal.append(recorded(parse_line(line, seq, 0.5), line))


def test_pages_start_exactly_at_the_cursor(tmp_path: Path) -> None:
    """A page returns the events from the cursor on, in order, and nothing past the end."""
    journal = Journal(tmp_path / "job")
    fill(journal, 25)
    assert [event.seq for event in journal.read(10, 5)] == [10, 11, 12, 13, 14]
    assert [event.seq for event in journal.read(23, 100)] == [23, 24]
    assert journal.read(25, 10) == []
    assert [event.seq for event in journal.read(journal.count - 1, 1)] == [24]


def test_reopening_a_journal_keeps_every_cursor_valid(tmp_path: Path) -> None:
    """A journal opened again, as after a restart, reads the same events at the same cursors and appends on."""
    journal = Journal(tmp_path / "job")
    fill(journal, 3)
    journal.close()
    again = Journal(tmp_path / "job")
    fill(again, 2)
    assert again.count == 5
    assert [event.seq for event in again.read(0, 10)] == [0, 1, 2, 3, 4]


def test_a_torn_last_line_and_index_entry_are_cut_off(tmp_path: Path) -> None:
    """Bytes of a half-written event, in the events file or the index, are dropped on reopening."""
    journal = Journal(tmp_path / "job")
    fill(journal, 4)
    journal.close()
    with (tmp_path / "job" / "events.jsonl").open("ab") as events:
        events.write(b'{"seq":4,"type":"unpa')
    with (tmp_path / "job" / "events.idx").open("ab") as index:
        index.write(b"\x01\x02\x03")
    again = Journal(tmp_path / "job")
    assert again.count == 4
    fill(again, 1)
    assert [event.seq for event in again.read(0, 10)] == [0, 1, 2, 3, 4]


def test_a_lost_index_is_rebuilt_from_the_events(tmp_path: Path) -> None:
    """The index can always be recomputed, so deleting it loses nothing."""
    journal = Journal(tmp_path / "job")
    fill(journal, 6)
    journal.close()
    (tmp_path / "job" / "events.idx").unlink()
    assert [event.seq for event in Journal(tmp_path / "job").read(2, 3)] == [2, 3, 4]


def test_reading_the_last_page_never_touches_earlier_events(tmp_path: Path) -> None:
    """With 100,000 events, the page at the end reads fine even when every earlier line is unreadable.

    Each earlier line is overwritten in place with bytes of the same length that are not JSON, so a
    reader that scanned from the start would fail: the page cost does not grow with the history.
    """
    journal = Journal(tmp_path / "job")
    fill(journal, 100_000)
    journal.close()
    events = tmp_path / "job" / "events.jsonl"
    data = bytearray(events.read_bytes())
    cut = data.index(b'"seq":99900')
    start = data.rindex(b"\n", 0, cut) + 1
    for i in range(start):
        if data[i] != 0x0A:
            data[i] = 0x21
    events.write_bytes(bytes(data))
    again = Journal(tmp_path / "job")
    assert [event.seq for event in again.read(99_900, 100)] == list(range(99_900, 100_000))


@pytest.mark.parametrize(
    ("line", "as_printed"),
    [
        (
            b'{"type":"item.completed","item":{"id":"c","type":"command_execution","command":"ls",'
            b'"status":"completed","extra":"dropped"},"seq":99,"at":0} \r',
            True,
        ),
        (b'{"type":"turn.started"}', True),
        (b'{"type":"item.completed","item":{"type":"web_search","id":"item_1","id":"ws_1","query":"q"}}', False),
        (b'{"type":"turn.failed"}', False),
        (b"\xff not text", False),
    ],
    ids=["extra fields, stamps of its own, CRLF", "bare", "duplicate ids", "wrong shape", "binary"],
)
def test_the_journal_line_of_an_event_reads_back_as_that_event(line: bytes, as_printed: bool) -> None:
    """A well-formed line is kept as printed, else the event's own JSON; either reads back as the event, stamped."""
    event = parse_line(line, 7, 1.5)
    kept = recorded(event, line)
    assert EVENT_ADAPTER.validate_json(kept) == event
    assert (event.seq, event.at) == (7, 1.5)
    assert kept.startswith(line.rstrip()[:-1]) == as_printed
