"""UN/EDIFACT envelope walker: segments in, interchange/group/message events out.

Responsible for the service segments of ISO 9735: UNB/UNZ (interchange), the optional
UNG/UNE (group) and UNH/UNT (message); their counts, references and mandatory elements;
duplicates of references within their envelope; missing trailers; segments outside any
message. Every problem becomes a located ``Issue`` carrying the syntax error code of
CONTRL (data element 0085) at the level a CONTRL reports it (UCI interchange, UCF group,
UCM message, UCS segment, UCD element); a bad message never hides the ones after it.
It must not validate message content against directories: that is the validators' job.

Source of the codes: UN/EDIFACT service code list 0085 (ISO 9735 version 4, e.g. release
40100; kasoftware.com/schema/edi/edifact/D99B/segments/UCS lists 1-44) and 0083.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final

from translators.ascii import is_digits
from translators.edifact.charsets import Charset, charset_for
from translators.edifact.reader import EDIFACTReader
from translators.edifact.segment import LEVEL_A, Delimiters, Segment
from translators.errors import Issue, IssueLevel

__all__ = [
    "ACTION_ACKNOWLEDGED",
    "ACTION_RECEIVED",
    "ACTION_REJECTED",
    "SYNTAX_ERRORS",
    "Event",
    "GroupEnd",
    "GroupHeader",
    "InterchangeEnd",
    "InterchangeHeader",
    "Message",
    "Party",
    "walk",
]

# 0083 Action, coded.
ACTION_REJECTED: Final = "4"  # this level and all lower levels rejected
ACTION_ACKNOWLEDGED: Final = "7"  # this level acknowledged, lower levels too unless reported
ACTION_RECEIVED: Final = "8"  # interchange received (UCI only)

# 0085 Syntax error, coded (ISO 9735 version 4 service code list).
SYNTAX_ERRORS: Final[dict[str, str]] = {
    "2": "Syntax version or level not supported",
    "7": "Interchange recipient not actual recipient",
    "12": "Invalid value",
    "13": "Missing",
    "14": "Value not supported in this position",
    "15": "Not supported in this position",
    "16": "Too many constituents",
    "17": "No agreement",
    "18": "Unspecified error",
    "19": "Invalid decimal notation",
    "20": "Character invalid as service character",
    "21": "Invalid character(s)",
    "22": "Invalid service character(s)",
    "23": "Unknown Interchange sender",
    "24": "Too old",
    "25": "Test indicator not supported",
    "26": "Duplicate detected",
    "27": "Security function not supported",
    "28": "References do not match",
    "29": "Control count does not match number of instances received",
    "30": "Functional groups and messages mixed",
    "31": "More than one message type in group",
    "32": "Lower level empty",
    "33": "Invalid occurrence outside message, package or group",
    "35": "Too many segment repetitions",
    "36": "Too many segment group repetitions",
    "37": "Invalid type of character(s)",
    "38": "Missing digit in front of decimal sign",
    "39": "Data element too long",
    "40": "Data element too short",
}

_ENVELOPE_TAGS: Final = frozenset(["UNB", "UNZ", "UNG", "UNE", "UNH", "UNT"])
_SYNTAX_VERSIONS: Final = frozenset(["1", "2", "3", "4"])
# an..14 in every syntax version: 0020, 0048, 0062.
_MAX_REFERENCE: Final = 14
_UNB_ELEMENTS: Final = 11


@dataclass(frozen=True, slots=True)
class Party:
    """An interchange or group party: identification and its code qualifier (0007).

    ``internal_id`` / ``internal_sub_id`` are S002/S003 components 3 and 4 (address for
    reverse routing / routing address before version 4).
    """

    id: str
    qualifier: str = ""
    internal_id: str = ""
    internal_sub_id: str = ""


@dataclass(slots=True)
class InterchangeHeader:
    """The UNB of one interchange, plus the issues found in the envelope as a whole.

    ``segment`` is ``None`` for a stream of messages without UNB (reported with code 13).
    ``prepared_at`` is S004 read as UTC (UNB carries no zone), ``None`` when invalid.
    """

    segment: Segment | None
    delimiters: Delimiters
    syntax_id: str
    syntax_version: str
    charset: Charset | None
    service_code_list_version: str
    character_encoding: str
    sender: Party
    recipient: Party
    prepared_date: str
    prepared_time: str
    prepared_at: datetime | None
    control_reference: str
    recipient_reference: str
    recipient_reference_qualifier: str
    application_reference: str
    priority: str
    ack_requested: bool
    agreement_id: str
    test: bool
    offset: int
    una_offset: int | None
    issues: list[Issue] = field(default_factory=list)


@dataclass(slots=True)
class GroupHeader:
    """The UNG of one group (message group / functional group)."""

    segment: Segment
    message_group_id: str
    sender: Party
    recipient: Party
    prepared_at: datetime | None
    control_reference: str
    agency: str
    version: str
    release: str
    association_code: str
    password: str
    offset: int
    interchange: InterchangeHeader
    issues: list[Issue] = field(default_factory=list)


# init=False and a written ``__init__`` on the classes made once a message: the compiled
# build runs the ``__init__`` that ``dataclass`` generates as interpreted Python, which cost
# several thousand instructions a message.
@dataclass(slots=True, init=False)
class Message:
    """One message: UNH..UNT (inclusive, as read) with its envelope issues.

    ``complete`` is false when UNT was missing. ``issues`` holds message-level problems
    (UCM) and the reader's segment/element-level ones (UCS/UCD) for its segments.
    """

    reference: str
    type: str
    version: str
    release: str
    agency: str
    association_code: str
    code_list_version: str
    sub_function: str
    common_access_reference: str
    transfer_sequence: str
    transfer_position: str
    segments: list[Segment]
    group: GroupHeader | None
    interchange: InterchangeHeader
    issues: list[Issue]
    complete: bool

    def __init__(
        self,
        reference: str,
        type: str,
        version: str,
        release: str,
        agency: str,
        association_code: str,
        code_list_version: str,
        sub_function: str,
        common_access_reference: str,
        transfer_sequence: str,
        transfer_position: str,
        segments: list[Segment],
        group: GroupHeader | None,
        interchange: InterchangeHeader,
        issues: list[Issue],
        complete: bool,
    ) -> None:
        self.reference = reference
        self.type = type
        self.version = version
        self.release = release
        self.agency = agency
        self.association_code = association_code
        self.code_list_version = code_list_version
        self.sub_function = sub_function
        self.common_access_reference = common_access_reference
        self.transfer_sequence = transfer_sequence
        self.transfer_position = transfer_position
        self.segments = segments
        self.group = group
        self.interchange = interchange
        self.issues = issues
        self.complete = complete

    @property
    def offset(self) -> int:
        return self.segments[0].offset

    @property
    def action(self) -> str:
        """0083 for this message's UCM: rejected when any issue is an error."""
        return _action(self.issues)


