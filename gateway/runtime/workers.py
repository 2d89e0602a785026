"""Where messages are processed: worker threads in a process, or worker processes.

Translation and validation are CPU-bound Python. Run as threads inside the web process,
they take the GIL from the event loop and from the intake writer, so intake slows down
exactly when traffic is high. ``edigate serve`` therefore runs ``EDIGATE_WORKERS`` worker
*processes* beside the web process (``EDIGATE_WORKER_MODE=process``, the default): each
is ``edigate worker --follow`` (a processing thread and the outbound senders), they share
the work through the database's claims and leases, and they can use every core.
``EDIGATE_WORKER_MODE=thread`` keeps the single-process shape (tests, tiny installs).

Worker processes run at a lower CPU priority (``EDIGATE_WORKER_NICE``, default 10): when
the cores are busy, taking messages in (and answering partners) goes before translating
them; the backlog is processed as soon as intake leaves CPU over. Workers also wait while
this host's intake is busy, for a few seconds at most (``gateway.intake.activity``): the nice
value orders the processes, not the database work they cause. Worker processes die
with their parent (Linux ``PR_SET_PDEATHSIG``): a web process killed
with ``kill -9`` takes its workers with it, and the next start releases their claims at
once (``Pipeline.release_dead_local_claims``). A worker that exits on its own is
restarted after a back-off; one that keeps exiting before it has run ``STARTUP_SECONDS``
is logged as an error and makes ``/readyz`` fail until a restart stays up. Children run
``python -P`` (no current directory on ``sys.path``), so a folder the gateway is started
from (one holding a ``partners/`` directory of TOML files, say) cannot shadow a package.
This module must not process messages itself.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from gateway.delivery.brokers import BrokerDeliverer
from gateway.delivery.egress import Claim, OutboundPool
from gateway.intake.activity import Deferral
from gateway.intake.sftp import SFTPPoller
from gateway.processing.reconcile import mark_overdue
from gateway.retention import purge
from gateway.retention.policy import RetentionPolicy
from gateway.runtime.child_process import child_setup
from gateway.runtime.heap import HeapSettler
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import utcnow

__all__ = ["WorkerProcesses", "WorkerThreads"]

log = logging.getLogger("edigate.workers")

# A worker process that exits sooner than this after its start failed to start; after
# FAILED_STARTS of those in a row its slot is failing (logged, and /readyz says so).
STARTUP_SECONDS = 10.0
# How often a worker process looks for sent documents whose acknowledgment is overdue.
ACK_SWEEP_SECONDS = 60.0
FAILED_STARTS = 3
# How often a worker process asks whether today's retention run is still to be done: the
# first to ask on a day (on any host sharing the database) runs it (``purge.claim_day``).
RETENTION_CHECK_SECONDS = 3600.0
# How often a worker deferring to intake looks again (a read of shared memory).
_DEFER_POLL_SECONDS = 0.01


class WorkerThreads:
    """Threads that claim and process messages, and the outbound senders, until stopped.
    With ``count`` 0 (tests, API-only processes) none of them runs.

    Outbound work (webhook deliveries, the AS2 queue, HTTPS and SFTP transfers) is claimed by one
    dispatcher thread each and sent on a shared ``gateway.delivery.egress.OutboundPool``
    (``EDIGATE_EGRESS_POOL_SIZE`` threads, at most ``EDIGATE_EGRESS_PER_DESTINATION`` to one
    scheme, host and port): a destination that hangs holds its own slots, not the sends to
    anyone else. A dispatcher claims only when a thread is free, so a claim's lease is not
    spent waiting. Each configured message broker has a publisher thread instead
    (``_publish``), and partners' SFTP inbound paths are polled by one thread
    (``_poll_sftp``) when any profile has one.
    """

    def __init__(self, state: GatewayState, count: int, idle_seconds: float = 0.2,
                 deliverer_idle_seconds: float = 1.0) -> None:
        self.state = state
        self.count = count
        self.idle_seconds = idle_seconds
        self.deliverer_idle_seconds = deliverer_idle_seconds
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.pool: OutboundPool | None = None
        self._closers: list[Callable[[], None]] = []
        self.heap = HeapSettler()

    def start(self) -> None:
        if self.count:
            released = self.state.pipeline.release_dead_local_claims(
                f"worker:{self.state.settings.worker_id}")
            if released:
                log.warning("resuming %d message(s) left by a process that died", released)
        for n in range(self.count):
            name = f"worker:{self.state.settings.worker_id}:{n}"
            thread = threading.Thread(target=self._run, args=(name,), name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        if self.count:
            self._start_outbound()

    def _run(self, name: str) -> None:
        settings = self.state.settings
        processor = self.state.pipeline.processor
        deferral = Deferral(self.state.pipeline.activity.busy, settings.worker_defer_seconds)
        while not self.stop.is_set():
            if deferral.wait():
                self.stop.wait(_DEFER_POLL_SECONDS)
                continue
            try:
                claimed = processor.claim(name, limit=settings.worker_batch)
                if claimed:
                    processor.process(claimed, name)
            except Exception:  # a worker must outlive a database hiccup
                log.exception("worker %s: claim or process failed", name)
                claimed = []
            deferral.claimed(len(claimed), settings.worker_batch)
            if claimed:
                self.heap.worked()
            else:
                self.heap.idle()
                self.stop.wait(self.idle_seconds)

    def _start_outbound(self) -> None:
        settings = self.state.settings
        worker_id = settings.worker_id
        self.pool = OutboundPool(settings.egress_pool_size, settings.egress_per_destination,
                                 name=f"egress:{worker_id}")
        deliverer = self.state.webhook_deliverer(worker=f"deliverer:{worker_id}")
        self._closers.append(deliverer.close)
        self._dispatcher(f"deliverer:{worker_id}", deliverer.claim_job)
        as2 = self.state.as2_deliverer(worker=f"as2:{worker_id}")
        if as2 is not None:
            self._closers.append(as2.close)
            self._dispatcher(f"as2:{worker_id}", as2.claim_job)
        https = self.state.https_deliverer(worker=f"https:{worker_id}")
        self._closers.append(https.close)
        self._dispatcher(f"https:{worker_id}", https.claim_job)
        sftp = self.state.sftp_deliverer(worker=f"sftp:{worker_id}")
        self._closers.append(sftp.close)
        self._dispatcher(f"sftp:{worker_id}", sftp.claim_job)
        poller = self.state.sftp_poller()
        if poller.partners():
            thread = threading.Thread(target=self._poll_sftp, args=(f"sftp-in:{worker_id}",
                                                                    poller),
                                      name=f"sftp-in:{worker_id}", daemon=True)
            thread.start()
            self.threads.append(thread)
        for broker in self.state.broker_deliverers():
            self._closers.append(broker.close)
            name = f"{broker.target.broker}:{worker_id}"
            thread = threading.Thread(target=self._publish, args=(name, broker), name=name,
                                      daemon=True)
            thread.start()
            self.threads.append(thread)
        thread = threading.Thread(target=self._watch_acknowledgments,
                                  args=(f"acks:{worker_id}",), name=f"acks:{worker_id}",
                                  daemon=True)
        thread.start()
        self.threads.append(thread)
        policy = RetentionPolicy.of(settings, self.state.registry)
        if policy.configured:
            thread = threading.Thread(target=self._retain, args=(f"retention:{worker_id}",
                                                                 policy),
                                      name=f"retention:{worker_id}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def _retain(self, name: str, policy: RetentionPolicy) -> None:
        """Once a day, in one process: archive what is due, then purge it (each batch its
        own transaction, so intake waits for one batch at most)."""
        settings = self.state.settings
        while not self.stop.wait(RETENTION_CHECK_SECONDS):
            try:
                now = utcnow()
                if not purge.claim_day(self.state.db, now.toordinal()):
                    continue
                report = purge.run(self.state.db, self.state.ledger, policy,
                                   settings.archive_dir, now=now, actor=name,
                                   batch=settings.retention_batch)
            except Exception:  # the job must outlive a database hiccup or a full disk
                log.exception("retention run %s failed", name)
                continue
            if report.purged:
                log.info("retention: %d message(s) archived to %s and purged",
                         report.purged, report.archive)
            if report.waiting:
                log.info("retention: %d message(s) past their period wait for their "
                         "outbound work", report.waiting)

    def _watch_acknowledgments(self, name: str) -> None:
        """Mark sent documents whose acknowledgment is overdue, and tell again the orders
        whose time rules fell due, once a minute."""
        while not self.stop.wait(ACK_SWEEP_SECONDS):
            try:
                marked = mark_overdue(self.state.db, self.state.ledger, utcnow(), name)
            except Exception:  # the sweep must outlive a database hiccup
                log.exception("acknowledgment sweep %s failed", name)
                continue
            if marked:
                log.warning("%d sent document(s) not acknowledged in time: "
                            "GET /v1/documents?ack_status=overdue", marked)
            try:
                # Orders whose time rules fell due with nothing arriving: told again, so
                # a missing order response or ship notice becomes a finding and an event.
                self.state.pipeline.processor.orders.sweep(
                    self.state.db, self.state.ledger, utcnow(), name)
            except Exception:
                log.exception("order sweep %s failed", name)

    def _poll_sftp(self, name: str, poller: SFTPPoller) -> None:
        """Poll each SFTP partner's inbound path every ``poll_seconds`` of its profile,
        one partner after the other (a poll ends by its deadline); a partner another
        process polls (``SFTPPoller``'s lease) is skipped until its lease is free."""
        due: dict[str, float] = {}
        while not self.stop.is_set():
            now = time.monotonic()
            for partner in poller.partners():
                if due.get(partner.id, 0.0) > now or self.stop.is_set():
                    continue
                try:
                    poller.poll(partner.id, name)
                except Exception:  # the poller must outlive a database hiccup
                    log.exception("SFTP poll of partner %s failed", partner.id)
                assert partner.sftp is not None
                due[partner.id] = time.monotonic() + partner.sftp.poll_seconds
            self.stop.wait(min([*due.values(), time.monotonic() + 1.0]) - time.monotonic()
                           if due else 1.0)
        try:
            poller.stand_down(name)
        except Exception:  # stopping: the leases then run out by themselves
            log.exception("SFTP poller %s could not give up its leases", name)

    def _dispatcher(self, name: str, claim: Claim) -> None:
        thread = threading.Thread(target=self._dispatch, args=(name, claim), name=name,
                                  daemon=True)
        thread.start()
        self.threads.append(thread)

    def _dispatch(self, name: str, claim: Claim) -> None:
        pool = self.pool
        assert pool is not None
        while not self.stop.is_set():
            try:
                started = pool.dispatch(claim)
            except Exception:  # a dispatcher must outlive a database hiccup
                log.exception("outbound dispatcher %s: claim failed", name)
                started = False
            if started:
                continue
            if pool.in_flight() >= pool.size:
                pool.wait_for_room(self.deliverer_idle_seconds)
            else:
                self.stop.wait(self.deliverer_idle_seconds)

    def _publish(self, name: str, broker: BrokerDeliverer) -> None:
        """Publish one broker's due events, one after the other, until stopped.

        Not on the pool: a broker is a single destination whose connection serves one
        thread, so its attempts go one at a time anyway, in the order the events were
        written; on a thread of its own a backlog drains without waiting for pool room,
        and a broker that hangs holds only this thread (each attempt ends by its deadline).
        """
        while not self.stop.is_set():
            try:
                claimed = broker.claim()
                if claimed is not None:
                    broker.send(claimed)
                    continue
            except Exception:  # a publisher thread must outlive a database hiccup
                log.exception("broker publisher %s: claim failed", name)
            broker.idle()
            self.stop.wait(self.deliverer_idle_seconds)

    def failing(self) -> str | None:
        """Threads start with the process that runs them: never failing to start."""
        return None

    def shutdown(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)
        if self.pool is not None:
            # Attempts in flight end by their deadline; one that does not is recovered
            # by its lease like any lost claim.
            self.pool.shutdown(wait=True)
        for close in self._closers:
            close()


class WorkerProcesses:
    """``count`` supervised ``edigate worker --follow`` child processes."""

    def __init__(self, settings: Settings, count: int, *, restart_backoff: float = 1.0,
                 command: list[str] | None = None) -> None:
        self.settings = settings
        self.count = count
        self.restart_backoff = restart_backoff
        # -P: the working directory is not put on sys.path (a ./partners folder of TOML
        # files would otherwise shadow the partners package in the child).
        self.command = command or [sys.executable, "-P", "-m", "gateway.runtime.cli", "worker",
                                   "--follow"]
        self.children: list[subprocess.Popen[bytes]] = []
        self._started: list[float] = []
        self._failed_starts: list[int] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    def _spawn(self, n: int) -> subprocess.Popen[bytes]:
        # The children get this process's settings (which may not come from the
        # environment: tests, the demo); each names itself by its own pid.
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
        env.update(self.settings.to_env(exclude={"worker_id", "workers", "worker_mode"}))
        if "worker_id" in self.settings.model_fields_set:
            # An operator-chosen name (EDIGATE_WORKER_ID) carries over, one per child.
            env["EDIGATE_WORKER_ID"] = f"{self.settings.worker_id}.w{n}"
        # preexec_fn runs only nice, prctl and getppid between fork and exec.
        return subprocess.Popen(self.command, env=env,
                                preexec_fn=child_setup(self.settings.worker_nice))

    def start(self) -> None:
        if not self.count:
            return
        with self._lock:
            self.children = [self._spawn(n) for n in range(self.count)]
            self._started = [time.monotonic()] * self.count
            self._failed_starts = [0] * self.count
        log.info("started %d worker process(es): %s", self.count,
                 ", ".join(str(c.pid) for c in self.children))
        # Restarts are spawned from the supervisor thread, which lives until shutdown;
        # PR_SET_PDEATHSIG follows the spawning thread, so it must outlive its children.
        self._supervisor = threading.Thread(target=self._supervise, name="edigate-supervisor",
                                            daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self._stop.wait(0.5):
            with self._lock:
                for n, child in enumerate(self.children):
                    code = child.poll()
                    if self._stop.is_set():
                        break
                    if code is None:
                        if time.monotonic() - self._started[n] >= STARTUP_SECONDS:
                            self._failed_starts[n] = 0
                        continue
                    self._exited(n, child, code)
                    time.sleep(self.restart_backoff)
                    if not self._stop.is_set():
                        self.children[n] = self._spawn(n)
                        self._started[n] = time.monotonic()

    def _exited(self, n: int, child: subprocess.Popen[bytes], code: int) -> None:
        if time.monotonic() - self._started[n] < STARTUP_SECONDS:
            self._failed_starts[n] += 1
        if self._failed_starts[n] >= FAILED_STARTS:
            log.error("worker process %d exited with %s: %d starts in a row failed (its "
                      "error is above); messages are not being processed and /readyz "
                      "reports it; restarting in %.0f s", child.pid, code,
                      self._failed_starts[n], self.restart_backoff)
        else:
            log.error("worker process %d exited with %s; restarting in %.0f s",
                      child.pid, code, self.restart_backoff)

    def failing(self) -> str | None:
        """Why messages are not being processed (a generic reason), or None: a worker
        slot whose last ``FAILED_STARTS`` starts each exited within ``STARTUP_SECONDS``."""
        # No lock: the supervisor holds it through a restart's back-off, and a list of
        # ints read while it is replaced whole or item by item is still a list of ints.
        if any(f >= FAILED_STARTS for f in self._failed_starts):
            return "workers failing to start"
        return None

    def shutdown(self, timeout: float = 30.0) -> None:
        """SIGTERM every child (each finishes its message), then SIGKILL stragglers."""
        self._stop.set()
        with self._lock:
            children = list(self.children)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)


def follow(state: GatewayState, threads: int = 1) -> int:
    """Run worker threads in this process until SIGTERM or SIGINT (``edigate worker
    --follow``)."""
    workers = WorkerThreads(state, max(1, threads))
    stopped = threading.Event()

    def stop(_signum: int, _frame: object) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workers.start()
    log.info("worker %s following the queue", state.settings.worker_id)
    while not stopped.wait(1.0):
        pass
    workers.shutdown()
    return 0
