"""Mapper for functional acknowledgments: 997 and 999.

Responsible for AK1/AK2/AK3/AK4/AK5/AK9 (997) and AK1/AK2/IK3/IK4/IK5/AK9 (999). Each
element error (AK4/IK4) becomes one ``TransactionError`` carrying its segment context
(AK3/IK3); a segment error without element errors becomes one entry of its own. Status
codes (X12 717 and 715) are normalised: A accepted, E accepted_with_errors, P
partially_accepted, R/M/W/X rejected.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from translators.accounting import Coverage, unmapped_x12
from translators.record_data import RecordData, complete
from translators.text import text_or_none
from translators.x12.mappers.document import ENVELOPE_COVERAGE, component_separator
from translators.x12.mappers.elements import element, to_int
from translators.x12.segment import Segment

__all__ = ["ACK_COVERAGE", "ACK_STATUSES", "map_functional_ack"]

ACK_COVERAGE: Final = ENVELOPE_COVERAGE | Coverage({
    "AK1": "1 2 3", "AK2": "1 2 3", "AK3": "1 2 3 4", "IK3": "1 2 3 4",
    "AK4": "1.1 1.2 1.3 2 3 4", "IK4": "1.1 1.2 1.3 2 3 4", "AK5": "*", "IK5": "*", "AK9": "*",
})
"""What the 997/999 mapper maps; 999 CTX context is not mapped yet."""

# X12 717 (Transaction Set Acknowledgment Code) and 715 (Functional Group Acknowledge Code).
ACK_STATUSES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "A": "accepted",
        "E": "accepted_with_errors",
        "P": "partially_accepted",
        "R": "rejected",
        "M": "rejected",
        "W": "rejected",
        "X": "rejected",
    }
)


def _status(code: str) -> tuple[str | None, str | None]:
    if not code:
        return None, None
    return ACK_STATUSES.get(code, "other"), code


def _codes(f: list[str], first: int, last: int) -> list[str]:
    return [code for code in (element(f, i) for i in range(first, last + 1)) if code]


def _element_error(
    segment: dict[str, Any], f: list[str], component: str
) -> dict[str, Any]:
    # AK401/IK401 C030: element position, component position, repeating position.
    parts = element(f, 1).split(component)
    return {
        **segment,
        "element_position": to_int(parts[0]) if parts else None,
        "component_position": to_int(parts[1]) if len(parts) > 1 else None,
        "repetition": to_int(parts[2]) if len(parts) > 2 else None,
        "data_element": text_or_none(element(f, 2)),
        "code_element": text_or_none(element(f, 3)),
        "bad_value": element(f, 4) or None,
    }


def map_functional_ack(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map a 997 or 999 transaction set (ST..SE) to a ``FunctionalAck``."""
    component = component_separator(segments)
    groups: list[dict[str, Any]] = []
    group: dict[str, Any] | None = None
    transaction: dict[str, Any] | None = None
    # The AK3/IK3 context of following AK4/IK4s, and whether one has consumed it yet.
    segment_error: dict[str, Any] | None = None
    segment_used = False
    # Field lists of segments outside the loop they belong to: listed as unmapped.
    skipped: list[list[str]] = []
    for segment in segments:
        f = segment.fields
        tag = f[0]
        if tag == "AK4" or tag == "IK4":
            if transaction is not None:
                context = segment_error if segment_error is not None else {}
                if segment_error is not None and not segment_used:
                    transaction["errors"].pop()
                segment_used = True
                transaction["errors"].append(_element_error(context, f, component))
            else:
                skipped.append(f)
            continue
        if tag == "AK3" or tag == "IK3":
            if transaction is not None:
                segment_error = {
                    "segment_tag": text_or_none(element(f, 1)),
                    "segment_position": to_int(element(f, 2)),
                    "loop_id": text_or_none(element(f, 3)),
                    "code": text_or_none(element(f, 4)),
                }
                segment_used = False
                transaction["errors"].append(dict(segment_error))
            else:
                skipped.append(f)
            continue
        if tag == "CTX":
            # 999 context of the IK3/IK4 around it; not mapped yet.
            continue
        segment_error = None
        if tag == "AK2":
            transaction = {
                "set_id": text_or_none(element(f, 1)),
                "control_number": text_or_none(element(f, 2)),
                "implementation_ref": text_or_none(element(f, 3)),
                "errors": [],
                "codes": [],
            }
            if group is None:
                group = {"errors": [], "transactions": []}
                groups.append(group)
            group["transactions"].append(transaction)
        elif tag == "AK5" or tag == "IK5":
            if transaction is not None:
                transaction["status"], transaction["status_code"] = _status(element(f, 1))
                transaction["codes"] = _codes(f, 2, 6)
            else:
                skipped.append(f)
            transaction = None
        elif tag == "AK1":
            group = {
                "functional_id": text_or_none(element(f, 1)),
                "group_control": text_or_none(element(f, 2)),
                "version": text_or_none(element(f, 3)),
                "errors": [],
                "transactions": [],
            }
            groups.append(group)
            transaction = None
        elif tag == "AK9":
            if group is not None:
                group["status"], group["status_code"] = _status(element(f, 1))
                group["transactions_included"] = to_int(element(f, 2))
                group["transactions_received"] = to_int(element(f, 3))
                group["transactions_accepted"] = to_int(element(f, 4))
                group["errors"] = _codes(f, 5, 9)
            else:
                skipped.append(f)
            transaction = None
    return complete("FunctionalAck", {
        "source": source,
        "unmapped": unmapped_x12(segments, ACK_COVERAGE, skipped),
        "acknowledged_groups": groups,
    })
