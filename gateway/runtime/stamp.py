"""Small memory-mapped files under the var directory that the gateway's processes on one
host share: read and written with no system call, so they can be checked on every request.

Responsible only for mapping such a file; what its bytes mean is the caller's
(``gateway.intake.activity``: when intake last stored a batch; ``gateway.api.api_keys``: a
revocation
generation). It must not be used for anything that has to survive a crash or reach other
hosts: the file is a hint between live processes.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

__all__ = ["map_stamp"]


def map_stamp(path: Path, size: int) -> mmap.mmap:
    """``path`` (created 0600, with its folder, and grown to ``size`` bytes if shorter)
    mapped read-write and shared. Raises ``OSError`` or ``ValueError`` when it cannot be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_size < size:
            os.ftruncate(fd, size)
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)
