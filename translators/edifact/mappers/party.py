"""The NAD group (NAD, RFF, CTA, COM) and CTA-COM contacts: one party with normalised role,
identifier scheme, names, address and contacts.

Responsible for starting a party dict from NAD and folding the group's RFF, CTA and COM
into it, and for reading CTA and COM wherever they stand (``start_contact``,
``add_com``: in a NAD group, at header or line level). Roles and schemes come from
``translators.parties`` (3035, 3055). NAD: 01 3035 party qualifier, 02 C082 (3039 id,
1131 code list, 3055 agency), 03 C058 name and address (3124 x5, unstructured), 04 C080
party name (3036 x5, 3045 format), 05 C059 street (3042 x4), 06 3164 city, 07 3229 country
sub-entity (D96A) or C819 (3229 code, 1131, 3055, 3228 name: D01B), 08 3251 postcode, 09
3207 country. The party's ``name`` is C080's first 3036 (its further ones are
``additional_names``) or, when C080 is absent, C058's first line; the other C058 lines
are address lines, before the street. CTA: 01 3139 contact function, 02 C056 (3413
department or employee id, 3412 name); COM: C076 (3148 number, 3155 channel, whose TE/EM/FX
codes are those of X12 365).
It must not decide where the party or contact belongs (header or line): the document does.
"""

from __future__ import annotations

from typing import Any, Final

from translators.edifact.mappers.commercial import read_rff
from translators.edifact.mappers.tree import append_to
from translators.edifact.segment import Segment
from translators.parties import edifact_id_scheme, edifact_party_role
from translators.text import text_or_none
from translators.x12.mappers.party_loop import add_communication

__all__ = ["PARTY_GROUP_TAGS", "add_com", "add_to_party", "start_contact", "start_party"]

# Segments that continue a NAD group once it has started (its LOC, FII, RFF-DTM, DOC-DTM
# and CTA-COM groups); the DTMs there date a reference and have no place in a Party.
PARTY_GROUP_TAGS: Final[frozenset[str]] = frozenset(
    {"LOC", "FII", "RFF", "DTM", "DOC", "CTA", "COM"}
)

# C080: the five 3036 party name components (the sixth, 3045, is a format code).
_NAME_PARTS: Final = 5


def _texts(parts: list[str]) -> list[str]:
    found: list[str] = []
    for part in parts:
        text = text_or_none(part)
        if text is not None:
            found.append(text)
    return found


def start_party(segment: Segment) -> dict[str, Any]:
    """A party dict from a NAD segment."""
    code = segment.get(1).strip()
    names = _texts(segment.element(4)[:_NAME_PARTS])
    name_and_address = _texts(segment.element(3))
    if not names and name_and_address:
        names = name_and_address[:1]
        name_and_address = name_and_address[1:]
    party: dict[str, Any] = {
        "role": edifact_party_role(code),
        "role_code": code,
        "name": names[0] if names else None,
        "ids": [],
        "contacts": [],
        "references": [],
    }
    if len(names) > 1:
        party["additional_names"] = names[1:]
    value = text_or_none(segment.get(2, 1))
    if value:
        agency = text_or_none(segment.get(2, 3))
        party_id: dict[str, Any] = {
            "qualifier": agency,
            "value": value,
            "scheme": edifact_id_scheme(agency),
        }
        code_list = text_or_none(segment.get(2, 2))
        if code_list is not None:
            party_id["code_list"] = code_list
        append_to(party, "ids", party_id)
    lines = name_and_address + _texts(segment.element(5))
    address: dict[str, Any] = {"lines": lines}
    for key, position, component in (
        ("city", 6, 1),
        ("region", 7, 1),
        ("region_name", 7, 4),
        ("postal_code", 8, 1),
        ("country", 9, 1),
    ):
        found = text_or_none(segment.get(position, component))
        if found is not None:
            address[key] = found
    if lines or len(address) > 1:
        party["address"] = address
    return party


def start_contact(segment: Segment) -> dict[str, Any]:
    """A contact dict from a CTA segment."""
    contact: dict[str, Any] = {
        "function": text_or_none(segment.get(1)),
        "name": text_or_none(segment.get(2, 2)),
    }
    contact_id = text_or_none(segment.get(2, 1))
    if contact_id is not None:
        contact["id"] = contact_id
    return contact


def add_com(contacts: list[dict[str, Any]], segment: Segment) -> bool:
    """Add a COM's number to the last of ``contacts`` (a contact without function or name
    when there is none: a COM may stand without its CTA); false when it has no number,
    for the caller to report."""
    number = text_or_none(segment.get(1, 1))
    if number is None:
        return False
    if not contacts:
        contacts.append({"function": None, "name": None})
    add_communication(contacts[-1], text_or_none(segment.get(1, 2)), number)
    return True


def add_to_party(party: dict[str, Any], segment: Segment) -> bool:
    """Fold one segment of the NAD group into ``party`` (CTA, COM, RFF); false for the
    others (LOC, FII, DOC, DTM), which have no place in a party, for the caller to report."""
    tag = segment.tag
    if tag == "CTA":
        append_to(party, "contacts", start_contact(segment))
    elif tag == "COM":
        return add_com(party["contacts"], segment)
    elif tag == "RFF":
        ref = read_rff(segment)
        if ref is None:
            return False
        append_to(party, "references", ref)
    else:
        return False
    return True
