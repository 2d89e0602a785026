"""Normalised names for planning and shipping schedules (830, 862, DELFOR, DELJIT).

Responsible for the code tables that turn each standard's schedule codes into the one
vocabulary of ``PlanningSchedule`` records, so that a firm weekly quantity is ``firm`` and
``weekly`` whether it came as X12 ``FST*..*C*W`` or EDIFACT ``SCC+1++W``:

- periods: X12 681 (Forecast Timing Qualifier) and EDIFACT 2013 (Frequency code) share
  their codes (2013 took them over), so one table serves both;
- commitment: X12 680 (Forecast Qualifier) on FST, X12 672 (Resource Authorization Code)
  on ATH, EDIFACT 4017 (Delivery plan commitment level code) on SCC;
- quantity types: EDIFACT 6063 as DELFOR/DELJIT use it, and the X12 SHP pair of 673
  (discrete or cumulative) and 374 (shipped or received).
Unknown codes normalise to ``other`` (commitment, period) or ``qty_<code>`` (types); the
code as sent is always kept beside the name by the mappers.
It must not parse EDI or know record layouts.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "EDIFACT_COMMITMENTS",
    "EDIFACT_QUANTITY_TYPES",
    "PERIODS",
    "SCHEDULE_TYPES",
    "X12_AUTHORISATIONS",
    "X12_COMMITMENTS",
    "is_shp_pair",
    "shp_type",
]

# The normalised schedule type of each document: a planning schedule/forecast (830,
# DELFOR) or a shipping schedule of firm call-offs (862, DELJIT).
SCHEDULE_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {"830": "planning", "DELFOR": "planning", "862": "shipping", "DELJIT": "shipping"}
)

# X12 681 / EDIFACT 2013.
PERIODS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "A": "annually",
        "B": "continuous",
        "C": "synchronous",
        "D": "discrete",
        "E": "replenishment",
        "F": "flexible",
        "G": "ten_days",
        "H": "semi_monthly",
        "J": "just_in_time",
        "M": "monthly",
        "Q": "quarterly",
        "S": "semi_annually",
        "T": "four_weeks",
        "W": "weekly",
        "Y": "daily",
        "Z": "mutually_defined",
        "ZZZ": "mutually_defined",
    }
)

# X12 680 (Forecast Qualifier).
X12_COMMITMENTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "A": "immediate",
        "B": "pilot",
        "C": "firm",
        "D": "planning",
        "Z": "mutually_defined",
    }
)

# X12 672 (Resource Authorization Code) as ATH uses it.
X12_AUTHORISATIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "FI": "manufacturing_and_material",  # Finished (labor, material, overhead)
        "MT": "material",  # Material
        "PQ": "prior_cumulative",  # Cumulative quantity required before the first period
    }
)

# EDIFACT 4017 (Delivery plan commitment level code).
EDIFACT_COMMITMENTS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "firm",
        "2": "manufacturing_and_material",
        "3": "material",
        "4": "planning",
        "10": "immediate",
        "11": "pilot",
        "12": "planning",
        "15": "firm",  # First time reported firm
        "19": "pilot",  # Prototype
    }
)

# EDIFACT 6063 (Quantity type code qualifier) as DELFOR and DELJIT use it.
EDIFACT_QUANTITY_TYPES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "1": "scheduled",  # Discrete quantity
        "113": "scheduled",  # Quantity to be delivered
        "3": "cumulative",  # Cumulative quantity
        "12": "shipped",  # Despatch quantity
        "46": "delivered",  # Delivered quantity
        "48": "received",  # Received quantity
        "70": "cumulative_received",  # Cumulative quantity received
    }
)

# X12 SHP: (SHP01 673, SHP03 374) -> type. 673 01 discrete, 02 cumulative; 374 011
# shipped, 050 received, 051 cumulative quantity start (of received quantities).
_SHP_TYPES: Final[dict[tuple[str, str], str]] = {
    ("01", "011"): "shipped",
    ("01", "050"): "received",
    ("02", "011"): "cumulative_shipped",
    ("02", "050"): "cumulative_received",
    ("02", "051"): "cumulative_received",
}


def is_shp_pair(quantity_code: str, date_code: str) -> bool:
    """Whether ``shp_type`` names the meaning of both codes of an SHP."""
    return (quantity_code, date_code) in _SHP_TYPES


def shp_type(quantity_code: str, date_code: str) -> str:
    """The type of an SHP quantity from SHP01 (673) and SHP03 (374)."""
    found = _SHP_TYPES.get((quantity_code, date_code))
    if found is not None:
        return found
    if quantity_code == "02":
        return "cumulative"
    return f"qty_{quantity_code}" if quantity_code else "shipped_received"
