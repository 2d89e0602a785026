"""Received UN/EDIFACT acknowledgments -- CONTRL and APERAK -- as ``FunctionalAck`` records.

Responsible for reading a CONTRL (UCI, UCF, UCM, UCS, UCD; syntax versions 3 and 4) or an
APERAK (BGM, RFF, ERC) message into the canonical functional acknowledgment, the same
record a 997/999 becomes. The CONTRL levels map onto the record's groups:
``functional_id`` names the level -- ``"UCI"`` for the interchange (``group_control`` is the
acknowledged interchange's 0020, its ``transactions`` the UCMs outside groups) and
``"UCF"`` for a group (0048) -- and each UCM becomes a transaction whose ``set_id`` is the
message type, ``control_number`` the message reference (0062) and ``errors`` its UCS/UCD.
Actions (0083) become statuses: 7 accepted, 4 rejected, 8 received. An APERAK becomes
one group ``"APERAK"`` with one transaction for the referenced document.
``map_functional_ack`` is the entry the EDIFACT mappers registry uses for both types.
It must not raise on valid-but-odd input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from translators.accounting import Coverage, unmapped_edifact
from translators.edifact.segment import Segment
from translators.record_data import RecordData, complete

__all__ = [
    "ACTIONS",
    "APERAK_COVERAGE",
    "CONTRL_COVERAGE",
    "map_aperak",
    "map_contrl",
    "map_functional_ack",
]

# UNH and UNT hold what the record's source holds (as in ``mappers.document``, which this
# module cannot import: the mappers package imports it).
_ENVELOPE: Final = Coverage({"UNH": "1 2.1 2.2 2.3 2.4 2.5", "UNT": "*"})
CONTRL_COVERAGE: Final = _ENVELOPE | Coverage({
    "UCI": "1 4 5", "UCF": "1 4 5", "UCM": "1 2.1 2.5 3 4", "UCS": "1 2",
    "UCD": "1 2.1 2.2 2.3",
})
"""What the CONTRL mapper maps (the error's segment and element beside a UCI, UCF or
UCM code are not claimed: kept only in some cases)."""
APERAK_COVERAGE: Final = _ENVELOPE | Coverage({"BGM": "3", "ERC": "1.1"})
"""What the APERAK mapper maps (its references feed one control number: not claimed)."""

# 0083 Action, coded.
ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {"4": "rejected", "7": "accepted", "8": "received"}
)
# 1225 Message function, coded, as APERAK uses it.
_APERAK_FUNCTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {"27": "rejected", "29": "accepted", "44": "accepted", "34": "accepted_with_errors",
     "45": "accepted_with_errors", "6": "accepted"}
)
# Reference qualifiers (1153) naming the acknowledged message or document, best first.
_APERAK_REFERENCES = ("ACW", "ON", "IV", "AAK", "DQ", "CT")


def _int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() else None


def _text(text: str) -> str | None:
    return text or None


def _status(action: str) -> tuple[str | None, str | None]:
    if not action:
        return None, None
    return ACTIONS.get(action, "other"), action


def _level_error(seg: Segment, code_at: int) -> dict[str, Any] | None:
    """The error of a UCI/UCF/UCM: 0085, 0013 (segment tag) and S011, when present."""
    code = seg.get(code_at)
    if not code:
        return None
    return {
        "code": code,
        "segment_tag": _text(seg.get(code_at + 1)),
        "element_position": _int(seg.get(code_at + 2, 1)),
        "component_position": _int(seg.get(code_at + 2, 2)),
        "repetition": _int(seg.get(code_at + 2, 3)),
    }


def _group(level: str, seg: Segment, action_at: int) -> dict[str, Any]:
    status, status_code = _status(seg.get(action_at))
    error = _level_error(seg, action_at + 1)
    return {
        "functional_id": level,
        "group_control": _text(seg.get(1)),
        "status": status,
        "status_code": status_code,
        "errors": [error["code"]] if error else [],
        "transactions": [],
    }


def _count(group: dict[str, Any]) -> None:
    transactions = group["transactions"]
    if transactions:
        group["transactions_received"] = len(transactions)
        group["transactions_accepted"] = sum(
            1 for t in transactions if t.get("status") == "accepted"
        )


def map_contrl(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map a CONTRL message (UNH..UNT) to a ``FunctionalAck``."""
    groups: list[dict[str, Any]] = []
    interchange: dict[str, Any] | None = None
    current: dict[str, Any] | None = None  # the UCI or UCF level UCMs belong to
    transaction: dict[str, Any] | None = None
    segment_error: dict[str, Any] | None = None
    segment_used = False
    # Segments outside the level they belong to: listed as unmapped.
    skipped: list[Segment] = []
    for seg in segments:
        tag = seg.tag
        if tag == "UCI":
            interchange = _group("UCI", seg, 4)
            groups.append(interchange)
            current = interchange
            transaction = None
        elif tag == "UCF":
            current = _group("UCF", seg, 4)
            groups.append(current)
            transaction = None
        elif tag == "UCM":
            if current is None:
                current = {"functional_id": "UCI", "errors": [], "transactions": []}
                groups.append(current)
            status, status_code = _status(seg.get(3))
            error = _level_error(seg, 4)
            transaction = {
                "set_id": _text(seg.get(2, 1)),
                "control_number": _text(seg.get(1)),
                "implementation_ref": _text(seg.get(2, 5)),
                "status": status,
                "status_code": status_code,
                "codes": [error["code"]] if error else [],
                "errors": [error] if error and error["segment_tag"] else [],
            }
            current["transactions"].append(transaction)
            segment_error = None
        elif (tag == "UCS" or tag == "UCD") and transaction is None:
            skipped.append(seg)
        elif tag == "UCS" and transaction is not None:
            segment_error = {"segment_position": _int(seg.get(1)), "code": _text(seg.get(2))}
            segment_used = False
            transaction["errors"].append(dict(segment_error))
        elif tag == "UCD" and transaction is not None:
            context = segment_error or {}
            if segment_error is not None and not segment_used and not segment_error["code"]:
                transaction["errors"].pop()  # the UCS only located its UCDs
            segment_used = True
            transaction["errors"].append({
                "segment_position": context.get("segment_position"),
                "code": _text(seg.get(1)),
                "element_position": _int(seg.get(2, 1)),
                "component_position": _int(seg.get(2, 2)),
                "repetition": _int(seg.get(2, 3)),
            })
    for group in groups:
        _count(group)
    return complete("FunctionalAck", {
        "source": source,
        "unmapped": unmapped_edifact(segments, CONTRL_COVERAGE, skipped),
        "acknowledged_groups": groups,
    })


