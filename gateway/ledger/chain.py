"""The tamper-evident audit ledger: hash-chained entries and signed checkpoints.

Responsible for appending ledger entries inside the caller's transaction (gap-free and
correctly chained even when several gateway processes share one PostgreSQL database), for
signing checkpoints of the head with the gateway's Ed25519 key, and for recomputing the
whole chain on ``verify``. This is the one module of edigate that touches
``cryptography.hazmat``. It must not commit or roll back the caller's transaction, and it
must never log or return private key material.

Canonical encoding of an entry (format 1)
    ``entry_sha256`` is the lower-case hex SHA-256 of the UTF-8 bytes of
    ``json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
    allow_nan=False)`` where ``doc`` is::

        {"seq": int, "at": "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC, always 6 digits),
         "message_id": str | null, "event": str, "actor": str,
         "details": <the JSON value stored in the details column>,
         "prev_sha256": <entry_sha256 of seq - 1, or 64 zeros for seq 1>}

    The details column holds the same canonical JSON text of the details object, so a
    verifier can parse it, re-encode it and insist on byte equality.

Checkpoints
    Entry 1 and every entry whose seq is a multiple of ``checkpoint_every`` get, in the
    same transaction, a checkpoint: the entry's seq and hash, the seq at which the next
    checkpoint is due (the next multiple), and an Ed25519 signature over the canonical JSON
    (same encoding as above) of
    ``{"type": "edigate.ledger.checkpoint/1", "seq", "head_sha256", "next_seq", "at"}``.
    The first checkpoint is always at seq 1 and each one signs where the next must be, so
    ``verify`` needs no configuration to know where every checkpoint belongs, even after
    ``checkpoint_every`` was changed: dropping checkpoints is detected, and re-chaining
    the table after an edit is detected at the next checkpoint, whose signature the
    attacker cannot redo without the private key. A process that appended also signs a
    checkpoint of the head when it shuts down (``Ledger.close``); such an extra
    checkpoint names the next regular one, as every checkpoint does.

Concurrency
    The one-row ``ledger_head`` table is the serialisation point: ``append`` locks it with
    ``SELECT ... FOR UPDATE`` (PostgreSQL, READ COMMITTED); SQLite transactions are already
    serialised by BEGIN IMMEDIATE. The lock is held until the caller's transaction ends, so
    append late in a unit of work. ``verify`` needs a consistent snapshot (PostgreSQL:
    REPEATABLE READ), which ``verify_ledger`` sets up.

The anchor: the newest entries
    Checkpoints alone cannot protect the tail: entries after the last checkpoint can be
    rewritten and re-chained with the head row, and the newest entries (with any
    checkpoint among them) removed with the head row rewound, by anyone who can write to
    the database. So the head itself is signed and kept outside the database: a
    ``SignedHead`` is an Ed25519 signature over the canonical JSON of
    ``{"type": "edigate.ledger.anchor/1", "seq", "head_sha256", "at"}``, and
    ``gateway.ledger.anchor`` writes the newest one to a file every few seconds. Given
    that anchor, ``verify`` also insists that entry ``seq`` exists with exactly that hash
    (a rewritten tail changes it) and that the chain reaches ``seq`` (a cut tail does
    not). Entries appended since the anchor was last written remain unprotected.
    ``Ledger.append_many`` tells its ``anchor`` (when it has one) each seq it appends;
    it never writes the file itself.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import logging
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import (
    CHAR,
    BigInteger,
    CheckConstraint,
    Connection,
    Integer,
    String,
    Text,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.dml import Insert

from gateway.private_files import create_private_file
from gateway.store.base import Base, UTCDateTime, utcnow
from gateway.store.bulk import MultiRowInsert, RawInsert, driver_cursor, pipelined
from gateway.store.db import Database
from gateway.store.dialect import SQLDialect, dialect_for

__all__ = [
    "ANCHOR_TYPE",
    "CHECKPOINT_TYPE",
    "GENESIS_SHA256",
    "Appended",
    "EntryDraft",
    "Head",
    "HeadCache",
    "HeadWatcher",
    "Ledger",
    "LedgerCheckpoint",
    "LedgerEntry",
    "LedgerHead",
    "LedgerKeyError",
    "LedgerSigner",
    "SignedHead",
    "VerifyReport",
    "anchor_message",
    "canonical_json",
    "checkpoint_message",
    "entry_sha256",
    "verify_ledger",
]

_log = logging.getLogger(__name__)

GENESIS_SHA256 = "0" * 64
CHECKPOINT_TYPE = "edigate.ledger.checkpoint/1"
ANCHOR_TYPE = "edigate.ledger.anchor/1"
_HEAD_ID = 1
_EVENT_MAX = 40
_ACTOR_MAX = 120
_MESSAGE_ID_MAX = 36


# --------------------------------------------------------------------------- tables


class LedgerEntry(Base):
    """One ledger entry; ``seq`` is assigned by ``Ledger.append``, contiguous from 1."""

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # No foreign key: the ledger outlives and must not constrain the messages table.
    message_id: Mapped[str | None] = mapped_column(String(_MESSAGE_ID_MAX), index=True)
    event: Mapped[str] = mapped_column(String(_EVENT_MAX))
    actor: Mapped[str] = mapped_column(String(_ACTOR_MAX))
    # Canonical JSON text, not a JSON/JSONB column: the stored bytes are what is hashed.
    details: Mapped[str] = mapped_column(Text)
    prev_sha256: Mapped[str] = mapped_column(CHAR(64))
    entry_sha256: Mapped[str] = mapped_column(CHAR(64))


class LedgerCheckpoint(Base):
    """A signed statement that the chain up to ``seq`` ends in ``head_sha256``."""

    __tablename__ = "ledger_checkpoints"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    head_sha256: Mapped[str] = mapped_column(CHAR(64))
    next_seq: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(128))  # base64 of the Ed25519 signature
    key_id: Mapped[str] = mapped_column(CHAR(64))  # sha256 of the raw public key, hex
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerHead(Base):
    """The single row every append locks: last seq and hash, and the next checkpoint due."""

    __tablename__ = "ledger_head"
    __table_args__ = (CheckConstraint(f"id = {_HEAD_ID}", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(CHAR(64))
    next_checkpoint_seq: Mapped[int] = mapped_column(BigInteger)


# The head lock and update as driver SQL, for the append path (qmark; see ``_sql``);
# SQLite takes no FOR UPDATE: BEGIN IMMEDIATE already serialises.
_LOCK_HEAD_SQL = f"SELECT seq, sha256, next_checkpoint_seq FROM ledger_head WHERE id = {_HEAD_ID}"
_UPDATE_HEAD_SQL = (
    f"UPDATE ledger_head SET seq = ?, sha256 = ?, next_checkpoint_seq = ? WHERE id = {_HEAD_ID}"
)
# An append at an expected head (``HeadCache``): move the head only if it is still the
# expected one, taking its row lock as FOR UPDATE would, and fail the transaction when it
# is not (``SQLDialect.update_or_fail``).
_MOVE_HEAD_SQL = (
    f"UPDATE ledger_head SET seq = ?, sha256 = ?, next_checkpoint_seq = ? "
    f"WHERE id = {_HEAD_ID} AND seq = ? AND sha256 = ?"
)
# Marks a draft whose details are ``_stable``: hashed from its canonical text as it is.
_STABLE = object()


class _EntryValues(NamedTuple):
    """A ledger entry as ``append_many`` inserts it: the fields are the columns."""

    seq: int
    at: object  # the time as the driver binds it (``RawInsert.bind``)
    message_id: str | None
    event: str
    actor: str
    details: str
    prev_sha256: str
    entry_sha256: str


_INSERT_ENTRIES = RawInsert(LedgerEntry.__table__, _EntryValues)  # type: ignore[arg-type]
_INSERT_CHECKPOINTS = MultiRowInsert(
    LedgerCheckpoint.__table__,  # type: ignore[arg-type]
    ("seq", "head_sha256", "next_seq", "signature", "key_id", "at"),
)



def _sql(dialect: Dialect, qmark_sql: str) -> str:
    """``qmark_sql`` in the driver's parameter style (qmark ``?`` or format ``%s``)."""
    return qmark_sql if dialect.paramstyle == "qmark" else qmark_sql.replace("?", "%s")


