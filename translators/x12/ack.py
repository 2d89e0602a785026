"""Functional and interchange acknowledgments: 997, 999 and TA1 from pipeline outcomes.

Responsible for projecting located issues onto acknowledgment segments: AK1/AK2/AK3/AK4/
AK5/AK9 (997, X12 004010 and later), AK1/AK2/IK3/IK4/IK5/AK9 (999, 005010X231A1) and TA1
(X12.5 interchange acknowledgment), and for wrapping them in an interchange addressed back
to the sender. Acknowledgments are never generated for acknowledgments (GS01 ``FA``).
It must not validate anything: it trusts the outcomes it is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from translators.ascii import is_digits
from translators.errors import Issue
from translators.x12.pipeline import TransactionSummary, X12GroupOutcome, X12InterchangeOutcome
from translators.x12.segment import Delimiters
from translators.x12.writer import (
    Composite,
    ElementValue,
    GroupSpec,
    InterchangeSpec,
    TransactionSpec,
    write_interchange,
)

__all__ = [
    "AckKind",
    "AckOptions",
    "Acknowledgment",
    "ack_kind_for",
    "acknowledge",
    "build_acknowledgment",
    "functional_ack_segments",
    "ta1_segment",
]

AckKind = Literal["997", "999"]

# X12.6 / 005010X231A1 limits: five AK5/IK5 and AK9 codes, 99 AK4/IK4 per AK3/IK3.
_MAX_CODES = 5
_MAX_ELEMENT_NOTES = 99
_MAX_SEGMENT_NOTES = 999
# AK3/IK3 segment syntax codes (720) and AK5/IK5 transaction codes (718) used here.
_SEGMENT_HAS_ELEMENT_ERRORS = "8"
_SEGMENTS_IN_ERROR = "5"
_999_VERSION = "005010X231A1"


@dataclass(frozen=True, slots=True)
class AckOptions:
    """How to acknowledge.

    ``kind`` ``"auto"`` answers 005010+ groups with a 999 and older ones with a 997;
    ``"none"`` writes no functional acknowledgment (a TA1 may still be owed).
    ``ta1`` ``"auto"`` sends a TA1 when ISA14 asks for one or the interchange envelope has
    errors. ``control_number`` is ISA13 of the acknowledgment interchange (the gateway
    keeps the counter); group control numbers count up from ``group_control`` and
    transaction set control numbers (ST02) from ``transaction_control``, so that a caller
    acknowledging several interchanges can keep every number distinct.
    """

    kind: Literal["auto", "997", "999", "none"] = "auto"
    ta1: Literal["auto", "always", "never"] = "auto"
    control_number: str = "1"
    group_control: int = 1
    now: datetime | None = None
    delimiters: Delimiters = field(default_factory=Delimiters)
    sender: tuple[str, str] | None = None  # (ISA05, ISA06) override; default: ISA07/08 received
    transaction_control: int = 1


def ack_kind_for(version: str, preference: Literal["auto", "997", "999"] = "auto") -> AckKind:
    """997 or 999 for a group of GS08 ``version``."""
    if preference != "auto":
        return preference
    return "999" if _is_5010(version) else "997"


def _is_5010(version: str) -> bool:
    """True for GS08 versions 005010 and later (a GS08 that is no version counts as older)."""
    return is_digits(version[:6]) and version[:6] >= "005010"


def _clean(value: str, delimiters: Delimiters, limit: int) -> str:
    """A copy of received text that can be written into an acknowledgment: delimiters,
    control characters and non-ASCII characters (which would shift the fixed-width ISA)
    dropped, cut to ``limit``."""
    bad = {
        delimiters.element,
        delimiters.component,
        delimiters.repetition or "",
        *delimiters.segment,
    }
    text = "".join(c for c in value if c not in bad and c.isascii() and c.isprintable())
    return text[:limit].strip()


def _qualifier(value: str, delimiters: Delimiters) -> str:
    """An ISA05/ISA07 qualifier that can be written: two characters, else ``ZZ``."""
    cleaned = _clean(value, delimiters, 2)
    return cleaned if len(cleaned) == 2 else "ZZ"


def _codes(issues: Iterable[Issue], level: str) -> list[str]:
    seen: list[str] = []
    for issue in issues:
        if issue.level == level and issue.severity == "error" and issue.code not in seen:
            seen.append(issue.code)
    return seen[:_MAX_CODES]


def _segment_notes(
    tx: TransactionSummary, kind: AckKind, d: Delimiters
) -> list[list[ElementValue]]:
    """AK3/AK4 (997) or IK3/IK4 (999) segments for the errors of one transaction."""
    by_position: dict[int, list[Issue]] = {}
    for issue in tx.issues:
        if issue.severity != "error" or issue.level not in ("segment", "element"):
            continue
        if kind == "997" and issue.code.startswith("I"):
            continue
        by_position.setdefault(issue.segment_position or 0, []).append(issue)
    out: list[list[ElementValue]] = []
    seg_tag, elem_tag = ("AK3", "AK4") if kind == "997" else ("IK3", "IK4")
    for position in sorted(by_position)[:_MAX_SEGMENT_NOTES]:
        issues = by_position[position]
        seg_issue = next((i for i in issues if i.level == "segment"), None)
        first = seg_issue or issues[0]
        # AK301/IK301 is an identifier (2-3 alphanumerics); junk in a tag cannot be echoed.
        tag = "".join(c for c in first.segment_tag or "" if c.isascii() and c.isalnum())[:3]
        tag = tag.ljust(2, "X")
        loop_id = (
            _clean(first.loop_id or "", d, 4) if first.loop_id not in (None, "ST_LOOP") else ""
        )
        code = seg_issue.code if seg_issue else _SEGMENT_HAS_ELEMENT_ERRORS
        out.append([seg_tag, tag, str(max(position, 1)), loop_id, code])
        notes = [i for i in issues if i.level == "element" and i.element_position]
        for issue in notes[:_MAX_ELEMENT_NOTES]:
            assert issue.element_position is not None
            parts = [str(issue.element_position)]
            if issue.component_position is not None or issue.repetition is not None:
                parts.append(str(issue.component_position or ""))
            if issue.repetition is not None and kind == "999":
                parts.append(str(issue.repetition))
            while len(parts) > 1 and not parts[-1]:
                parts.pop()
            position_value: ElementValue = Composite(*parts) if len(parts) > 1 else parts[0]
            bad = _clean(issue.bad_value or "", d, 99)
            ref = issue.data_element if issue.data_element and is_digits(issue.data_element) else ""
            out.append([elem_tag, position_value, ref, issue.code, bad])
    return out


def functional_ack_segments(
    group: X12GroupOutcome, kind: AckKind, delimiters: Delimiters | None = None
) -> list[list[ElementValue]]:
    """The body (between ST and SE) of the 997 or 999 acknowledging ``group``."""
    d = delimiters or Delimiters()
    gs = group.header
    # Echoed identifiers are received data: cleaned so a delimiter in them cannot break
    # the acknowledgment (their errors are already reported against the original).
    ak1: list[ElementValue] = [
        "AK1",
        _clean(gs.functional_id, d, 2),
        _clean(gs.control_number, d, 9),
    ]
    if kind == "999" or _is_5010(gs.version):
        ak1.append(_clean(gs.version, d, 12))
    body: list[list[ElementValue]] = [ak1]
    for tx in group.documents:
        ak2: list[ElementValue] = ["AK2", _clean(tx.set_id, d, 3), _clean(tx.control_number, d, 9)]
        if kind == "999" and tx.implementation_ref:
            ak2.append(_clean(tx.implementation_ref, d, 35))
        body.append(ak2)
        body.extend(_segment_notes(tx, kind, d))
        codes = _codes(tx.issues, "transaction")
        if tx.status == "R" and not codes:
            codes = [_SEGMENTS_IN_ERROR if kind == "997" else "I5"]
        body.append(["AK5" if kind == "997" else "IK5", tx.status, *codes])
    included = group.end.trailer[1] if group.end.trailer is not None else ""
    if not is_digits(included):
        included = str(len(group.documents))
    body.append(
        [
            "AK9",
            group.status,
            str(int(included)),
            str(len(group.documents)),
            str(group.accepted_count),
            *_codes(group.issues, "group"),
        ]
    )
    return body


def ta1_segment(outcome: X12InterchangeOutcome) -> list[ElementValue]:
    """TA1 for the interchange: A accepted, E accepted with errors noted, R rejected."""
    isa = outcome.header
    errors = outcome.errors
    warnings = [i for i in outcome.issues if i.severity == "warning"]
    if errors:
        status, note = "R", errors[0].code
        # IEA trailer mismatches leave the content intact: noted, not rejected (X12.5).
        if all(i.code in ("001", "021") for i in errors):
            status = "E"
    elif warnings:
        status, note = "E", warnings[0].code
    else:
        status, note = "A", "000"
    date = isa.date if len(isa.date) == 6 and is_digits(isa.date) else "000101"
    time = isa.time if len(isa.time) == 4 and is_digits(isa.time) else "0000"
    control = isa.control_number if is_digits(isa.control_number) else "0"
    return ["TA1", control.zfill(9)[-9:], date, time, status, note]


@dataclass(frozen=True, slots=True)
class Acknowledgment:
    """An acknowledgment interchange and what it holds: ``kinds`` names each kind of
    acknowledgment in it once, sorted ("997", "999", "TA1")."""

    interchange: bytes
    kinds: tuple[str, ...]


def build_acknowledgment(
    outcome: X12InterchangeOutcome, options: AckOptions = AckOptions()
) -> bytes | None:
    """The acknowledgment interchange for ``outcome``, or ``None`` when nothing is owed
    (``acknowledge``'s interchange)."""
    ack = acknowledge(outcome, options)
    return ack.interchange if ack is not None else None


def acknowledge(
    outcome: X12InterchangeOutcome, options: AckOptions = AckOptions()
) -> Acknowledgment | None:
    """The acknowledgment for ``outcome``, or ``None`` when nothing is owed.

    Its interchange holds a TA1 (per ``options.ta1``) and one FA group per acknowledgment
    kind and version, with one 997/999 per received functional group.
    """
    isa = outcome.header
    now = (options.now or datetime.now(UTC)).astimezone(UTC)
    want_ta1 = options.ta1 == "always" or (
        options.ta1 == "auto" and (isa.ack_requested or bool(outcome.errors))
    )
    groups_by_kind: dict[tuple[AckKind, str], list[X12GroupOutcome]] = {}
    for group in outcome.groups:
        if group.header.functional_id == "FA" or options.kind == "none":
            continue
        kind = ack_kind_for(group.header.version, options.kind)
        version = (
            _999_VERSION
            if kind == "999"
            else ("005010" if _is_5010(group.header.version) else "004010")
        )
        groups_by_kind.setdefault((kind, version), []).append(group)
    if not want_ta1 and not groups_by_kind:
        return None
    d = options.delimiters
    sender_q, sender_id = options.sender or (isa.receiver_qualifier, isa.receiver_id)
    uses_5010 = any(v.startswith("005") for (_, v) in groups_by_kind) or isa.version >= "00501"
    header = InterchangeSpec(
        sender_id=_clean(sender_id, d, 15) or "UNKNOWN",
        receiver_id=_clean(isa.sender_id, d, 15) or "UNKNOWN",
        sender_qualifier=_qualifier(sender_q, d),
        receiver_qualifier=_qualifier(isa.sender_qualifier, d),
        date=now.strftime("%y%m%d"),
        time=now.strftime("%H%M"),
        control_number=options.control_number,
        version="00501" if uses_5010 else "00401",
        usage="T" if isa.test else "P",
    )
    specs: list[GroupSpec] = []
    gcn = options.group_control
    tcn = options.transaction_control
    for (kind, version), groups in groups_by_kind.items():
        transactions = [
            TransactionSpec(
                kind,
                f"{n:04d}",
                functional_ack_segments(g, kind, d),
                _999_VERSION if kind == "999" else None,
            )
            for n, g in enumerate(groups, start=tcn)
        ]
        tcn += len(groups)
        first = groups[0].header
        specs.append(
            GroupSpec(
                functional_id="FA",
                sender_code=_clean(first.receiver or sender_id, d, 15) or "UNKNOWN",
                receiver_code=_clean(first.sender or isa.sender_id, d, 15) or "UNKNOWN",
                date=now.strftime("%Y%m%d"),
                time=now.strftime("%H%M"),
                control_number=str(gcn),
                version=version,
                transactions=transactions,
            )
        )
        gcn += 1
    preamble = [ta1_segment(outcome)] if want_ta1 else []
    kinds = {kind for kind, _ in groups_by_kind} | ({"TA1"} if want_ta1 else set())
    return Acknowledgment(
        write_interchange(header, specs, d, interchange_segments=preamble, line_break=True),
        tuple(sorted(kinds)))
