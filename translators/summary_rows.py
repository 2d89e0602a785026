"""Compact storage for the per-transaction summaries an interchange keeps until its trailer.

A 997/999 or CONTRL answers every transaction set or message of a group or interchange, so
the pipelines keep a summary of each until GE/IEA (UNE/UNZ). Kept as objects, those cost
a couple of hundred bytes a transaction and an interchange of a hundred thousand sets grew
the translator's memory by tens of megabytes. Most summaries are of clean transactions and
hold nothing but a few short identifiers: ``SummaryRows`` packs such rows of strings into
joined text, a few bytes over their length each.
It must not know what the fields mean: the pipelines' summary collections do.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

__all__ = ["SummaryRows"]

_FIELD: Final = "\x1f"  # ASCII unit separator
_ROW: Final = "\x1e"  # ASCII record separator
_CHUNK: Final = 256  # rows joined into one string at a time


class SummaryRows:
    """Rows of strings, appended and read back in order."""

    def __init__(self) -> None:
        self._chunks: list[str] = []
        self._pending: list[str] = []
        self.count = 0

    @staticmethod
    def packable(fields: Sequence[str]) -> bool:
        """True when no field holds a separator (received text may hold any character)."""
        return not any(_FIELD in value or _ROW in value for value in fields)

    def add(self, fields: Sequence[str]) -> None:
        """Append a row; its fields must be ``packable``."""
        self._pending.append(_FIELD.join(fields))
        self.count += 1
        if len(self._pending) >= _CHUNK:
            self._chunks.append(_ROW.join(self._pending))
            self._pending = []

    def __iter__(self) -> Iterator[list[str]]:
        for chunk in self._chunks:
            for row in chunk.split(_ROW):
                yield row.split(_FIELD)
        for row in self._pending:
            yield row.split(_FIELD)
