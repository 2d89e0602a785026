"""The log rate-limits repeated messages: the first N of a (logger, template) per interval
pass, then one line says how many were suppressed (a fake clock drives the intervals)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from gateway.runtime.logging_limits import RepeatLimiter, install_repeat_limit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def limited() -> Iterator[tuple[logging.Logger, RepeatLimiter, Clock]]:
    clock = Clock()
    limiter = RepeatLimiter(limit=3, interval=10.0, clock=clock)
    logger = logging.getLogger("edigate.test-repeats")
    logger.addFilter(limiter)
    yield logger, limiter, clock
    logger.removeFilter(limiter)


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "edigate.test-repeats"]


def test_repeats_past_the_limit_are_summarized(
        limited: tuple[logging.Logger, RepeatLimiter, Clock],
        caplog: pytest.LogCaptureFixture) -> None:
    """Of 50 errors with one template (and different arguments) within the interval, 3
    are logged; after the interval the next one comes with 'suppressed 47 similar
    messages'; another template is not held back meanwhile."""
    logger, _, clock = limited
    with caplog.at_level(logging.ERROR, logger="edigate"):
        for n in range(50):
            logger.error("database unavailable on %s (incident %s)", "/v1/messages", n)
            clock.now += 0.1
        logger.error("something else %d", 1)
        assert messages(caplog) == [
            "database unavailable on /v1/messages (incident 0)",
            "database unavailable on /v1/messages (incident 1)",
            "database unavailable on /v1/messages (incident 2)",
            "something else 1"]
        caplog.clear()
        clock.now += 10
        logger.error("database unavailable on %s (incident %s)", "/v1/messages", 50)
    logged = messages(caplog)
    assert len(logged) == 2
    assert logged[0].startswith("suppressed 47 similar messages in ")
    assert "database unavailable on %s" in logged[0]
    assert logged[1] == "database unavailable on /v1/messages (incident 50)"


def test_a_burst_that_stopped_is_summarized_by_the_next_line(
        limited: tuple[logging.Logger, RepeatLimiter, Clock],
        caplog: pytest.LogCaptureFixture) -> None:
    """A template that is no longer logged still gets its summary, with the next record
    of any template after its interval."""
    logger, _, clock = limited
    with caplog.at_level(logging.WARNING, logger="edigate"):
        for _ in range(5):
            logger.warning("worker %s: claim failed", "w1")
        clock.now += 11
        logger.warning("recovered")
    assert messages(caplog)[3:] == [
        "suppressed 2 similar messages in 11 s ('worker %s: claim failed')", "recovered"]


def test_levels_and_loggers_are_counted_apart(
        limited: tuple[logging.Logger, RepeatLimiter, Clock],
        caplog: pytest.LogCaptureFixture) -> None:
    """The same template at another level is another message."""
    logger, _, _ = limited
    with caplog.at_level(logging.INFO, logger="edigate"):
        for _ in range(4):
            logger.info("tick")
            logger.error("tick")
    assert messages(caplog).count("tick") == 6


def test_install_covers_the_edigate_loggers() -> None:
    """install_repeat_limit puts one limiter on every edigate logger there is (a logger's
    filters do not see its children's records), replacing one installed before."""
    import gateway.runtime.app  # noqa: F401 - creates the gateway's loggers

    first = install_repeat_limit(3, 10.0)
    limiter = install_repeat_limit(3, 10.0)
    try:
        for name in ("edigate", "edigate.api", "edigate.intake", "edigate.workers",
                     "uvicorn.error"):
            filters = logging.getLogger(name).filters
            assert limiter in filters and first not in filters, name
    finally:
        for name in list(logging.root.manager.loggerDict):
            logger = logging.getLogger(name)
            if limiter in logger.filters:
                logger.removeFilter(limiter)
