"""The worker's final report, ``{summary, modifiedFiles}``, read by a pydantic model and checked against the contract.

A report that breaks the contract still gives what it can: a field of the right
type is kept even when the other one is missing or wrong, so the boss reads a
worker's summary beside the reason its file list cannot be trusted.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

MISSING = "the final message is missing, so the worker reported no modifiedFiles"
NOT_JSON = "the final message is not valid JSON, so not the object {summary, modifiedFiles}"
NOT_OBJECT = "the final message is JSON but not an object {summary, modifiedFiles}"
NO_FILES = "the final message has no modifiedFiles list of paths"
NO_SUMMARY = "the final message has no summary string"


def _or_none(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    """Validate a field, reading a value of the wrong type as absent."""
    try:
        return handler(value)
    except ValidationError:
        return None


class WorkerReport(BaseModel):
    """The final message as the contract asks for it; a field of the wrong type reads as absent."""

    model_config = ConfigDict(strict=True, populate_by_name=True)

    summary: Annotated[str | None, WrapValidator(_or_none)] = None
    modified_files: Annotated[list[str] | None, WrapValidator(_or_none)] = Field(default=None, alias="modifiedFiles")

    @property
    def contract_error(self) -> str | None:
        """How the report breaks the contract, or None when it keeps it."""
        if self.summary is None:
            return NO_SUMMARY
        return NO_FILES if self.modified_files is None else None


def read_report(text: str | None) -> tuple[WorkerReport, str | None]:
    """Read a final message; return what it reports and how it breaks the contract, if it does."""
    if not text or not text.strip():
        return WorkerReport(), MISSING
    try:
        report = WorkerReport.model_validate_json(text)
    except ValidationError as exc:
        return WorkerReport(), NOT_JSON if exc.errors()[0]["type"] == "json_invalid" else NOT_OBJECT
    return report, report.contract_error
