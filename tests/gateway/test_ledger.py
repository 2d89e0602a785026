"""The audit ledger chains, signs and verifies on SQLite and PostgreSQL, and names the first
bad sequence number after every kind of tampering."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import stat
import threading
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from gateway.ledger.chain import (
    GENESIS_SHA256,
    EntryDraft,
    Ledger,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerHead,
    LedgerKeyError,
    LedgerSigner,
    VerifyReport,
    canonical_json,
    checkpoint_message,
    entry_sha256,
    verify_ledger,
)
from gateway.store.db import Database

EVERY = 5
# A NIST P-256 public key: valid PEM, wrong algorithm for the ledger.
P256_PUBLIC_PEM = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEUuFmWC3Z8/BRpV1VyDnumcZeobdb
G6CjyVuyBQTisU1rxoetRcatjOg+j5vN3dWBDoiQdDNJAZKTdc+5XaA/rA==
-----END PUBLIC KEY-----
"""


@pytest.fixture(scope="module")
def signer() -> LedgerSigner:
    """One in-memory gateway key for the module (Ed25519 keys are cheap but not free)."""
    return LedgerSigner.generate()


@pytest.fixture
def ledger(signer: LedgerSigner) -> Ledger:
    """A ledger that checkpoints every five entries."""
    return Ledger(signer, EVERY)


def _fill(db: Database, ledger: Ledger, count: int) -> None:
    with db.transaction() as session:
        for i in range(count):
            ledger.append(
                session,
                event="RECEIVED",
                actor="partner:acme",
                message_id=f"m-{i}",
                details={"i": i, "name": "Åcme ✓"},
            )


def _verify(db: Database, signer: LedgerSigner) -> VerifyReport:
    return verify_ledger(db, signer)


def _entries(session: Session) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)))


def _set_seq(session: Session, old: int, new: int) -> None:
    session.execute(update(LedgerEntry).where(LedgerEntry.seq == old).values(seq=new))


def _rechain(session: Session, first_changed: int) -> None:
    """What an attacker without the key can do: recompute every hash from an entry on."""
    prev = GENESIS_SHA256
    last = 0
    for entry in _entries(session):
        if entry.seq >= first_changed:
            entry.prev_sha256 = prev
            entry.entry_sha256 = entry_sha256(
                seq=entry.seq,
                at=entry.at,
                message_id=entry.message_id,
                event=entry.event,
                actor=entry.actor,
                details=json.loads(entry.details),
                prev_sha256=prev,
            )
        prev, last = entry.entry_sha256, entry.seq
    session.execute(update(LedgerHead).values(seq=last, sha256=prev))


def test_appends_form_a_chain_that_verifies(db: Database, ledger: Ledger) -> None:
    """Entries get seq 1..n, each links to the previous hash, and verify accepts the chain."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        entries = _entries(session)
        checkpoints = session.scalars(select(LedgerCheckpoint.seq)).all()
    assert [e.seq for e in entries] == list(range(1, 13))
    assert entries[0].prev_sha256 == GENESIS_SHA256
    assert all(b.prev_sha256 == a.entry_sha256 for a, b in itertools.pairwise(entries))
    assert sorted(checkpoints) == [1, 5, 10]
    report = _verify(db, ledger.signer)
    assert report.ok, report
    assert (report.count, report.head_seq, report.head_sha256) == (12, 12, entries[-1].entry_sha256)
    assert (report.checkpoints, report.unsigned, report.first_bad_seq) == (3, 2, None)
    assert json.loads(json.dumps(report.as_dict()))["ok"] is True


def test_entry_hash_is_the_documented_canonical_encoding(db: Database, ledger: Ledger) -> None:
    """entry_sha256 is sha256 of sorted-key, whitespace-free ASCII JSON of the seven fields."""
    _fill(db, ledger, 1)
    with db.transaction() as session:
        (entry,) = _entries(session)
    doc = (
        '{"actor":"partner:acme","at":"' + entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ") + '",'
        '"details":{"i":0,"name":"\\u00c5cme \\u2713"},"event":"RECEIVED","message_id":"m-0",'
        '"prev_sha256":"' + "0" * 64 + '","seq":1}'
    )
    assert entry.details == '{"i":0,"name":"\\u00c5cme \\u2713"}'
    assert entry.entry_sha256 == hashlib.sha256(doc.encode("ascii")).hexdigest()


def test_empty_ledger_verifies(db: Database, ledger: Ledger) -> None:
    """A ledger with no entries is valid, with head seq 0 and the genesis hash."""
    report = _verify(db, ledger.signer)
    assert report.ok and report.count == 0 and report.head_sha256 == GENESIS_SHA256


def test_modified_details_are_named(db: Database, ledger: Ledger) -> None:
    """Changing one entry's details makes verify name exactly that seq as modified."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        session.execute(update(LedgerEntry).where(LedgerEntry.seq == 7).values(details='{"i":999}'))
    report = _verify(db, ledger.signer)
    assert not report.ok
    assert report.first_bad_seq == 7 and "modified" in (report.reason or "")
    assert report.head_seq == 6


