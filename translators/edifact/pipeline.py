"""The UN/EDIFACT translation pipeline: bytes -> envelopes -> validated messages -> records.

Responsible for running the reader, the envelope walker, the message validator and the
mappers in one streaming pass, and for summarising each group and interchange so that a
CONTRL can be built from the summaries alone (they hold no segments). The outcome types
are EDIFACT's own: X12's carry X12 envelopes and 997 status codes, EDIFACT's carry UNB/UNG/
UNH and 0083 actions.
It must not write CONTRL (``contrl``) or know about transports and storage.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from sys import intern
from typing import TYPE_CHECKING, BinaryIO

from translators.accounting import add_loop_paths
from translators.ascii import first_control
from translators.edifact.envelope import (
    ACTION_ACKNOWLEDGED,
    ACTION_REJECTED,
    GroupEnd,
    GroupHeader,
    InterchangeEnd,
    InterchangeHeader,
    Message,
    walk,
)
from translators.edifact.reader import EDIFACTReader
from translators.edifact.schema import MessageDefinition, definition_for
from translators.edifact.validator import MessageValidator, relaxed_code_lists
from translators.errors import Issue
from translators.guides import GuideCheck, check_guide
from translators.record_data import RecordData, record_from_data
from translators.summary_rows import PackedSummaries

if TYPE_CHECKING:
    from translators.records import Record

__all__ = [
    "EDIFACTGroupOutcome",
    "EDIFACTInterchangeOutcome",
    "EDIFACTOutcome",
    "MessageOutcome",
    "MessageSummaries",
    "MessageSummary",
    "ValidatorRegistry",
    "source_of",
    "translate_edifact",
]


def _action(issues: list[Issue]) -> str:
    """0083: 4 rejected when any issue is an error, else 7 acknowledged."""
    for issue in issues:
        if issue.severity == "error":
            return ACTION_REJECTED
    return ACTION_ACKNOWLEDGED


# init=False and a written ``__init__`` on the classes made once a message: the compiled
# build runs the ``__init__`` that ``dataclass`` generates as interpreted Python, which cost
# several thousand instructions a message.
@dataclass(slots=True, init=False)
class MessageSummary:
    """What a CONTRL UCM needs of one message."""

    reference: str
    type: str
    version: str
    release: str
    agency: str
    association_code: str
    issues: list[Issue]
    segment_count: int

    def __init__(self, reference: str, type: str, version: str, release: str, agency: str,
                 association_code: str, issues: list[Issue], segment_count: int) -> None:
        self.reference = reference
        self.type = type
        self.version = version
        self.release = release
        self.agency = agency
        self.association_code = association_code
        self.issues = issues
        self.segment_count = segment_count

    @property
    def action(self) -> str:
        return _action(self.issues)


class MessageSummaries(PackedSummaries[MessageSummary]):
    """The summaries of a group's (or an interchange's loose) messages, in order, kept
    small until UNE/UNZ (``PackedSummaries``): a message without issues is kept as its
    identifiers."""

    def _identifiers(self, summary: MessageSummary) -> Sequence[str] | None:
        if summary.issues:
            return None
        return (summary.reference, summary.type, summary.version, summary.release,
                summary.agency, summary.association_code, str(summary.segment_count))

    def _restore(self, fields: list[str]) -> MessageSummary:
        reference, type_, version, release, agency, association, segments = fields
        return MessageSummary(reference, intern(type_), intern(version), intern(release),
                              intern(agency), intern(association), [], int(segments))


@dataclass(slots=True, init=False)
class MessageOutcome:
    """One message, validated and (when a mapper exists) translated.

    ``data`` is the canonical record as plain data (``translators.record_data``), what the
    gateway stores; ``record`` is the same as a validated Pydantic model, built on first
    use.
    """

    document: Message
    issues: list[Issue]
    data: RecordData | None
    schema: str | None  # "ORDERS D96A" etc., None when edigate has no definition
    _record: Record | None = field(default=None, repr=False, compare=False)

    def __init__(self, document: Message, issues: list[Issue], data: RecordData | None,
                 schema: str | None, _record: Record | None = None) -> None:
        self.document = document
        self.issues = issues
        self.data = data
        self.schema = schema
        self._record = _record

    @property
    def record(self) -> Record | None:
        if self._record is None and self.data is not None:
            self._record = record_from_data(self.data)
        return self._record

    @property
    def action(self) -> str:
        return _action(self.issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def summary(self) -> MessageSummary:
        m = self.document
        # An interchange keeps one summary per message until its UNZ (a CONTRL needs them),
        # so its memory grows with the message count: the UNH S009 values repeat from
        # message to message and are interned rather than kept once per message.
        return MessageSummary(
            reference=m.reference, type=intern(m.type), version=intern(m.version),
            release=intern(m.release), agency=intern(m.agency),
            association_code=intern(m.association_code), issues=self.issues,
            segment_count=len(m.segments),
        )


@dataclass(slots=True)
class EDIFACTGroupOutcome:
    """A group after its UNE: header, trailer issues, message summaries."""

    header: GroupHeader
    end: GroupEnd
    documents: MessageSummaries

    @property
    def issues(self) -> list[Issue]:
        return self.end.issues

    @property
    def action(self) -> str:
        return _action(self.end.issues)


@dataclass(slots=True)
class EDIFACTInterchangeOutcome:
    """An interchange after its UNZ: envelope issues, groups, messages outside groups."""

    header: InterchangeHeader
    end: InterchangeEnd
    groups: list[EDIFACTGroupOutcome]
    documents: MessageSummaries = field(default_factory=MessageSummaries)  # outside groups

    @property
    def issues(self) -> list[Issue]:
        return self.header.issues + self.end.issues

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def action(self) -> str:
        return _action(self.issues)

    def all_documents(self) -> list[MessageSummary]:
        """The summaries of every message, those outside groups first, in order."""
        out = list(self.documents)
        for group in self.groups:
            out.extend(group.documents)
        return out


EDIFACTOutcome = MessageOutcome | EDIFACTGroupOutcome | EDIFACTInterchangeOutcome


class ValidatorRegistry:
    """Compiled validators by (type, version, release), built once and cached."""

    def __init__(
        self,
        definition: Callable[[str, str, str], MessageDefinition | None] = definition_for,
    ) -> None:
        self._definition = definition
        self._by_key: dict[tuple[str, str, str], MessageValidator | None] = {}

    def validator(self, message_type: str, version: str, release: str) -> MessageValidator | None:
        key = (message_type, version, release)
        try:
            return self._by_key[key]
        except KeyError:
            pass
        definition = self._definition(message_type, version, release)
        found = MessageValidator(definition) if definition is not None else None
        self._by_key[key] = found
        return found


_DEFAULT_REGISTRY: ValidatorRegistry | None = None


def _default_registry() -> ValidatorRegistry:
    global _DEFAULT_REGISTRY
    if _DEFAULT_REGISTRY is None:
        _DEFAULT_REGISTRY = ValidatorRegistry()
    return _DEFAULT_REGISTRY


def source_of(message: Message) -> RecordData:
    """The canonical ``source`` block of a message's record, as data (complete, in the
    order of ``translators.records.Source``)."""
    unb = message.interchange
    return {
        "standard": "edifact",
        "version": f"{message.version}{message.release}" or message.version,
        "transaction_type": message.type,
        "sender": {"qualifier": unb.sender.qualifier or None, "id": unb.sender.id},
        "receiver": {"qualifier": unb.recipient.qualifier or None, "id": unb.recipient.id},
        "interchange_control": unb.control_reference,
        "group_control": message.group.control_reference if message.group is not None
        else None,
        "transaction_control": message.reference,
        "implementation_ref": message.association_code or None,
        "test": unb.test,
        "message_id": None,
        "partner_id": None,
    }


def _as_nearest(found: list[Issue], message: Message, directory: str) -> list[Issue]:
    """Findings against the nearest directory, for a release edigate has no directory of:
    releases differ in lengths, code lists and segments, so findings are warnings."""
    note = Issue(
        level="transaction", code="14", severity="warning",
        message=f"no definition of {message.type} {message.version}:{message.release}: "
        f"validated against {directory}, findings are warnings",
        offset=message.offset, segment_tag="UNH", segment_position=1, element_position=2,
    )
    return [note, *(replace(i, severity="warning") for i in found)]


def _envelope_character_issue(message: Message) -> Issue | None:
    """A message whose UNB or UNG holds a control character is not accepted (code 21,
    invalid character, located at the header element): its record and CONTRL would carry
    the unreadable sender, recipient or references. The header's own issue (UCI, UCF) is
    the reader's."""
    headers = (message.interchange.segment, message.group.segment if message.group else None)
    for header in headers:
        if header is None:
            continue
        for position, element in enumerate(header.elements, start=1):
            for component, value in enumerate(element, start=1):
                if first_control(value) >= 0:
                    return Issue(
                        level="transaction", code="21", offset=header.offset,
                        segment_tag=header.tag, element_position=position,
                        component_position=component, bad_value=value,
                        message=f"{header.tag} element {position} of the enclosing envelope "
                        f"contains a control character: {value!r}; the message is not "
                        "accepted")
    return None


