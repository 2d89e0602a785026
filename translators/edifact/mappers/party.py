"""The NAD group (NAD, RFF, CTA, COM): one party with normalised role, address, contacts.

Responsible for starting a party dict from NAD and folding the group's RFF, CTA and COM
into it. Roles come from ``code_lists.PARTY_ROLES`` (3035). NAD (D96A): 01 3035 party
qualifier, 02 C082 (3039 id, 1131 code list, 3055 agency), 03 C058 name and address lines,
04 C080 party name (3036 x5), 05 C059 street (3042 x4), 06 3164 city, 07 3229 country
sub-entity, 08 3251 postcode, 09 3207 country. CTA: 01 3139 contact function, 02 C056
(3413 id, 3412 name); COM: C076 (3148 number, 3155 channel, whose TE/EM/FX codes are
those of X12 365).
It must not decide where the party belongs (header or line): the document does.
"""

from __future__ import annotations

from typing import Any, Final

from translators.edifact.mappers.code_lists import party_role
from translators.edifact.mappers.commercial import read_rff
from translators.edifact.mappers.tree import append_to
from translators.edifact.mappers.values import joined_text, text_or_none
from translators.edifact.segment import Segment

__all__ = ["PARTY_GROUP_TAGS", "add_to_party", "start_party"]

# Segments that continue a NAD group once it has started (its LOC, FII, RFF-DTM, DOC-DTM
# and CTA-COM groups); the DTMs there date a reference and have no place in a Party.
PARTY_GROUP_TAGS: Final[frozenset[str]] = frozenset(
    {"LOC", "FII", "RFF", "DTM", "DOC", "CTA", "COM"}
)

_CHANNELS: Final = {"TE": "phone", "EM": "email", "FX": "fax"}


def start_party(segment: Segment) -> dict[str, Any]:
    """A party dict from a NAD segment."""
    code = segment.get(1).strip()
    party: dict[str, Any] = {
        "role": party_role(code),
        "role_code": code,
        "name": joined_text(segment.element(4)),
        "ids": [],
        "contacts": [],
        "references": [],
    }
    value = segment.get(2, 1).strip()
    if value:
        append_to(party, "ids", {"qualifier": text_or_none(segment.get(2, 3)), "value": value})
    lines = [line.strip() for line in segment.element(5) if line.strip()]
    if not lines:
        lines = [line.strip() for line in segment.element(3) if line.strip()]
    city = text_or_none(segment.get(6))
    region = text_or_none(segment.get(7))
    postal_code = text_or_none(segment.get(8))
    country = text_or_none(segment.get(9))
    if lines or city or region or postal_code or country:
        party["address"] = {
            "lines": lines,
            "city": city,
            "region": region,
            "postal_code": postal_code,
            "country": country,
        }
    return party


def add_to_party(party: dict[str, Any], segment: Segment) -> None:
    """Fold one segment of the NAD group into ``party`` (CTA, COM, RFF; others are dropped)."""
    tag = segment.tag
    if tag == "CTA":
        append_to(party, "contacts", {
            "function": text_or_none(segment.get(1)),
            "name": text_or_none(segment.get(2, 2)),
        })
    elif tag == "COM":
        contacts: list[dict[str, Any]] = party["contacts"]
        if not contacts:
            contacts.append({"function": None, "name": None})
        contact = contacts[-1]
        channel = _CHANNELS.get(segment.get(1, 2).strip())
        number = segment.get(1, 1).strip()
        if channel and number and channel not in contact:
            contact[channel] = number
    elif tag == "RFF":
        ref = read_rff(segment)
        if ref is not None:
            append_to(party, "references", ref)
