"""Intake first: workers on a host defer to a burst of intake on that host, within a budget.

Responsible for one policy. Intake's contract is durability (a 2xx only after the commit)
and its latency is what partners see; processing is asynchronous by design, and a few
seconds of lag cost nobody anything. On a host whose cores intake and workers share, a
worker translating beside a burst makes every intake batch wait for a core (measured in
bench/README.md, intake, fifth round). So while intake on this host is busy, a worker
waits, for at most ``EDIGATE_WORKER_DEFER_SECONDS`` (5 s) in all; then it works through
the backlog, intake or not, until a claim finds less than a full batch waiting, and only
then may it defer again. A burst shorter than the budget is taken in at full speed and
processed right after it; under sustained load processing never stops for longer than
the budget, and the backlog is then worked off as before (the niced worker processes).

The signal: ``IntakeActivity``, a memory-mapped 8-byte file under the var directory that
the web process stamps with the monotonic clock after each intake batch (no system call),
and that workers read. Busy means a batch within the last 25 ms. Workers on other hosts
do not see it, and should not: they use other cores.
"""

from __future__ import annotations

import contextlib
import mmap
import struct
import time
from collections.abc import Callable
from pathlib import Path

from gateway.runtime.stamp import map_stamp

__all__ = ["BUSY_SECONDS", "Deferral", "IntakeActivity"]

# A batch within this long means intake is busy: under load batches commit every few ms;
# a trickle of single messages is busy a few per cent of the time.
BUSY_SECONDS = 0.025
_STAMP = struct.Struct("d")


class IntakeActivity:
    """When this host's intake last stored a batch (``var_dir/intake.activity``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._map: mmap.mmap | None = None
        with contextlib.suppress(OSError, ValueError):
            # A read-only or missing var directory disables the policy, never intake.
            self._map = map_stamp(path, _STAMP.size)

    def mark(self) -> None:
        """Intake stored a batch now."""
        if self._map is not None:
            _STAMP.pack_into(self._map, 0, time.monotonic())

    def busy(self) -> bool:
        """Whether intake stored a batch within the last ``BUSY_SECONDS``."""
        if self._map is None:
            return False
        last: float = _STAMP.unpack_from(self._map, 0)[0]
        return 0.0 <= time.monotonic() - last < BUSY_SECONDS

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


class Deferral:
    """One worker's side of the policy (see the module's text)."""

    def __init__(self, busy: Callable[[], bool], budget: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.busy = busy
        self.budget = budget
        self.clock = clock
        self.deferring_since: float | None = None  # until the backlog is worked off
        self.catching_up = False

    def wait(self) -> bool:
        """Whether to wait instead of claiming now."""
        if self.budget <= 0 or self.catching_up or not self.busy():
            return False
        now = self.clock()
        if self.deferring_since is None:
            self.deferring_since = now
        if now - self.deferring_since < self.budget:
            return True
        self.catching_up = True  # the budget is spent: work until the backlog is gone
        return False

    def claimed(self, count: int, limit: int) -> None:
        """A claim took ``count`` of at most ``limit`` messages: fewer means nothing more
        was waiting, so the lag is worked off and the budget is whole again."""
        if count < limit:
            self.catching_up = False
            self.deferring_since = None
