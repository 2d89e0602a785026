"""The N1 loop (N1/N2/N3/N4/PER/REF): one party with normalised role, address and contacts.

Responsible for starting a party dict from N1 and folding the loop's following segments
into it. Roles come from ``translators.parties.X12_ENTITY_ROLES``.
It must not decide where the party belongs (header, line, order level): the mapper does.
"""

from __future__ import annotations

from typing import Any

from translators.parties import X12_ENTITY_ROLES
from translators.x12.mappers.elements import element, text_or_none

__all__ = ["PARTY_LOOP_TAGS", "add_to_party", "start_party"]

# Segments that continue an N1 loop once it has started.
PARTY_LOOP_TAGS: frozenset[str] = frozenset({"N2", "N3", "N4", "PER", "REF"})

# X12 365 communication number qualifiers.
_CONTACT_CHANNELS = {"TE": "phone", "EM": "email", "FX": "fax"}


def start_party(fields: list[str]) -> dict[str, Any]:
    """A party dict from an N1 segment's fields."""
    code = element(fields, 1)
    party: dict[str, Any] = {
        "role": X12_ENTITY_ROLES.get(code, "other"),
        "role_code": code,
        "name": text_or_none(element(fields, 2)),
        "ids": [],
        "contacts": [],
        "references": [],
    }
    value = element(fields, 4)
    if value:
        party["ids"].append({"qualifier": text_or_none(element(fields, 3)), "value": value})
    return party


def _address(party: dict[str, Any]) -> dict[str, Any]:
    address: dict[str, Any] | None = party.get("address")
    if address is None:
        address = {"lines": []}
        party["address"] = address
    return address


def add_to_party(party: dict[str, Any], tag: str, fields: list[str]) -> None:
    """Fold one N2/N3/N4/PER/REF segment of the loop into ``party``."""
    if tag == "N3":
        lines = _address(party)["lines"]
        for position in (1, 2):
            line = text_or_none(element(fields, position))
            if line:
                lines.append(line)
    elif tag == "N4":
        address = _address(party)
        address["city"] = text_or_none(element(fields, 1))
        address["region"] = text_or_none(element(fields, 2))
        address["postal_code"] = text_or_none(element(fields, 3))
        address["country"] = text_or_none(element(fields, 4))
    elif tag == "N2":
        extra = " ".join(v for v in (element(fields, 1), element(fields, 2)) if v)
        if extra:
            party["name"] = f"{party['name']} {extra}" if party["name"] else extra
    elif tag == "PER":
        contact: dict[str, Any] = {
            "function": text_or_none(element(fields, 1)),
            "name": text_or_none(element(fields, 2)),
        }
        for position in (3, 5, 7):
            channel = _CONTACT_CHANNELS.get(element(fields, position))
            number = element(fields, position + 1)
            if channel and number and channel not in contact:
                contact[channel] = number
        party["contacts"].append(contact)
    elif tag == "REF":
        qualifier = element(fields, 1)
        if qualifier:
            party["references"].append(
                {
                    "qualifier": qualifier,
                    "value": text_or_none(element(fields, 2)),
                    "description": text_or_none(element(fields, 3)),
                }
            )
