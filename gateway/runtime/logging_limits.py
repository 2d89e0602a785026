"""Rate limits on repeated log messages, so that an outage does not fill the disk.

Responsible for ``RepeatLimiter``, a ``logging.Filter``: of the records with the same
logger, level and message template (the format string before its arguments), the first
``limit`` in each ``interval`` seconds pass; the rest are counted, and once the interval
is over one line says how many were suppressed. A database outage makes every request
and every worker loop log the same error; this keeps the first few of each, which say
what happened, and the count. ``install_repeat_limit`` puts one limiter on the edigate
loggers (and uvicorn's error logger) of a process: ``edigate serve``, its workers and its
intake writer call it. It must not format, route or drop anything else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["RepeatLimiter", "install_repeat_limit"]

LOGGERS = ("edigate", "uvicorn.error")
# Records kept apart per template at most; the oldest window is summarized and dropped.
_MAX_KEYS = 1024

_Key = tuple[str, int, str]


@dataclass
class _Window:
    start: float
    passed: int = 0
    suppressed: int = 0


class RepeatLimiter(logging.Filter):
    """Let ``limit`` records of one (logger, level, template) through per ``interval``
    seconds; then one summary line per interval with the number suppressed."""

    def __init__(self, limit: int = 10, interval: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.limit = limit
        self.interval = interval
        self.clock = clock
        self._windows: dict[_Key, _Window] = {}
        self._next_sweep = 0.0
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "edigate_summary", False):
            return True
        # The same record may meet this filter on several loggers: decide once.
        decided: bool | None = getattr(record, "edigate_repeat_ok", None)
        if decided is not None:
            return decided
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        due: list[tuple[_Key, _Window]] = []
        with self._lock:
            if now >= self._next_sweep:
                due.extend(self._sweep(now))
            window = self._windows.get(key)
            if window is not None and now >= window.start + self.interval:
                due.append((key, self._windows.pop(key)))
                window = None
            if window is None:
                window = self._windows[key] = _Window(now)
                if len(self._windows) > _MAX_KEYS:
                    oldest = next(iter(self._windows))
                    due.append((oldest, self._windows.pop(oldest)))
            allowed = window.passed < self.limit
            if allowed:
                window.passed += 1
            else:
                window.suppressed += 1
        self._summarize(due, now)
        record.edigate_repeat_ok = allowed
        return allowed

    def _sweep(self, now: float) -> Iterable[tuple[_Key, _Window]]:
        """Windows that are over (so that a burst that stopped is summarized soon)."""
        self._next_sweep = now + min(1.0, self.interval)
        over = [key for key, w in self._windows.items() if now >= w.start + self.interval]
        return [(key, self._windows.pop(key)) for key in over]

    def _summarize(self, due: list[tuple[_Key, _Window]], now: float) -> None:
        for (name, level, template), window in due:
            if not window.suppressed:
                continue
            logger = logging.getLogger(name)
            summary = logger.makeRecord(
                name, level, __file__, 0,
                "suppressed %d similar messages in %.0f s (%r)",
                (window.suppressed, now - window.start, template[:200]), None)
            summary.edigate_summary = True
            logger.handle(summary)


def install_repeat_limit(limit: int, interval: float,
                         names: Iterable[str] = LOGGERS) -> RepeatLimiter:
    """Put one ``RepeatLimiter`` on the loggers ``names`` and on every logger below them
    that exists now (a logger's filters do not apply to its children's records, and
    edigate's loggers are created when their modules are imported), replacing a limiter
    installed before."""
    limiter = RepeatLimiter(limit, interval)
    prefixes = tuple(names)
    existing = [name for name in logging.root.manager.loggerDict
                if any(name == p or name.startswith(p + ".") for p in prefixes)]
    for name in {*prefixes, *existing}:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, RepeatLimiter)]:
            logger.removeFilter(old)
        logger.addFilter(limiter)
    return limiter
