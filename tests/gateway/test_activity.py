"""Intake first: the activity stamp shared through a file, the deferral budget, and
worker threads that wait for a burst of intake and then work off what it left."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gateway.intake.activity import BUSY_SECONDS, Deferral, IntakeActivity
from gateway.intake.pipeline import Delivery
from gateway.runtime.demo import demo_interchange
from gateway.runtime.state import GatewayState
from gateway.runtime.workers import WorkerThreads
from gateway.store.models import Message


def test_a_stamp_is_seen_through_another_mapping_of_the_file(tmp_path: Path) -> None:
    """What the web process marks, a worker process (another mapping) reads; the stamp
    goes stale after BUSY_SECONDS."""
    writer = IntakeActivity(tmp_path / "var" / "intake.activity")
    reader = IntakeActivity(tmp_path / "var" / "intake.activity")
    assert not reader.busy()  # a new file: never stamped
    writer.mark()
    assert reader.busy()
    time.sleep(BUSY_SECONDS * 2)
    assert not reader.busy()
    writer.close()
    reader.close()


def test_an_unusable_var_directory_disables_the_policy(tmp_path: Path) -> None:
    """No file can be made (a file stands where the directory should be): marking is a
    no-op and intake never looks busy, so workers never wait."""
    (tmp_path / "var").write_text("not a directory")
    activity = IntakeActivity(tmp_path / "var" / "intake.activity")
    activity.mark()
    assert not activity.busy()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deferral_waits_within_the_budget_then_catches_up_until_drained() -> None:
    clock = Clock()
    busy = [True]
    deferral = Deferral(lambda: busy[0], budget=5.0, clock=clock)
    assert deferral.wait()  # intake busy: wait
    clock.now += 3
    assert deferral.wait()
    busy[0] = False
    assert not deferral.wait()  # a gap in the burst: claim
    deferral.claimed(16, 16)  # a full batch: the backlog is not worked off
    busy[0] = True
    clock.now += 1.9
    assert deferral.wait()  # the budget counts on from the first wait: 4.9 s
    clock.now += 0.2
    assert not deferral.wait()  # 5.1 s: spent
    deferral.claimed(16, 16)
    clock.now += 60
    assert not deferral.wait()  # catching up, however busy intake is...
    deferral.claimed(3, 16)  # ...until a claim finds less than a batch
    assert deferral.wait()  # a whole budget again
    clock.now += 4.9
    assert deferral.wait()


def test_no_budget_means_never_waiting() -> None:
    assert not Deferral(lambda: True, budget=0.0).wait()


@pytest.fixture
def state(build_state: Callable[..., GatewayState]) -> GatewayState:
    return build_state(lease=timedelta(seconds=30), worker_defer_seconds=1.5, worker_batch=4)


def waiting(state: GatewayState) -> int:
    with state.db.read() as session:
        return session.scalar(select(func.count()).select_from(Message).where(
            Message.status.in_(("RECEIVED", "PROCESSING")))) or 0


def run_burst(state: GatewayState, burst_seconds: float) -> tuple[int, float, float]:
    """Six messages waiting, a worker thread started, then a burst of intake of
    ``burst_seconds``: (messages still waiting 0.4 s into the burst, seconds from the
    burst's start and from the worker's start until the first is processed). The burst
    is the worker's busy signal held for that long: the stamp file behind it is tested
    above, and a marking thread starved of the CPU for 25 ms on a loaded machine would
    make a gap where intake had none. Intake counts as busy while the worker starts
    (threads, outbound senders), which may take a while on a loaded machine and must not
    eat into the burst; the worker's budget counts from its first wait, in that start."""
    for control in range(900, 906):
        body = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings,
                                control)
        state.pipeline.receive(Delivery("acme-retail", "https", body), "test")
    burst: list[float] = []
    state.pipeline.activity.busy = (  # type: ignore[method-assign]
        lambda: not burst or time.monotonic() - burst[0] < burst_seconds)
    workers = WorkerThreads(state, 1, idle_seconds=0.05)
    starting = time.monotonic()
    workers.start()
    burst.append(time.monotonic())
    try:
        time.sleep(0.4)
        early = waiting(state)
        deadline = time.monotonic() + 20
        while waiting(state) == 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        now = time.monotonic()
        return early, now - burst[0], now - starting
    finally:
        workers.shutdown()


def test_workers_wait_for_a_short_burst_and_process_right_after_it(
        state: GatewayState) -> None:
    """A 0.8 s burst: nothing is processed during it, and processing starts right after
    it, before the 1.5 s budget would have run out."""
    early, after_burst, _ = run_burst(state, 0.8)
    assert early == 6
    assert 0.8 <= after_burst < 1.5


def test_a_burst_longer_than_the_budget_holds_processing_back_no_longer(
        state: GatewayState) -> None:
    """A 4 s burst: after the 1.5 s budget the worker processes anyway."""
    early, after_burst, after_start = run_burst(state, 4.0)
    assert early == 6
    assert after_start >= 1.5 and after_burst < 4.0
