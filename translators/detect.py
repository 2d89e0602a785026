"""Which standard a document is written in, from its first bytes.

Responsible for the one rule that intake, the command line and the coverage report use to
pick a reader: X12 when the document starts with an ISA (ASCII or EBCDIC), UN/EDIFACT when
it starts with UNA, UNB or UNH, after any byte order marks and whitespace. The readers
themselves own the two tests (``looks_like_x12``, ``looks_like_edifact``), which is what
they accept as the start of an interchange.
It must not read past the first bytes nor judge whether the rest is valid: the readers
report that, located.
"""

from __future__ import annotations

from typing import Literal

from translators.edifact.reader import looks_like_edifact
from translators.x12.reader import looks_like_x12

__all__ = ["HEAD_BYTES", "Standard", "detect_standard"]

Standard = Literal["x12", "edifact"]

# How many first bytes ``detect_standard`` needs: a few byte order marks and blank lines
# before the first tag.
HEAD_BYTES = 64


def detect_standard(head: bytes) -> Standard | None:
    """``x12``, ``edifact``, or None when ``head`` (a document's first bytes, at least
    ``HEAD_BYTES`` of them when it has that many) starts neither."""
    if looks_like_x12(head):
        return "x12"
    if looks_like_edifact(head):
        return "edifact"
    return None