def map_aperak(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """Map an APERAK message (UNH..UNT) to a ``FunctionalAck``."""
    function = ""
    references: dict[str, str] = {}
    errors: list[dict[str, Any]] = []
    for seg in segments:
        tag = seg.tag
        if tag == "BGM":
            # D.96A: BGM C002, 1004, 1225; D.01B: BGM C002, C106, 1225.
            function = seg.get(3)
        elif tag == "RFF":
            qualifier, value = seg.get(1, 1), seg.get(1, 2)
            if qualifier and value:
                references.setdefault(qualifier, value)
        elif tag == "ERC":
            code = seg.get(1, 1)
            if code:
                errors.append({"code": code, "code_element": "9321"})
    status = _APERAK_FUNCTIONS.get(function) if function else None
    if status is None and function:
        status = "other"
    reference = next((references[q] for q in _APERAK_REFERENCES if q in references),
                     next(iter(references.values()), None))
    transaction = {
        "control_number": reference,
        "status": status,
        "status_code": function or None,
        "errors": errors,
        "codes": [e["code"] for e in errors],
    }
    group = {"functional_id": "APERAK", "errors": [], "transactions": [transaction]}
    return complete("FunctionalAck", {
        "source": source,
        "unmapped": unmapped_edifact(segments, APERAK_COVERAGE),
        "acknowledged_groups": [group],
    })


def map_functional_ack(segments: Sequence[Segment], source: RecordData) -> RecordData:
    """CONTRL or APERAK, chosen by UNH S009 0065 (else the source's transaction type)."""
    message_type = source["transaction_type"]
    if segments and segments[0].tag == "UNH" and segments[0].get(2, 1):
        message_type = segments[0].get(2, 1)
    if message_type == "APERAK":
        return map_aperak(segments, source)
    return map_contrl(segments, source)
