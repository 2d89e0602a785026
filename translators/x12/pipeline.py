"""The X12 translation pipeline: bytes -> envelopes -> validated transactions -> records.

Responsible for running the reader, the envelope walker, the schema validator and the
mappers in one streaming pass, and for summarising each group and interchange so that
acknowledgments can be built from the summaries alone (they hold no segments).
It must not write acknowledgments (``ack``) or know about transports and storage.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import schemas.x12 as x12_schemas
from translators.accounting import add_loop_paths
from translators.ascii import is_digits
from translators.errors import Issue
from translators.guides import GuideCheck, check_guide
from translators.record_data import RecordData, record_from_data
from translators.summary_rows import PackedSummaries
from translators.x12.envelope import (
    GroupEnd,
    GroupHeader,
    InterchangeEnd,
    InterchangeHeader,
    InterchangeSegment,
    TransactionSet,
    control_character,
    walk,
)
from translators.x12.mappers import map_transaction_data
from translators.x12.reader import X12Reader
from translators.x12.schema import load_schema
from translators.x12.segment import Segment
from translators.x12.validator import TransactionValidator, relaxed_code_lists

if TYPE_CHECKING:
    from translators.records import Record

__all__ = [
    "Outcome",
    "SchemaRegistry",
    "TransactionOutcome",
    "TransactionSummaries",
    "TransactionSummary",
    "X12GroupOutcome",
    "X12InterchangeOutcome",
    "translate_x12",
]

AckCode = Literal["A", "E", "R"]


@dataclass(slots=True)
class TransactionSummary:
    """What an acknowledgment needs of one transaction set."""

    set_id: str
    control_number: str
    implementation_ref: str
    status: AckCode
    issues: list[Issue]
    segment_count: int


@dataclass(slots=True)
class TransactionOutcome:
    """One transaction set, validated and (when mappable) translated.

    ``data`` is the canonical record as plain data (``translators.record_data``), what the
    gateway stores; ``record`` is the same as a validated Pydantic model, built on first
    use.
    """

    document: TransactionSet
    issues: list[Issue]
    data: RecordData | None
    schema: str | None  # file name of the map used, None when the set is not supported
    _record: Record | None = field(default=None, repr=False, compare=False)

    @property
    def record(self) -> Record | None:
        if self._record is None and self.data is not None:
            self._record = record_from_data(self.data)
        return self._record

    @property
    def status(self) -> AckCode:
        return _status(self.issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def summary(self) -> TransactionSummary:
        tx = self.document
        return TransactionSummary(
            set_id=tx.set_id,
            control_number=tx.control_number,
            implementation_ref=tx.implementation_ref,
            status=self.status,
            issues=self.issues,
            segment_count=len(tx.segments),
        )


class TransactionSummaries(PackedSummaries[TransactionSummary]):
    """The summaries of a group's transaction sets, in order, kept small until its GE
    (``PackedSummaries``): a set without issues (status A) is kept as its identifiers."""

    def _identifiers(self, summary: TransactionSummary) -> Sequence[str] | None:
        if summary.issues or summary.status != "A":
            return None
        return (summary.set_id, summary.control_number, summary.implementation_ref,
                str(summary.segment_count))

    def _restore(self, fields: list[str]) -> TransactionSummary:
        set_id, control, ref, segments = fields
        return TransactionSummary(set_id, control, ref, "A", [], int(segments))


@dataclass(slots=True)
class X12GroupOutcome:
    """A functional group after its GE: header, trailer issues, transaction summaries."""

    header: GroupHeader
    end: GroupEnd
    documents: TransactionSummaries

    @property
    def issues(self) -> list[Issue]:
        return self.end.issues

    @property
    def status(self) -> Literal["A", "E", "P", "R"]:
        """AK901/IK901 (715): A, E (accepted with errors noted), P (partially), R."""
        group_errors = [i for i in self.end.issues if i.severity == "error"]
        codes = [t.status for t in self.documents]
        if any(i.code in ("1", "2") for i in group_errors) or (
            codes and all(c == "R" for c in codes)
        ):
            return "R"
        if "R" in codes:
            return "P"
        if group_errors or "E" in codes:
            return "E"
        return "A"

    @property
    def accepted_count(self) -> int:
        return sum(1 for t in self.documents if t.status != "R")


@dataclass(slots=True)
class X12InterchangeOutcome:
    """An interchange after its IEA: envelope issues, group outcomes, TA1s received."""

    header: InterchangeHeader
    end: InterchangeEnd
    groups: list[X12GroupOutcome]
    received_ta1: list[InterchangeSegment] = field(default_factory=list)

    @property
    def issues(self) -> list[Issue]:
        return self.header.issues + self.end.issues

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def all_documents(self) -> list[TransactionSummary]:
        """The summaries of every transaction set, in order (X12 has no set outside a
        group)."""
        return [summary for group in self.groups for summary in group.documents]


Outcome = TransactionOutcome | X12GroupOutcome | X12InterchangeOutcome


def _status(issues: list[Issue]) -> AckCode:
    if any(i.severity == "error" for i in issues):
        return "R"
    return "E" if any(i.level != "interchange" for i in issues) else "A"


@functools.lru_cache(maxsize=1)
def _all_segment_tags() -> frozenset[str]:
    tags: set[str] = set()
    for path in sorted(x12_schemas.MAP_DIR.glob("*.xml")):
        if path.name in ("dataele.xml", "codes.xml", "maps.xml") or path.name.startswith("x12."):
            continue
        tags |= load_schema(path).known_tags
    return frozenset(tags)


class SchemaRegistry:
    """Compiled validators by (transaction set, version), built once and cached."""

    def __init__(self, map_file: Callable[[str, str], Path | None] | None = None) -> None:
        self._map_file = map_file or x12_schemas.map_file
        self._by_key: dict[tuple[str, str], TransactionValidator | None] = {}
        self._by_path: dict[Path, TransactionValidator] = {}

    def validator(self, set_id: str, version: str) -> TransactionValidator | None:
        key = (set_id, version)
        try:
            return self._by_key[key]
        except KeyError:
            pass
        path = self._map_file(set_id, version)
        found: TransactionValidator | None = None
        if path is not None:
            found = self._by_path.get(path)
            if found is None:
                found = TransactionValidator(load_schema(path), _all_segment_tags)
                self._by_path[path] = found
        self._by_key[key] = found
        return found


_DEFAULT_REGISTRY: SchemaRegistry | None = None


def _default_registry() -> SchemaRegistry:
    global _DEFAULT_REGISTRY
    if _DEFAULT_REGISTRY is None:
        _DEFAULT_REGISTRY = SchemaRegistry()
    return _DEFAULT_REGISTRY


def _version(tx: TransactionSet) -> str:
    """The version a transaction is written in: GS08, or ST03 when GS08 is not one."""
    gs08 = tx.group.version
    if is_digits(gs08[:6]):
        return gs08
    st03 = tx.implementation_ref
    return st03 if is_digits(st03[:6]) else gs08


def source_of(tx: TransactionSet) -> RecordData:
    """The canonical ``source`` block of a transaction's record, as data (complete, in the
    order of ``translators.records.Source``)."""
    isa = tx.group.interchange
    return {
        "standard": "x12",
        "version": _version(tx)[:6] or tx.group.version,
        "transaction_type": tx.set_id,
        "sender": {"qualifier": isa.sender_qualifier or None, "id": isa.sender_id},
        "receiver": {"qualifier": isa.receiver_qualifier or None, "id": isa.receiver_id},
        "interchange_control": isa.control_number,
        "group_control": tx.group.control_number,
        "transaction_control": tx.control_number,
        "implementation_ref": tx.implementation_ref or None,
        "test": isa.test,
        "message_id": None,
        "partner_id": None,
    }


def _as_nearest_version(
    found: list[Issue], tx: TransactionSet, version: str, schema_version: str
) -> list[Issue]:
    """Findings against the nearest schema, for a version edigate has no schema of.

    Versions differ in element lengths, code lists and segments, so a finding may be a
    difference between versions rather than a defect: it is reported as a warning (the
    transaction is accepted with errors noted, AK5 E), next to one warning that says which
    schema was used. Envelope findings are not affected.
    """
    note = Issue(
        level="transaction", code="1", severity="warning",
        message=f"no schema for version {version or tx.group.version!r}: validated against "
        f"{schema_version}, findings are warnings", offset=tx.offset, segment_tag="ST",
        segment_position=1,
    )
    return [note, *(replace(i, severity="warning") for i in found)]


def _first_repetitions(
    segments: list[Segment], issues: list[Issue]
) -> tuple[list[Segment], list[dict[str, Any]]]:
    """The segments a mapper sees: an element repeated where it may not repeat (723 code
    12, already reported) contributes its first repetition, so that the repetition
    separator in use never leaks into a record. The other repetitions come back as
    unmapped entries (``translators.accounting``): reported, and kept."""
    spots = {
        (i.segment_position, i.element_position)
        for i in issues
        if i.code == "12" and i.level == "element"
    }
    if not spots:
        return segments, []
    out = list(segments)
    rest: list[dict[str, Any]] = []
    for segment_position, element_position in sorted(s for s in spots if None not in s):
        assert segment_position is not None and element_position is not None
        seg = out[segment_position - 1]
        rep = seg.delimiters.repetition
        if rep is None or element_position >= len(seg.fields):
            continue
        fields = list(seg.fields)
        first, *others = fields[element_position].split(rep)
        fields[element_position] = first
        out[segment_position - 1] = Segment(fields, seg.offset, seg.index, seg.delimiters)
        tag = fields[0]
        rest += [
            {"segment": tag, "position": segment_position,
             "element": f"{tag}{element_position:02d}", "repetition": number,
             "value": value, "loop": None}
            for number, value in enumerate(others, start=2) if value.strip()
        ]
    return out, rest


def _envelope_character_issue(tx: TransactionSet) -> Issue | None:
    """A transaction set whose ISA or GS holds a control character is not accepted: its
    sender, receiver or control numbers (which its record and acknowledgment carry) are
    not readable text. Reported on the set (AK5 code 5), located at the header element;
    the header's own issue (TA1, AK9) is reported by the envelope walker."""
    for header in (tx.group.interchange.segment, tx.group.segment):
        bad = control_character(header)
        if bad is not None:
            position, value = bad
            return Issue(
                level="transaction", code="5", offset=header.offset,
                segment_tag=header.tag, element_position=position, bad_value=value,
                message=f"{header.tag}{position:02d} of the enclosing envelope contains a "
                f"control character: {value!r}; the transaction set is not accepted")
    return None


