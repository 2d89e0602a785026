"""X12 envelope walker: segments in, interchange/group/transaction events out.

Responsible for the control structure of X12.5/X12.6: ISA field values and widths,
IEA01/IEA02, GS/GE counts and control numbers, ST/SE counts and control numbers, ST01
against GS01, duplicates of control numbers within their envelope, and missing trailers.
Every problem becomes a located ``Issue`` carrying its TA1 (I18), AK9/IK9 (716) or
AK5/IK5 (718) code; a bad transaction never hides the ones after it.
It must not validate transaction content against schemas: that is ``validator``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from translators.ascii import first_control, is_digits
from translators.errors import Issue
from translators.x12.segment import Delimiters, Segment

__all__ = [
    "FUNCTIONAL_IDS",
    "Event",
    "GroupEnd",
    "GroupHeader",
    "InterchangeEnd",
    "InterchangeHeader",
    "InterchangeSegment",
    "TransactionSet",
    "control_character",
    "walk",
]

# GS01 functional identifier code (479) expected for each ST01 (143). Sets not listed
# here are not checked against GS01.
FUNCTIONAL_IDS: dict[str, str] = {
    "810": "IN",
    "820": "RA",
    "824": "AG",
    "830": "PS",
    "832": "SC",
    "846": "IB",
    "850": "PO",
    "852": "PD",
    "855": "PR",
    "856": "SH",
    "860": "PC",
    "861": "RC",
    "862": "SS",
    "864": "TX",
    "865": "CA",
    "875": "OG",
    "880": "GP",
    "940": "OW",
    "943": "AR",
    "944": "RE",
    "945": "SW",
    "947": "AW",
    "997": "FA",
    "999": "FA",
    "204": "SM",
    "210": "IM",
    "214": "QM",
    "990": "GF",
    "270": "HS",
    "271": "HB",
    "276": "HR",
    "277": "HN",
    "834": "BE",
    "835": "HP",
    "837": "HC",
    "180": "AN",
    "753": "GF",
    "754": "GF",
    "812": "CD",
    "816": "OR",
    "842": "NC",
    "869": "RS",
    "870": "RS",
}

# X12.5 ISA element widths, ISA01..ISA16.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
# TA1 note code (I18) for a bad value in each ISA element.
_ISA_CODES = (
    "010",
    "011",
    "012",
    "013",
    "005",
    "006",
    "007",
    "008",
    "014",
    "015",
    "016",
    "017",
    "018",
    "019",
    "020",
    "027",
)
_ISA_QUALIFIERS = frozenset(
    [
        "01",
        "02",
        "03",
        "04",
        "07",
        "08",
        "09",
        "10",
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "20",
        "21",
        "22",
        "23",
        "24",
        "25",
        "26",
        "27",
        "28",
        "29",
        "30",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "38",
        "AM",
        "NR",
        "SA",
        "SN",
        "ZZ",
    ]
)


@dataclass(slots=True)
class InterchangeHeader:
    """The ISA of one interchange, plus the issues found in the envelope as a whole."""

    segment: Segment
    delimiters: Delimiters
    authorization_qualifier: str
    authorization: str
    security_qualifier: str
    security: str
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    standards_id: str
    version: str
    control_number: str
    ack_requested: bool
    usage: str
    offset: int
    issues: list[Issue] = field(default_factory=list)

    @property
    def test(self) -> bool:
        return self.usage == "T"


@dataclass(slots=True)
class GroupHeader:
    """The GS of one functional group."""

    segment: Segment
    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    agency: str
    version: str
    offset: int
    interchange: InterchangeHeader
    issues: list[Issue] = field(default_factory=list)


@dataclass(slots=True)
class TransactionSet:
    """One transaction set: ST..SE (inclusive, as read) with its envelope issues."""

    set_id: str
    control_number: str
    implementation_ref: str
    segments: list[Segment]
    group: GroupHeader
    issues: list[Issue]
    complete: bool  # False when SE was missing

    @property
    def offset(self) -> int:
        return self.segments[0].offset


@dataclass(slots=True)
class GroupEnd:
    """GE reached (or the group ended without one): counts and group-level issues."""

    group: GroupHeader
    transaction_count: int
    issues: list[Issue]
    trailer: Segment | None


@dataclass(slots=True)
class InterchangeSegment:
    """A segment between ISA and GS that is not a group: TA1, ISB, ISE."""

    segment: Segment
    interchange: InterchangeHeader


@dataclass(slots=True)
class InterchangeEnd:
    """IEA reached (or the interchange ended without one)."""

    interchange: InterchangeHeader
    group_count: int
    issues: list[Issue]
    trailer: Segment | None


Event = (
    InterchangeHeader
    | GroupHeader
    | TransactionSet
    | GroupEnd
    | InterchangeSegment
    | InterchangeEnd
)


def _isa_issue(
    code: str,
    message: str,
    seg: Segment,
    position: int | None = None,
    severity: str = "error",
    value: str | None = None,
) -> Issue:
    return Issue(
        level="interchange",
        code=code,
        message=message,
        severity="warning" if severity == "warning" else "error",
        offset=seg.offset,
        segment_tag=seg.tag,
        element_position=position,
        bad_value=value,
    )


def _valid_yymmdd(text: str) -> bool:
    if len(text) != 6 or not is_digits(text):
        return False
    try:
        date(2000 + int(text[:2]), int(text[2:4]), int(text[4:6]))
    except ValueError:
        return False
    return True


def _valid_hhmm(text: str) -> bool:
    return len(text) == 4 and is_digits(text) and int(text[:2]) < 24 and int(text[2:]) < 60


def control_character(seg: Segment) -> tuple[int, str] | None:
    """The first element of ``seg`` holding a control character, as (position, value), or
    None. The interchange's component and repetition separators are delimiters, not data,
    wherever they appear (they may be control characters: X12.5 allows \\x1c-\\x1f)."""
    d = seg.delimiters
    allowed = d.component + (d.repetition or "")
    fields = seg.fields
    for position in range(1, len(fields)):
        if first_control(fields[position], allowed) >= 0:
            return position, fields[position]
    return None


def _check_isa(seg: Segment) -> list[Issue]:
    """ISA element values and fixed widths (X12.5). Width deviations are warnings:
    partners send short ISA fields and rejecting them helps nobody; wrong values are errors."""
    issues: list[Issue] = []
    bad = control_character(seg)
    if bad is not None:
        # No character set of X12.6 holds control characters: the header is unreadable.
        position, value = bad
        issues.append(
            _isa_issue(
                _ISA_CODES[min(position, 16) - 1],
                f"ISA{position:02d} contains a control character: {value!r}",
                seg,
                position,
                value=value,
            )
        )
    if len(seg) != 16:
        issues.append(_isa_issue("022", f"ISA has {len(seg)} elements, expected 16", seg))
    for i, width in enumerate(_ISA_WIDTHS, start=1):
        value = seg[i]
        if i <= len(seg) and len(value) != width and i not in (11, 16):
            issues.append(
                _isa_issue(
                    _ISA_CODES[i - 1],
                    f"ISA{i:02d} is {len(value)} characters wide, expected {width}",
                    seg,
                    i,
                    "warning",
                    value,
                )
            )
    checks: list[tuple[int, bool, str]] = [
        (1, seg[1] in ("00", "01", "02", "03", "04", "05", "06"), "authorization qualifier"),
        (3, seg[3] in ("00", "01"), "security qualifier"),
        (5, seg[5].strip() in _ISA_QUALIFIERS, "sender ID qualifier"),
        (6, bool(seg[6].strip()), "sender ID (empty)"),
        (7, seg[7].strip() in _ISA_QUALIFIERS, "receiver ID qualifier"),
        (8, bool(seg[8].strip()), "receiver ID (empty)"),
        (9, _valid_yymmdd(seg[9]), "interchange date (YYMMDD)"),
        (10, _valid_hhmm(seg[10]), "interchange time (HHMM)"),
        (12, len(seg[12]) == 5 and is_digits(seg[12]), "interchange control version number"),
        (
            13,
            is_digits(seg[13].strip()) and len(seg[13].strip()) <= 9,
            "interchange control number",
        ),
        (14, seg[14] in ("0", "1"), "acknowledgment requested"),
        (15, seg[15] in ("P", "T", "I"), "interchange usage indicator"),
    ]
    for pos, ok, what in checks:
        if not ok:
            issues.append(
                _isa_issue(
                    _ISA_CODES[pos - 1],
                    f"ISA{pos:02d}: invalid {what}: {seg[pos]!r}",
                    seg,
                    pos,
                    value=seg[pos],
                )
            )
    version = seg[12]
    if is_digits(version) and version < "00402" and seg[11] != "U":
        issues.append(
            _isa_issue(
                "016",
                f"ISA11 must be 'U' before version 00402, got {seg[11]!r}",
                seg,
                11,
                "warning",
                seg[11],
            )
        )
    if version >= "00402" and seg.delimiters.repetition is None:
        issues.append(
            _isa_issue(
                "016",
                f"ISA11 {seg[11]!r} is not a usable repetition separator; "
                "repetitions are not split in this interchange",
                seg,
                11,
                "warning",
                seg[11],
            )
        )
    return issues


def _interchange(seg: Segment) -> InterchangeHeader:
    return InterchangeHeader(
        segment=seg,
        delimiters=seg.delimiters,
        authorization_qualifier=seg[1],
        authorization=seg[2],
        security_qualifier=seg[3],
        security=seg[4],
        sender_qualifier=seg[5].strip(),
        sender_id=seg[6].strip(),
        receiver_qualifier=seg[7].strip(),
        receiver_id=seg[8].strip(),
        date=seg[9],
        time=seg[10],
        standards_id=seg[11],
        version=seg[12],
        control_number=seg[13].strip(),
        ack_requested=seg[14] == "1",
        usage=seg[15],
        offset=seg.offset,
        issues=_check_isa(seg),
    )


def _group(seg: Segment, isa: InterchangeHeader) -> GroupHeader:
    return GroupHeader(
        segment=seg,
        functional_id=seg[1],
        sender=seg[2].strip(),
        receiver=seg[3].strip(),
        date=seg[4],
        time=seg[5],
        control_number=seg[6].strip(),
        agency=seg[7],
        version=seg[8].strip(),
        offset=seg.offset,
        interchange=isa,
    )


def _same_number(trailer: str, header: str) -> str:
    """Severity of a trailer/header control number mismatch: the values must be identical
    (X12.5), but a trailer that only drops the header's zero padding is a warning."""
    a, b = trailer.strip(), header.strip()
    return "warning" if is_digits(a) and is_digits(b) and int(a) == int(b) else "error"


