"""Opaque keyset cursors for newest-first lists: (time, id) of the last item returned."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from gateway.problems import Problem

__all__ = ["decode_keyset", "encode_keyset"]


def encode_keyset(at: datetime, item_id: str) -> str:
    raw = json.dumps([at.isoformat(), item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_keyset(cursor: str) -> tuple[datetime, str]:
    """The (time, id) in ``cursor``; a 422 problem for anything this API did not issue."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, item_id = json.loads(raw)
        return datetime.fromisoformat(at), str(item_id)
    except (ValueError, TypeError) as exc:
        raise Problem(422, "bad-cursor", "Invalid cursor",
                      "the cursor is not one this API returned") from exc
