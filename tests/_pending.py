"""Turn the Gherkin tags of `features/` into pytest marks.

Two tags carry meaning in this repository:

- `@pending` marks a scenario whose step code is not written yet.
  It becomes `pytest.mark.xfail(strict=True, raises=StepDefinitionNotFoundError)` plus the `pending` mark:
  the scenario runs up to its first undefined step and is reported as XFAIL with the reason below.
  Any other failure fails the run, and a pending scenario that passes fails it as XPASS(strict),
  which is the signal to remove the tag.
  `-m "not pending"` deselects pending scenarios; `tests/test_traceability.py` checks them without running
  them: each is bound, so it carries this mark, and each still has a step without a definition.
- `@req:<requirement-slug>` names the OpenSpec requirement a scenario checks and becomes `pytest.mark.req(slug)`.

Every other tag is left to pytest-bdd, which turns it into a mark of the same name.
Tags on an `Examples:` table bypass the hook in pytest-bdd, so they are not used here.

The acceptance suite wires this in from its `conftest.py`:

    def pytest_configure(config: pytest.Config) -> None:
        register_markers(config)

    def pytest_bdd_apply_tag(tag: str, function: Callable[..., object]) -> bool | None:
        return apply_tag(tag, function)
"""

from collections.abc import Callable

import pytest
from pytest_bdd.exceptions import StepDefinitionNotFoundError

PENDING_TAG = "pending"
REQUIREMENT_TAG_PREFIX = "req:"
PENDING_REASON = "@pending: the step code for this scenario is not written yet"


def register_markers(config: pytest.Config) -> None:
    """Declare the `pending` and `req` marks so that `--strict-markers` accepts them."""
    config.addinivalue_line("markers", f"{PENDING_TAG}: the scenario's step code is not written yet")
    config.addinivalue_line("markers", "req(slug): the OpenSpec requirement the scenario checks")


def apply_tag(tag: str, function: Callable[..., object]) -> bool | None:
    """Mark `function` for a pytest-bdd `tag`; return True when the tag was handled, None to defer."""
    if tag == PENDING_TAG:
        pytest.mark.xfail(strict=True, raises=StepDefinitionNotFoundError, reason=PENDING_REASON)(function)
        pytest.mark.pending(function)
        return True
    if tag.startswith(REQUIREMENT_TAG_PREFIX):
        pytest.mark.req(tag.removeprefix(REQUIREMENT_TAG_PREFIX))(function)
        return True
    return None