def translate_x12(
    source: bytes | BinaryIO,
    *,
    validate: bool = True,
    translate: bool = True,
    registry: SchemaRegistry | None = None,
    source_hook: Callable[[RecordData], RecordData] | None = None,
    accepts: Callable[[str], bool] | None = None,
    relax_code_lists: Collection[str] = (),
    guides: Mapping[str, GuideCheck] | None = None,
) -> Iterator[Outcome]:
    """Read, check, validate and translate every interchange in ``source``.

    Yields a ``TransactionOutcome`` per transaction set as soon as it is complete, a
    ``X12GroupOutcome`` after each group and an ``X12InterchangeOutcome`` after each interchange.
    ``EDISyntaxError`` propagates when bytes cannot be tokenized; everything already
    yielded stays valid. ``source_hook`` lets a caller (the gateway) add message and
    partner ids to every record's source (it gets and returns the source block as data).
    ``relax_code_lists`` names elements (``N101``) whose code-list violations are warnings
    for this sender (its partner profile's ``[validation]``). ``guides`` maps a transaction
    set ID to the partner's implementation guide and the severity of its findings
    (``translators.guides``), checked after the standard's rules.
    """
    registry = registry or _default_registry()
    summaries = TransactionSummaries()
    groups: list[X12GroupOutcome] = []
    ta1s: list[InterchangeSegment] = []
    for event in walk(X12Reader(source)):
        if isinstance(event, TransactionSet):
            issues = list(event.issues)
            enclosing = _envelope_character_issue(event)
            if enclosing is not None:
                issues.append(enclosing)
            if accepts is not None and not accepts(event.set_id):
                issues.append(Issue(
                    level="transaction", code="1", offset=event.offset, segment_tag="ST",
                    segment_position=1, element_position=1, bad_value=event.set_id,
                    message=f"transaction set {event.set_id} is not agreed with this sender"))
            schema_name: str | None = None
            validator = registry.validator(event.set_id, _version(event)) if validate else None
            loops: list[str] | None = [] if translate and event.complete else None
            if validator is not None:
                schema_name = validator.schema.source.name
                found = validator.validate(event.segments, loops)
                if relax_code_lists:
                    found = relaxed_code_lists(found, relax_code_lists)
                version = _version(event)[:6]
                if version != validator.schema.version:
                    found = _as_nearest_version(found, event, version, validator.schema.version)
                issues.extend(found)
            elif validate:
                issues.append(
                    Issue(
                        level="transaction",
                        code="1",
                        message=f"transaction set {event.set_id} version {event.group.version!r} "
                        "is not supported",
                        offset=event.offset,
                        segment_tag="ST",
                        segment_position=1,
                    )
                )
            if guides is not None and event.complete:
                check = guides.get(event.set_id)
                if check is not None:
                    issues.extend(check_guide(check[0], event.segments, "x12",
                                              severity=check[1]))
            record: RecordData | None = None
            if translate and event.complete:
                src = source_of(event)
                if source_hook is not None:
                    src = source_hook(src)
                mapped, repeated = _first_repetitions(event.segments, issues)
                record = map_transaction_data(mapped, src)
                if record is not None and repeated:
                    unmapped = record["unmapped"]
                    unmapped += repeated
                    unmapped.sort(key=lambda entry: entry["position"])
                if record is not None and loops and record["unmapped"]:
                    add_loop_paths(record["unmapped"], loops)
            outcome = TransactionOutcome(event, issues, record, schema_name)
            summaries.append(outcome.summary())
            yield outcome
        elif isinstance(event, GroupHeader):
            summaries = TransactionSummaries()
        elif isinstance(event, GroupEnd):
            group = X12GroupOutcome(event.group, event, summaries)
            groups.append(group)
            summaries = TransactionSummaries()
            yield group
        elif isinstance(event, InterchangeHeader):
            groups = []
            ta1s = []
        elif isinstance(event, InterchangeSegment):
            ta1s.append(event)
        elif isinstance(event, InterchangeEnd):
            yield X12InterchangeOutcome(event.interchange, event, groups, ta1s)
            groups = []
