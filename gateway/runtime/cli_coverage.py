"""``edigate coverage``: how much of what partners send the mappers put into records.

Responsible for translating files (or every file under folders) and counting, per
transaction type, the element values the documents carried, how many the records mapped
and how many they carry as unmapped data, with the element references most often
unmapped: where to improve the mappings next. Counts are in the units of
``translators.accounting`` (mapped = values - unmapped).
It must not change how anything is translated.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from translators.accounting import Coverage, count_values
from translators.detect import HEAD_BYTES, detect_standard
from translators.edifact.mappers import COVERAGES as EDIFACT_COVERAGES
from translators.edifact.pipeline import MessageOutcome, translate_edifact
from translators.errors import TranslatorError
from translators.x12.mappers import COVERAGES as X12_COVERAGES
from translators.x12.pipeline import TransactionOutcome, translate_x12

__all__ = ["TypeCoverage", "coverage_of", "write_report"]

_TOP = 10


@dataclass
class TypeCoverage:
    """The counts of one transaction type (``"850"``, ``"ORDERS"``)."""

    transactions: int = 0
    values: int = 0
    unmapped: int = 0
    refs: Counter[str] = field(default_factory=Counter)

    @property
    def mapped(self) -> int:
        return self.values - self.unmapped


def _files(paths: Iterable[str]) -> Iterator[Path]:
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def _translated(data: bytes) -> Iterator[tuple[str, Coverage, Any, dict[str, Any]]]:
    if detect_standard(data[:HEAD_BYTES]) == "x12":
        for outcome in translate_x12(data):
            if isinstance(outcome, TransactionOutcome) and outcome.data is not None:
                tx = outcome.document
                yield tx.set_id, X12_COVERAGES[tx.set_id], tx.segments, outcome.data
        return
    for message in translate_edifact(data):
        if isinstance(message, MessageOutcome) and message.data is not None:
            msg = message.document
            yield msg.type, EDIFACT_COVERAGES[msg.type], msg.segments, message.data


def coverage_of(paths: Iterable[str]) -> tuple[dict[str, TypeCoverage], list[str]]:
    """Counts per transaction type over the files, and the files that could not be read."""
    found: dict[str, TypeCoverage] = {}
    unreadable: list[str] = []
    for path in _files(paths):
        try:
            data = path.read_bytes()
            for kind, coverage, segments, record in _translated(data):
                counts = found.setdefault(kind, TypeCoverage())
                counts.transactions += 1
                counts.values += count_values(segments, coverage)
                counts.unmapped += len(record["unmapped"])
                counts.refs.update(entry["element"] for entry in record["unmapped"])
        except (OSError, TranslatorError) as exc:
            unreadable.append(f"{path}: {exc}")
    return found, unreadable


def write_report(paths: Iterable[str], out: IO[str], as_json: bool = False) -> int:
    """Write the report; the number of transactions counted."""
    found, unreadable = coverage_of(paths)
    total = sum(c.transactions for c in found.values())
    if as_json:
        out.write(json.dumps({
            kind: {"transactions": c.transactions, "values": c.values, "mapped": c.mapped,
                   "unmapped": c.unmapped, "top_unmapped": dict(c.refs.most_common(_TOP))}
            for kind, c in sorted(found.items())
        } | {"unreadable": unreadable}, indent=2) + "\n")
        return total
    out.write(f"{'type':<8} {'sets':>6} {'values':>9} {'mapped':>9} {'unmapped':>9} "
              f"{'mapped %':>9}  most often unmapped\n")
    for kind, c in sorted(found.items()):
        share = 100.0 * c.mapped / c.values if c.values else 100.0
        top = ", ".join(f"{ref} {n}" for ref, n in c.refs.most_common(_TOP))
        out.write(f"{kind:<8} {c.transactions:>6} {c.values:>9} {c.mapped:>9} "
                  f"{c.unmapped:>9} {share:>8.1f}%  {top}\n")
    for line in unreadable:
        out.write(f"unreadable: {line}\n")
    return total
