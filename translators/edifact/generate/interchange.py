"""The interchange around generated messages, and the check before it is returned.

Responsible for ``EDIFACTEnvelope`` (the options: identities, syntax identifier and
version, delimiters, references, directory, association code, test and acknowledgment
flags), checking those options before anything is written (each problem a located issue
with its 0085 code: a delimiter used twice or not writable, a reference too long),
writing UNA, UNB, one UNH..UNT per record (UNT 0074 counted, UNH 0062 counted up from the
first reference) and UNZ (0036 the message count), and the read-back check: the bytes are
translated with ``translate_edifact`` and every error issue, and every record value that
does not come back as given, raise ``GenerationError``.
It must not allocate references (the gateway's counters do) or read the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ValidationError

from translators.edifact.charsets import charset_for
from translators.edifact.generate.despatch import ship_notice
from translators.edifact.generate.documents import BODY_BUILDERS as LINE_BUILDERS
from translators.edifact.generate.documents import Body
from translators.edifact.generate.values import UnwritableValue, seg
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.edifact.segment import Delimiters
from translators.edifact.writer import ElementValue, escape, write_interchange
from translators.errors import Issue
from translators.generation import Generated, GenerationError, counted, lost_fields, record_tree
from translators.guides import GuideCheck
from translators.record_data import RecordData

__all__ = [
    "BODY_BUILDERS",
    "SUPPORTED_KINDS",
    "EDIFACTEnvelope",
    "generate_edifact",
    "generate_edifact_read_back",
]

BODY_BUILDERS: Final = {**LINE_BUILDERS, "ship_notice": ("DESADV", ship_notice)}
"""Record kind -> (message type, body builder: record, directory, decimal mark)."""

SUPPORTED_KINDS: Final = frozenset(BODY_BUILDERS)
"""The record kinds ``generate_edifact`` writes."""

# Directory -> UNH S009 0052 version and 0054 release.
_DIRECTORIES: Final = {"D96A": ("D", "96A"), "D01B": ("D", "01B")}
# ISO 9735: 0020 and 0062 are an..14; S002 0004 and S003 0010 an..35, 0007 an..4.
_MAX_REFERENCE: Final = 14
_MAX_PARTY: Final = 35
_MAX_QUALIFIER: Final = 4


@dataclass(frozen=True, slots=True)
class EDIFACTEnvelope:
    """How to envelope the generated messages.

    ``syntax_id`` (UNOA, UNOB, UNOC, ...) and ``syntax_version`` ("3" or "4") are UNB
    S001; the UNA always written advises ``delimiters`` (a repetition separator only in
    version 4). References are ``str`` (leading zeros matter): ``interchange_control`` is
    UNB/UNZ 0020, ``message_reference`` UNH/UNT 0062 of the first message, later ones
    counting up in the same width. ``created_at`` (aware; written in UTC) gives UNB S004
    (YYMMDD before version 4, CCYYMMDD in it). ``directory`` gives UNH S009 (D:96A:UN or
    D:01B:UN with ``agency``); ``association_code`` is S009 0057 (EAN008, ...).
    ``ack_requested`` is UNB 0031, ``test`` 0035, ``application_reference`` 0026.
    ``line_break`` puts a line feed after each segment terminator (for people reading the
    file; the reader skips it).
    """

    sender_id: str
    receiver_id: str
    interchange_control: str
    created_at: datetime
    sender_qualifier: str = ""
    receiver_qualifier: str = ""
    syntax_id: str = "UNOC"
    syntax_version: Literal["3", "4"] = "3"
    delimiters: Delimiters = field(default_factory=Delimiters)
    message_reference: str = "1"
    directory: Literal["D96A", "D01B"] = "D96A"
    agency: str = "UN"
    association_code: str = ""
    test: bool = False
    ack_requested: bool = False
    application_reference: str = ""
    line_break: bool = False


def _issue(code: str, message: str, tag: str, element: int | None = None,
           component: int | None = None, value: str | None = None) -> Issue:
    return Issue(level="interchange", code=code, message=message, segment_tag=tag,
                 element_position=element, component_position=component, bad_value=value)


def _delimiter_issues(d: Delimiters, version: str) -> list[Issue]:
    """The UNA's characters: each service character one character, none used twice, none a
    letter, digit or space (ISO 9735-1 clause 7.1), the decimal mark ',' or '.'."""
    issues: list[Issue] = []
    named = [("component", d.component), ("element", d.element), ("segment", d.segment)]
    if d.release is not None:
        named.append(("release", d.release))
    if d.repetition is not None:
        if version != "4":
            issues.append(_issue("20", "a repetition separator needs syntax version 4", "UNA",
                                 value=d.repetition))
        named.append(("repetition", d.repetition))
    seen: dict[str, str] = {}
    for name, char in named:
        if len(char) != 1 or char.isalnum() or char == " ":
            issues.append(_issue("20", f"{name} separator {char!r} cannot be a service "
                                 "character", "UNA", value=char))
        elif char in seen:
            issues.append(_issue("20", f"{name} separator {char!r} is also the {seen[char]} "
                                 "separator", "UNA", value=char))
        else:
            seen[char] = name
    if d.decimal not in (".", ","):
        issues.append(_issue("20", f"decimal mark {d.decimal!r} is not '.' or ','", "UNA",
                             value=d.decimal))
    return issues


def _envelope_issues(envelope: EDIFACTEnvelope, messages: int) -> list[Issue]:
    """Every option that cannot be written, located where it would stand."""
    issues = _delimiter_issues(envelope.delimiters, envelope.syntax_version)
    charset = charset_for(envelope.syntax_id)
    if charset is None or not charset.supported:
        issues.append(_issue("2", f"syntax identifier {envelope.syntax_id!r} is not "
                             "supported", "UNB", 1, 1, envelope.syntax_id))
    if envelope.syntax_version not in ("3", "4"):
        issues.append(_issue("2", f"syntax version {envelope.syntax_version!r} is not 3 or 4",
                             "UNB", 1, 2, envelope.syntax_version))
    for position, value, qualifier in (
        (2, envelope.sender_id, envelope.sender_qualifier),
        (3, envelope.receiver_id, envelope.receiver_qualifier),
    ):
        if not value:
            issues.append(_issue("13", "interchange party id is missing", "UNB", position, 1))
        elif len(value) > _MAX_PARTY:
            issues.append(_issue("39", f"party id is longer than {_MAX_PARTY} characters",
                                 "UNB", position, 1, value))
        if len(qualifier) > _MAX_QUALIFIER:
            issues.append(_issue("39", f"party qualifier is longer than {_MAX_QUALIFIER} "
                                 "characters", "UNB", position, 2, qualifier))
    control = envelope.interchange_control
    if not control:
        issues.append(_issue("13", "interchange control reference is missing", "UNB", 5))
    elif len(control) > _MAX_REFERENCE:
        issues.append(_issue("39", f"interchange control reference {control!r} is longer "
                             f"than {_MAX_REFERENCE} characters", "UNB", 5, value=control))
    first = envelope.message_reference
    last = counted(first, messages - 1) if first.isdigit() else first
    if not first.isdigit():
        issues.append(_issue("12", f"message reference {first!r} is not digits (it is "
                             "counted up)", "UNH", 1, value=first))
    elif len(last) > _MAX_REFERENCE:
        issues.append(_issue("39", f"message reference {last!r} is longer than "
                             f"{_MAX_REFERENCE} characters", "UNH", 1, value=last))
    if envelope.directory not in _DIRECTORIES:
        issues.append(_issue("12", f"directory {envelope.directory!r} is not one of "
                             f"{sorted(_DIRECTORIES)}", "UNH", 2, 2, envelope.directory))
    if envelope.created_at.tzinfo is None or envelope.created_at.utcoffset() is None:
        issues.append(_issue("12", "created_at has no time zone", "UNB", 4))
    return issues


def _unb(envelope: EDIFACTEnvelope) -> Sequence[ElementValue]:
    created = envelope.created_at.astimezone(UTC)
    day = created.strftime("%Y%m%d" if envelope.syntax_version == "4" else "%y%m%d")
    _, elements = seg(
        "UNB",
        [envelope.syntax_id, envelope.syntax_version],
        [envelope.sender_id, envelope.sender_qualifier],
        [envelope.receiver_id, envelope.receiver_qualifier],
        [day, created.strftime("%H%M")],
        envelope.interchange_control,
        "",
        envelope.application_reference,
        "",
        "1" if envelope.ack_requested else "",
        "",
        "1" if envelope.test else "",
    )
    return [[comps] for comps in elements]


def _tree(n: int, record: BaseModel | RecordData) -> dict[str, Any]:
    """The record as the builders read it; a kind with no generator, or data that is not a
    valid record, is a ``GenerationError`` naming the fields."""
    kind = getattr(record, "kind", None) if isinstance(record, BaseModel) else record.get("kind")
    if kind not in BODY_BUILDERS:
        raise GenerationError(
            f"records[{n}]: kind {kind!r} is not generated", fields=[f"records[{n}].kind"]
        )
    try:
        return record_tree(record)
    except ValidationError as exc:
        fields = [_field(n, error["loc"]) for error in exc.errors()]
        raise GenerationError(f"records[{n}] is not a valid {kind} record",
                              fields=fields) from exc


def _field(n: int, loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a record field path; the first part of a tagged
    union's location is the tag."""
    path = f"records[{n}]"
    for part in loc[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _value_issues(
    segments: Sequence[tuple[str, Sequence[ElementValue]]], codec: str, d: Delimiters
) -> list[Issue]:
    """A located issue (0085 21, invalid character) for each value the syntax identifier's
    character set cannot hold or that holds a delimiter with no release character to
    write it with; positions count from UNH as 0096 does (none outside a message)."""
    issues: list[Issue] = []
    position: int | None = None
    for tag, elements in segments:
        position = 1 if tag == "UNH" else None if position is None else position + 1
        for e, element in enumerate(elements, start=1):
            for r, components in enumerate(element, start=1):
                for c, value in enumerate(components, start=1):
                    problem = ""
                    try:
                        escape(value, d).encode(codec)
                    except UnicodeEncodeError:
                        problem = f"has a character {codec} cannot encode"
                    except ValueError:
                        problem = "holds a delimiter and there is no release character"
                    if problem:
                        issues.append(Issue(
                            level="element", code="21", segment_tag=tag,
                            segment_position=position, element_position=e,
                            component_position=c, repetition=r if r > 1 else None,
                            bad_value=value, message=f"{value!r} {problem}",
                        ))
        if tag == "UNT":
            position = None
    return issues


def generate_edifact(
    records: Sequence[BaseModel | RecordData], envelope: EDIFACTEnvelope, *,
    guides: Mapping[str, GuideCheck] | None = None,
) -> bytes:
    """One interchange holding a message per record, checked before it is returned
    (``generate_edifact_read_back``, which also gives the records as read back)."""
    return generate_edifact_read_back(records, envelope, guides=guides).data


def generate_edifact_read_back(
    records: Sequence[BaseModel | RecordData], envelope: EDIFACTEnvelope, *,
    guides: Mapping[str, GuideCheck] | None = None,
) -> Generated:
    """One interchange holding a message per record, checked before it is returned.

    ``records`` are canonical records (``translators.records`` models or their plain data,
    e.g. parsed JSON) of the kinds in ``SUPPORTED_KINDS``. Raises ``GenerationError`` for
    envelope options that cannot be written (located issues), a record of another kind, a
    value with no EDIFACT form (the field named), a validation error in what was written,
    or a value that does not read back as given. ``guides`` (message type -> a partner's
    guide) are checked in the read-back too.
    """
    trees = [_tree(n, r) for n, r in enumerate(records)]
    if not trees:
        raise GenerationError("no records to generate")
    issues = _envelope_issues(envelope, len(trees))
    if issues:
        raise GenerationError("the envelope options cannot be written", issues)
    version, release = _DIRECTORIES[envelope.directory]
    mark = envelope.delimiters.decimal
    segments: list[tuple[str, Sequence[ElementValue]]] = [("UNB", _unb(envelope))]
    for n, tree in enumerate(trees):
        message_type, build = BODY_BUILDERS[str(tree["kind"])]
        try:
            body: Body = build(tree, envelope.directory, mark)
        except UnwritableValue as exc:
            where = f"records[{n}].{exc.field}" if exc.field else f"records[{n}]"
            raise GenerationError(f"records[{n}]: {exc}", fields=[where]) from exc
        reference = counted(envelope.message_reference, n)
        identifier = [message_type, version, release, envelope.agency,
                      envelope.association_code]
        message = [seg("UNH", reference, identifier), *body]
        message.append(seg("UNT", str(len(message) + 1), reference))
        segments += [(tag, [[comps] for comps in elements]) for tag, elements in message]
    segments.append(("UNZ", [[[str(len(trees))]], [[envelope.interchange_control]]]))
    charset = charset_for(envelope.syntax_id)
    codec = charset.codec if charset is not None else "latin-1"
    issues = _value_issues(segments, codec, envelope.delimiters)
    if issues:
        raise GenerationError("values cannot be written", issues)
    try:
        data = write_interchange(
            segments,
            envelope.delimiters,
            una=True,
            codec=codec,
            newline="\n" if envelope.line_break else "",
        )
    except ValueError as exc:
        raise GenerationError(f"cannot be written: {exc}") from exc
    return Generated(data, _check(data, trees, guides))


def _check(data: bytes, trees: Sequence[Mapping[str, Any]],
           guides: Mapping[str, GuideCheck] | None) -> list[RecordData]:
    """The records read back from ``data``; ``GenerationError`` unless it validates (and
    keeps ``guides``) and reads back as ``trees``."""
    issues: list[Issue] = []
    found: list[dict[str, Any]] = []
    for outcome in translate_edifact(data, guides=guides):
        if isinstance(outcome, MessageOutcome):
            issues += outcome.errors
            # The record data is the model's dump already (tests/translators: check_canonical).
            if outcome.data is not None:
                found.append(outcome.data)
        elif isinstance(outcome, EDIFACTInterchangeOutcome):
            issues += outcome.errors
    lost: list[str] = []
    for n, tree in enumerate(trees):
        if n >= len(found):
            lost.append(f"records[{n}]")
            continue
        lost += [f"records[{n}].{p}" for p in lost_fields(tree, found[n])]
    if issues or lost:
        raise GenerationError("the generated interchange does not check", issues, lost)
    return found

