"""Files only the gateway's user may read, created once whatever starts at the same time:
the keys the gateway makes for itself on first start (the ledger's signing key, the SFTP
server's host key). It must not know what the files hold.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["create_private_file"]


def create_private_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (mode 0600; its directory made 0700 when missing)
    unless a file is there already; whether this call created it.

    The bytes go to a temporary file beside it, are synced, then hard-linked into place:
    of several processes starting at once exactly one wins, and no reader ever sees half
    a file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp's mode: 0600
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)
