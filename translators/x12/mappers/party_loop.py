"""The N1 loop (N1/N2/N3/N4/PER/REF) and PER contacts: one party with normalised role,
identifier scheme, address and contacts.

Responsible for starting a party dict from N1 and folding the loop's following segments
into it, and for reading a PER wherever it stands (``read_per``: in a party loop, at
header or line level). Roles and schemes come from ``translators.parties``. Every element
with a value lands in the party: N1 01 role code, 02 name, 03/04 id; N2 01/02 additional
names; N3 01/02 street lines; N4 01 city, 02 state, 03 postcode, 04 country, 05/06 location
qualifier and id, 07 country subdivision; PER 01 function, 02 name, 03-08 three qualified
communication numbers (all kept, whatever the qualifier), 09 inquiry reference; REF 01-03.
N105/N106 (entity relationship, observed entity) have no field.
It must not decide where the party or contact belongs (header, line, order level): the
mapper does.
"""

from __future__ import annotations

from typing import Any, Final

from translators.parties import party_role, x12_id_scheme
from translators.text import text_or_none
from translators.x12.mappers.elements import element

__all__ = ["PARTY_LOOP_TAGS", "add_communication", "add_to_party", "read_per", "start_party"]

# Segments that continue an N1 loop once it has started.
PARTY_LOOP_TAGS: frozenset[str] = frozenset({"N2", "N3", "N4", "PER", "REF"})

# Communication qualifiers with a named field (X12 365 and EDIFACT 3155 agree on these).
_CHANNELS: Final[dict[str, str]] = {"TE": "phone", "EM": "email", "FX": "fax"}


def start_party(fields: list[str]) -> dict[str, Any]:
    """A party dict from an N1 segment's fields."""
    code = element(fields, 1)
    party: dict[str, Any] = {
        "role": party_role(code),
        "role_code": code,
        "name": text_or_none(element(fields, 2)),
        "ids": [],
        "contacts": [],
        "references": [],
    }
    value = text_or_none(element(fields, 4))
    if value:
        qualifier = text_or_none(element(fields, 3))
        party["ids"].append(
            {"qualifier": qualifier, "value": value, "scheme": x12_id_scheme(qualifier)}
        )
    return party


def add_communication(contact: dict[str, Any], qualifier: str | None, number: str) -> None:
    """Add one communication number to ``contact``: always to its ``communications``, and
    to the named field of its qualifier (phone, email, fax) when that is still empty."""
    items: list[dict[str, Any]] = contact.setdefault("communications", [])
    items.append({"qualifier": qualifier, "value": number})
    channel = _CHANNELS.get(qualifier) if qualifier else None
    if channel is not None and contact.get(channel) is None:
        contact[channel] = number


def read_per(fields: list[str]) -> dict[str, Any]:
    """A contact from a PER segment's fields."""
    contact: dict[str, Any] = {
        "function": text_or_none(element(fields, 1)),
        "name": text_or_none(element(fields, 2)),
    }
    for position in (3, 5, 7):
        number = text_or_none(element(fields, position + 1))
        if number:
            add_communication(contact, text_or_none(element(fields, position)), number)
    reference = text_or_none(element(fields, 9))
    if reference:
        contact["reference"] = reference
    return contact


def _address(party: dict[str, Any]) -> dict[str, Any]:
    address: dict[str, Any] | None = party.get("address")
    if address is None:
        address = {"lines": []}
        party["address"] = address
    return address


def _set_address_fields(address: dict[str, Any], fields: list[str]) -> None:
    for key, position in (
        ("city", 1),
        ("region", 2),
        ("postal_code", 3),
        ("country", 4),
        ("location_qualifier", 5),
        ("location_id", 6),
        ("country_subdivision", 7),
    ):
        value = text_or_none(element(fields, position))
        if value is not None:
            address[key] = value


def add_to_party(party: dict[str, Any], tag: str, fields: list[str]) -> bool:
    """Fold one N2/N3/N4/PER/REF segment of the loop into ``party``; false when it has no
    place there (a second N4: one address has one city), for the caller to report."""
    if tag == "N3":
        lines = _address(party)["lines"]
        for position in (1, 2):
            line = text_or_none(element(fields, position))
            if line:
                lines.append(line)
    elif tag == "N4":
        address = _address(party)
        if len(address) > 1:  # more than its lines: an N4 was read already
            return False
        _set_address_fields(address, fields)
    elif tag == "N2":
        names: list[str] = party.setdefault("additional_names", [])
        for position in (1, 2):
            name = text_or_none(element(fields, position))
            if name:
                names.append(name)
    elif tag == "PER":
        party["contacts"].append(read_per(fields))
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
    return True