@dataclass(slots=True)
class GroupEnd:
    """UNE reached (or the group ended without one): counts and group-level issues."""

    group: GroupHeader
    message_count: int
    issues: list[Issue]
    trailer: Segment | None

    @property
    def action(self) -> str:
        return _action(self.issues)


@dataclass(slots=True)
class InterchangeEnd:
    """UNZ reached (or the interchange ended without one)."""

    interchange: InterchangeHeader
    message_count: int
    group_count: int
    issues: list[Issue]
    trailer: Segment | None

    @property
    def action(self) -> str:
        """0083 for the UCI: rejected when the envelope itself has an error."""
        return _action(self.issues)


Event = InterchangeHeader | GroupHeader | Message | GroupEnd | InterchangeEnd


def _action(issues: list[Issue]) -> str:
    for issue in issues:
        if issue.severity == "error":
            return ACTION_REJECTED
    return ACTION_ACKNOWLEDGED


def _issue(
    level: IssueLevel,
    code: str,
    message: str,
    seg: Segment | None,
    element: int | None = None,
    component: int | None = None,
    value: str | None = None,
    severity: str = "error",
    tag: str | None = None,
    position: int | None = None,
) -> Issue:
    return Issue(
        level=level,
        code=code,
        message=message,
        severity="warning" if severity == "warning" else "error",
        offset=seg.offset if seg is not None else None,
        segment_tag=tag or (seg.tag if seg is not None else None),
        segment_position=position,
        element_position=element,
        component_position=component,
        bad_value=value,
    )


