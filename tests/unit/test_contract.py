"""The worker's final report is read by a model: each way of breaking the contract is named, what is valid is kept."""

from __future__ import annotations

import pytest

from codex_subagents.jobs.contract import MISSING, NO_FILES, NO_SUMMARY, NOT_JSON, NOT_OBJECT, read_report


@pytest.mark.parametrize(
    ("text", "summary", "files", "error"),
    [
        ('{"summary": "done", "modifiedFiles": ["a.txt"]}', "done", ["a.txt"], None),
        (None, None, None, MISSING),
        ("  \n", None, None, MISSING),
        ("I changed a.txt", None, None, NOT_JSON),
        ('{"summary": "done"} trailing', None, None, NOT_JSON),
        ('["a.txt"]', None, None, NOT_OBJECT),
        ("null", None, None, NOT_OBJECT),
        ('{"summary": "done"}', "done", None, NO_FILES),
        ('{"summary": "done", "modifiedFiles": [1]}', "done", None, NO_FILES),
        ('{"summary": "done", "modifiedFiles": "a.txt"}', "done", None, NO_FILES),
        ('{"modifiedFiles": ["a.txt"]}', None, ["a.txt"], NO_SUMMARY),
        ('{"summary": 5, "modifiedFiles": []}', None, [], NO_SUMMARY),
    ],
)
def test_a_final_message_is_read_for_what_it_keeps_and_how_it_breaks_the_contract(
    text: str | None, summary: str | None, files: list[str] | None, error: str | None
) -> None:
    """A field of the right type is kept even when the other breaks the contract; the error names the broken part."""
    report, contract_error = read_report(text)
    assert (report.summary, report.modified_files, contract_error) == (summary, files, error)
