"""Acknowledgment control numbers: workers that build the first acknowledgment for a partner
at the same moment both get a number, and never the same one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.settings import Settings
from gateway.state import GatewayState
from gateway.store.base import Base

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def state(database_url: str, tmp_path: Path) -> Iterator[GatewayState]:
    settings = Settings(database_url=database_url, partners_dir=REPO / "partners",
                        var_dir=tmp_path, ledger_key_path=tmp_path / "ledger.pem", workers=0)
    built = GatewayState.build(settings)
    Base.metadata.create_all(built.db.engine)
    yield built
    built.close()


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