# --------------------------------------------------------------------------- encoding


# What ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
# allow_nan=False)`` builds on every call, built once (it holds no state between calls).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
)
# The string escaping that encoder uses for ensure_ascii=True (the C one when available).
_quote = json.encoder.encode_basestring_ascii
# Detail values whose canonical text reads back and re-encodes to the same text (exact
# types: subclasses may encode differently, e.g. enums).
_SCALARS = frozenset({str, int, float, bool, type(None)})


def canonical_json(value: object) -> str:
    """The canonical JSON text of ``value``: sorted keys, no whitespace, ASCII only.

    Raises ``TypeError`` for values JSON cannot carry (``Decimal``, ``datetime``: pass
    strings) and ``ValueError`` for NaN or infinities.
    """
    return _CANONICAL.encode(value)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_sha256(
    *,
    seq: int,
    at: datetime,
    message_id: str | None,
    event: str,
    actor: str,
    details: object,
    prev_sha256: str,
) -> str:
    """The hex SHA-256 of an entry's canonical encoding (see the module docstring)."""
    doc = {
        "seq": seq,
        "at": _iso(at),
        "message_id": message_id,
        "event": event,
        "actor": actor,
        "details": details,
        "prev_sha256": prev_sha256,
    }
    return hashlib.sha256(canonical_json(doc).encode("ascii")).hexdigest()


def _stable(value: object) -> bool:
    """Whether ``value`` (details, or a value in them) is made only of ``str``-keyed
    objects, lists and exact scalars: then its canonical text is also the canonical text
    of what it reads back as, and an entry's hash can embed it as it is (``_entry_text``)
    instead of parsing and encoding it again. Non-string keys (which JSON turns into
    strings, possibly sorting differently) and other types take the general path. A
    tuple reads back as a list, which encodes to the same text."""
    if type(value) in _SCALARS:
        return True
    if type(value) is dict:
        return all(type(key) is str and _stable(item) for key, item in value.items())
    if type(value) is list or type(value) is tuple:
        return all(_stable(item) for item in value)
    return False


