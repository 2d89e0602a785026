"""Opaque keyset cursors for newest-first lists: (time, id) of the last item returned.

A cursor comes back from the client, so decoding checks everything a forged one could
carry that the database could not take: a time that is not an aware datetime UTC can
express, an id that is not a short string without control characters.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from gateway.api.inputs import CURSOR_MAX, ID_MAX, control_character
from gateway.api.problems import Problem

__all__ = ["decode_keyset", "encode_keyset"]


def encode_keyset(at: datetime, item_id: str) -> str:
    raw = json.dumps([at.isoformat(), item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_keyset(cursor: str) -> tuple[datetime, str]:
    """The (time, id) in ``cursor``; a 422 problem for anything this API did not issue."""
    try:
        if len(cursor) > CURSOR_MAX:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, item_id = json.loads(raw)
        if not isinstance(at, str) or not isinstance(item_id, str) or \
                len(item_id) > ID_MAX or control_character(item_id):
            raise ValueError("not a (time, id) pair")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        # Raises OverflowError for year 1 or 9999 times whose UTC falls outside datetime.
        return parsed.astimezone(UTC), item_id
    except (ValueError, TypeError, OverflowError) as exc:
        raise Problem(422, "bad-cursor", "Invalid cursor",
                      "the cursor is not one this API returned", parameter="cursor") from exc