def test_reformatted_details_are_named(db: Database, ledger: Ledger) -> None:
    """Details rewritten with the same meaning but other bytes still count as modified."""
    _fill(db, ledger, 3)
    with db.transaction() as session:
        session.execute(
            update(LedgerEntry)
            .where(LedgerEntry.seq == 2)
            .values(details='{"name": "\\u00c5cme \\u2713", "i": 1}')
        )
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 2 and "canonical" in (report.reason or "")


def test_modified_entry_with_recomputed_hash_breaks_the_next_link(
    db: Database, ledger: Ledger
) -> None:
    """Re-hashing a modified entry only moves the fault to the next entry's previous-hash."""
    _fill(db, ledger, 4)
    with db.transaction() as session:
        entry = session.get_one(LedgerEntry, 2)
        entry.actor = "intruder"
        entry.entry_sha256 = entry_sha256(
            seq=2,
            at=entry.at,
            message_id=entry.message_id,
            event=entry.event,
            actor="intruder",
            details=json.loads(entry.details),
            prev_sha256=entry.prev_sha256,
        )
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 3 and "previous-hash" in (report.reason or "")


def test_deleted_entry_is_named(db: Database, ledger: Ledger) -> None:
    """Deleting an entry makes verify name the missing seq."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        session.execute(delete(LedgerEntry).where(LedgerEntry.seq == 8))
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 8 and "missing" in (report.reason or "")


def test_deleted_entry_with_renumbered_successors_is_named(db: Database, ledger: Ledger) -> None:
    """Closing the gap after a deletion by renumbering is caught at the renumbered entry."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        session.execute(delete(LedgerEntry).where(LedgerEntry.seq == 8))
        for seq in range(9, 13):
            _set_seq(session, seq, seq - 1)
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 8


def test_deleted_tail_is_named(db: Database, ledger: Ledger) -> None:
    """Deleting the newest entries is caught by the head row and the checkpoints."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        session.execute(delete(LedgerEntry).where(LedgerEntry.seq >= 8))
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 8 and "missing" in (report.reason or "")


def test_inserted_forged_entry_is_named(db: Database, ledger: Ledger) -> None:
    """A forged entry spliced in at seq 7 with a correct link to 6 is caught at seq 8,
    the first entry whose hash no longer fits where it stands."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        for seq in range(12, 6, -1):  # one by one: unique keys are checked per row
            _set_seq(session, seq, seq + 1)
        prev = session.get_one(LedgerEntry, 6).entry_sha256
        at = datetime.now(UTC)
        session.add(
            LedgerEntry(
                seq=7,
                at=at,
                message_id="forged",
                event="DELIVERED",
                actor="intruder",
                details="{}",
                prev_sha256=prev,
                entry_sha256=entry_sha256(
                    seq=7,
                    at=at,
                    message_id="forged",
                    event="DELIVERED",
                    actor="intruder",
                    details={},
                    prev_sha256=prev,
                ),
            )
        )
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 8 and report.head_seq == 7


