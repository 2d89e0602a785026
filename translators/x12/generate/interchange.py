"""The interchange around generated transaction sets, and the check before it is returned.

Responsible for ``X12Envelope`` (the options: identities, version, delimiters, control
numbers, usage), grouping records by functional identifier (one GS per GS01, in the
order the records came), numbering groups and transaction sets from the control numbers
given, and the read-back check: the bytes are translated with ``translate_x12`` and every
error issue, and every record value that does not come back as given, raise
``GenerationError``.
It must not allocate control numbers (the gateway's counters do) or read the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from pydantic import BaseModel

from translators.errors import Issue
from translators.generation import Generated, GenerationError, counted, lost_fields, record_tree
from translators.guides import GuideCheck
from translators.record_data import RecordData
from translators.x12.generate.documents import BODY_BUILDERS
from translators.x12.generate.options import AsnStructure, BodyOptions
from translators.x12.generate.values import UnwritableValue
from translators.x12.pipeline import (
    TransactionOutcome,
    X12GroupOutcome,
    X12InterchangeOutcome,
    translate_x12,
)
from translators.x12.segment import Delimiters
from translators.x12.writer import GroupSpec, InterchangeSpec, TransactionSpec, write_interchange

__all__ = [
    "SUPPORTED_KINDS",
    "GenerationError",
    "X12Envelope",
    "generate_x12",
    "generate_x12_read_back",
]

SUPPORTED_KINDS: Final = frozenset(BODY_BUILDERS)
"""The record kinds ``generate_x12`` writes."""

_ISA_VERSIONS: Final = {"004010": "00401", "005010": "00501"}


@dataclass(frozen=True, slots=True)
class X12Envelope:
    """How to envelope the generated transaction sets.

    ``version`` is GS08 (004010 or 005010) and decides ISA12 (00401 / 00501). Control
    numbers are ``str`` (leading zeros matter): ``interchange_control`` is ISA13 (digits,
    at most 9), ``group_control`` GS06 of the first group and ``transaction_control`` ST02
    of the first transaction set; later ones count up in the same width. ``created_at``
    gives ISA09/ISA10 and GS04/GS05 (and BSN03/BSN04 or BIA04 of a record without its
    own creation date). The application codes (GS02/GS03) default to the interchange
    ids. ``asn_structure`` is the HL hierarchy of a ship notice (856): ``auto`` writes
    the record's own tree, ``SOPI``, ``SOTPI`` or ``SOI`` refuse a record that does not
    fit that hierarchy.
    """

    sender_id: str
    receiver_id: str
    interchange_control: str
    created_at: datetime
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    version: Literal["004010", "005010"] = "005010"
    delimiters: Delimiters = field(default_factory=Delimiters)
    group_control: str = "1"
    transaction_control: str = "0001"
    usage: Literal["P", "T"] = "P"
    ack_requested: bool = False
    sender_code: str | None = None
    receiver_code: str | None = None
    line_break: bool = False
    asn_structure: AsnStructure = "auto"


def generate_x12(records: Sequence[BaseModel | RecordData], envelope: X12Envelope, *,
                 guides: Mapping[str, GuideCheck] | None = None) -> bytes:
    """One interchange holding a transaction set per record, checked before it is returned
    (``generate_x12_read_back``, which also gives the records as read back)."""
    return generate_x12_read_back(records, envelope, guides=guides).data


def generate_x12_read_back(records: Sequence[BaseModel | RecordData], envelope: X12Envelope,
                           *, guides: Mapping[str, GuideCheck] | None = None) -> Generated:
    """One interchange holding a transaction set per record, checked before it is returned.

    ``records`` are canonical records (``translators.records`` models or their plain data,
    e.g. parsed JSON) of the kinds in ``SUPPORTED_KINDS``. Raises ``GenerationError`` for
    a record of another kind, a value with no X12 form, a validation error in what was
    written, or a value that does not read back as given; ``ValueError`` for envelope
    options that cannot be written (a delimiter inside data, a control number too long).
    ``guides`` (transaction set ID -> a partner's guide) are checked in the read-back too.
    """
    if envelope.version not in _ISA_VERSIONS:
        raise ValueError(f"version {envelope.version!r} is not one of {sorted(_ISA_VERSIONS)}")
    trees = [record_tree(r) for r in records]
    if not trees:
        raise GenerationError("no records to generate")
    options = BodyOptions(envelope.version, envelope.asn_structure, envelope.created_at)
    groups: dict[str, list[TransactionSpec]] = {}
    sets: list[str] = []
    for n, tree in enumerate(trees):
        kind = tree.get("kind")
        builder = BODY_BUILDERS.get(str(kind))
        if builder is None:
            raise GenerationError(
                f"records[{n}]: kind {kind!r} is not generated", fields=[f"records[{n}].kind"]
            )
        set_id, functional_id, build = builder
        try:
            body = build(tree, options)
        except UnwritableValue as exc:
            raise GenerationError(
                f"records[{n}]: {exc}", fields=[f"records[{n}].{exc.field}"]
            ) from exc
        transactions = groups.setdefault(functional_id, [])
        control = counted(envelope.transaction_control, n)
        transactions.append(TransactionSpec(set_id, control, body))
        sets.append(set_id)
    created = envelope.created_at
    header = InterchangeSpec(
        sender_id=envelope.sender_id,
        receiver_id=envelope.receiver_id,
        sender_qualifier=envelope.sender_qualifier,
        receiver_qualifier=envelope.receiver_qualifier,
        date=created.strftime("%y%m%d"),
        time=created.strftime("%H%M"),
        control_number=envelope.interchange_control,
        version=_ISA_VERSIONS[envelope.version],
        ack_requested="1" if envelope.ack_requested else "0",
        usage=envelope.usage,
    )
    specs = [
        GroupSpec(
            functional_id=functional_id,
            sender_code=envelope.sender_code or envelope.sender_id,
            receiver_code=envelope.receiver_code or envelope.receiver_id,
            date=created.strftime("%Y%m%d"),
            time=created.strftime("%H%M"),
            control_number=counted(envelope.group_control, g),
            version=envelope.version,
            transactions=transactions,
        )
        for g, (functional_id, transactions) in enumerate(groups.items())
    ]
    try:
        data = write_interchange(header, specs, envelope.delimiters, line_break=envelope.line_break)
    except ValueError as exc:
        raise GenerationError(f"cannot be written: {exc}") from exc
    return Generated(data, _check(data, trees, guides))


def _check(data: bytes, trees: Sequence[Mapping[str, Any]],
           guides: Mapping[str, GuideCheck] | None) -> list[RecordData]:
    """The records read back from ``data``, in the order of ``trees``; ``GenerationError``
    unless it validates (and keeps ``guides``) and reads back as ``trees``.

    The groups reorder the records (one group per functional id): they are matched back
    by their position among the records of the same kind."""
    issues: list[Issue] = []
    found: dict[str, list[dict[str, Any]]] = {}
    matched: list[RecordData] = []
    for outcome in translate_x12(data, guides=guides):
        if isinstance(outcome, TransactionOutcome):
            issues += outcome.errors
            # The record data is the model's dump already (tests/translators: check_canonical).
            if outcome.data is not None:
                found.setdefault(outcome.document.set_id, []).append(outcome.data)
        elif isinstance(outcome, X12GroupOutcome | X12InterchangeOutcome):
            issues += [i for i in outcome.issues if i.severity == "error"]
    lost: list[str] = []
    seen: dict[str, int] = {}
    for n, tree in enumerate(trees):
        set_id = BODY_BUILDERS[str(tree["kind"])][0]
        k = seen.get(set_id, 0)
        seen[set_id] = k + 1
        back = found.get(set_id, [])
        if k >= len(back):
            lost.append(f"records[{n}]")
            continue
        matched.append(back[k])
        lost += [f"records[{n}].{p}" for p in lost_fields(tree, back[k])]
    if issues or lost:
        raise GenerationError("the generated interchange does not check", issues, lost)
    return matched