def _group_issue(
    code: str,
    message: str,
    seg: Segment | None,
    position: int | None = None,
    value: str | None = None,
    severity: str = "error",
) -> Issue:
    return Issue(
        level="group",
        code=code,
        message=message,
        severity="warning" if severity == "warning" else "error",
        offset=seg.offset if seg else None,
        segment_tag=seg.tag if seg else None,
        element_position=position,
        bad_value=value,
    )


def _tx_issue(
    code: str,
    message: str,
    seg: Segment,
    position: int | None = None,
    value: str | None = None,
    segment_position: int | None = None,
    severity: str = "error",
) -> Issue:
    return Issue(
        level="transaction",
        code=code,
        message=message,
        offset=seg.offset,
        severity="warning" if severity == "warning" else "error",
        segment_tag=seg.tag,
        element_position=position,
        bad_value=value,
        segment_position=segment_position,
    )


def _finish_transaction(
    st: Segment, body: list[Segment], group: GroupHeader, se: Segment | None, seen: set[str]
) -> TransactionSet:
    """Check one ST..SE and package it (``body`` includes ST and, when present, SE)."""
    issues: list[Issue] = []
    set_id = st[1]
    control = st[2]
    if not (len(set_id) == 3 and set_id.isalnum()):
        issues.append(
            _tx_issue("6", f"ST01 {set_id!r} is not a transaction set identifier", st, 1, set_id, 1)
        )
    expected_fid = FUNCTIONAL_IDS.get(set_id)
    if expected_fid is not None and group.functional_id != expected_fid:
        issues.append(
            _tx_issue(
                "6",
                f"ST01 {set_id} belongs in a {expected_fid} group, not GS01 "
                f"{group.functional_id!r}",
                st,
                1,
                set_id,
                1,
            )
        )
    if not (4 <= len(control) <= 9):
        issues.append(
            _tx_issue(
                "7", f"ST02 control number {control!r} must be 4-9 characters", st, 2, control, 1
            )
        )
    elif control in seen:
        issues.append(
            _tx_issue(
                "23", f"ST02 control number {control} repeats within the group", st, 2, control, 1
            )
        )
    seen.add(control)
    if se is None:
        last = body[-1]
        issues.append(
            _tx_issue(
                "2",
                f"transaction set {control} has no SE trailer",
                last,
                segment_position=len(body),
            )
        )
    else:
        count = len(body)
        if se[1].strip() != str(count) and not (is_digits(se[1]) and int(se[1]) == count):
            issues.append(
                _tx_issue(
                    "4",
                    f"SE01 says {se[1]!r} segments, the transaction set has {count}",
                    se,
                    1,
                    se[1],
                    count,
                )
            )
        if se[2] != control:
            issues.append(
                _tx_issue(
                    "3",
                    f"SE02 {se[2]!r} does not match ST02 {control!r}",
                    se,
                    2,
                    se[2],
                    count,
                    _same_number(se[2], control),
                )
            )
    return TransactionSet(
        set_id=set_id,
        control_number=control,
        implementation_ref=st[3],
        segments=body,
        group=group,
        issues=issues,
        complete=se is not None,
    )