def translate_edifact(
    source: bytes | BinaryIO,
    *,
    validate: bool = True,
    translate: bool = True,
    registry: ValidatorRegistry | None = None,
    source_hook: Callable[[RecordData], RecordData] | None = None,
    accepts: Callable[[str], bool] | None = None,
    relax_code_lists: Collection[str] = (),
    guides: Mapping[str, GuideCheck] | None = None,
) -> Iterator[EDIFACTOutcome]:
    """Read, check, validate and translate every interchange in ``source``.

    Yields a ``MessageOutcome`` per message as soon as it is complete, an
    ``EDIFACTGroupOutcome`` after each group and an ``EDIFACTInterchangeOutcome`` after
    each interchange. ``EDISyntaxError`` propagates when bytes cannot be tokenized;
    everything already yielded stays valid. ``accepts`` says whether a message type is
    agreed with the sender (others are rejected with 0085 code 17, no agreement);
    ``source_hook`` lets the gateway add message and partner ids to each record's source
    (it gets and returns the source block as data). ``relax_code_lists`` names data
    elements (``3035``) whose code-list violations are warnings for this sender (its
    partner profile's ``[validation]``). ``guides`` maps a message type to the partner's
    implementation guide and the severity of its findings (``translators.guides``),
    checked after the standard's rules.
    """
    registry = registry or _default_registry()
    mapper: Callable[..., RecordData | None] | None = None
    if translate:
        # Imported here, once a call (an import per message was measurable in the mypyc
        # build): the mappers load pydantic, which reading alone does not need.
        from translators.edifact.mappers import map_message_data

        mapper = map_message_data
    loose = MessageSummaries()
    in_group = MessageSummaries()
    groups: list[EDIFACTGroupOutcome] = []
    # Every message of an interchange (of a group) has the same UNB (UNG): its headers are
    # checked for control characters once, and the finding, if any, given to each message.
    checked_unb: InterchangeHeader | None = None
    checked_ung: GroupHeader | None = None
    enclosing: Issue | None = None
    for event in walk(EDIFACTReader(source)):
        if isinstance(event, Message):
            issues = list(event.issues)
            if event.interchange is not checked_unb or event.group is not checked_ung:
                checked_unb = event.interchange
                checked_ung = event.group
                enclosing = _envelope_character_issue(event)
            if enclosing is not None:
                issues.append(enclosing)
            if accepts is not None and not accepts(event.type):
                issues.append(Issue(
                    level="transaction", code="17", offset=event.offset, segment_tag="UNH",
                    segment_position=1, element_position=2, component_position=1,
                    bad_value=event.type,
                    message=f"message type {event.type} is not agreed with this sender"))
            name: str | None = None
            validator = (
                registry.validator(event.type, event.version, event.release) if validate else None
            )
            loops: list[str] | None = [] if mapper is not None and event.complete else None
            if validator is not None:
                definition = validator.definition
                name = f"{definition.type} {definition.directory}"
                found = validator.validate(event.segments, loops)
                if relax_code_lists:
                    found = relaxed_code_lists(found, relax_code_lists)
                if not definition.exact:
                    found = _as_nearest(found, event, definition.directory)
                issues.extend(found)
            elif validate:
                issues.append(Issue(
                    level="transaction", code="14", severity="warning",
                    message=f"no definition of {event.type} {event.version}:{event.release}: "
                    "content not validated", offset=event.offset, segment_tag="UNH",
                    segment_position=1, element_position=2))
            if guides is not None and event.complete:
                check = guides.get(event.type)
                if check is not None:
                    issues.extend(check_guide(check[0], event.segments, "edifact",
                                              severity=check[1]))
            record: RecordData | None = None
            if mapper is not None and event.complete:
                src = source_of(event)
                if source_hook is not None:
                    src = source_hook(src)
                record = mapper(event.segments, src,
                                decimal_mark=event.interchange.delimiters.decimal)
                if record is not None and loops and record["unmapped"]:
                    add_loop_paths(record["unmapped"], loops)
            outcome = MessageOutcome(event, issues, record, name)
            (in_group if event.group is not None else loose).append(outcome.summary())
            yield outcome
        elif isinstance(event, GroupHeader):
            in_group = MessageSummaries()
        elif isinstance(event, GroupEnd):
            group = EDIFACTGroupOutcome(event.group, event, in_group)
            groups.append(group)
            in_group = MessageSummaries()
            yield group
        elif isinstance(event, InterchangeHeader):
            groups = []
            loose = MessageSummaries()
        elif isinstance(event, InterchangeEnd):
            yield EDIFACTInterchangeOutcome(event.interchange, event, groups, loose)
            groups = []
            loose = MessageSummaries()