def _entry_text(seq: int, at: str, message_id: str | None, event: str, actor: str,
                details_text: str, prev_sha256: str) -> str:
    """The canonical JSON of an entry's document (see ``entry_sha256``), assembled from
    its parts: keys in sorted order, strings escaped by the canonical encoder's own
    function, ``details_text`` inserted as it is. Only for ``str`` fields, an ``int``
    seq and ``details_text`` that is its own canonical re-encoding (``_stable``); a
    property test pins it byte for byte to ``canonical_json`` of the document."""
    return (
        '{"actor":' + _quote(actor)
        + ',"at":' + _quote(at)
        + ',"details":' + details_text
        + ',"event":' + _quote(event)
        + ',"message_id":' + ("null" if message_id is None else _quote(message_id))
        + ',"prev_sha256":' + _quote(prev_sha256)
        + ',"seq":' + int.__repr__(seq)
        + "}"
    )


def checkpoint_message(*, seq: int, head_sha256: str, next_seq: int, at: datetime) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    doc = {
        "type": CHECKPOINT_TYPE,
        "seq": seq,
        "head_sha256": head_sha256,
        "next_seq": next_seq,
        "at": _iso(at),
    }
    return canonical_json(doc).encode("ascii")


def anchor_message(*, seq: int, head_sha256: str, at: datetime) -> bytes:
    """The exact bytes a signed head's (an anchor's) signature covers."""
    doc = {"type": ANCHOR_TYPE, "seq": seq, "head_sha256": head_sha256, "at": _iso(at)}
    return canonical_json(doc).encode("ascii")


# --------------------------------------------------------------------------- keys


class LedgerKeyError(Exception):
    """A ledger key file is missing, unreadable, not Ed25519, or cannot sign."""


class LedgerSigner:
    """The gateway's Ed25519 ledger key; verify-only when built from a public key.

    ``public_key_id`` is the hex SHA-256 of the raw 32-byte public key. Only that id and
    the public PEM ever leave this object.
    """

    __slots__ = ("_private", "_public", "public_key_id")

    def __init__(
        self,
        *,
        private_key: Ed25519PrivateKey | None = None,
        public_key: Ed25519PublicKey | None = None,
    ) -> None:
        if private_key is not None:
            public_key = private_key.public_key()
        if public_key is None:
            raise LedgerKeyError("a ledger signer needs a private or a public key")
        self._private = private_key
        self._public = public_key
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key_id = hashlib.sha256(raw).hexdigest()

    def __repr__(self) -> str:
        kind = "signing" if self.can_sign else "verify-only"
        return f"LedgerSigner({kind}, key_id={self.public_key_id})"

    @classmethod
    def generate(cls) -> LedgerSigner:
        """A fresh key that lives in memory only (tests, demos)."""
        return cls(private_key=Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes) -> LedgerSigner:
        """From an unencrypted PKCS#8 private key or a SubjectPublicKeyInfo public key."""
        # Error messages never quote the data: it may be a private key.
        if b"PRIVATE KEY" in data:
            try:
                private = serialization.load_pem_private_key(data, password=None)
            except TypeError as exc:
                raise LedgerKeyError("encrypted ledger keys are not supported") from exc
            except (ValueError, UnsupportedAlgorithm) as exc:
                raise LedgerKeyError("not a readable PEM private key") from exc
            if not isinstance(private, Ed25519PrivateKey):
                raise LedgerKeyError("the ledger key must be Ed25519")
            return cls(private_key=private)
        try:
            public = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise LedgerKeyError("not a readable PEM public or private key") from exc
        if not isinstance(public, Ed25519PublicKey):
            raise LedgerKeyError("the ledger key must be Ed25519")
        return cls(public_key=public)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LedgerSigner:
        """From a PEM file (private: signs and verifies; public: verifies only)."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise LedgerKeyError(f"ledger key {path} does not exist") from exc
        except OSError as exc:
            raise LedgerKeyError(f"cannot read ledger key {path}: {exc.strerror}") from exc
        try:
            signer = cls.from_pem(data)
        except LedgerKeyError as exc:
            raise LedgerKeyError(f"ledger key {path}: {exc}") from None
        if signer.can_sign and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            _log.warning(
                "ledger private key %s is accessible to group or others (mode %o)",
                path,
                stat.S_IMODE(path.stat().st_mode),
            )
        return signer

    @classmethod
    def load_or_create(cls, path: str | os.PathLike[str]) -> LedgerSigner:
        """Load the private key at ``path``, creating it (mode 0600) when absent.

        Safe when several processes start at once: the key is written to a temporary file
        and hard-linked into place, so exactly one key wins and nobody reads half a file.
        """
        path = Path(path)
        if path.exists():
            return cls.load(path)
        private = Ed25519PrivateKey.generate()
        signer = cls(private_key=private)
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        if not create_private_file(path, pem):  # another process's key won
            return cls.load(path)
        _log.info("created ledger signing key %s (key id %s)", path, signer.public_key_id)
        return signer

    @property
    def can_sign(self) -> bool:
        return self._private is not None

    def public_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM, for verifiers elsewhere."""
        return self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def sign(self, data: bytes) -> bytes:
        if self._private is None:
            raise LedgerKeyError(f"key {self.public_key_id} is verify-only: cannot sign")
        return self._private.sign(data)

    def verify(self, data: bytes, signature: bytes) -> bool:
        try:
            self._public.verify(signature, data)
        except InvalidSignature:
            return False
        return True


# --------------------------------------------------------------------------- report


