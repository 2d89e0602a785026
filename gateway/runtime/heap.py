"""The worker's heap between batches: what lives for the life of the process is set apart
from the cyclic garbage collector, so its full collections scan only what processing made.

A worker process holds a large, long-lived heap once it has processed its first messages:
schemas, code lists, compiled statements, partner profiles, most of them loaded on first
use. CPython's full (oldest-generation) collection walks every tracked object, and it runs
more often the more objects a batch keeps alive across a young collection: so the cost of
processing a message grew with the size of that heap, and with how much a batch holds (the
order book holds the records of each order's documents). ``gc.freeze`` moves every object
alive at that moment into a generation the collector never scans.

``HeapSettler.idle`` does that when a worker finds no work after having processed some, at
most once every ``every_seconds``: a collection first (what is garbage then is not frozen),
after ``gc.unfreeze`` (what was frozen last time and has become cyclic garbage since is
collected now, not kept for the life of the process). Frozen objects are still freed when
their reference count drops to zero; only reference cycles among them wait for the next
settle. It must not decide when work is done (the worker loop does).
"""

from __future__ import annotations

import gc
import threading
import time

__all__ = ["HeapSettler"]

# Often enough that schemas loaded by a new kind of traffic are set apart soon; rarely
# enough that the full collection (tens of milliseconds for a worker's heap) stays noise.
SETTLE_SECONDS = 600.0


class HeapSettler:
    """Freezes a worker's long-lived heap when it goes idle (see the module's text). One
    per process; worker threads share it."""

    def __init__(self, every_seconds: float = SETTLE_SECONDS) -> None:
        self.every_seconds = every_seconds
        self._worked = False
        self._last: float | None = None
        self._lock = threading.Lock()

    def worked(self) -> None:
        """Messages were processed: the heap may hold new long-lived objects."""
        self._worked = True

    def idle(self) -> bool:
        """A worker found nothing to do: settle the heap if it is due; whether it did."""
        now = time.monotonic()
        with self._lock:
            if not self._worked or (self._last is not None
                                    and now - self._last < self.every_seconds):
                return False
            self._worked = False
            self._last = now
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            return True