def walk(segments: Iterable[Segment]) -> Iterator[Event]:
    """Walk the envelopes of one or more interchanges, yielding events in order.

    Transaction sets are yielded whole (their segments in memory); interchanges and groups
    are streamed, so memory is bounded by the largest transaction set.
    """
    isa: InterchangeHeader | None = None
    group: GroupHeader | None = None
    group_count = 0
    tx_count = 0
    st: Segment | None = None
    body: list[Segment] = []
    seen_isa: set[str] = set()
    seen_gs: set[str] = set()
    seen_st: set[str] = set()

    def close_transaction(se: Segment | None) -> Iterator[Event]:
        nonlocal st, body, tx_count
        assert st is not None and group is not None
        if se is not None:
            body.append(se)
        tx_count += 1
        yield _finish_transaction(st, body, group, se, seen_st)
        st = None
        body = []

    def close_group(ge: Segment | None, at: Segment | None) -> Iterator[Event]:
        nonlocal group, group_count
        assert group is not None
        if st is not None:
            yield from close_transaction(None)
        issues = group.issues
        if ge is None:
            issues.append(
                _group_issue(
                    "3",
                    f"functional group {group.control_number} has no GE trailer",
                    at or group.segment,
                )
            )
        else:
            if not (is_digits(ge[1]) and int(ge[1]) == tx_count):
                issues.append(
                    _group_issue(
                        "5",
                        f"GE01 says {ge[1]!r} transaction sets, the group has {tx_count}",
                        ge,
                        1,
                        ge[1],
                    )
                )
            if ge[2].strip() != group.control_number:
                issues.append(
                    _group_issue(
                        "4",
                        f"GE02 {ge[2]!r} does not match GS06 {group.control_number!r}",
                        ge,
                        2,
                        ge[2],
                        _same_number(ge[2], group.control_number),
                    )
                )
        group_count += 1
        yield GroupEnd(group=group, transaction_count=tx_count, issues=issues, trailer=ge)
        group = None

    def close_interchange(iea: Segment | None, at: Segment | None) -> Iterator[Event]:
        nonlocal isa
        assert isa is not None
        if group is not None:
            yield from close_group(None, at)
        issues: list[Issue] = []
        if iea is None:
            where = at or isa.segment
            issues.append(
                _isa_issue("023", f"interchange {isa.control_number} ends without IEA", where)
            )
        else:
            if not (is_digits(iea[1]) and int(iea[1]) == group_count):
                issues.append(
                    _isa_issue(
                        "021",
                        f"IEA01 says {iea[1]!r} functional groups, the interchange has "
                        f"{group_count}",
                        iea,
                        1,
                        value=iea[1],
                    )
                )
            if iea[2].strip() != isa.control_number:
                issues.append(
                    _isa_issue(
                        "001",
                        f"IEA02 {iea[2]!r} does not match ISA13 {isa.control_number!r}",
                        iea,
                        2,
                        _same_number(iea[2], isa.control_number),
                        iea[2],
                    )
                )
        yield InterchangeEnd(interchange=isa, group_count=group_count, issues=issues, trailer=iea)
        isa = None

    last: Segment | None = None
    for seg in segments:
        tag = seg.fields[0]
        if st is not None and tag not in ("SE", "ST", "GE", "GS", "IEA", "ISA"):
            body.append(seg)
            last = seg
            continue
        if tag == "ISA":
            if isa is not None:
                yield from close_interchange(None, last)
            isa = _interchange(seg)
            if isa.control_number in seen_isa:
                isa.issues.append(
                    _isa_issue(
                        "025",
                        f"interchange control number {isa.control_number} repeats in this stream",
                        seg,
                        13,
                        value=isa.control_number,
                    )
                )
            seen_isa.add(isa.control_number)
            group_count = 0
            seen_gs = set()
            yield isa
        elif isa is None:
            # Unreachable with X12Reader (it always starts at an ISA) but other sources
            # of segments may not.
            raise ValueError(f"segment {tag} at byte {seg.offset} is outside any interchange")
        elif tag == "GS":
            if group is not None:
                yield from close_group(None, seg)
            group = _group(seg, isa)
            tx_count = 0
            seen_st = set()
            if not (is_digits(group.control_number) and len(group.control_number) <= 9):
                group.issues.append(
                    _group_issue(
                        "6",
                        f"GS06 {group.control_number!r} is not a 1-9 digit control number",
                        seg,
                        6,
                        group.control_number,
                    )
                )
            if group.control_number in seen_gs:
                group.issues.append(
                    _group_issue(
                        "19",
                        f"GS06 {group.control_number} repeats within the interchange",
                        seg,
                        6,
                        group.control_number,
                    )
                )
            seen_gs.add(group.control_number)
            yield group
        elif tag == "ST":
            if group is None:
                isa.issues.append(_isa_issue("024", "ST outside a functional group", seg))
                continue
            if st is not None:
                yield from close_transaction(None)
            st = seg
            body = [seg]
        elif tag == "SE":
            if st is None:
                if group is not None:
                    isa.issues.append(_isa_issue("024", "SE without ST", seg))
                continue
            yield from close_transaction(seg)
        elif tag == "GE":
            if group is None:
                isa.issues.append(_isa_issue("024", "GE without GS", seg))
                continue
            yield from close_group(seg, seg)
        elif tag == "IEA":
            yield from close_interchange(seg, seg)
        elif group is None:
            if tag in ("TA1", "ISB", "ISE"):
                yield InterchangeSegment(segment=seg, interchange=isa)
            else:
                isa.issues.append(
                    _isa_issue("024", f"segment {tag!r} between interchange and group headers", seg)
                )
        else:
            isa.issues.append(
                _isa_issue(
                    "024",
                    f"segment {tag!r} outside a transaction set in group {group.control_number}",
                    seg,
                )
            )
        last = seg
    if isa is not None:
        yield from close_interchange(None, last)
