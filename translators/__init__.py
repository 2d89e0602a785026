"""edigate's translators: EDI bytes in, validated transactions, canonical records and
acknowledgments out.

A pure library: no web framework, no database, no sockets. The names below are the public
API (pinned by a test); everything else is internal and may change. They are imported on
first use, so ``import translators.x12.reader`` stays cheap for tools that need only that.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from translators.edifact.contrl import CONTRLOptions, build_contrl
    from translators.edifact.pipeline import MessageOutcome, translate_edifact
    from translators.edifact.reader import EDIFACTReader
    from translators.errors import EDISyntaxError, Issue, TranslatorError
    from translators.outcome import DocumentOutcome, GroupOutcome, InterchangeOutcome
    from translators.records import Record, Source
    from translators.x12.ack import AckOptions, build_acknowledgment
    from translators.x12.pipeline import TransactionOutcome, translate_x12
    from translators.x12.reader import X12Reader
    from translators.x12.segment import Delimiters, Segment

_EXPORTS = {
    "AckOptions": "translators.x12.ack",
    "CONTRLOptions": "translators.edifact.contrl",
    "Delimiters": "translators.x12.segment",
    "EDIFACTReader": "translators.edifact.reader",
    "EDISyntaxError": "translators.errors",
    "DocumentOutcome": "translators.outcome",
    "GroupOutcome": "translators.outcome",
    "InterchangeOutcome": "translators.outcome",
    "Issue": "translators.errors",
    "MessageOutcome": "translators.edifact.pipeline",
    "Record": "translators.records",
    "Segment": "translators.x12.segment",
    "Source": "translators.records",
    "TransactionOutcome": "translators.x12.pipeline",
    "TranslatorError": "translators.errors",
    "X12Reader": "translators.x12.reader",
    "build_acknowledgment": "translators.x12.ack",
    "build_contrl": "translators.edifact.contrl",
    "translate_edifact": "translators.edifact.pipeline",
    "translate_x12": "translators.x12.pipeline",
}

__all__ = [
    "AckOptions",
    "CONTRLOptions",
    "Delimiters",
    "DocumentOutcome",
    "EDIFACTReader",
    "EDISyntaxError",
    "GroupOutcome",
    "InterchangeOutcome",
    "Issue",
    "MessageOutcome",
    "Record",
    "Segment",
    "Source",
    "TransactionOutcome",
    "TranslatorError",
    "X12Reader",
    "build_acknowledgment",
    "build_contrl",
    "translate_edifact",
    "translate_x12",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'translators' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
