"""Outbound X12: canonical records in, one interchange out (issue 18).

Responsible for ``generate_x12``: one interchange (ISA/IEA) with one group (GS/GE) per
functional identifier, one transaction set per record, written through
``translators.x12.writer`` (which counts SE01, GE01, IEA01), with the version, delimiters
and envelope identities of an ``X12Envelope`` (the gateway fills it from the partner
profile). Before the bytes are returned they are translated back with edigate's own
validator and mappers: an error found there, or a record value that does not read back
as it was given, raises ``GenerationError`` with the located issues and the record
fields; nothing is returned as if fine.
It must not read partner profiles or keep state between calls; control numbers are
passed in.
"""

from __future__ import annotations

from translators.x12.generate.interchange import (
    SUPPORTED_KINDS,
    GenerationError,
    X12Envelope,
    generate_x12,
    generate_x12_read_back,
)

__all__ = [
    "SUPPORTED_KINDS",
    "GenerationError",
    "X12Envelope",
    "generate_x12",
    "generate_x12_read_back",
]