def test_entry_appended_behind_the_head_is_named(db: Database, ledger: Ledger) -> None:
    """A well-chained forged entry added after the head, without the lock, is named."""
    _fill(db, ledger, 3)
    with db.transaction() as session:
        last = session.get_one(LedgerEntry, 3)
        at = datetime.now(UTC)
        digest = entry_sha256(
            seq=4,
            at=at,
            message_id=None,
            event="X",
            actor="intruder",
            details={},
            prev_sha256=last.entry_sha256,
        )
        session.add(
            LedgerEntry(
                seq=4,
                at=at,
                message_id=None,
                event="X",
                actor="intruder",
                details="{}",
                prev_sha256=last.entry_sha256,
                entry_sha256=digest,
            )
        )
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 4 and "inserted" in (report.reason or "")


def test_swapped_entries_are_named(db: Database, ledger: Ledger) -> None:
    """Swapping the seq of two entries makes verify name the earlier of the two."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        _set_seq(session, 3, -1)
        _set_seq(session, 9, 3)
        _set_seq(session, -1, 9)
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 3


def test_rechained_table_is_caught_at_the_first_checkpoint(db: Database, ledger: Ledger) -> None:
    """A consistent rewrite of every hash after an edit fails the next checkpoint."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        session.get_one(LedgerEntry, 2).details = '{"i":-1}'
        _rechain(session, 2)
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 5 and "checkpoint head mismatch" in (report.reason or "")


def test_rechained_table_with_resigned_checkpoints_is_caught(db: Database, ledger: Ledger) -> None:
    """Re-signing rewritten checkpoints with another key fails, whatever key id is claimed."""
    _fill(db, ledger, 12)
    intruder = LedgerSigner.generate()
    with db.transaction() as session:
        session.get_one(LedgerEntry, 2).details = '{"i":-1}'
        _rechain(session, 2)
        for checkpoint in session.scalars(select(LedgerCheckpoint)):
            checkpoint.head_sha256 = session.get_one(LedgerEntry, checkpoint.seq).entry_sha256
            message = checkpoint_message(
                seq=checkpoint.seq,
                head_sha256=checkpoint.head_sha256,
                next_seq=checkpoint.next_seq,
                at=checkpoint.at,
            )
            checkpoint.signature = base64.b64encode(intruder.sign(message)).decode()
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 1 and "signature invalid" in (report.reason or "")
    with db.transaction() as session:
        session.execute(update(LedgerCheckpoint).values(key_id=intruder.public_key_id))
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 1 and "unknown key" in (report.reason or "")


def test_dropped_checkpoints_are_named(db: Database, ledger: Ledger) -> None:
    """Deleting checkpoint rows (e.g. to hide a rewrite) is named where one was due."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        session.execute(delete(LedgerCheckpoint).where(LedgerCheckpoint.seq == 10))
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 10 and "checkpoint missing" in (report.reason or "")
    with db.transaction() as session:
        session.get_one(LedgerEntry, 2).details = '{"i":-1}'
        _rechain(session, 2)
        session.execute(delete(LedgerCheckpoint))
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 1 and "checkpoint missing" in (report.reason or "")


def test_tampered_checkpoint_signature_is_named(db: Database, ledger: Ledger) -> None:
    """A changed signature byte makes verify name the checkpoint's seq."""
    _fill(db, ledger, 12)
    with db.transaction() as session:
        checkpoint = session.get_one(LedgerCheckpoint, 10)
        raw = bytearray(base64.b64decode(checkpoint.signature))
        raw[0] ^= 1
        checkpoint.signature = base64.b64encode(bytes(raw)).decode()
        session.get_one(LedgerCheckpoint, 5).signature = "not base64!"
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 5 and "base64" in (report.reason or "")
    with db.transaction() as session:
        session.execute(delete(LedgerCheckpoint).where(LedgerCheckpoint.seq == 5))
    report = _verify(db, ledger.signer)
    assert report.first_bad_seq == 5  # now missing
    with db.transaction() as session:
        session.execute(update(LedgerCheckpoint).values(next_seq=LedgerCheckpoint.next_seq + 1))
    assert _verify(db, ledger.signer).first_bad_seq == 1


