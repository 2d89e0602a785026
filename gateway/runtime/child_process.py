"""How the gateway starts its child processes (worker processes, the intake writer).

Responsible for ``child_setup``: the ``preexec_fn`` that lowers a child's CPU priority and
asks Linux to kill the child when its parent dies (``PR_SET_PDEATHSIG``), so a web process
killed with ``kill -9`` leaves no orphan holding claims or the database. It imports nothing
of the gateway: intake and the worker supervisor both get it from the composition root.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

__all__ = ["child_setup"]

_PR_SET_PDEATHSIG = 1


def child_setup(nice: int) -> Callable[[], None] | None:
    """A ``preexec_fn``: lower the child's CPU priority by ``nice``, and ask Linux to
    SIGKILL it when its parent dies."""
    libc = None
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
        except OSError:
            libc = None
    if libc is None and not nice:
        return None
    parent = os.getpid()

    def preexec() -> None:
        if nice:
            os.nice(nice)
        if libc is not None:
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(1)

    return preexec
