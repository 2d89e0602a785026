"""Outbound documents: internal systems' records written as a partner's EDI and sent.

Responsible for turning submitted canonical records (the same JSON the records feed
carries) into one interchange for one partner, in the partner's standard, version,
delimiters and identities (``[outbound]`` of its profile); for the control numbers on it
(ISA13/GS06/ST02 or UNB 0020/UNH 0062, taken from the per-partner counters in the same
transaction that stores the interchange, so they are never reused and have no gaps); for
storing the interchange as an outbound message, each transaction set or message as a
``sent_documents`` row awaiting its acknowledgment, and the ledger entries; and for
queueing it on the partner's transport (AS2 when the profile has an AS2 URL, HTTPS POST
when it has ``[https]``, an SFTP upload when it has an ``[sftp] outbound_path``; otherwise
the message waits for pickup through ``GET /v1/messages/{id}/raw``).

A document that does not generate (a value with no form in the standard, a validation
error in what was written, a value that does not read back) is held: stored with its
located errors as a HELD message, its records as the payload, never sent, and its
control numbers given back. Records that do not match the record schema are refused
before anything is stored (``RecordsInvalid``, each error at a JSON pointer).

It must not know about HTTP: the API and the CLI call it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.orm import Session

from gateway.delivery.as2_sending import AS2Outbox
from gateway.delivery.https_sending import HTTPSOutbox
from gateway.delivery.sftp_sending import SFTPOutbox
from gateway.ledger.chain import Ledger
from gateway.orders.book import Joining, OrderBook, document_number, partner_rules
from gateway.processing.guides import guides_for
from gateway.processing.processor import business_number
from gateway.runtime.settings import Settings
from gateway.store.base import utcnow
from gateway.store.counters import take_numbers
from gateway.store.db import Database
from gateway.store.models import Message, MessageStatus, Payload, add_payload
from gateway.store.outbound import AckState, SentDocument
from gateway.store.rollups import Move, record_moves
from gateway.store.search import MessageTerm, term_rows
from partners import PartnerProfile, PartnerRegistry
from translators.edifact.generate import EDIFACTEnvelope, generate_edifact_read_back
from translators.edifact.generate.interchange import BODY_BUILDERS as EDIFACT_BODIES
from translators.edifact.segment import Delimiters as EDIFACTDelimiters
from translators.generation import GenerationError
from translators.record_data import record_json
from translators.records import RECORD_ADAPTER, Record
from translators.x12.generate import X12Envelope, generate_x12_read_back
from translators.x12.generate.documents import BODY_BUILDERS as X12_BODIES
from translators.x12.segment import Delimiters as X12Delimiters

__all__ = [
    "EDIFACT_DOCUMENT_TYPES",
    "X12_DOCUMENT_TYPES",
    "DocumentError",
    "OutboundService",
    "RecordsInvalid",
    "Submitted",
    "json_pointer",
]

X12_DOCUMENT_TYPES: Final[Mapping[str, str]] = {kind: spec[0] for kind, spec in X12_BODIES.items()}
"""Record kind -> the X12 transaction set edigate writes it as."""
EDIFACT_DOCUMENT_TYPES: Final[Mapping[str, str]] = {
    kind: spec[0] for kind, spec in EDIFACT_BODIES.items()}
"""Record kind -> the EDIFACT message type edigate writes it as."""

# Syntax identifiers defined only from syntax version 4 (ISO 9735:1998) on.
_VERSION_4_SYNTAXES: Final = frozenset({"UNOW", "UNOX", "UNOY"})

@dataclass(frozen=True, slots=True)
class DocumentError:
    """One located problem of a submitted document: ``pointer`` is a JSON pointer into the
    submitted body (``/records/0/lines/2/quantity``), ``location`` where in the generated
    EDI a validation issue was found (empty for a record field)."""

    pointer: str
    message: str
    location: str = ""
    code: str = ""

    def as_dict(self) -> dict[str, str]:
        out = {"pointer": self.pointer, "message": self.message}
        if self.location:
            out["location"] = self.location
        if self.code:
            out["code"] = self.code
        return out


class RecordsInvalid(ValueError):
    """Submitted records that are not records of the schema: nothing was stored."""

    def __init__(self, errors: Sequence[DocumentError]) -> None:
        super().__init__("; ".join(f"{e.pointer}: {e.message}" for e in errors[:10]))
        self.errors = list(errors)


@dataclass(slots=True)
class Submitted:
    """What became of a submission: a GENERATED message (queued on the transport when
    ``transfer_id`` is set) or a HELD one with its ``errors``."""

    message_id: str
    status: str
    partner_id: str
    standard: str
    interchange_control: str | None
    documents: list[dict[str, Any]] = field(default_factory=list)
    transport: str = "pickup"  # as2 | https | sftp | pickup
    transfer_id: str | None = None
    errors: list[DocumentError] = field(default_factory=list)
    edi: bytes | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "status": self.status,
                "partner_id": self.partner_id, "standard": self.standard,
                "interchange_control": self.interchange_control,
                "documents": self.documents, "transport": self.transport,
                "transfer_id": self.transfer_id,
                "errors": [e.as_dict() for e in self.errors]}


def json_pointer(parts: Sequence[str | int]) -> str:
    """RFC 6901: ``/``-joined, ``~`` and ``/`` escaped."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _field_pointer(path: str) -> str:
    """``records[0].lines[2].quantity`` (a generator's field path) as a JSON pointer."""
    parts: list[str | int] = []
    for name in path.replace("]", "").split("."):
        head, *indexes = name.split("[")
        if head:
            parts.append(head)
        parts += [int(i) for i in indexes]
    return json_pointer(parts)