def parse_prepared_at(date: str, time: str) -> datetime | None:
    """S004 date (YYMMDD, or CCYYMMDD from syntax version 4) and time (HHMM) as UTC."""
    if not (is_digits(date) and is_digits(time)) or len(time) not in (4, 6):
        return None
    if len(date) == 8:
        year = int(date[:4])
    elif len(date) == 6:
        yy = int(date[:2])
        year = 2000 + yy if yy < 69 else 1900 + yy  # the POSIX %y pivot
    else:
        return None
    try:
        return datetime(
            year,
            int(date[-4:-2]),
            int(date[-2:]),
            int(time[:2]),
            int(time[2:4]),
            int(time[4:6]) if len(time) == 6 else 0,
            tzinfo=UTC,
        )
    except ValueError:
        return None


def _party(seg: Segment, position: int) -> Party:
    return Party(
        id=seg.get(position, 1),
        qualifier=seg.get(position, 2),
        internal_id=seg.get(position, 3),
        internal_sub_id=seg.get(position, 4),
    )


def _check_reference(
    level: IssueLevel,
    seg: Segment,
    element: int,
    what: str,
    issues: list[Issue],
    position: int | None = None,
) -> str:
    value = seg.get(element, 1)
    if not value:
        issues.append(
            _issue(level, "13", f"{seg.tag} {what} is missing", seg, element, position=position)
        )
    elif len(value) > _MAX_REFERENCE:
        issues.append(
            _issue(
                level,
                "39",
                f"{seg.tag} {what} {value!r} is longer than {_MAX_REFERENCE} characters",
                seg,
                element,
                value=value,
                position=position,
            )
        )
    return value


