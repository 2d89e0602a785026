"""What a transaction set body builder may take from the envelope options.

Responsible for ``BodyOptions`` (the version, the 856 hierarchy a partner asks for, and
the moment the interchange is created, for a notice or report that gives no creation
date of its own) and ``AsnStructure``, the hierarchies an 856 can be written in.
It must not hold envelope identities or control numbers: the interchange writes those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["AsnStructure", "BodyOptions"]

AsnStructure = Literal["auto", "SOPI", "SOTPI", "SOI"]
"""The HL hierarchy of an 856: ``auto`` writes the record's own tree; the others are
shipment/order/pack/item, shipment/order/tare/pack/item and shipment/order/item, and a
record that does not fit the one asked for is refused."""


@dataclass(frozen=True, slots=True)
class BodyOptions:
    """``version`` is GS08 (004010 or 005010); ``created_at`` is the envelope's ISA/GS
    moment, written as BSN03/BSN04 or BIA04/BIA05 only when the record has no date of
    its own for them."""

    version: str
    asn_structure: AsnStructure = "auto"
    created_at: datetime | None = None