def test_checkpoint_interval_change_still_verifies(db: Database, signer: LedgerSigner) -> None:
    """Changing checkpoint_every takes effect after the next checkpoint and verify follows
    the signed positions without being told the interval."""
    _fill(db, Ledger(signer, 5), 7)
    _fill(db, Ledger(signer, 3), 10)
    with db.transaction() as session:
        assert sorted(session.scalars(select(LedgerCheckpoint.seq))) == [1, 5, 10, 12, 15]
    report = _verify(db, signer)
    assert report.ok and report.checkpoints == 5 and report.unsigned == 2, report


def test_rolled_back_appends_leave_no_trace_or_gap(db: Database, ledger: Ledger) -> None:
    """Appends in a transaction that rolls back vanish, and the next append takes their seq."""
    _fill(db, ledger, 3)
    with pytest.raises(RuntimeError), db.transaction() as session:
        for _ in range(4):  # crosses a checkpoint, which must vanish too
            ledger.append(session, event="TRANSLATED", actor="worker", details={})
        raise RuntimeError("abort the unit of work")
    with db.transaction() as session:
        entry = ledger.append(session, event="ACK_BUILT", actor="worker", details={})
        assert entry.seq == 4
        assert session.scalars(select(LedgerCheckpoint.seq)).all() == [1]
    report = _verify(db, ledger.signer)
    assert report.ok and report.count == 4


def test_append_rejects_bad_input_before_writing(db: Database, ledger: Ledger) -> None:
    """Details JSON cannot carry, NaN, and over-long fields are refused and write nothing."""
    with db.transaction() as session:
        with pytest.raises(TypeError):
            ledger.append(session, event="X", actor="a", details={"amount": Decimal("1.0")})
        with pytest.raises(ValueError):
            ledger.append(session, event="X", actor="a", details={"q": float("nan")})
        with pytest.raises(ValueError):
            ledger.append(session, event="E" * 41, actor="a", details={})
        with pytest.raises(ValueError):
            ledger.append(session, event="X", actor="a", message_id="m" * 37, details={})
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 0


def test_append_needs_the_private_key(db: Database, signer: LedgerSigner) -> None:
    """A ledger built from the public key alone verifies but refuses to append."""
    public = LedgerSigner.from_pem(signer.public_pem())
    with db.transaction() as session, pytest.raises(LedgerKeyError):
        Ledger(public, EVERY).append(session, event="X", actor="a", details={})


def test_trail_and_check_head(db: Database, ledger: Ledger) -> None:
    """trail lists one message's entries; check_head is ok, then not after tampering."""
    _fill(db, ledger, 6)
    with db.transaction() as session:
        ledger.append(session, event="ACK_BUILT", actor="w", message_id="m-2", details={"n": 1})
        trail = ledger.trail(session, "m-2")
        assert [(t["seq"], t["event"], t["details"]) for t in trail] == [
            (3, "RECEIVED", {"i": 2, "name": "Åcme ✓"}),
            (7, "ACK_BUILT", {"n": 1}),
        ]
        assert ledger.check_head(session)["ok"] is True
        session.get_one(LedgerEntry, 7).actor = "intruder"
        session.flush()
        assert ledger.check_head(session)["ok"] is False


def _append_from_threads(db: Database, ledger: Ledger, threads: int, each: int) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with db.transaction() as session:
                    ledger.append(
                        session,
                        event="DELIVERED",
                        actor=f"worker-{n}",
                        message_id=f"{n}-{i}",
                        details={"n": n, "i": i},
                    )
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


