"""The ledger's anchor file: the newest signed head, kept outside the database.

Responsible for keeping ``<var_dir>/ledger-anchor.json`` up to date for every process that
appends to the ledger (the web process and its intake writer, worker processes, the CLI),
and for reading it back for ``verify`` (see "The anchor" in ``gateway.ledger.chain``). Someone
who can write to the database but not to this file cannot rewrite or cut the anchored
entries unnoticed.

How it is kept
    ``Ledger.append_many`` calls ``AnchorWriter.note(seq)`` (a lock and a compare: the
    append path pays nothing else). A daemon thread of the process, woken by the first
    note, waits ``interval`` seconds, then reads the committed head from the database,
    signs it and replaces the file (temporary file, fsync, rename, fsync of the
    directory). So a busy process writes the file at most once per interval, and never
    on an append's own path; ``close`` (at shutdown) writes it once more. A seq noted
    before its transaction committed is looked for again at the next interval; one that
    never shows (rolled back) is given up after ``_PATIENCE`` intervals.

    Processes of one host share the file under an ``fcntl`` lock on a lock file beside it,
    and every writer keeps it monotonic: it never replaces a validly signed anchor with a
    lower seq, nor with a head that does not extend it (the entry at the anchored seq
    must still have the anchored hash). A database that fails either test was cut or
    rewritten behind the gateway's back: the anchor is left as it is (it is the evidence)
    and an error is logged.

It must not write to the database, and it signs only a head read back from the database
after its commit (never one an append merely intends to leave). The anchor protects
against someone with the database but not the gateway's var directory (which also holds
the signing key); copy the file elsewhere to protect against more.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from gateway.ledger.chain import (
    ANCHOR_TYPE,
    LedgerEntry,
    LedgerHead,
    LedgerSigner,
    SignedHead,
    VerifyReport,
    canonical_json,
    verify_ledger,
)
from gateway.store.base import utcnow
from gateway.store.db import Database

__all__ = ["ANCHOR_FILE", "AnchorError", "AnchorWriter", "anchor_path", "read_anchor",
           "verify_with_anchor"]

log = logging.getLogger(__name__)

ANCHOR_FILE = "ledger-anchor.json"
# Intervals a noted seq is looked for before it is taken for rolled back.
_PATIENCE = 10
_HEX64 = re.compile(r"[0-9a-f]{64}")


def anchor_path(var_dir: Path) -> Path:
    """Where the gateway keeps its anchor: ``<var_dir>/ledger-anchor.json``."""
    return Path(var_dir) / ANCHOR_FILE


class AnchorError(ValueError):
    """An anchor file is missing, unreadable or not an anchor; the message names the file
    and what is wrong."""


def read_anchor(path: str | os.PathLike[str]) -> SignedHead:
    """The signed head in the anchor file at ``path`` (signature not checked here)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AnchorError(f"anchor file {path} does not exist") from None
    except OSError as exc:
        raise AnchorError(f"cannot read anchor file {path}: {exc.strerror}") from None
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise AnchorError(f"anchor file {path} is not JSON") from None
    if not isinstance(doc, dict):
        raise AnchorError(f"anchor file {path} is not a JSON object")
    if doc.get("type") != ANCHOR_TYPE:
        raise AnchorError(f"anchor file {path}: type is not {ANCHOR_TYPE!r}")
    seq = doc.get("seq")
    if type(seq) is not int or seq < 1:
        raise AnchorError(f"anchor file {path}: seq is not a positive integer")
    for name in ("head_sha256", "key_id"):
        if not isinstance(doc.get(name), str) or not _HEX64.fullmatch(doc[name]):
            raise AnchorError(f"anchor file {path}: {name} is not 64 lower-case hex digits")
    at_text = doc.get("at")
    try:
        at = datetime.fromisoformat(at_text) if isinstance(at_text, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise AnchorError(f"anchor file {path}: at is not an ISO 8601 UTC time")
    if not isinstance(doc.get("signature"), str):
        raise AnchorError(f"anchor file {path}: signature is missing")
    return SignedHead(seq, doc["head_sha256"], at, doc["key_id"], doc["signature"])


def verify_with_anchor(database: Database, signer: LedgerSigner,
                       path: str | os.PathLike[str]) -> VerifyReport:
    """``verify_ledger`` against the anchor in ``path``; an anchor that cannot be read
    fails the report (with the chain's own findings when the chain is bad too)."""
    try:
        anchor = read_anchor(path)
    except AnchorError as exc:
        report = verify_ledger(database, signer)
        return dataclasses.replace(report, ok=False, reason=str(exc)) if report.ok else report
    return verify_ledger(database, signer, anchor=anchor)


class AnchorWriter:
    """Keeps the anchor file up to date with what this process appends (see the module
    docstring); one per ``Ledger``, given to it as ``anchor``."""

    def __init__(self, path: str | os.PathLike[str], signer: LedgerSigner, db: Database,
                 interval: float) -> None:
        if interval <= 0:
            raise ValueError("the anchor interval must be positive")
        self.path = Path(path)
        self.signer = signer
        self.db = db
        self.interval = interval
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        self._mutex = threading.Lock()
        self._noted = 0  # the highest seq appended here (maybe not committed yet)
        self._covered = 0  # the highest seq known to be anchored (by any process)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0  # the process that started ``_thread`` (a forked child has none)
        self._misses = 0
        self._alarm: str | None = None  # the last problem logged, so it is logged once

    # ----------------------------------------------------------------- appenders

    def note(self, seq: int) -> None:
        """``seq`` was appended by this process: have it anchored within ``interval``."""
        with self._mutex:
            if seq > self._noted:
                self._noted = seq
            if self._stop.is_set():
                return  # closed: ``close`` anchored what it could
            if self._thread is None or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="edigate-ledger-anchor")
                self._thread.start()
        if not self._wake.is_set():
            self._wake.set()

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and anchor the newest head this process appended (shutdown)."""
        with self._mutex:
            self._stop.set()
            thread = self._thread if self._pid == os.getpid() else None
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        try:
            self.flush()
        except Exception as exc:  # shutdown goes on; the next start anchors it
            log.warning("could not write the ledger anchor %s at shutdown: %s",
                        self.path, exc)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.wait(self.interval):
                return  # ``close`` writes the last one
            self._wake.clear()
            try:
                self.flush()
            except Exception as exc:  # the database may be down: try again next interval
                self._raise_alarm(f"could not write the ledger anchor {self.path}: {exc}",
                                  error=False)
            if self._covered < self._noted:
                # Not committed yet, or rolled back: look again, but not forever.
                self._misses += 1
                if self._misses < _PATIENCE:
                    self._wake.set()
                else:
                    self._misses = 0
            else:
                self._misses = 0

    # ----------------------------------------------------------------- the file

    def flush(self) -> SignedHead | None:
        """Anchor the committed head now if what this process appended is not anchored
        yet; returns the anchor the file holds afterwards (None: none)."""
        target = self._noted
        if target <= self._covered:
            return None
        with self._file_lock():
            current = self._current()
            if current is not None and current.seq >= target:
                self._covered = max(self._covered, current.seq)
                return current
            with self.db.read() as session:
                head = session.execute(
                    select(LedgerHead.seq, LedgerHead.sha256)).one_or_none()
                anchored = None if current is None else session.scalar(
                    select(LedgerEntry.entry_sha256).where(LedgerEntry.seq == current.seq))
            if head is None or head.seq < 1:
                return current
            if current is not None:
                if head.seq < current.seq:
                    self._raise_alarm(
                        f"the ledger head (seq {head.seq}) is behind the anchor {self.path} "
                        f"(seq {current.seq}): entries were cut; the anchor is kept")
                    return current
                if anchored != current.head_sha256:
                    self._raise_alarm(
                        f"ledger entry {current.seq} no longer has the hash anchored in "
                        f"{self.path}: the ledger was rewritten; the anchor is kept")
                    return current
                if head.seq == current.seq:
                    self._covered = max(self._covered, head.seq)
                    return current
            signed = SignedHead.sign(self.signer, head.seq, head.sha256, utcnow())
            self._write(signed)
            self._covered = max(self._covered, signed.seq)
            self._alarm = None
            return signed

    def _current(self) -> SignedHead | None:
        """The anchor in the file if it is one this key signed; otherwise None (the file is
        replaced, after saying so)."""
        try:
            current = read_anchor(self.path)
        except AnchorError as exc:
            if self.path.exists():
                self._raise_alarm(f"{exc}: replacing it")
            return None
        bad = current.check(self.signer)
        if bad is not None:
            self._raise_alarm(f"anchor file {self.path}: {bad}: replacing it")
            return None
        return current

    def _write(self, signed: SignedHead) -> None:
        data = (canonical_json(signed.as_dict()) + "\n").encode("ascii")
        directory = self.path.parent
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".ledger-anchor-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fchmod(handle.fileno(), 0o644)  # a public statement, no secret
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        # The rename is durable once the directory is.
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _raise_alarm(self, problem: str, *, error: bool = True) -> None:
        if problem != self._alarm:
            self._alarm = problem
            log.log(logging.ERROR if error else logging.WARNING, "%s", problem)
