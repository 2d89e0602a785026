"""The intake writer in a process of its own (``EDIGATE_INTAKE_WRITER=process``).

Responsible for moving the group-commit transactions of ``gateway.intake.group_commit``
out of the web process. The web process keeps everything that answers HTTP: it checks
envelopes, queues messages and settles each request when its batch is reported committed.
A child process (``python -m gateway.runtime.intake_child``, running ``serve``) does what
costs CPU under the GIL: the duplicate lookup, the rows, the ledger hashes and signatures,
the driver calls. In one process the writer thread and the event loop take turns on the
GIL, so the event loop stalls while a batch is built; here each has a core (see
bench/README.md, "intake").

Durability is unchanged: a request is answered 2xx only after the child reports the
commit of the batch holding its message. If the child dies mid-batch, the messages of
that batch are answered 503 (intake-unavailable): they may or may not have been stored,
and the sender's retry is answered either way, as a duplicate with the original message
id if the first attempt was committed. A child that dies between batches is noticed when
its end of the channel closes and is replaced before the next batch.

The web side runs on the event loop (``IntakeProcess``): batches are sent and reports read
there, one batch at a time. Two at a time was measured and dropped (bench/README.md,
intake): the child never waited, but the batches halved, and a transaction costs nearly
as much for 5 messages as for 9.

The protocol is private to this module and its child: one frame (``multiprocessing``
connection framing over a socketpair) per batch each way, pickled tuples of plain data.
The child exits when the web process closes its end, and Linux kills it when the web
process dies (``PR_SET_PDEATHSIG``). It must not decide what is acceptable and must not
process messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import socket
import struct
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from gateway.intake.group_commit import (
    IntakeUnavailable,
    IntakeWriter,
    Pending,
    ReceiveResult,
    notify_stored,
    take_batch,
)
from gateway.runtime.settings import Settings

__all__ = ["IntakeProcess", "IntakeUnavailable"]

log = logging.getLogger("edigate.intake")

# Seconds the web process waits for a batch's report before it gives the child up.
REPORT_TIMEOUT = 120.0

# ("ok", message_id, duplicate, status) | ("error", incident): the child logs the cause
# of a failure under the incident id; only the id crosses, and reaches the sender.
_Outcome = tuple[Any, ...]


def _wire(p: Pending) -> tuple[Any, ...]:
    return (p.partner_id, p.transport, p.standard, p.body, p.digest, p.sender, p.receiver,
            p.control, p.actor, p.evidence)


class _Channel(asyncio.Protocol):
    """The web process's end of the socketpair, on the event loop: frames in the framing of
    ``multiprocessing.connection`` (a 4-byte big-endian length, or -1 and 8 bytes), which
    the child reads and writes with ``Connection.recv_bytes``/``send_bytes``."""

    def __init__(self, owner: IntakeProcess) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= 4:
            (size,) = _SIZE.unpack_from(buffer)
            start = 4
            if size == -1:
                if len(buffer) < 12:
                    return
                (size,) = _LONG_SIZE.unpack_from(buffer, 4)
                start = 12
            if len(buffer) < start + size:
                return
            frame = bytes(buffer[start:start + size])
            del buffer[:start + size]
            self.owner._on_report(self, frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._on_lost(self, exc)

    def send(self, payload: bytes) -> None:
        assert self.transport is not None
        size = len(payload)
        header = _SIZE.pack(size) if size <= 0x7FFFFFFF else \
            _SIZE.pack(-1) + _LONG_SIZE.pack(size)
        self.transport.writelines((header, payload))


_SIZE = struct.Struct("!i")
_LONG_SIZE = struct.Struct("!Q")


@dataclass(slots=True)
class _Sent:
    batch: list[Pending]
    timer: asyncio.TimerHandle


class IntakeProcess:
    """The web process's side of the intake writer process, run on the event loop.

    Messages queue here; a batch goes to the child whenever fewer than ``DEPTH`` batches
    await their reports (one: see the module's docstring), and a report sends what has
    queued meanwhile as the next batch at once. Batches are sent, reports read and
    requests settled on the event loop itself: no writer thread takes turns with the loop
    on the GIL, and no wake-up crosses threads (bench/README.md, intake, has the
    difference).

    Bound to the loop that calls ``start`` (the app's start-up) or, for callers with no
    loop (the CLI, tests), to a loop of its own in a daemon thread. ``submit`` works from
    any thread but the loop's.
    """

    DEPTH = 1

    def __init__(self, settings: Settings, *, command: list[str],
                 preexec: Callable[[], Callable[[], None] | None],
                 on_stored: Callable[[Pending, ReceiveResult], None] | None = None,
                 on_batch: Callable[[int, float], None] | None = None) -> None:
        """``command`` starts the child (``serve`` on the channel's file descriptor, given
        as its last argument); ``preexec`` makes the ``preexec_fn`` that ties the child's
        life to this process. Both come from the composition root, which knows the
        process model."""
        self.settings = settings
        self.on_stored = on_stored
        self.on_batch = on_batch
        self.command = command
        self.preexec = preexec
        self.child: subprocess.Popen[bytes] | None = None
        self.batches = 0  # database transactions the child reported (diagnostics, tests)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._bind_lock = threading.Lock()
        self._channel: _Channel | None = None
        self._connecting = False
        self._queue: deque[Pending] = deque()
        self._sent: deque[_Sent] = deque()
        self._closed = False
        self._idle: asyncio.Event | None = None

    # -- the public side, any thread --------------------------------------------------------
    def start(self) -> None:
        """Bind to the running event loop (or start one) and start the child now rather
        than on the first message (a start costs about half a second)."""
        loop = self._bind()
        if _running_loop() is loop:
            self._ensure_channel()
        else:
            loop.call_soon_threadsafe(self._ensure_channel)

    def submit(self, pending: Pending) -> Future[ReceiveResult]:
        """Queue ``pending`` from a thread that is not the event loop's; the future
        resolves after the commit that stores it."""
        loop = self._bind()
        return asyncio.run_coroutine_threadsafe(self._store(pending), loop)

    async def store(self, pending: Pending) -> ReceiveResult:
        """Queue ``pending`` and wait until its batch is reported committed."""
        loop = self._bind()
        if asyncio.get_running_loop() is loop:
            return await self._store(pending)
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(
            self._store(pending), loop))

    def close(self, timeout: float = 10.0) -> None:
        """Stop taking work, let what is queued be stored (up to ``timeout``), close the
        channel (the child finishes and exits) and reap the child."""
        loop = self._loop
        if loop is None or self._closed or loop.is_closed() or (
                self._thread is None and not loop.is_running()):
            # Never bound, already closed, or bound to a loop that has ended (a test
            # client's): nobody waits on that loop's futures any more.
            self._closed = True
            self._abandon()
            return
        if _running_loop() is loop:
            # On the loop itself (the app's shutdown, after the server has answered every
            # request): nothing can be waited for here; what is in flight is failed.
            self._closed = True
            self._shut(IntakeUnavailable("the gateway is shutting down"), wait=5.0)
        else:
            done = asyncio.run_coroutine_threadsafe(self._aclose(timeout), loop)
            with contextlib.suppress(Exception):
                done.result(timeout + 10)
        if self._thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(10)
            self._thread = None
            loop.close()
            self._loop = None

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            return loop
        with self._bind_lock:
            if self._loop is not None and self._loop.is_closed():
                self._abandon()  # the loop this was bound to has ended: bind anew
            if self._loop is None:
                running = _running_loop()
                if running is None:
                    running = asyncio.new_event_loop()
                    self._thread = threading.Thread(target=running.run_forever, daemon=True,
                                                    name="edigate-intake-loop")
                    self._thread.start()
                self._loop = running
            return self._loop

    def _abandon(self) -> None:
        """Forget a loop that has ended, with its channel and its futures, and stop the
        child (killed: its channel cannot be closed from here)."""
        self._channel = None
        self._connecting = False
        self._queue.clear()
        self._sent.clear()
        self._loop = None
        self._reap(kill=True)

    # -- on the event loop ------------------------------------------------------------------
    async def _store(self, pending: Pending) -> ReceiveResult:
        if self._closed:
            raise RuntimeError("the intake writer is closed")
        waiter: asyncio.Future[ReceiveResult] = asyncio.get_running_loop().create_future()
        pending.waiter = waiter
        self._queue.append(pending)
        self._pump()
        # A client that disconnects cancels this wait; the report then skips the settled
        # future, and the message is stored all the same.
        return await waiter

    def _pump(self) -> None:
        """Send queued messages while fewer than DEPTH batches await their reports."""
        queue = self._queue
        while queue and len(self._sent) < self.DEPTH:
            channel = self._channel
            if channel is None:
                self._ensure_channel()
                return
            batch = take_batch(queue)
            assert self._loop is not None
            timer = self._loop.call_later(REPORT_TIMEOUT, self._overdue, channel)
            self._sent.append(_Sent(batch, timer))
            channel.send(pickle.dumps([_wire(p) for p in batch],
                                      protocol=pickle.HIGHEST_PROTOCOL))
        if not queue and not self._sent and self._idle is not None:
            self._idle.set()

    def _ensure_channel(self) -> None:
        if self._channel is not None or self._connecting or self._closed:
            return
        try:
            ours = self._spawn()
        except OSError as exc:
            failure = IntakeUnavailable(f"the intake writer process failed to start ({exc})")
            failure.log(log, len(self._queue), exc_info=exc)
            self._fail_queued(failure)
            return
        self._connecting = True
        assert self._loop is not None
        self._loop.create_task(self._connect(ours))

    async def _connect(self, ours: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            _transport, channel = await loop.create_unix_connection(
                lambda: _Channel(self), sock=ours)
        except OSError as exc:
            self._connecting = False
            ours.close()
            self._reap(kill=True)
            failure = IntakeUnavailable(f"the intake writer process failed to start ({exc})")
            failure.log(log, len(self._queue), exc_info=exc)
            self._fail_queued(failure)
            return
        self._connecting = False
        self._channel = channel
        if self._closed:
            self._shut(IntakeUnavailable("the gateway is shutting down"), wait=5.0)
            return
        self._pump()

    def _on_report(self, channel: _Channel, frame: bytes) -> None:
        if channel is not self._channel or not self._sent:
            return
        sent = self._sent.popleft()
        sent.timer.cancel()
        try:
            batches, outcomes = pickle.loads(frame)
        except (pickle.UnpicklingError, ValueError, EOFError) as exc:
            self._sent.appendleft(sent)
            self._lost(IntakeUnavailable(f"the intake writer process failed ({exc})"),
                       kill=True)
            return
        if self.on_batch is not None:
            for size, seconds in batches:
                self.on_batch(size, seconds)
        self.batches += len(batches)
        for p, outcome in zip(sent.batch, outcomes, strict=True):
            waiter = p.waiter
            if outcome[0] == "ok":
                result = ReceiveResult(outcome[1], outcome[2], outcome[3])
                notify_stored(self.on_stored, p, result)
                if waiter is not None and not waiter.done():
                    waiter.set_result(result)
            elif waiter is not None and not waiter.done():
                waiter.set_exception(IntakeUnavailable(
                    "storing failed in the intake writer process (logged there)",
                    incident=str(outcome[1])))
        self._pump()

    def _on_lost(self, channel: _Channel, exc: Exception | None) -> None:
        if channel is not self._channel:
            return
        reason = f"{type(exc).__name__}: {exc}" if exc is not None else "the channel closed"
        self._lost(IntakeUnavailable(f"the intake writer process failed ({reason}; exit "
                                     f"code {self._exit_code()})"), kill=True)

    def _overdue(self, channel: _Channel) -> None:
        if channel is self._channel:
            self._lost(IntakeUnavailable(
                f"the intake writer process failed (no report within "
                f"{REPORT_TIMEOUT:.0f} s)"), kill=True)

    def _lost(self, failure: IntakeUnavailable, *, kill: bool) -> None:
        """The child is gone or given up: its batches are answered 503 (they may or may
        not have been stored); queued messages go to a new child."""
        channel, self._channel = self._channel, None
        if channel is not None and channel.transport is not None:
            channel.transport.abort()
        self._reap(kill=kill)
        failure.log(log, sum(len(s.batch) for s in self._sent))
        self._fail_sent(failure)
        if self._closed:
            self._fail_queued(failure)
        self._pump()

    def _shut(self, failure: IntakeUnavailable, *, wait: float) -> None:
        """Close the channel (EOF: the child stores what it has read and exits), fail what
        is still unanswered, reap the child."""
        unanswered = sum(len(s.batch) for s in self._sent) + len(self._queue)
        if unanswered:
            failure.log(log, unanswered)
        channel, self._channel = self._channel, None
        if channel is not None and channel.transport is not None:
            # EOF now, not when the loop next runs: the child may be waited for below.
            with contextlib.suppress(OSError):
                channel.transport.get_extra_info("socket").shutdown(socket.SHUT_WR)
            channel.transport.close()
        self._fail_sent(failure)
        self._fail_queued(failure)
        self._reap(kill=False, wait=wait)

    async def _aclose(self, timeout: float) -> None:
        self._closed = True
        self._idle = asyncio.Event()
        self._pump()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)
        self._shut(IntakeUnavailable("the gateway is shutting down"), wait=5.0)

    def _fail_sent(self, failure: BaseException) -> None:
        """Answer every batch awaiting its report with ``failure``."""
        sent, self._sent = self._sent, deque()
        for item in sent:
            item.timer.cancel()
            _fail(item.batch, failure)

    def _fail_queued(self, failure: BaseException) -> None:
        """Answer every message not yet sent with ``failure``."""
        queued, self._queue = self._queue, deque()
        _fail(queued, failure)

    def _spawn(self) -> socket.socket:
        ours, theirs = socket.socketpair()
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
        env.update(self.settings.to_env(exclude={"worker_id"}))
        try:
            self.child = subprocess.Popen([*self.command, str(theirs.fileno())], env=env,
                                          pass_fds=(theirs.fileno(),),
                                          preexec_fn=self.preexec())
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        ours.setblocking(False)
        log.info("intake writer process %d started", self.child.pid)
        return ours

    def _exit_code(self) -> int | None:
        return self.child.poll() if self.child is not None else None

    def _reap(self, *, kill: bool, wait: float = 5.0) -> int | None:
        """Reap the child (killed first if ``kill``, or if it has not exited in ``wait``
        seconds)."""
        child = self.child
        if child is None:
            return None
        if kill and child.poll() is None:
            child.kill()
        try:
            code = child.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
        if self.child is child:
            self.child = None
        return code


def _fail(pendings: Iterable[Pending], failure: BaseException) -> None:
    for p in pendings:
        if p.waiter is not None and not p.waiter.done():
            p.waiter.set_exception(failure)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


# -- the child ------------------------------------------------------------------------------
def serve(channel: Connection, writer: IntakeWriter, batches: list[tuple[int, float]]) -> None:
    """Store each batch the web process sends and report every message's outcome, until
    the web process closes the channel.

    ``batches`` is where ``writer``'s ``on_batch`` puts each transaction's size and time
    (the child's composition root wires the two): they go back with the outcomes."""
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
            elif isinstance(outcome, IntakeUnavailable):  # logged by the writer
                outcomes.append(("error", outcome.incident))
            else:
                failure = IntakeUnavailable(f"{type(outcome).__name__}: {outcome}")
                failure.log(log)
                outcomes.append(("error", failure.incident))
        channel.send_bytes(pickle.dumps((batches, outcomes), protocol=pickle.HIGHEST_PROTOCOL))
        batches.clear()
