"""The intake writer in a process of its own (``EDIGATE_INTAKE_WRITER=process``).

Responsible for moving the group-commit transactions of ``gateway.intake`` out of the web
process. The web process keeps everything that answers HTTP: it checks envelopes, queues
messages and settles each request when its batch is reported committed. A child process
(``python -m gateway.intake_process``) does what costs CPU under the GIL: the duplicate
lookup, the rows, the ledger hashes and signatures, the driver calls. In one process the
writer thread and the event loop take turns on the GIL, so the event loop stalls while a
batch is built; here each has a core (see bench/README.md, "intake").

Durability is unchanged: a request is answered 2xx only after the child reports the
commit of the batch holding its message. If the child dies mid-batch, the messages of
that batch are answered 503 (intake-unavailable): they may or may not have been stored,
and the sender's retry is answered either way, as a duplicate with the original message
id if the first attempt was committed. The next batch starts a new child.

The protocol is private to this module and its child: one frame (``multiprocessing``
connection framing over a socketpair) per batch each way, pickled tuples of plain data.
The child exits when the web process closes its end, and Linux kills it when the web
process dies (``PR_SET_PDEATHSIG``). It must not decide what is acceptable and must not
process messages.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from gateway.errors import GatewayError
from gateway.intake import IntakeWriter, Pending, ReceiveResult
from gateway.settings import Settings

__all__ = ["IntakeProcess", "IntakeUnavailable"]

log = logging.getLogger("edigate.intake")

# Seconds the web process waits for a batch's report before it gives the child up.
REPORT_TIMEOUT = 120.0

_Outcome = tuple[Any, ...]  # ("ok", message_id, duplicate, status) | ("error", text)


class IntakeUnavailable(GatewayError):
    """The intake writer process failed before reporting a batch: 503, try again."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, "intake-unavailable", "Intake temporarily unavailable",
                         f"{detail}; the message may not be stored: send it again (a "
                         f"message that was stored is answered as a duplicate with its id)")


def _wire(p: Pending) -> tuple[Any, ...]:
    return (p.partner_id, p.transport, p.standard, p.body, p.digest, p.sender, p.receiver,
            p.control, p.actor, p.evidence)


class IntakeProcess(IntakeWriter):
    """``IntakeWriter`` whose batches are stored by a child process.

    The writer thread (see ``IntakeWriter``) sends each batch to the child and waits,
    without the GIL, for its report; it lives until ``close`` (the child's
    ``PR_SET_PDEATHSIG`` follows the thread that spawned it).
    """

    def __init__(self, settings: Settings,
                 on_stored: Callable[[Pending, ReceiveResult], None] | None = None,
                 on_batch: Callable[[int, float], None] | None = None,
                 command: list[str] | None = None) -> None:
        # The parent opens no database connection: db and ledger stay unused here.
        super().__init__(None, None, on_stored=on_stored, on_batch=on_batch)  # type: ignore[arg-type]
        self.settings = settings
        self.command = command or [sys.executable, "-m", "gateway.intake_process"]
        self.child: subprocess.Popen[bytes] | None = None
        self._channel: Connection | None = None

    def _idle_timeout(self) -> float | None:
        return None

    def _run(self) -> None:
        if self._channel is None:
            try:
                self._spawn()  # now, not on the first message: a start costs ~0.5 s
            except OSError:
                log.exception("starting the intake writer process failed")
        super()._run()

    def store_batch(self, batch: list[Pending]
                    ) -> list[tuple[Pending, ReceiveResult | BaseException]]:
        try:
            channel = self._channel or self._spawn()
            channel.send_bytes(pickle.dumps([_wire(p) for p in batch],
                                            protocol=pickle.HIGHEST_PROTOCOL))
            if not channel.poll(REPORT_TIMEOUT):
                raise TimeoutError(f"no report within {REPORT_TIMEOUT:.0f} s")
            batches, outcomes = pickle.loads(channel.recv_bytes())
        except (OSError, EOFError, TimeoutError, pickle.UnpicklingError) as exc:
            code = self._discard()
            log.error("intake writer process failed (%s; exit code %s); %d message(s) "
                      "answered 503", exc, code, len(batch))
            failed = IntakeUnavailable(f"the intake writer process failed ({exc})")
            return [(p, failed) for p in batch]
        if self.on_batch is not None:
            for size, seconds in batches:
                self.on_batch(size, seconds)
        self.batches += len(batches)
        settled: list[tuple[Pending, ReceiveResult | BaseException]] = []
        for p, outcome in zip(batch, outcomes, strict=True):
            if outcome[0] == "ok":
                settled.append((p, ReceiveResult(outcome[1], outcome[2], outcome[3])))
            else:
                settled.append((p, IntakeUnavailable(f"storing failed: {outcome[1]}")))
        return settled

    def _spawn(self) -> Connection:
        from gateway.workers import _child_setup

        ours, theirs = socket.socketpair()
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
        env.update(self.settings.to_env(exclude={"worker_id"}))
        try:
            self.child = subprocess.Popen([*self.command, str(theirs.fileno())], env=env,
                                          pass_fds=(theirs.fileno(),),
                                          preexec_fn=_child_setup(0))
        finally:
            theirs.close()
        self._channel = Connection(ours.detach())
        log.info("intake writer process %d started", self.child.pid)
        return self._channel

    def _discard(self) -> int | None:
        """Close the channel and reap the child (killed if still running)."""
        channel, child = self._channel, self.child
        self._channel = self.child = None
        if channel is not None:
            channel.close()
        if child is None:
            return None
        try:
            return child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            return child.wait()

    def _release(self, *, invalidate: bool = False) -> None:
        """The writer thread ends (``close``): the child stores what it has and exits."""
        self._discard()


# -- the child ------------------------------------------------------------------------------
def serve(channel: Connection, writer: IntakeWriter) -> None:
    """Store each batch the web process sends and report every message's outcome, until
    the web process closes the channel."""
    batches: list[tuple[int, float]] = []
    writer.on_batch = lambda size, seconds: batches.append((size, seconds))
    while True:
        try:
            frame = channel.recv_bytes()
        except (EOFError, OSError):
            return
        batch = [Pending(*fields) for fields in pickle.loads(frame)]
        outcomes: list[_Outcome] = []
        # In batch order: the web process pairs the outcomes with its messages by position.
        for _item, outcome in writer.store_batch(batch):
            if isinstance(outcome, ReceiveResult):
                outcomes.append(("ok", outcome.message_id, outcome.duplicate, outcome.status))
            else:
                outcomes.append(("error", f"{type(outcome).__name__}: {outcome}"))
        channel.send_bytes(pickle.dumps((batches, outcomes), protocol=pickle.HIGHEST_PROTOCOL))
        batches.clear()


def main(argv: list[str] | None = None) -> int:
    from gateway.ledger import Ledger, LedgerSigner
    from gateway.store.db import Database

    args = sys.argv[1:] if argv is None else argv
    # Ctrl-C reaches the whole process group: the web process shuts down and closes the
    # channel; this process finishes its batch and exits then, not in the middle of it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    db = Database(settings.database_url)
    ledger = Ledger(LedgerSigner.load_or_create(settings.ledger_key_path),
                    settings.ledger_checkpoint_every)
    writer = IntakeWriter(db, ledger)
    started = time.monotonic()
    try:
        serve(Connection(int(args[0])), writer)
    finally:
        writer._release()
        db.dispose()
    log.debug("intake writer process %d done after %.0f s", os.getpid(),
              time.monotonic() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
