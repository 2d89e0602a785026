"""Compact storage for the per-transaction summaries an interchange keeps until its trailer.

A 997/999 or CONTRL answers every transaction set or message of a group or interchange, so
the pipelines keep a summary of each until GE/IEA (UNE/UNZ). Kept as objects, those cost
a couple of hundred bytes a transaction and an interchange of a hundred thousand sets grew
the translator's memory by tens of megabytes. Most summaries are of clean transactions and
hold nothing but a few short identifiers: ``SummaryRows`` packs such rows of strings into
joined text, a few bytes over their length each, and ``PackedSummaries`` keeps a sequence
of summaries with the clean ones packed that way. It must not know what the fields mean:
the pipelines' subclasses of ``PackedSummaries`` (``TransactionSummaries``,
``MessageSummaries``) do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Final, Generic, TypeVar

__all__ = ["PackedSummaries", "SummaryRows"]

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


S = TypeVar("S")


class PackedSummaries(Generic[S]):
    """Summaries of a group's (or an interchange's) transactions, in order, kept small
    until its trailer.

    A summary that the subclass reduces to its identifiers (``_identifiers``: a clean
    transaction) is packed into ``SummaryRows``; any other is kept whole. Iteration gives
    summary objects either way (``_restore`` makes them again from the identifiers).
    Subclasses say what a summary's fields are; this class must not.
    """

    def __init__(self, summaries: Iterable[S] = ()) -> None:
        self._rows = SummaryRows()
        self._kept: dict[int, S] = {}
        self._count = 0
        for summary in summaries:
            self.append(summary)

    def _identifiers(self, summary: S) -> Sequence[str] | None:
        """The fields that make ``summary`` again, or None to keep it whole."""
        raise NotImplementedError

    def _restore(self, fields: list[str]) -> S:
        """The summary ``_identifiers`` gave ``fields`` of."""
        raise NotImplementedError

    def append(self, summary: S) -> None:
        fields = self._identifiers(summary)
        if fields is None or not SummaryRows.packable(fields):
            self._kept[self._count] = summary
        else:
            self._rows.add(fields)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[S]:
        rows = iter(self._rows)
        for index in range(self._count):
            kept = self._kept.get(index)
            if kept is not None:
                yield kept
            else:
                yield self._restore(next(rows))

    def __getitem__(self, index: int) -> S:
        return list(self)[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedSummaries):
            return list(self) == list(other)
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"