def _count(session: Session, message: Message) -> None:
    """A stored outbound message into the dashboard's counts, after the ledger entry that
    took the head lock (the order every writer of the counts keeps: rollups)."""
    record_moves(session.connection(), [Move(
        message.received_at, message.partner_id, message.direction, None,
        (message.status, message.transaction_types))])


def _renumbered(error: DocumentError, n: int) -> DocumentError:
    """``error`` of a record generated alone (``/records/0``) as record ``n``'s."""
    rest = error.pointer.removeprefix("/records/0")
    return DocumentError(f"/records/{n}{rest}", error.message, error.location, error.code)


@dataclass(frozen=True, slots=True)
class _Numbers:
    interchange: int
    group: int
    transaction: int


class OutboundService:
    """Generates, stores and queues partners' outbound documents."""

    def __init__(self, db: Database, settings: Settings, registry: PartnerRegistry,
                 ledger: Ledger, as2: AS2Outbox | None, https: HTTPSOutbox | None = None,
                 sftp: SFTPOutbox | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry
        self.ledger = ledger
        # None while the gateway has no AS2 identity.
        self.as2 = as2
        self.https = https
        self.sftp = sftp
        self.clock = clock
        self.orders = OrderBook(partner_rules(registry))

    # -- checking what was submitted --------------------------------------------------

    def kinds(self, partner: PartnerProfile) -> Mapping[str, str]:
        """Record kind -> the document type this partner's documents are written as."""
        if partner.outbound_standard == "x12":
            return X12_DOCUMENT_TYPES
        return EDIFACT_DOCUMENT_TYPES

    def validate(self, partner: PartnerProfile, records: object) -> list[Record]:
        """The submitted records as validated record models; ``RecordsInvalid`` naming
        every offending field when they are not records edigate can write for
        ``partner``. A record's ``source`` may be left out: the envelope fills it."""
        if not isinstance(records, list) or not records:
            raise RecordsInvalid([DocumentError("/records", "must be a non-empty array of "
                                                            "records")])
        kinds = self.kinds(partner)
        errors: list[DocumentError] = []
        out: list[Record] = []
        for n, record in enumerate(records):
            if not isinstance(record, dict):
                errors.append(DocumentError(json_pointer(["records", n]), "must be an object"))
                continue
            kind = record.get("kind")
            if not isinstance(kind, str) or kind not in kinds:
                errors.append(DocumentError(
                    json_pointer(["records", n, "kind"]),
                    f"{kind!r} is not a kind edigate writes as "
                    f"{partner.outbound_standard.upper()} (one of {', '.join(sorted(kinds))})"))
                continue
            candidate = dict(record)
            candidate["source"] = self._placeholder_source(partner, kinds[kind])
            try:
                model = RECORD_ADAPTER.validate_python(candidate)
            except ValidationError as exc:
                for error in exc.errors():
                    # The first location part is the union's tag (the kind).
                    where = ["records", n, *error["loc"][1:]]
                    errors.append(DocumentError(json_pointer(where), error["msg"]))
                continue
            out.append(model)
        if errors:
            raise RecordsInvalid(errors)
        return out

    def _placeholder_source(self, partner: PartnerProfile, document_type: str) -> dict[str, Any]:
        ours, theirs = self._identities(partner)
        return {"standard": partner.outbound_standard, "version": "", "transaction_type":
                document_type, "sender": {"qualifier": ours[0], "id": ours[1]},
                "receiver": {"qualifier": theirs[0], "id": theirs[1]},
                "interchange_control": "", "transaction_control": "",
                "partner_id": partner.id}

    def _identities(self, partner: PartnerProfile
                    ) -> tuple[tuple[str | None, str], tuple[str | None, str]]:
        if partner.outbound_standard == "x12":
            assert partner.x12 is not None
            return ((self.settings.x12_qualifier, self.settings.x12_sender_id),
                    (partner.x12.qualifier, partner.x12.id))
        assert partner.edifact is not None
        qualifier, _, ours = self.settings.edifact_id.rpartition(":")
        return (qualifier or None, ours), (partner.edifact.qualifier, partner.edifact.id)

    # -- generating, storing, sending -------------------------------------------------

    def submit(self, partner: PartnerProfile, records: object, *, actor: str) -> Submitted:
        """Generate, store and queue ``records`` for ``partner``: a GENERATED message, or
        a HELD one when the records do not generate. Raises ``RecordsInvalid`` (nothing
        stored) for records that are not records of the schema."""
        models = self.validate(partner, records)
        try:
            with self.db.transaction() as session:
                return self._generate_and_store(session, partner, models, actor)
        except GenerationError as exc:
            # The transaction rolled back: the control numbers are given back.
            return self._hold(partner, [m.model_dump() for m in models], exc, actor)

    def preview(self, partner: PartnerProfile, records: object) -> bytes:
        """The interchange ``submit`` would write now, neither stored nor sent: its control
        numbers are the next ones, given back. Raises ``RecordsInvalid`` or
        ``GenerationError``."""
        models = self.validate(partner, records)
        with self.db.transaction() as session:
            numbers = self._take_numbers(session, partner, models)
            edi, _ = self._generate(partner, models, numbers, self.clock())
            session.rollback()
        return edi

    def _generate_and_store(self, session: Session, partner: PartnerProfile,
                            models: list[Record], actor: str) -> Submitted:
        at = self.clock()
        numbers = self._take_numbers(session, partner, models)
        # What is stored of each record is what the partner's document says, as edigate
        # reads it back: the record given, its envelope values filled in.
        edi, trees = self._generate(partner, models, numbers, at)
        types = [self.kinds(partner)[t["kind"]] for t in trees]
        message_id = str(uuid.uuid4())
        standard = partner.outbound_standard
        interchange = trees[0]["source"]["interchange_control"]
        due = at + timedelta(hours=partner.outbound.ack_due_hours)
        expected = self._ack_expected(partner)
        ta1_asked = partner.outbound_standard == "x12" and partner.outbound.ack_requested
        documents: list[dict[str, Any]] = []
        rows: list[SentDocument] = []
        for tree, document_type in zip(trees, types, strict=True):
            source = tree["source"]
            business = business_number(tree)
            row = SentDocument(
                id=str(uuid.uuid4()), message_id=message_id, partner_id=partner.id,
                standard=standard, kind=tree["kind"], document_type=document_type,
                version=source["version"], interchange_control=interchange,
                group_control=source.get("group_control"),
                transaction_control=source["transaction_control"],
                business_number=business, document_number=document_number(tree["kind"], tree),
                record=record_json(tree),
                ack_status=AckState.PENDING if expected else AckState.NOT_EXPECTED,
                ack_due_at=due if expected or ta1_asked else None,
                ta1_status=AckState.PENDING if ta1_asked else None,
                created_at=at, updated_at=at)
            rows.append(row)
            documents.append(row.as_dict())
        message = self._store_message(session, partner, message_id, edi, at,
                                      status=MessageStatus.GENERATED, interchange=interchange,
                                      types=types, documents=documents,
                                      terms=[interchange] + [
                                          str(d["business_number"]) for d in documents
                                          if d["business_number"]])
        session.add_all(rows)
        session.flush()
        drafts = self.orders.join(session, [
            Joining(partner.id, f"sent:{row.id}", message_id, row.kind, "outbound", at, tree)
            for row, tree in zip(rows, trees, strict=True)], at, actor)
        self.ledger.append(session, event="GENERATED", actor=actor, message_id=message_id,
                           details={"partner": partner.id, "standard": standard,
                                    "interchange_control": interchange,
                                    "documents": [[d["document_type"], d["transaction_control"],
                                                   d["business_number"]] for d in documents],
                                    "payload_sha256": message.payload_sha256})
        for draft in drafts:
            self.ledger.append(session, event=draft.event, actor=draft.actor,
                               message_id=draft.message_id, details=draft.details)
        _count(session, message)
        transfer = self._queue(session, partner, edi, message_id, actor)
        return Submitted(message_id, MessageStatus.GENERATED, partner.id, standard, interchange,
                         documents, message.transport, transfer, edi=edi)

    def _located(self, partner: PartnerProfile, trees: list[dict[str, Any]],
                 exc: GenerationError) -> list[DocumentError]:
        """The errors of a failed generation, each at the record it belongs to: the
        interchange's validation issues are located in the EDI, so each record is
        generated alone to find whose they are (only when generation failed)."""
        if len(trees) > 1:
            errors: list[DocumentError] = []
            for n, tree in enumerate(trees):
                try:
                    self._generate(partner, [tree], _Numbers(1, 1, 1), self.clock())
                except GenerationError as alone:
                    errors += [_renumbered(e, n) for e in self._located(partner, [tree], alone)]
            if errors:
                return errors
        pointer = "/records/0" if len(trees) == 1 else "/records"
        errors = [DocumentError(_field_pointer(f), "has no form in the standard or does not "
                                                   "read back as given") for f in exc.fields]
        errors += [DocumentError(pointer, i.message, location=str(i.location), code=i.code)
                   for i in exc.issues]
        return errors or [DocumentError(pointer, str(exc))]

    def _hold(self, partner: PartnerProfile, trees: list[dict[str, Any]],
              exc: GenerationError, actor: str) -> Submitted:
        errors = self._located(partner, trees, exc)
        body = json.dumps({"partner_id": partner.id, "records": trees}, default=str,
                          ensure_ascii=False).encode("utf-8")
        message_id = str(uuid.uuid4())
        at = self.clock()
        with self.db.transaction() as session:
            held = self._store_message(
                session, partner, message_id, body, at, status=MessageStatus.HELD,
                interchange=None, types=[self.kinds(partner)[t["kind"]] for t in trees],
                documents=[], terms=[b for t in trees if (b := business_number(t))],
                error="; ".join(f"{e.location or e.pointer}: {e.message}" for e in errors)[:4000])
            self.ledger.append(session, event="HELD", actor=actor, message_id=message_id,
                               details={"partner": partner.id,
                                        "errors": [e.as_dict() for e in errors[:20]]})
            _count(session, held)
        return Submitted(message_id, MessageStatus.HELD, partner.id,
                         partner.outbound_standard, None, errors=errors)

    def _ack_expected(self, partner: PartnerProfile) -> bool:
        if partner.outbound_standard == "x12":
            return partner.x12 is not None and partner.x12.ack != "none"
        return partner.outbound.ack_requested

    def _take_numbers(self, session: Session, partner: PartnerProfile,
                      records: Sequence[Record]) -> _Numbers:
        dialect = self.db.dialect
        if partner.outbound_standard == "x12":
            groups = len({X12_BODIES[r.kind][1] for r in records})
            return _Numbers(
                # ISA13 is shared with the acknowledgments edigate sends the partner.
                take_numbers(session, dialect, f"x12:isa13:{partner.id}"),
                take_numbers(session, dialect, f"x12:gs06:{partner.id}", groups),
                take_numbers(session, dialect, f"x12:st02:{partner.id}", len(records)))
        return _Numbers(
            take_numbers(session, dialect, f"edifact:unb0020:{partner.id}"), 0,
            take_numbers(session, dialect, f"edifact:unh0062:{partner.id}", len(records)))

    def _generate(self, partner: PartnerProfile, trees: Sequence[Record | dict[str, Any]],
                  numbers: _Numbers, at: datetime) -> tuple[bytes, list[dict[str, Any]]]:
        """The interchange, and each record as read back from it (its ``source`` as the
        envelope wrote it, the partner named)."""
        if partner.outbound_standard == "edifact":
            return self._generate_edifact(partner, trees, numbers, at)
        assert partner.x12 is not None
        separators = partner.outbound.x12_separators
        envelope = X12Envelope(
            sender_id=self.settings.x12_sender_id, sender_qualifier=self.settings.x12_qualifier,
            receiver_id=partner.x12.id, receiver_qualifier=partner.x12.qualifier,
            # ISA13 has nine digits, GS06 at most nine, ST02 four to nine.
            interchange_control=f"{numbers.interchange % 1_000_000_000:09d}",
            group_control=str(numbers.group % 1_000_000_000),
            transaction_control=f"{numbers.transaction % 1_000_000_000:04d}",
            created_at=at, version=partner.outbound_x12_version,
            delimiters=X12Delimiters(element=separators.element, component=separators.component,
                                     segment=separators.segment,
                                     repetition=separators.repetition),
            usage="T" if partner.outbound.usage == "test" else "P",
            ack_requested=partner.outbound.ack_requested,
            asn_structure=partner.outbound.asn_structure)
        generated = generate_x12_read_back(
            trees, envelope, guides=guides_for(self.registry, partner.id, outbound=True))
        return generated.data, self._named(generated.records, partner)

    def _generate_edifact(self, partner: PartnerProfile,
                          trees: Sequence[Record | dict[str, Any]],
                          numbers: _Numbers, at: datetime
                          ) -> tuple[bytes, list[dict[str, Any]]]:
        assert partner.edifact is not None
        (our_qualifier, ours), _ = self._identities(partner)
        syntax = partner.edifact.syntax_identifier
        envelope = EDIFACTEnvelope(
            sender_id=ours, sender_qualifier=our_qualifier or "",
            receiver_id=partner.edifact.id, receiver_qualifier=partner.edifact.qualifier or "",
            # UNB 0020 and UNH 0062 are at most 14 characters.
            interchange_control=str(numbers.interchange % 10**14),
            message_reference=str(numbers.transaction % 10**14), created_at=at,
            syntax_id=syntax, syntax_version="4" if syntax in _VERSION_4_SYNTAXES else "3",
            delimiters=EDIFACTDelimiters(), directory=partner.outbound.edifact_directory,
            test=partner.outbound.usage == "test", ack_requested=partner.outbound.ack_requested)
        generated = generate_edifact_read_back(
            trees, envelope, guides=guides_for(self.registry, partner.id, outbound=True))
        return generated.data, self._named(generated.records, partner)

    @staticmethod
    def _named(records: Sequence[Mapping[str, Any]], partner: PartnerProfile
               ) -> list[dict[str, Any]]:
        """The records read back, each ``source`` naming the partner."""
        return [dict(record, source=dict(record["source"], partner_id=partner.id))
                for record in records]

    def _store_message(self, session: Session, partner: PartnerProfile, message_id: str,
                       body: bytes, at: datetime, *, status: str, interchange: str | None,
                       types: Sequence[str], documents: list[dict[str, Any]],
                       terms: Sequence[str], error: str | None = None) -> Message:
        digest = add_payload(session, body, at)
        search_text = " ".join(sorted({t for t in terms if t}))[:4000] or None
        ours, theirs = self._identities(partner)
        message = Message(
            id=message_id, partner_id=partner.id, direction="outbound",
            transport=self._transport(partner), standard=partner.outbound_standard,
            status=status, payload_sha256=digest, size=len(body), received_at=at,
            updated_at=at, interchange_sender=f"{ours[0] or ''}:{ours[1]}"[:40],
            interchange_receiver=f"{theirs[0] or ''}:{theirs[1]}"[:40],
            interchange_control=interchange,
            transaction_types=",".join(sorted(set(types)))[:200] or None,
            search_text=search_text, error=error, attempts=0,
            summary=json.dumps({"transactions": [
                {"set_id": d["document_type"], "control_number": d["transaction_control"],
                 "group_control": d["group_control"], "status": "A", "errors": [],
                 "record_id": None, "business_number": d["business_number"],
                 "document_number": d["document_number"]}
                for d in documents], "groups": []}))
        session.add(message)
        session.flush()
        for row in term_rows(message_id, at, search_text):
            session.add(MessageTerm(**row))
        return message

    def _transport(self, partner: PartnerProfile) -> str:
        """How the partner's documents leave: AS2 when its profile has an AS2 URL (and the
        gateway an AS2 identity), else HTTPS POST when it has ``[https]``, else an SFTP
        upload when it has ``[sftp]`` with an ``outbound_path``, else they wait for pickup
        (``GET /v1/messages/{id}/raw``)."""
        if self.as2 is not None and self.as2.wants_as2(partner):
            return "as2"
        if self.https is not None and self.https.wants_https(partner):
            return "https"
        if self.sftp is not None and self.sftp.wants_sftp(partner):
            return "sftp"
        return "pickup"

    def _queue(self, session: Session, partner: PartnerProfile, edi: bytes, message_id: str,
               actor: str) -> str | None:
        transport = self._transport(partner)
        if transport == "https":
            assert self.https is not None
            return str(self.https.enqueue(session, partner, edi, message_id=message_id,
                                          actor=actor).id)
        if transport == "sftp":
            assert self.sftp is not None
            return str(self.sftp.enqueue(session, partner, edi, kind="document",
                                         message_id=message_id, actor=actor).id)
        if transport != "as2":
            return None
        assert self.as2 is not None
        content_type = ("application/edi-x12" if partner.outbound_standard == "x12"
                        else "application/edifact")
        row = self.as2.enqueue(session, partner, edi, kind="document",
                                      message_id=message_id, actor=actor,
                                      content_type=content_type)
        return str(row.id)

    def resend(self, message_id: str, partner: PartnerProfile, actor: str) -> str | None:
        """Queue a generated message's interchange again, as it was (same control
        numbers: a retransmission, which the partner's duplicate check recognises); the
        new transfer's id, or None when the partner has no transport to send it on."""
        with self.db.transaction() as session:
            message = session.get(Message, message_id)
            if message is None or message.direction != "outbound" or \
                    message.status != MessageStatus.GENERATED:
                raise ValueError("only a generated outbound message can be sent again")
            payload = session.get(Payload, message.payload_sha256)
            assert payload is not None
            self.ledger.append(session, event="RESEND_REQUESTED", actor=actor,
                               message_id=message_id, details={"partner": partner.id})
            return self._queue(session, partner, payload.data, message_id, actor)
