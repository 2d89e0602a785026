"""The worker's heap settler: long-lived objects are set apart from the collector when a
worker goes idle after work, and what became cyclic garbage since is still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from gateway.runtime.heap import HeapSettler


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_idle_after_work_freezes_the_heap() -> None:
    settler = HeapSettler(every_seconds=3600)
    assert not settler.idle()  # nothing processed yet: nothing new to set apart
    assert gc.get_freeze_count() == 0
    settler.worked()
    assert settler.idle()
    assert gc.get_freeze_count() > 0
    settler.worked()
    assert not settler.idle()  # not due again within every_seconds


def test_frozen_cycles_are_collected_at_the_next_settle() -> None:
    settler = HeapSettler(every_seconds=0)
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    alive = weakref.ref(a)
    settler.worked()
    assert settler.idle()
    del a, b  # a cycle, frozen: no collection reaches it now
    gc.collect()
    assert alive() is not None
    settler.worked()
    assert settler.idle()
    assert alive() is None
