"""Order lines: which line of a document is which line of the order, and in what unit.

Responsible for ``product_keys`` (every identifier a line carries, GTIN-family numbers
compared as GTIN-14 so a UPC-A and its EAN-13 or GTIN-14 are one product),
``LineMatcher`` (a document line to the order line it speaks of: a shared product
identifier first, the line number second, never a line whose identifiers of one kind
contradict it) and ``convert`` (a quantity from one unit to another where the
conversion is known: units of count, of mass, of volume, and a pack unit through the
pack size the order line gives).
It must not read the database or decide what a discrepancy is (``gateway.orders.story``
does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

__all__ = ["LineMatcher", "convert", "decimal_of", "product_keys"]

# Identifiers of one product whatever the numbering: UPC-A (12), EAN-13 and GTIN-14 are
# the same number zero-padded to 14 digits (GS1 General Specifications, 3.3.2).
_GTIN_FAMILY: Final = ("gtin", "upc", "ean")
_OTHER_IDS: Final = ("buyer_item", "vendor_item", "sku", "isbn", "model", "manufacturer_part")

# Units of count, mass and volume as UN/ECE Rec 20 codes, in a base unit of their
# dimension (one, kilogram, litre). Pack units (case, carton, box, pack) have no fixed
# size: they convert only through a line's pack size.
_FACTORS: Final[Mapping[str, tuple[str, Decimal]]] = {
    "EA": ("count", Decimal(1)), "C62": ("count", Decimal(1)), "H87": ("count", Decimal(1)),
    "PR": ("count", Decimal(2)), "HD": ("count", Decimal(6)), "DZN": ("count", Decimal(12)),
    "CEN": ("count", Decimal(100)), "GRO": ("count", Decimal(144)),
    "MIL": ("count", Decimal(1000)), "GGR": ("count", Decimal(1728)),
    "KGM": ("mass", Decimal(1)), "GRM": ("mass", Decimal("0.001")),
    "TNE": ("mass", Decimal(1000)), "LBR": ("mass", Decimal("0.45359237")),
    "ONZ": ("mass", Decimal("0.028349523125")),
    "LTR": ("volume", Decimal(1)), "MLT": ("volume", Decimal("0.001")),
    "GLL": ("volume", Decimal("3.785411784")),
}
_PACK_UNITS: Final = frozenset({"CS", "CT", "BX", "PK", "CA", "PL", "PF", "BE", "BG"})


def decimal_of(value: Any) -> Decimal | None:
    """A record amount (text, as the records carry them) as a Decimal; ``None`` when it is
    missing or not a number."""
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def product_keys(item_ids: Mapping[str, Any] | None) -> frozenset[tuple[str, str]]:
    """Every identifier of a line's ``item_ids`` as (kind, value); the GTIN family as
    ``("gtin", 14 digits)``."""
    if not item_ids:
        return frozenset()
    keys: set[tuple[str, str]] = set()
    for name in _GTIN_FAMILY:
        value = str(item_ids.get(name) or "").strip()
        if value.isdigit() and 8 <= len(value) <= 14:
            keys.add(("gtin", value.zfill(14)))
        elif value:
            keys.add((name, value))
    for name in _OTHER_IDS:
        value = str(item_ids.get(name) or "").strip()
        if value:
            keys.add((name, value))
    for other in item_ids.get("other") or ():
        value = str(other.get("value") or "").strip()
        if value:
            keys.add((f"other:{other.get('qualifier') or ''}", value))
    return frozenset(keys)


def _contradicts(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> bool:
    """Whether two lines carry an identifier of the same kind with different values and
    share none: then they are different products whatever their line numbers say."""
    if a & b:
        return False
    kinds_a = {kind for kind, _ in a}
    return any(kind in kinds_a for kind, _ in b)


@dataclass(frozen=True, slots=True)
class _Candidate:
    key: str
    line_number: str | None
    products: frozenset[tuple[str, str]]


class LineMatcher:
    """Finds the order line a document line speaks of.

    ``lines`` are the order's lines as (key, line number, item ids). A document line
    matches the order line it shares a product identifier with (the one with its line
    number among several), else the order line with its line number unless their
    identifiers contradict; ``None`` when neither holds.
    """

    def __init__(self, lines: Sequence[tuple[str, str | None, Mapping[str, Any] | None]]):
        self._lines = [_Candidate(key, _number(number), product_keys(ids))
                       for key, number, ids in lines]

    def add(self, key: str, line_number: str | None, item_ids: Mapping[str, Any] | None
            ) -> None:
        self._lines.append(_Candidate(key, _number(line_number), product_keys(item_ids)))

    def match(self, line_number: str | None, item_ids: Mapping[str, Any] | None) -> str | None:
        number = _number(line_number)
        products = product_keys(item_ids)
        sharing = [c for c in self._lines if c.products & products] if products else []
        if len(sharing) == 1:
            return sharing[0].key
        if sharing:
            same_number = [c for c in sharing if number is not None and c.line_number == number]
            return (same_number or sharing)[0].key
        if number is None:
            return None
        for candidate in self._lines:
            if candidate.line_number == number and not _contradicts(candidate.products,
                                                                    products):
                return candidate.key
        return None


def _number(value: str | None) -> str | None:
    """A line number as compared: without surrounding spaces and leading zeros
    (``"001"`` and ``"1"`` are one line)."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    stripped = text.lstrip("0")
    return stripped or "0"


def convert(quantity: Decimal, unit: str | None, to_unit: str | None,
            pack_size: Decimal | None = None) -> Decimal | None:
    """``quantity`` in ``unit`` expressed in ``to_unit`` (Rec 20 codes), or ``None`` when
    the conversion is not known. A missing unit on either side is taken to be the other
    one (a partner that leaves the unit out means the order's). ``pack_size`` is how many
    ones a pack (case, carton, box, ...) holds, for a pack unit on either side."""
    if not unit or not to_unit or unit == to_unit:
        return quantity
    source = _FACTORS.get(unit)
    target = _FACTORS.get(to_unit)
    if source is not None and target is not None:
        if source[0] != target[0]:
            return None
        return quantity * source[1] / target[1]
    if pack_size is not None and pack_size > 0:
        # A pack holds ``pack_size`` ones (PO4 01 / PAC's inner count).
        if unit in _PACK_UNITS and target is not None and target[0] == "count":
            return quantity * pack_size / target[1]
        if to_unit in _PACK_UNITS and source is not None and source[0] == "count":
            return quantity * source[1] / pack_size
    return None