@dataclasses.dataclass(frozen=True, slots=True)
class VerifyReport:
    """What ``verify`` found.

    ``count``, ``head_seq`` and ``head_sha256`` describe the chain verified good (on
    failure: up to the entry before ``first_bad_seq``). ``unsigned`` counts the good
    entries after the last checkpoint. ``first_bad_seq`` is None when the fault is not
    tied to one entry (a missing head row).
    """

    ok: bool
    count: int
    head_seq: int
    head_sha256: str
    checkpoints: int
    unsigned: int
    key_id: str
    first_bad_seq: int | None = None
    reason: str | None = None
    # The seq a signed head (anchor) vouched for, when one was checked.
    anchor_seq: int | None = None

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class SignedHead(NamedTuple):
    """The ledger's head as the gateway signed it: what the anchor file holds.

    ``signature`` is the base64 Ed25519 signature over ``anchor_message`` of ``seq``,
    ``head_sha256`` and ``at``; ``key_id`` names the key (as on checkpoints).
    """

    seq: int
    head_sha256: str
    at: datetime
    key_id: str
    signature: str

    @classmethod
    def sign(cls, signer: LedgerSigner, seq: int, head_sha256: str,
             at: datetime) -> SignedHead:
        message = anchor_message(seq=seq, head_sha256=head_sha256, at=at)
        return cls(seq, head_sha256, at, signer.public_key_id,
                   base64.b64encode(signer.sign(message)).decode("ascii"))

    def as_dict(self) -> dict[str, object]:
        """The JSON document of the anchor file (``type`` first names the format)."""
        return {"type": ANCHOR_TYPE, "seq": self.seq, "head_sha256": self.head_sha256,
                "at": _iso(self.at), "key_id": self.key_id, "signature": self.signature}

    def check(self, signer: LedgerSigner) -> str | None:
        """Why the signature does not hold for ``signer``'s key, or None when it does."""
        if self.key_id != signer.public_key_id:
            return f"the anchor is signed by an unknown key {self.key_id}"
        try:
            raw = base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            return "the anchor's signature is not base64"
        message = anchor_message(seq=self.seq, head_sha256=self.head_sha256, at=self.at)
        if not signer.verify(message, raw):
            return "the anchor's signature is invalid: the anchor was forged or altered"
        return None


class HeadWatcher(Protocol):
    """What ``Ledger`` tells about its appends (``gateway.ledger.anchor.AnchorWriter``)."""

    def note(self, seq: int) -> None:
        """``seq`` was appended in a transaction that may still commit or roll back."""

    def close(self) -> None:
        """The ledger is done: anchor what was appended, stop any thread."""


class Head(NamedTuple):
    """The ledger head row: the last entry's seq and hash, and the next checkpoint due."""

    seq: int
    sha256: str
    next_checkpoint_seq: int


class HeadCache:
    """One appender's memory of the head, so that on PostgreSQL a lone appender's
    ``append_many`` need not wait for the head row before it writes.

    Reading the head under lock costs a round trip before anything else can be sent. An
    appender that has the ledger to itself (the intake writer while workers defer to a
    burst, see gateway/intake/activity.py) already knows the head: the one its own last append
    left. Given a cache, ``append_many`` trusts it once the heads it locked were the ones
    this appender had left (nobody appended in between); then it chains onto it without
    reading and moves the head with a statement that matches only the expected head and
    fails otherwise, so the whole transaction rolls back and nothing is chained onto a
    stale head. The caller then appends again the careful way.

    After each such miss, twice as many careful appends in a row (up to
    ``MAX_CONFIRMATIONS``) must find the head where this appender left it before it is
    trusted again, so that an appender beside busy workers stops guessing instead of
    paying for a rolled-back transaction every few batches.

    The caller reports the outcome of its transaction: ``committed`` after the commit,
    ``discard`` after a failure (a rolled-back append left no head of its own)."""

    MAX_CONFIRMATIONS = 64

    def __init__(self) -> None:
        self._left: Head | None = None  # the head this appender's last commit left
        self._pending: Head | None = None  # the head the open transaction will leave
        self._guessed = False  # whether the open transaction chained onto ``expected``
        self._trusted = False
        self._confirmations = 0  # careful appends in a row that found ``_left``
        self._needed = 1  # confirmations that make it trusted (doubled after a miss)

    @property
    def expected(self) -> Head | None:
        """The head to chain onto without reading it, or None: read it under lock."""
        return self._left if self._trusted else None

    def _locked(self, head: Head) -> None:
        self._confirmations = self._confirmations + 1 if head == self._left else 0
        self._trusted = self._confirmations >= self._needed

    def _leaving(self, head: Head, *, guessed: bool) -> None:
        self._pending, self._guessed = head, guessed

    def committed(self) -> None:
        """The transaction of the last ``append_many`` committed."""
        self._left, self._pending = self._pending, None
        if self._guessed:  # a guess that held: the next miss starts the backoff anew
            self._needed, self._guessed = 1, False

    def discard(self) -> None:
        """The transaction failed or rolled back: read the head under lock next time."""
        if self._guessed:  # the guess was wrong (or its batch failed): slower to guess
            self._needed = min(2 * self._needed, self.MAX_CONFIRMATIONS)
        self._left = self._pending = None
        self._guessed = self._trusted = False
        self._confirmations = 0


