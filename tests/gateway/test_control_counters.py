"""Acknowledgment control numbers: workers that build the first acknowledgment for a partner
at the same moment both get a number, and never the same one."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from gateway.runtime.state import GatewayState


@pytest.fixture
def state(build_state: Callable[..., GatewayState]) -> GatewayState:
    return build_state()


def test_concurrent_first_use_of_a_counter(state: GatewayState) -> None:
    """Eight transactions take the next number of a counter that does not exist yet, all
    inside their transactions at once: each commits with its own number, 1 to 8."""
    pipeline = state.pipeline
    start = threading.Barrier(8)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def take() -> None:
        try:
            with state.db.transaction() as session:
                start.wait(10)
                numbers.append(pipeline.processor.next_control(session, "x12:isa13:new-partner"))
        except BaseException as exc:  # reported below, with the numbers
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert sorted(numbers) == list(range(1, 9))
