"""Outbound UN/EDIFACT: canonical records in, one interchange out (issue 18).

Responsible for ``generate_edifact``: one interchange (UNA, UNB/UNZ, no UNG groups) with one
message (UNH/UNT) per record, ORDERS, ORDRSP, ORDCHG, INVOIC or DESADV of directory D.96A
or D.01B, written through ``translators.edifact.writer`` with the syntax identifier,
version, delimiters and references of an ``EDIFACTEnvelope`` (the gateway fills it from
the partner profile). Before the bytes are returned they are translated back with
edigate's own validator and mappers: an error found there, or a record value that does not
read back as it was given, raises ``GenerationError`` with the located issues and the
record fields; nothing is returned as if fine.
It must not read partner profiles or keep state between calls; references are passed in.
"""

from __future__ import annotations

from translators.edifact.generate.interchange import (
    SUPPORTED_KINDS,
    EDIFACTEnvelope,
    generate_edifact,
    generate_edifact_read_back,
)
from translators.generation import GenerationError

__all__ = [
    "SUPPORTED_KINDS",
    "EDIFACTEnvelope",
    "GenerationError",
    "generate_edifact",
    "generate_edifact_read_back",
]