class _CheckpointRow(NamedTuple):
    seq: int
    head_sha256: str
    next_seq: int
    signature: str
    key_id: str
    at: datetime


_CHECKPOINT_COLUMNS = (
    LedgerCheckpoint.seq,
    LedgerCheckpoint.head_sha256,
    LedgerCheckpoint.next_seq,
    LedgerCheckpoint.signature,
    LedgerCheckpoint.key_id,
    LedgerCheckpoint.at,
)


class _Fault(Exception):
    def __init__(self, seq: int | None, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


# --------------------------------------------------------------------------- ledger


class Appended(NamedTuple):
    """An entry just appended: its sequence number, hash and time."""

    seq: int
    entry_sha256: str
    at: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class EntryDraft:
    """What a caller asks ``Ledger.append_many`` to record; seq, time and hashes are added."""

    event: str
    actor: str
    details: Mapping[str, object]
    message_id: str | None = None



class Ledger:
    """Appends entries in the caller's transaction and verifies the whole chain."""

    def __init__(self, signer: LedgerSigner, checkpoint_every: int, *,
                 anchor: HeadWatcher | None = None) -> None:
        if checkpoint_every < 1:
            raise ValueError("checkpoint_every must be at least 1")
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        # Told every seq appended, so that the newest committed head gets anchored.
        self.anchor = anchor
        self._appended = False  # by this object: then ``close`` signs the head

    def close(self, database: Database | None = None) -> None:
        """At shutdown: if this ledger appended, sign a checkpoint of the head in
        ``database`` (``checkpoint_head``) and anchor the newest head (``HeadWatcher``).
        Neither failing stops the shutdown."""
        if database is not None and self._appended:
            try:
                with database.transaction() as session:
                    self.checkpoint_head(session)
            except Exception as exc:
                _log.warning("could not sign the ledger head at shutdown: %s", exc)
            self._appended = False
        if self.anchor is not None:
            self.anchor.close()

    def checkpoint_head(self, session: Session | Connection) -> int | None:
        """Sign a checkpoint of the head unless it has one; returns its seq, or None.

        Extra checkpoints are valid anywhere (each still names the next regular one), and
        this one lets ``verify`` catch an edit of the newest entries from the database
        alone. It cannot catch the same entries cut with it: that is the anchor's job.
        Never commits.
        """
        connection = session.connection() if isinstance(session, Session) else session
        head = self._lock_head(connection)
        if head.seq == 0:
            return None
        signed = connection.execute(
            select(LedgerCheckpoint.seq).where(LedgerCheckpoint.seq == head.seq)).first()
        if signed is not None:
            return None
        _INSERT_CHECKPOINTS.execute(connection, [
            self._checkpoint(head.seq, head.sha256, head.next_checkpoint_seq, utcnow())])
        return head.seq

    # ----------------------------------------------------------------- append

    def append(
        self,
        session: Session,
        *,
        event: str,
        actor: str,
        message_id: str | None = None,
        details: Mapping[str, object],
    ) -> Appended:
        """Add the next entry (and a checkpoint when one is due) to ``session``'s transaction.

        Writes through the session's connection but never commits. Raises
        ``ValueError``/``TypeError`` for fields that do not fit or details JSON cannot carry,
        before anything is written.
        """
        return self.append_many(
            session, [EntryDraft(event=event, actor=actor, message_id=message_id,
                                 details=details)]
        )[0]

    def append_many(self, session: Session | Connection, drafts: Sequence[EntryDraft], *,
                    also_write: Callable[[Connection], None] | None = None,
                    cache: HeadCache | None = None) -> list[Appended]:
        """Append ``drafts`` in order under one acquisition of the head lock.

        The group-commit path of intake uses this: a batch of messages costs one lock, one
        head update and one multi-row insert instead of one of each per entry. Entries are
        chained exactly as single appends would chain them. Never commits.

        With a ``cache`` whose head is trusted, on PostgreSQL, the head is not read: the
        entries chain onto the cached head, and the transaction fails (a database error at
        the latest on commit) if that is no longer the head; see ``HeadCache``.
        """
        if not drafts:
            return []
        if not self.signer.can_sign:
            raise LedgerKeyError("appending needs the private ledger key to sign checkpoints")
        prepared: list[tuple[EntryDraft, str, object]] = []
        for draft in drafts:
            _check_field("event", draft.event, _EVENT_MAX)
            _check_field("actor", draft.actor, _ACTOR_MAX)
            if draft.message_id is not None:
                _check_field("message_id", draft.message_id, _MESSAGE_ID_MAX)
            details = draft.details if type(draft.details) is dict else dict(draft.details)
            details_text = canonical_json(details)
            if _stable(details) and type(draft.event) is str and type(draft.actor) is str \
                    and (draft.message_id is None or type(draft.message_id) is str):
                prepared.append((draft, details_text, _STABLE))
            else:
                # Hash what will be read back (e.g. non-string keys become strings).
                prepared.append((draft, details_text, json.loads(details_text)))

        connection = session.connection() if isinstance(session, Session) else session
        dialect = connection.dialect
        sql_dialect = dialect_for(dialect)
        if not sql_dialect.remote:
            cache = None  # a head read costs no round trip: no guess is worth it
        expected = cache.expected if cache is not None else None
        if expected is not None:
            locked = expected
        else:
            locked = self._lock_head(connection)
            if cache is not None:
                cache._locked(locked)
        seq, prev = locked.seq, locked.sha256
        next_checkpoint_seq = locked.next_checkpoint_seq
        at = utcnow()
        at_text = _iso(at)
        at_bound = _INSERT_ENTRIES.bind(dialect, "at", at)
        rows: list[_EntryValues] = []
        appended: list[Appended] = []
        checkpoints: list[dict[str, object]] = []
        sha256 = hashlib.sha256
        for draft, details_text, stored_details in prepared:
            seq += 1
            if stored_details is _STABLE:
                digest = sha256(_entry_text(
                    seq, at_text, draft.message_id, draft.event, draft.actor, details_text,
                    prev).encode("ascii")).hexdigest()
            else:
                digest = entry_sha256(
                    seq=seq,
                    at=at,
                    message_id=draft.message_id,
                    event=draft.event,
                    actor=draft.actor,
                    details=stored_details,
                    prev_sha256=prev,
                )
            rows.append(_EntryValues(seq, at_bound, draft.message_id, draft.event,
                                     draft.actor, details_text, prev, digest))
            appended.append(Appended(seq, digest, at))
            if seq >= next_checkpoint_seq:
                next_checkpoint_seq = (seq // self.checkpoint_every + 1) * self.checkpoint_every
                checkpoints.append(self._checkpoint(seq, digest, next_checkpoint_seq, at))
            prev = digest
        # Inserts through the driver's cursor on the session's connection: building ORM
        # objects and running the unit of work, or even Core's statement execution, would
        # cost more than the hashing.
        # The writes answer nothing the caller waits for: on PostgreSQL they go out in one
        # pipeline (one round trip), with the caller's own inserts (``also_write``).
        if cache is not None:
            cache._leaving(Head(seq, prev, next_checkpoint_seq), guessed=expected is not None)
        with driver_cursor(connection) as cursor, pipelined(connection):
            if expected is not None:
                # The head row's lock first, as on the careful path (FOR UPDATE before any
                # write): an append holding it and this one never wait on each other's
                # entries.
                sql_dialect.update_or_fail(cursor, _MOVE_HEAD_SQL, (
                    seq, prev, next_checkpoint_seq, expected.seq, expected.sha256))
            if also_write is not None:
                also_write(connection)
            _INSERT_ENTRIES.execute(cursor, dialect, rows)
            _INSERT_CHECKPOINTS.execute(connection, checkpoints)
            if expected is None:
                cursor.execute(_sql(dialect, _UPDATE_HEAD_SQL),
                               (seq, prev, next_checkpoint_seq))
        self._appended = True
        if self.anchor is not None:
            self.anchor.note(seq)
        return appended

    def _lock_head(self, connection: Connection) -> Head:
        sql_dialect = dialect_for(connection)
        lock = sql_dialect.locking(_LOCK_HEAD_SQL)
        # On the driver cursor: inside a psycopg pipeline (the intake writer's), fetching
        # sends what is queued and waits for this row, where SQLAlchemy's result would
        # find no description yet.
        with driver_cursor(connection) as cursor:
            cursor.execute(lock)
            row = cursor.fetchone()
            if row is None:
                # Concurrent first appends: ON CONFLICT DO NOTHING lets all but one insert
                # fall through (after waiting on the winner), then everyone takes the lock.
                connection.execute(self._create_head(sql_dialect))
                cursor.execute(lock)
                row = cursor.fetchone()
        if row is None:
            raise RuntimeError("the ledger head row is missing after creating it")
        return Head(*row)

    def _create_head(self, dialect: SQLDialect) -> Insert:
        values = {
            "id": _HEAD_ID,
            "seq": 0,
            "sha256": GENESIS_SHA256,
            "next_checkpoint_seq": 1,
        }
        insert: Insert = dialect.insert(LedgerHead).values(values).on_conflict_do_nothing()
        return insert

    def _checkpoint(
        self, seq: int, head_sha256: str, next_seq: int, at: datetime
    ) -> dict[str, object]:
        message = checkpoint_message(seq=seq, head_sha256=head_sha256, next_seq=next_seq, at=at)
        return {
            "seq": seq,
            "head_sha256": head_sha256,
            "next_seq": next_seq,
            "signature": base64.b64encode(self.signer.sign(message)).decode("ascii"),
            "key_id": self.signer.public_key_id,
            "at": at,
        }

    # ----------------------------------------------------------------- read

    def trail(self, session: Session, message_id: str) -> list[dict[str, object]]:
        """The entries about one message, in seq order, as JSON-ready dicts."""
        rows = session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.message_id == message_id)
            .order_by(LedgerEntry.seq)
        )
        return [
            {
                "seq": row.seq,
                "at": _iso(row.at),
                "event": row.event,
                "actor": row.actor,
                "details": json.loads(row.details),
                "entry_sha256": row.entry_sha256,
            }
            for row in rows
        ]

    def check_head(self, session: Session) -> dict[str, object]:
        """A cheap readiness check, not a verification: the head row matches the newest
        entry, that entry's hash recomputes, and the newest checkpoint is validly signed.
        Returns ``{"ok", "seq", "sha256", "reason"}``."""
        head = session.execute(
            select(LedgerHead.seq, LedgerHead.sha256).where(LedgerHead.id == _HEAD_ID)
        ).one_or_none()
        last = session.scalars(
            select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1)
        ).one_or_none()
        seq, sha256 = (head.seq, head.sha256) if head is not None else (0, GENESIS_SHA256)
        reason: str | None = None
        if last is None:
            if seq:
                reason = f"the head records seq {seq} but there are no entries"
        elif (seq, sha256) != (last.seq, last.entry_sha256):
            reason = f"the head (seq {seq}) does not match the newest entry (seq {last.seq})"
        elif _recompute(last) != last.entry_sha256:
            reason = f"entry {last.seq} hash mismatch: entry modified"
        else:
            row = session.execute(
                select(*_CHECKPOINT_COLUMNS).order_by(LedgerCheckpoint.seq.desc()).limit(1)
            ).one_or_none()
            if row is not None:
                checkpoint = _CheckpointRow(*row)
                hashed = session.scalar(
                    select(LedgerEntry.entry_sha256).where(LedgerEntry.seq == checkpoint.seq)
                )
                try:
                    _Verifier(self.signer).check_checkpoint(checkpoint, hashed or "")
                except _Fault as fault:
                    reason = fault.reason
        return {"ok": reason is None, "seq": seq, "sha256": sha256, "reason": reason}

    # ----------------------------------------------------------------- verify

    def verify(self, session: Session, *, batch_size: int = 1000) -> VerifyReport:
        """Recompute the chain and every checkpoint; stop at the first fault.

        Streams both tables in seq order, ``batch_size`` rows at a time, so memory stays
        flat. ``session`` must see one snapshot (PostgreSQL: REPEATABLE READ) if appends
        may run meanwhile; ``verify_ledger`` takes care of that. Needs only the public key.
        """
        return _Verifier(self.signer).run(session, batch_size)