def test_concurrent_appends_stay_gap_free(db: Database, signer: LedgerSigner) -> None:
    """4 threads x 50 appends, each in its own transaction from an empty ledger, give
    seq 1..200 with every entry present once and a chain that verifies."""
    ledger = Ledger(signer, 7)
    _append_from_threads(db, ledger, threads=4, each=50)
    with db.transaction() as session:
        entries = _entries(session)
    assert [e.seq for e in entries] == list(range(1, 201))
    assert len({e.message_id for e in entries}) == 200
    report = _verify(db, signer)
    assert report.ok and report.count == 200 and report.checkpoints == 29, report


def test_verify_streams_in_flat_memory(db: Database, ledger: Ledger) -> None:
    """Verifying 3,000 entries of ~2 KB each holds far less than the table in memory."""
    filler = "x" * 2000
    with db.transaction() as session:
        for i in range(3000):
            ledger.append(session, event="RECEIVED", actor="a", details={"i": i, "f": filler})
    tracemalloc.start()
    try:
        report = verify_ledger(db, ledger.signer, batch_size=200)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok and report.count == 3000 and report.checkpoints == 601
    assert peak < 2_000_000, peak  # the details alone are 6 MB


def test_batch_appends_chain_and_checkpoint_like_single_appends(
    db: Database, ledger: Ledger, signer: LedgerSigner
) -> None:
    """append_many continues the chain after single appends, signs every checkpoint it
    crosses within one batch, and the whole ledger verifies."""
    _fill(db, ledger, 3)
    drafts = [EntryDraft(event="RECEIVED", actor="partner:acme", message_id=f"b-{i}",
                         details={"i": i}) for i in range(12)]
    with db.transaction() as session:
        entries = ledger.append_many(session, drafts)
    assert [e.seq for e in entries] == list(range(4, 16))
    with db.read() as session:
        stored = _entries(session)
        assert [e.entry_sha256 for e in stored[3:]] == [e.entry_sha256 for e in entries]
        assert all(b.prev_sha256 == a.entry_sha256 for a, b in itertools.pairwise(stored))
        assert session.scalars(select(LedgerCheckpoint.seq).order_by(
            LedgerCheckpoint.seq)).all() == [1, 5, 10, 15]
    report = _verify(db, signer)
    assert report.ok and report.count == 15 and report.checkpoints == 4


