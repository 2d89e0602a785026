"""Packaging and measures of ship notice levels, shared by the 856 and DESADV mappers.

Responsible for putting packagings, weights, volumes, dimensions and other measurements
onto one level of a ship notice tree (shipment, order, tare, pack or item), the same way
whatever the standard: every value is appended to its list (``packagings``, ``weights``,
``volumes``, ``measurements``), the first packaging and the gross weight (qualifier G in
X12 187 and EDIFACT 6313 alike; else the first weight) also fill the single
``packaging``/``weight`` fields older consumers read, and length/width/height fill
``dimensions`` unless it already holds that measure or another unit, in which case the
value is kept as a measurement rather than overwritten. ``measure_kind`` tells what a MEA
measures from its attribute code and unit.
It must not parse EDI (the mappers pass values already read) and must not convert units.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

__all__ = [
    "DIMENSION_FIELDS",
    "add_dimension",
    "add_measurement",
    "add_packaging",
    "add_volume",
    "add_weight",
    "measure_kind",
]

# Measured attribute codes that name a dimension: X12 738 and EDIFACT 6313 agree on these.
DIMENSION_FIELDS: Final = {"LN": "length", "WD": "width", "HT": "height"}

# X12 738 codes of a weight (G gross, N actual net, WT weight) and of a volume; EDIFACT
# 6313 uses G/N/AAA-AAF... for weights too, but its unit is the surer sign (below).
_GROSS: Final = "G"
_WEIGHT_ATTRIBUTES: Final = frozenset({"G", "N", "WT"})
_VOLUME_ATTRIBUTES: Final = frozenset({"VOL"})

# Units of mass and of volume, as sent in X12 355 or as Rec 20 (EDIFACT 6411).
_MASS_UNITS: Final = frozenset(
    {"LB", "KG", "OZ", "GR", "TN", "MG", "KGM", "GRM", "MGM", "TNE", "LBR", "ONZ", "STN"}
)
_VOLUME_UNITS: Final = frozenset(
    {"CF", "CR", "CI", "LT", "GA", "MTQ", "LTR", "DMQ", "CMQ", "FTQ", "INQ", "YDQ", "GLL"}
)


def measure_kind(attribute: str, unit: str) -> str:
    """``"weight"``, ``"volume"``, ``"dimension"`` or ``"other"`` for a measured attribute
    code and its unit as sent. A mass or volume unit decides; a dimension needs its code."""
    code = unit.strip().upper()
    if code in _MASS_UNITS:
        return "weight"
    if code in _VOLUME_UNITS:
        return "volume"
    if attribute in DIMENSION_FIELDS:
        return "dimension"
    if attribute in _WEIGHT_ATTRIBUTES and not code:
        return "weight"
    if attribute in _VOLUME_ATTRIBUTES and not code:
        return "volume"
    return "other"


def add_packaging(level: dict[str, Any], packaging: dict[str, Any]) -> None:
    """Append ``packaging`` to the level's ``packagings``; the first is also ``packaging``."""
    found: list[dict[str, Any]] = level.setdefault("packagings", [])
    found.append(packaging)
    if level.get("packaging") is None:
        level["packaging"] = packaging


def add_weight(
    level: dict[str, Any], value: Decimal | None, unit: str | None, rec20: str | None,
    qualifier: str | None, *, single: bool = True,
) -> None:
    """Append a weight to ``weights``; with ``single`` the first gross weight (else the
    first weight) also fills ``weight``."""
    weight = {"value": value, "unit": unit, "qualifier": qualifier, "unit_rec20": rec20}
    found: list[dict[str, Any]] = level.setdefault("weights", [])
    found.append(weight)
    if single:
        current: dict[str, Any] | None = level.get("weight")
        if current is None or (qualifier == _GROSS and current["qualifier"] != _GROSS):
            level["weight"] = weight


def add_volume(
    level: dict[str, Any], value: Decimal | None, unit: str | None, rec20: str | None,
    qualifier: str | None,
) -> None:
    found: list[dict[str, Any]] = level.setdefault("volumes", [])
    found.append({"value": value, "unit": unit, "unit_rec20": rec20, "qualifier": qualifier})


def add_measurement(
    level: dict[str, Any], reference: str | None, qualifier: str | None,
    value: Decimal | None, unit: str | None, rec20: str | None,
    minimum: Decimal | None = None, maximum: Decimal | None = None,
) -> None:
    found: list[dict[str, Any]] = level.setdefault("measurements", [])
    found.append({
        "reference": reference,
        "qualifier": qualifier,
        "value": value,
        "unit": unit,
        "unit_rec20": rec20,
        "range_minimum": minimum,
        "range_maximum": maximum,
    })


def add_dimension(
    level: dict[str, Any], code: str, value: Decimal, unit: str | None, rec20: str | None,
    reference: str | None = None,
) -> None:
    """Put one of length/width/height (``code`` LN/WD/HT) into ``dimensions``; a second value
    for the same measure, or one in another unit, becomes a measurement instead."""
    name = DIMENSION_FIELDS[code]
    dimensions: dict[str, Any] | None = level.get("dimensions")
    if dimensions is None:
        dimensions = {"length": None, "width": None, "height": None,
                      "unit": unit, "unit_rec20": rec20}
        level["dimensions"] = dimensions
    elif dimensions[name] is not None or dimensions["unit"] != unit:
        add_measurement(level, reference, code, value, unit, rec20)
        return
    dimensions[name] = value