class _Verifier:
    """The chain walk behind ``Ledger.verify``: needs the public key only, no settings.

    With an ``anchor`` (a signed head from outside the database), also checks that the
    chain reaches the anchor's seq and that the entry there has the anchored hash.
    """

    def __init__(self, signer: LedgerSigner, anchor: SignedHead | None = None) -> None:
        self.signer = signer
        self.anchor = anchor

    def run(self, session: Session, batch_size: int) -> VerifyReport:
        state = _VerifyState(anchor_seq=self.anchor.seq if self.anchor is not None else None)
        try:
            if self.anchor is not None and (bad := self.anchor.check(self.signer)):
                raise _Fault(None, bad)
            with ExitStack() as cursors:
                self._walk(session, batch_size, state, cursors)
            self._check_head(session, state)
            self._check_reaches_anchor(state)
        except _Fault as fault:
            return state.report(self.signer, fault.seq, fault.reason)
        return state.report(self.signer, None, None)

    def _check_anchored(self, seq: int, stored: str, state: _VerifyState) -> None:
        anchor = self.anchor
        if anchor is not None and anchor.seq == seq and anchor.head_sha256 != stored:
            # The chain up to the last good checkpoint is vouched for by its signature,
            # so the rewrite is after it.
            raise _Fault(seq, f"entry {seq} differs from the signed anchor of "
                              f"{_iso(anchor.at)}: an entry after seq "
                              f"{state.last_checkpoint_seq} was rewritten")

    def _check_reaches_anchor(self, state: _VerifyState) -> None:
        anchor = self.anchor
        if anchor is not None and state.head_seq < anchor.seq:
            raise _Fault(state.head_seq + 1,
                         f"entries {state.head_seq + 1}..{anchor.seq} are missing: the "
                         f"signed anchor of {_iso(anchor.at)} records seq {anchor.seq}, "
                         f"the ledger ends at {state.head_seq} (its tail was cut)")

    def _walk(
        self, session: Session, batch_size: int, state: _VerifyState, cursors: ExitStack
    ) -> None:
        # Both results stream (server-side cursors on PostgreSQL): close them even when
        # the walk stops early at a fault.
        entries = session.execute(
            select(
                LedgerEntry.seq,
                LedgerEntry.at,
                LedgerEntry.message_id,
                LedgerEntry.event,
                LedgerEntry.actor,
                LedgerEntry.details,
                LedgerEntry.prev_sha256,
                LedgerEntry.entry_sha256,
            )
            .order_by(LedgerEntry.seq)
            .execution_options(yield_per=batch_size)
        )
        cursors.callback(entries.close)
        checkpoint_rows = session.execute(
            select(*_CHECKPOINT_COLUMNS)
            .order_by(LedgerCheckpoint.seq)
            .execution_options(yield_per=batch_size)
        )
        cursors.callback(checkpoint_rows.close)
        checkpoints: Iterator[_CheckpointRow] = (_CheckpointRow(*row) for row in checkpoint_rows)
        checkpoint = next(checkpoints, None)
        due = 1
        for seq, at, message_id, event, actor, details, prev, stored in entries:
            expected = state.head_seq + 1
            if seq != expected:
                if seq > expected:
                    raise _Fault(expected, f"entry {expected} is missing (next is {seq})")
                raise _Fault(seq, f"entry with out-of-range seq {seq}")
            if checkpoint is not None and checkpoint.seq < seq:
                raise _Fault(checkpoint.seq, "checkpoint without an entry")
            try:
                parsed = json.loads(details)
                canonical = canonical_json(parsed)
            except (TypeError, ValueError):
                raise _Fault(seq, "details are not valid JSON: entry modified") from None
            if canonical != details:
                raise _Fault(seq, "details are not in canonical form: entry modified")
            computed = entry_sha256(
                seq=seq,
                at=at,
                message_id=message_id,
                event=event,
                actor=actor,
                details=parsed,
                prev_sha256=prev,
            )
            if computed != stored:
                raise _Fault(seq, "entry hash mismatch: entry modified (or moved to this seq)")
            if prev != state.head_sha256:
                raise _Fault(
                    seq,
                    "previous-hash mismatch: an entry before it was deleted, inserted, "
                    "reordered or rewritten",
                )
            self._check_anchored(seq, stored, state)
            if checkpoint is not None and checkpoint.seq == seq:
                self.check_checkpoint(checkpoint, stored)
                due = checkpoint.next_seq
                state.checkpoints += 1
                state.last_checkpoint_seq = seq
                checkpoint = next(checkpoints, None)
            elif seq >= due:
                raise _Fault(seq, f"signed checkpoint missing at seq {seq}")
            state.head_seq = seq
            state.head_sha256 = stored
        if checkpoint is not None:
            raise _Fault(
                state.head_seq + 1,
                f"entries after {state.head_seq} are missing: a checkpoint covers seq "
                f"{checkpoint.seq}",
            )

    def check_checkpoint(self, checkpoint: _CheckpointRow, entry_hash: str) -> None:
        seq, head_sha256, next_seq, signature, key_id, at = checkpoint
        if key_id != self.signer.public_key_id:
            raise _Fault(seq, f"checkpoint signed by an unknown key {key_id}")
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            raise _Fault(seq, "checkpoint signature is not base64") from None
        message = checkpoint_message(seq=seq, head_sha256=head_sha256, next_seq=next_seq, at=at)
        if not self.signer.verify(message, raw):
            raise _Fault(seq, "checkpoint signature invalid")
        if next_seq <= seq:
            raise _Fault(seq, "checkpoint names no later checkpoint")
        if head_sha256 != entry_hash:
            raise _Fault(seq, "checkpoint head mismatch: the chain was rewritten")

    def _check_head(self, session: Session, state: _VerifyState) -> None:
        row = session.execute(
            select(LedgerHead.seq, LedgerHead.sha256).where(LedgerHead.id == _HEAD_ID)
        ).one_or_none()
        if row is None:
            if state.head_seq:
                raise _Fault(None, "ledger head row is missing")
            return
        head_seq, head_sha256 = row
        if head_seq > state.head_seq:
            raise _Fault(
                state.head_seq + 1,
                f"entries {state.head_seq + 1}..{head_seq} are missing (the head records "
                f"seq {head_seq})",
            )
        if head_seq < state.head_seq:
            raise _Fault(head_seq + 1, f"entries after the recorded head {head_seq}: inserted")
        if head_sha256 != state.head_sha256:
            raise _Fault(head_seq, "head hash differs from the last entry's hash")