def _interchange(seg: Segment, delimiters: Delimiters, una_offset: int | None) -> InterchangeHeader:
    issues: list[Issue] = []
    syntax_id = seg.get(1, 1)
    version = seg.get(1, 2)
    charset = charset_for(syntax_id)
    if not syntax_id:
        issues.append(
            _issue("interchange", "13", "UNB S001.0001 syntax identifier is missing", seg, 1, 1)
        )
    elif charset is None or not charset.supported:
        issues.append(
            _issue(
                "interchange",
                "2",
                f"syntax identifier {syntax_id!r} is not supported",
                seg,
                1,
                1,
                syntax_id,
            )
        )
    if not version:
        issues.append(
            _issue("interchange", "13", "UNB S001.0002 syntax version number is missing", seg, 1, 2)
        )
    elif version not in _SYNTAX_VERSIONS:
        issues.append(
            _issue(
                "interchange",
                "2",
                f"syntax version {version!r} is not supported (1 to 4)",
                seg,
                1,
                2,
                version,
            )
        )
    for position, what in ((2, "sender"), (3, "recipient")):
        if not seg.get(position, 1):
            issues.append(
                _issue("interchange", "13", f"UNB interchange {what} is missing", seg, position, 1)
            )
    date, time = seg.get(4, 1), seg.get(4, 2)
    prepared_at = parse_prepared_at(date, time)
    if not date or not time:
        issues.append(
            _issue(
                "interchange",
                "13",
                "UNB S004 date/time of preparation is missing",
                seg,
                4,
                1 if not date else 2,
            )
        )
    elif prepared_at is None:
        issues.append(
            _issue(
                "interchange",
                "12",
                f"UNB S004 {date}:{time} is not a valid date and time",
                seg,
                4,
                value=f"{date}:{time}",
            )
        )
    control = _check_reference("interchange", seg, 5, "interchange control reference", issues)
    # 0031 and 0035 have the single code '1'; partners send '0' for "no", so other values
    # are warnings rather than reasons to reject the interchange.
    ack = seg.get(9)
    if ack not in ("", "1"):
        issues.append(
            _issue(
                "interchange",
                "12",
                f"UNB 0031 acknowledgement request {ack!r} is not '1'",
                seg,
                9,
                value=ack,
                severity="warning",
            )
        )
    test = seg.get(11)
    if test not in ("", "1"):
        issues.append(
            _issue(
                "interchange",
                "12",
                f"UNB 0035 test indicator {test!r} is not '1'",
                seg,
                11,
                value=test,
                severity="warning",
            )
        )
    if len(seg) > _UNB_ELEMENTS:
        issues.append(
            _issue(
                "interchange",
                "16",
                f"UNB has {len(seg)} data elements, at most {_UNB_ELEMENTS} are defined",
                seg,
                _UNB_ELEMENTS + 1,
            )
        )
    return InterchangeHeader(
        segment=seg,
        delimiters=delimiters,
        syntax_id=syntax_id,
        syntax_version=version,
        charset=charset,
        service_code_list_version=seg.get(1, 3),
        character_encoding=seg.get(1, 4),
        sender=_party(seg, 2),
        recipient=_party(seg, 3),
        prepared_date=date,
        prepared_time=time,
        prepared_at=prepared_at,
        control_reference=control,
        recipient_reference=seg.get(6, 1),
        recipient_reference_qualifier=seg.get(6, 2),
        application_reference=seg.get(7),
        priority=seg.get(8),
        ack_requested=ack == "1",
        agreement_id=seg.get(10),
        test=test == "1",
        offset=seg.offset,
        una_offset=una_offset,
        issues=issues,
    )


def _missing_interchange(seg: Segment, delimiters: Delimiters) -> InterchangeHeader:
    """A stand-in header for messages sent without UNB (reported with code 13)."""
    empty = Party(id="")
    return InterchangeHeader(
        segment=None,
        delimiters=delimiters,
        syntax_id="",
        syntax_version="",
        charset=None,
        service_code_list_version="",
        character_encoding="",
        sender=empty,
        recipient=empty,
        prepared_date="",
        prepared_time="",
        prepared_at=None,
        control_reference="",
        recipient_reference="",
        recipient_reference_qualifier="",
        application_reference="",
        priority="",
        ack_requested=False,
        agreement_id="",
        test=False,
        offset=seg.offset,
        una_offset=None,
        issues=[
            _issue(
                "interchange",
                "13",
                f"no UNB interchange header before {seg.tag}",
                seg,
                tag="UNB",
            )
        ],
    )


def _group(seg: Segment, unb: InterchangeHeader) -> GroupHeader:
    issues: list[Issue] = []
    control = _check_reference("group", seg, 5, "group reference number", issues)
    return GroupHeader(
        segment=seg,
        message_group_id=seg.get(1),
        sender=_party(seg, 2),
        recipient=_party(seg, 3),
        prepared_at=parse_prepared_at(seg.get(4, 1), seg.get(4, 2)),
        control_reference=control,
        agency=seg.get(6),
        version=seg.get(7, 1),
        release=seg.get(7, 2),
        association_code=seg.get(7, 3),
        password=seg.get(8),
        offset=seg.offset,
        interchange=unb,
        issues=issues,
    )


def _relevel(issues: list[Issue], level: IssueLevel) -> list[Issue]:
    """Character issues the reader found in a service segment, at the envelope's level."""
    return [replace(i, level=level, segment_position=None) for i in issues]


