"""When the suite runs against the mypyc build (`make test-compiled`), it really does."""

from __future__ import annotations

import importlib
import os

import pytest

HOT = [
    "translators.edifact.reader",
    "translators.edifact.envelope",
    "translators.x12.reader",
    "translators.x12.envelope",
    "translators.x12.validator",
    "translators.x12.pipeline",
    "translators.x12.ack",
    "translators.x12.mappers.po",
    "translators.record_data",
    "translators.record_plans",
    "translators.summary_rows",
]


@pytest.mark.skipif(
    os.environ.get("EDIGATE_EXPECT_COMPILED") != "1",
    reason="only meaningful under `make test-compiled` (EDIGATE_EXPECT_COMPILED=1)",
)
@pytest.mark.parametrize("name", HOT)
def test_hot_modules_are_extension_modules(name: str) -> None:
    """Each hot-path module is loaded from a compiled extension, not from its .py file."""
    module = importlib.import_module(name)
    assert (module.__file__ or "").endswith(".so"), module.__file__
