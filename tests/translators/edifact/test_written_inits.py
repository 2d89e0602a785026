"""The EDIFACT classes with a hand-written ``__init__`` (``@dataclass(init=False)``, so that
mypyc compiles it) take exactly their dataclass fields, in field order, and store each one
where it belongs: a field added to the class but not to its ``__init__`` fails here."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from translators.edifact.envelope import Message
from translators.edifact.pipeline import MessageOutcome, MessageSummary


@pytest.mark.parametrize("cls", [Message, MessageSummary, MessageOutcome])
def test_written_init_takes_and_stores_every_field(cls: type) -> None:
    if not inspect.isfunction(cls.__init__):
        pytest.skip("compiled build: mypyc checks attribute types and hides the signature; "
                    "the pure-Python run checks the source")
    fields = [f.name for f in dataclasses.fields(cls)]
    parameters = list(inspect.signature(cls.__init__).parameters)[1:]
    assert parameters == fields
    values = {name: object() for name in fields}
    built = cls(**values)
    for name in fields:
        assert getattr(built, name) is values[name], name