class _Walker:
    """The state of one walk; ``walk`` drives it. Kept as a class so that the per-segment
    path is a plain method (and compiles well with mypyc)."""

    def __init__(self, reader: EDIFACTReader | None) -> None:
        self.reader = reader
        self.unb: InterchangeHeader | None = None
        self.group: GroupHeader | None = None
        self.unh: Segment | None = None
        self.body: list[Segment] = []
        self.body_issues: list[Issue] = []
        self.message_count = 0  # in the interchange, outside or inside groups
        self.group_count = 0
        self.loose_messages = 0  # messages outside any group
        self.group_messages = 0
        self.group_types: set[str] = set()
        self.seen_unb: set[str] = set()
        self.seen_ung: set[str] = set()
        self.seen_unh: set[str] = set()
        self.stray = False  # inside a run of segments outside any message
        # Interchange-level problems found after the UNB event was yielded.
        self.late_issues: list[Issue] = []

    def delimiters(self) -> Delimiters:
        return self.reader.delimiters if self.reader is not None else LEVEL_A

    # -- messages ---------------------------------------------------------------------------
    def close_message(self, unt: Segment | None) -> Message:
        unh = self.unh
        assert unh is not None and self.unb is not None
        body = self.body
        issues: list[Issue] = []
        reference = _check_reference("transaction", unh, 1, "message reference number", issues, 1)
        for component, what in ((1, "message type"), (2, "version"), (3, "release"), (4, "agency")):
            if not unh.get(2, component):
                issues.append(
                    _issue(
                        "transaction",
                        "13",
                        f"UNH S009 {what} is missing",
                        unh,
                        2,
                        component,
                        position=1,
                    )
                )
        if reference:
            if reference in self.seen_unh:
                issues.append(
                    _issue(
                        "transaction",
                        "26",
                        f"message reference {reference} repeats within the interchange",
                        unh,
                        1,
                        value=reference,
                        position=1,
                    )
                )
            self.seen_unh.add(reference)
        if unt is None:
            last = body[-1]
            issues.append(
                _issue(
                    "transaction",
                    "13",
                    f"message {reference} has no UNT trailer",
                    last,
                    tag="UNT",
                    position=len(body),
                )
            )
        else:
            body.append(unt)
            count = len(body)
            declared = unt.get(1)
            if not (is_digits(declared) and int(declared) == count):
                issues.append(
                    _issue(
                        "transaction",
                        "29" if declared else "13",
                        f"UNT 0074 says {declared!r} segments, the message has {count}",
                        unt,
                        1,
                        value=declared or None,
                        position=count,
                    )
                )
            if unt.get(2) != reference:
                issues.append(
                    _issue(
                        "transaction",
                        "28" if unt.get(2) else "13",
                        f"UNT 0062 {unt.get(2)!r} does not match UNH 0062 {reference!r}",
                        unt,
                        2,
                        value=unt.get(2) or None,
                        position=count,
                    )
                )
        issues.extend(self.body_issues)
        message = Message(
            reference=reference,
            type=unh.get(2, 1),
            version=unh.get(2, 2),
            release=unh.get(2, 3),
            agency=unh.get(2, 4),
            association_code=unh.get(2, 5),
            code_list_version=unh.get(2, 6),
            sub_function=unh.get(2, 7),
            common_access_reference=unh.get(3),
            transfer_sequence=unh.get(4, 1),
            transfer_position=unh.get(4, 2),
            segments=body,
            group=self.group,
            interchange=self.unb,
            issues=issues,
            complete=unt is not None,
        )
        self.message_count += 1
        if self.group is not None:
            self.group_messages += 1
            self.group_types.add(message.type)
        else:
            self.loose_messages += 1
        self.unh = None
        self.body = []
        self.body_issues = []
        return message

    # -- groups -------------------------------------------------------------------------------
    def close_group(self, une: Segment | None, at: Segment | None) -> Iterator[Event]:
        group = self.group
        assert group is not None
        if self.unh is not None:
            yield self.close_message(None)
        issues = group.issues
        if une is None:
            issues.append(
                _issue(
                    "group",
                    "13",
                    f"group {group.control_reference} has no UNE trailer",
                    at or group.segment,
                    tag="UNE",
                )
            )
        else:
            declared = une.get(1)
            if not (is_digits(declared) and int(declared) == self.group_messages):
                issues.append(
                    _issue(
                        "group",
                        "29" if declared else "13",
                        f"UNE 0060 says {declared!r} messages, the group has {self.group_messages}",
                        une,
                        1,
                        value=declared or None,
                    )
                )
            if une.get(2) != group.control_reference:
                issues.append(
                    _issue(
                        "group",
                        "28" if une.get(2) else "13",
                        f"UNE 0048 {une.get(2)!r} does not match UNG 0048 "
                        f"{group.control_reference!r}",
                        une,
                        2,
                        value=une.get(2) or None,
                    )
                )
            if une.issues:
                issues.extend(_relevel(une.issues, "group"))
        if self.group_messages == 0:
            issues.append(
                _issue(
                    "group",
                    "32",
                    f"group {group.control_reference} holds no message",
                    group.segment,
                )
            )
        if len(self.group_types) > 1:
            issues.append(
                _issue(
                    "group",
                    "31",
                    f"group {group.control_reference} holds message types "
                    f"{', '.join(sorted(self.group_types))}",
                    group.segment,
                    1,
                )
            )
        self.group_count += 1
        yield GroupEnd(group=group, message_count=self.group_messages, issues=issues, trailer=une)
        self.group = None

    # -- interchanges -------------------------------------------------------------------------
    def open_interchange(self, unb: InterchangeHeader) -> None:
        self.unb = unb
        self.message_count = 0
        self.group_count = 0
        self.loose_messages = 0
        self.seen_ung = set()
        self.seen_unh = set()
        self.stray = False
        self.late_issues = []

    def close_interchange(self, unz: Segment | None, at: Segment | None) -> Iterator[Event]:
        unb = self.unb
        assert unb is not None
        if self.unh is not None:
            yield self.close_message(None)
        if self.group is not None:
            yield from self.close_group(None, at)
        issues: list[Issue] = self.late_issues
        if unz is None:
            if unb.segment is not None:
                issues.append(
                    _issue(
                        "interchange",
                        "13",
                        f"interchange {unb.control_reference} ends without UNZ",
                        at or unb.segment,
                        tag="UNZ",
                    )
                )
        else:
            # ISO 9735: 0036 counts the groups when there are any, else the messages.
            expected = self.group_count if self.group_count else self.message_count
            declared = unz.get(1)
            if not (is_digits(declared) and int(declared) == expected):
                issues.append(
                    _issue(
                        "interchange",
                        "29" if declared else "13",
                        f"UNZ 0036 says {declared!r}, the interchange has {expected} "
                        f"{'groups' if self.group_count else 'messages'}",
                        unz,
                        1,
                        value=declared or None,
                    )
                )
            if unz.get(2) != unb.control_reference:
                issues.append(
                    _issue(
                        "interchange",
                        "28" if unz.get(2) else "13",
                        f"UNZ 0020 {unz.get(2)!r} does not match UNB 0020 "
                        f"{unb.control_reference!r}",
                        unz,
                        2,
                        value=unz.get(2) or None,
                    )
                )
            if unz.issues:
                issues.extend(_relevel(unz.issues, "interchange"))
        if self.group_count and self.loose_messages:
            issues.append(
                _issue(
                    "interchange",
                    "30",
                    "the interchange mixes groups and messages outside groups",
                    unz or at,
                )
            )
        if self.message_count == 0 and self.group_count == 0 and unb.segment is not None:
            issues.append(
                _issue(
                    "interchange",
                    "32",
                    f"interchange {unb.control_reference} holds no message",
                    unb.segment,
                )
            )
        yield InterchangeEnd(
            interchange=unb,
            message_count=self.message_count,
            group_count=self.group_count,
            issues=issues,
            trailer=unz,
        )
        self.unb = None

    def stray_segment(self, seg: Segment, level: IssueLevel) -> None:
        """A segment outside any message: one issue for each run of them."""
        if self.stray:
            return
        self.stray = True
        target = self.group.issues if self.group is not None and level == "group" else None
        issue = _issue(
            level,
            "33",
            f"segment {seg.tag!r} outside any message",
            seg,
        )
        if target is not None:
            target.append(issue)
        else:
            self.late_issues.append(issue)

    # -- the walk -------------------------------------------------------------------------------
    def feed(self, seg: Segment, last: Segment | None) -> Iterator[Event]:
        tag = seg.tag
        if self.unh is not None:
            if tag not in _ENVELOPE_TAGS:
                self.body.append(seg)
                if seg.issues:
                    self.body_issues.extend(seg.issues)
                return
            if tag == "UNT":
                if seg.issues:
                    self.body_issues.extend(seg.issues)
                yield self.close_message(seg)
                return
            yield self.close_message(None)
        if tag == "UNB":
            if self.unb is not None:
                yield from self.close_interchange(None, last)
            reader = self.reader
            unb = _interchange(
                seg, self.delimiters(), reader.una_offset if reader is not None else None
            )
            if seg.issues:
                unb.issues.extend(_relevel(seg.issues, "interchange"))
            reference = unb.control_reference
            if reference and reference in self.seen_unb:
                unb.issues.append(
                    _issue(
                        "interchange",
                        "26",
                        f"interchange control reference {reference} repeats in this stream",
                        seg,
                        5,
                        value=reference,
                    )
                )
            self.seen_unb.add(reference)
            self.open_interchange(unb)
            yield unb
            return
        current = self.unb
        if current is None:
            current = _missing_interchange(seg, self.delimiters())
            self.open_interchange(current)
            yield current
        if tag == "UNH":
            self.stray = False
            self.unh = seg
            self.body = [seg]
            self.body_issues = list(seg.issues) if seg.issues else []
        elif tag == "UNG":
            self.stray = False
            if self.group is not None:
                yield from self.close_group(None, seg)
            group = _group(seg, current)
            if seg.issues:
                group.issues.extend(_relevel(seg.issues, "group"))
            reference = group.control_reference
            if reference and reference in self.seen_ung:
                group.issues.append(
                    _issue(
                        "group",
                        "26",
                        f"group reference {reference} repeats within the interchange",
                        seg,
                        5,
                        value=reference,
                    )
                )
            self.seen_ung.add(reference)
            self.group = group
            self.group_messages = 0
            self.group_types = set()
            yield group
        elif tag == "UNE":
            self.stray = False
            if self.group is None:
                self.stray_segment(seg, "interchange")
            else:
                yield from self.close_group(seg, seg)
        elif tag == "UNZ":
            yield from self.close_interchange(seg, seg)
        else:
            self.stray_segment(seg, "group" if self.group is not None else "interchange")


def walk(source: EDIFACTReader | Iterable[Segment]) -> Iterator[Event]:
    """Walk the envelopes of one or more interchanges, yielding events in order.

    Give it the ``EDIFACTReader`` itself (rather than any iterable of segments) so that
    each ``InterchangeHeader`` carries the interchange's delimiters and UNA offset.
    Messages are yielded whole (their segments in memory); interchanges and groups are
    streamed, so memory is bounded by the largest message.
    """
    walker = _Walker(source if isinstance(source, EDIFACTReader) else None)
    last: Segment | None = None
    for seg in source:
        # The body of an open message is nearly every segment: keep it out of ``feed``,
        # which is a generator (one object per call). A tag not starting with "UN" needs
        # no set lookup.
        tag = seg.tag
        if walker.unh is not None and (
            len(tag) < 2 or ord(tag[0]) != 0x55 or ord(tag[1]) != 0x4E
            or tag not in _ENVELOPE_TAGS
        ):
            walker.body.append(seg)
            if seg.issues:
                walker.body_issues.extend(seg.issues)
        else:
            yield from walker.feed(seg, last)
        last = seg
    if walker.unb is not None:
        yield from walker.close_interchange(None, last)