@dataclasses.dataclass(slots=True)
class _VerifyState:
    head_seq: int = 0
    head_sha256: str = GENESIS_SHA256
    checkpoints: int = 0
    last_checkpoint_seq: int = 0
    anchor_seq: int | None = None

    def report(self, signer: LedgerSigner, bad: int | None, reason: str | None) -> VerifyReport:
        return VerifyReport(
            ok=reason is None,
            count=self.head_seq,
            head_seq=self.head_seq,
            head_sha256=self.head_sha256,
            checkpoints=self.checkpoints,
            unsigned=self.head_seq - self.last_checkpoint_seq,
            key_id=signer.public_key_id,
            first_bad_seq=bad,
            reason=reason,
            anchor_seq=self.anchor_seq,
        )


def _recompute(entry: LedgerEntry) -> str | None:
    """The entry's hash from its stored fields; None when its details are not JSON."""
    try:
        details = json.loads(entry.details)
    except (TypeError, ValueError):
        return None
    return entry_sha256(
        seq=entry.seq,
        at=entry.at,
        message_id=entry.message_id,
        event=entry.event,
        actor=entry.actor,
        details=details,
        prev_sha256=entry.prev_sha256,
    )


def _check_field(name: str, value: str, limit: int) -> None:
    if not value or len(value) > limit:
        raise ValueError(f"ledger {name} must be 1 to {limit} characters, got {len(value)}")


def verify_ledger(
    database: Database,
    key: LedgerSigner | str | os.PathLike[str],
    *,
    batch_size: int = 1000,
    anchor: SignedHead | None = None,
) -> VerifyReport:
    """Verify the ledger of ``database`` against ``key`` (a signer or a PEM path), and
    against ``anchor``, a signed head kept outside the database, when given
    (``gateway.ledger.anchor.verify_with_anchor`` reads it from its file).

    A public key PEM is enough; where checkpoints belong is itself signed, so no setting
    is needed. Reads one snapshot (PostgreSQL: REPEATABLE READ, READ ONLY) and writes
    nothing. On SQLite the read runs under the Database's BEGIN IMMEDIATE, so appends
    wait for it.
    """
    signer = key if isinstance(key, LedgerSigner) else LedgerSigner.load(key)
    with database.sessions() as session:
        try:
            database.dialect.read_snapshot(session)
            return _Verifier(signer, anchor).run(session, batch_size)
        finally:
            session.rollback()