def test_public_api_is_pinned() -> None:
    """The ledger's public names are exactly the ones the CLI, API and pipeline rely on."""
    import gateway.ledger.chain

    assert sorted(gateway.ledger.chain.__all__) == [
        "ANCHOR_TYPE",
        "Appended",
        "CHECKPOINT_TYPE",
        "EntryDraft",
        "GENESIS_SHA256",
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


def test_canonical_json_is_sorted_compact_ascii() -> None:
    """canonical_json sorts keys, drops whitespace and escapes non-ASCII."""
    assert canonical_json({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"\\u00e9"]}'


def test_signer_signs_and_verifies(signer: LedgerSigner) -> None:
    """A signature verifies for its data only, and under the public key alone."""
    signature = signer.sign(b"head")
    public = LedgerSigner.from_pem(signer.public_pem())
    assert public.verify(b"head", signature) and not public.verify(b"tail", signature)
    assert public.public_key_id == signer.public_key_id and not public.can_sign
    with pytest.raises(LedgerKeyError):
        public.sign(b"head")


def test_load_or_create_makes_a_private_0600_key_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The key file is created with its directory, mode 0600, reloaded on the next start,
    and only its public key id is logged."""
    path = tmp_path / "keys" / "deep" / "ledger.pem"
    with caplog.at_level(logging.DEBUG, logger="gateway.ledger.chain"):
        created = LedgerSigner.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]
    assert LedgerSigner.load_or_create(path).public_key_id == created.public_key_id
    assert created.public_key_id in caplog.text
    assert "PRIVATE" not in caplog.text and "PRIVATE" not in repr(created)


def test_verify_ledger_accepts_a_public_key_file(
    db: Database, ledger: Ledger, tmp_path: Path
) -> None:
    """Verification needs only the public key PEM, read from a path."""
    _fill(db, ledger, 6)
    public_path = tmp_path / "ledger.pub.pem"
    public_path.write_bytes(ledger.signer.public_pem())
    assert verify_ledger(db, public_path).ok
    other = tmp_path / "other.pub.pem"
    other.write_bytes(LedgerSigner.generate().public_pem())
    assert verify_ledger(db, str(other)).first_bad_seq == 1


def test_bad_key_files_give_clear_errors(tmp_path: Path) -> None:
    """A missing, non-PEM or non-Ed25519 key file raises LedgerKeyError, not a crypto error."""
    with pytest.raises(LedgerKeyError, match="does not exist"):
        LedgerSigner.load(tmp_path / "absent.pem")
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(LedgerKeyError):
        LedgerSigner.load(junk)
    junk.write_bytes(P256_PUBLIC_PEM)
    with pytest.raises(LedgerKeyError, match="Ed25519"):
        LedgerSigner.load(junk)


# ------------------------------------------------------------------ fast entry encoding

_json_scalars = (st.none() | st.booleans() | st.integers() | st.text()
                 | st.floats(allow_nan=False, allow_infinity=False))
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5) | st.integers() | st.booleans(), inner, max_size=3),
    max_leaves=8,
)
_details = st.dictionaries(st.text(max_size=8) | st.integers() | st.booleans() | st.none(),
                           _json_values, max_size=5)
# Details the append path hashes from their text as it is: str keys at every level.
_stable_details = st.dictionaries(st.text(max_size=12), st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8), max_size=6)
_fields = st.text(min_size=1, max_size=40)
# Message ids as the ledger takes them: at most 36 characters (a UUID), no NUL.
_message_ids = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                       min_size=1, max_size=36)


@settings(max_examples=400, deadline=None)
@given(value=_json_values)
def test_canonical_json_is_json_dumps_with_the_documented_options(value: object) -> None:
    """canonical_json (one prebuilt encoder) writes exactly what json.dumps with the
    documented options writes, for any JSON value."""
    try:
        expected = json.dumps(value, sort_keys=True, separators=(",", ":"),
                              ensure_ascii=True, allow_nan=False)
    except TypeError:  # mixed key types cannot be sorted: both refuse
        with pytest.raises(TypeError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@settings(max_examples=600, deadline=None)
@given(seq=st.integers(min_value=1, max_value=2**62), micros=st.integers(0, 10**15),
       message_id=st.none() | _fields, event=_fields, actor=_fields, details=_stable_details,
       prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64))
def test_fast_entry_text_is_byte_identical_to_the_canonical_encoding(
        seq: int, micros: int, message_id: str | None, event: str, actor: str,
        details: dict[str, object], prev: str) -> None:
    """For details under string keys at every level, the entry text assembled from its
    parts (the append path) is byte for byte canonical_json of the documented entry
    document, and so hashes to what entry_sha256 (the verify path) computes from the
    stored details."""
    from gateway.ledger import chain as ledger_module

    at = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    assert ledger_module._stable(details)
    details_text = canonical_json(details)
    text = ledger_module._entry_text(seq, ledger_module._iso(at), message_id, event, actor,
                                     details_text, prev)
    doc = {"seq": seq, "at": ledger_module._iso(at), "message_id": message_id,
           "event": event, "actor": actor, "details": json.loads(details_text),
           "prev_sha256": prev}
    assert text == canonical_json(doc)
    assert hashlib.sha256(text.encode("ascii")).hexdigest() == entry_sha256(
        seq=seq, at=at, message_id=message_id, event=event, actor=actor,
        details=json.loads(details_text), prev_sha256=prev)


def test_details_that_do_not_read_back_as_written_take_the_general_path() -> None:
    """Non-string keys, at any depth, are not 'stable': their canonical text can differ
    from the re-encoding of what it reads back as (here: 9 sorts before 10 as a number,
    after it as a string), so the append path parses and re-encodes them. Lists, tuples
    and objects under string keys are stable."""
    from gateway.ledger import chain as ledger_module

    tricky = {10: "a", 9: "b"}
    assert canonical_json(tricky) != canonical_json(json.loads(canonical_json(tricky)))
    assert not ledger_module._stable(tricky)
    assert not ledger_module._stable({"a": [tricky]})
    assert not ledger_module._stable({"a": {"b": Decimal(1)}})
    assert ledger_module._stable({"a": {"b": 1}, "c": [1, ("x", None)], "d": []})
    assert ledger_module._stable({"a": 1, "b": None, "c": True, "d": 1.5, "e": "x"})


@settings(max_examples=400, deadline=None)
@given(value=_json_values)
def test_a_stable_value_reads_back_to_its_own_text(value: object) -> None:
    """What the append path calls stable re-encodes, once read back, to the very text it
    was written as: hashing that text is hashing what verify will read."""
    from gateway.ledger import chain as ledger_module

    if ledger_module._stable(value):
        text = canonical_json(value)
        assert canonical_json(json.loads(text)) == text


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(st.tuples(_details, st.none() | _message_ids), min_size=1, max_size=6))
def test_appended_entries_of_any_details_hash_what_is_stored(
        db: Database, signer: LedgerSigner, batch: list[tuple[dict[object, object],
                                                                str | None]]) -> None:
    """Whatever the details (flat or nested, string keys or not), every entry appended in
    a batch carries the hash that entry_sha256 recomputes from its stored fields (what
    verify checks), and the chain verifies whenever the details are canonical as read back
    (non-string keys that sort differently as strings never were)."""
    from gateway.ledger.chain import _recompute

    drafts = []
    for details, message_id in batch:
        try:
            canonical_json(details)
        except (TypeError, ValueError):
            continue  # unsortable mixed keys: append refuses them before writing
        drafts.append(EntryDraft(event="E", actor="a", message_id=message_id,
                                 details=details))  # type: ignore[arg-type]
    with db.transaction() as session:
        session.execute(delete(LedgerEntry))
        session.execute(delete(LedgerCheckpoint))
        session.execute(delete(LedgerHead))
    with db.transaction() as session:
        Ledger(signer, 3).append_many(session, drafts)
    with db.read() as session:
        stored = _entries(session)
    assert [_recompute(e) for e in stored] == [e.entry_sha256 for e in stored]
    if all(canonical_json(json.loads(e.details)) == e.details for e in stored):
        assert _verify(db, signer).ok


def test_head_cache_backs_off_after_each_wrong_guess() -> None:
    """HeadCache's trust, driven as append_many and the intake writer drive it: trusted
    after one locked head that this appender had left; after each wrong guess twice as
    many confirmations in a row are needed (capped), and a guess that holds resets that."""
    from gateway.ledger.chain import Head, HeadCache

    cache = HeadCache()
    heads = iter(Head(n, f"{n:064x}", 1000) for n in range(1, 10_000))

    def careful(found: Head | None = None) -> None:
        """A careful append that locked ``found`` (default: the head left last) and
        committed a new head."""
        assert cache.expected is None
        cache._locked(found or cache._left or next(heads))
        cache._leaving(next(heads), guessed=False)
        cache.committed()

    def guess(holds: bool) -> None:
        assert cache.expected is not None
        cache._leaving(next(heads), guessed=True)
        cache.committed() if holds else cache.discard()

    careful()
    careful()  # found the head the first one left: trusted
    guess(holds=True)
    for needed in (2, 4, 8, 16, 32, 64, 64):
        guess(holds=False)
        careful()  # after a miss the head is unknown: no confirmation
        for _ in range(needed - 1):
            careful()
            assert cache.expected is None
        careful()
        assert cache.expected is not None, needed
    guess(holds=True)
    guess(holds=False)
    careful()
    careful()
    assert cache.expected is None
    careful()  # two confirmations after the reset: trusted again
    assert cache.expected is not None
    someone_elses = Head(99_999, "f" * 64, 1000)
    cache.discard()  # e.g. a batch that failed for another reason
    careful()
    cache._locked(someone_elses)  # someone else appended: the streak starts over
    assert cache.expected is None
