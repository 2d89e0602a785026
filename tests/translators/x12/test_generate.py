"""Outbound X12 from canonical records: ``translate_x12(generate_x12(record))`` gives the
record back, pyx12 accepts what is generated, and bad records raise located errors.

The golden records are every accepted (status A) transaction of a generated kind in the
corpus golden files (tests/golden/x12/*.json, read as stored: the corpus itself is not
needed) and in the hand-written files of tests/data/x12. Records of transactions that
were rejected or accepted with errors came from invalid X12 and would be written as
invalid X12 again: the generator refuses them, which ``test_an_invalid_golden_record_is_refused``
pins.

Excluded from the comparison, and why:
- ``source`` (sender, receiver, version, control numbers, test flag): envelope values,
  taken from ``X12Envelope``; ``unmapped``: what an inbound mapper could not place,
  nothing to write; ``schema_version``.
- ``totals.line_count`` and ``totals.quantity_total`` (CTT01/CTT02): computed by the
  generator from the lines; the golden's value is replaced by the computed one (a few
  senders' CTT02 is not the sum of their quantities).
- ``allowances_charges[].percent`` (SAC07, header and line): the inbound 810/850 mappers
  do not keep SAC06 (percent qualifier, 378), which X12 requires beside SAC07 (P0607),
  so a percent read from X12 cannot be written again; it is removed before generating.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translators.parties import party_role
from translators.record_data import record_from_data
from translators.x12.generate import SUPPORTED_KINDS, GenerationError, X12Envelope, generate_x12
from translators.x12.pipeline import TransactionOutcome, translate_x12
from translators.x12.segment import Delimiters

TESTS = Path(__file__).resolve().parents[2]
GOLDEN = TESTS / "golden" / "x12"
DATA = TESTS / "data" / "x12"
SETS = {
    "850": "purchase_order",
    "855": "order_response",
    "860": "purchase_order_change",
    "810": "invoice",
}

# Free-text values in the corpus hold ':' (the usual component separator): these
# delimiters occur in none of the golden records.
DELIMITERS = Delimiters(element="*", component=">", segment="~", repetition="^")

# Record keys that are envelope values or inbound bookkeeping (see the module docstring).
EXCLUDED = ("source", "unmapped", "schema_version")


def _version(group_version: str) -> str:
    return "005010" if group_version.startswith("005") else "004010"


Wanted = Callable[[str, list[str], str], bool]
"""Which transactions' records to take: (status, issue severities, group version)."""


def accepted(status: str, severities: list[str], version: str) -> bool:
    return status == "A"


def golden_records(sets: Collection[str], wanted: Wanted = accepted
                   ) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(name, version, record) of every golden and hand-written transaction of ``sets``
    that ``wanted`` takes: the golden files as stored, the files of tests/data/x12 as
    translated now."""
    for path in sorted(GOLDEN.glob("*.json")):
        view = json.loads(path.read_text())
        for interchange in view["interchanges"]:
            for group in interchange["groups"]:
                for n, tx in enumerate(group["transactions"]):
                    severities = [i["severity"] for i in tx["issues"]]
                    if tx["set_id"] in sets and tx["record"] and \
                            wanted(tx["status"], severities, group["version"]):
                        yield (f"{path.name}#{tx['control_number']}.{n}",
                               _version(group["version"]), tx["record"])
    for path in sorted(DATA.rglob("*")):
        if path.is_file() and path.name[:3] in sets:
            for outcome in translate_x12(path.read_bytes()):
                if isinstance(outcome, TransactionOutcome) and outcome.record is not None \
                        and wanted(outcome.status, [i.severity for i in outcome.issues],
                                   outcome.document.group.version):
                    yield (f"{path.relative_to(DATA)}#{outcome.document.control_number}",
                           _version(outcome.document.group.version),
                           json.loads(outcome.record.model_dump_json()))


GOLDEN_RECORDS = list(golden_records(SETS))


def envelope(version: str = "005010", **changes: Any) -> X12Envelope:
    options: dict[str, Any] = {
        "sender_id": "EDIGATE",
        "receiver_id": "PARTNER",
        "interchange_control": "000000042",
        "created_at": datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
        "version": version,
        "delimiters": DELIMITERS,
        "group_control": "7",
        "transaction_control": "0001",
    }
    options.update(changes)
    return X12Envelope(**options)


def _without_sac_percent(charges: list[dict[str, Any]]) -> None:
    for charge in charges:
        charge["percent"] = None


def prepared(record: dict[str, Any]) -> dict[str, Any]:
    """The golden record as the generator gets it: the excluded fields emptied."""
    record = copy.deepcopy(record)
    _without_sac_percent(record.get("allowances_charges") or [])
    for line in record.get("lines") or []:
        _without_sac_percent(line.get("allowances_charges") or [])
    totals = record.get("totals") or {}
    totals["line_count"] = None
    totals["quantity_total"] = None
    return record


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the envelope values and with the computed totals emptied."""
    data = record_from_data(record).model_dump()
    for key in EXCLUDED:
        data.pop(key, None)
    data["totals"]["line_count"] = None
    data["totals"]["quantity_total"] = None
    return data


def read_back(data: bytes) -> list[TransactionOutcome]:
    return [o for o in translate_x12(data) if isinstance(o, TransactionOutcome)]


def test_golden_records_cover_every_generated_kind_and_version() -> None:
    """The round trip below runs over 850, 855, 860 and 810 records of 004010 and 005010."""
    found = {(record["kind"], version) for _, version, record in GOLDEN_RECORDS}
    for kind in SETS.values():
        assert (kind, "004010") in found or kind == "purchase_order_change"
        assert (kind, "005010") in found
    # The 856 and 846 round trips are in test_generate_shipments.py.
    assert set(SETS.values()) | {"ship_notice", "inventory_report"} == SUPPORTED_KINDS


@pytest.mark.parametrize(
    ("name", "version", "record"), GOLDEN_RECORDS, ids=[n for n, _, _ in GOLDEN_RECORDS]
)
def test_golden_record_round_trips(name: str, version: str, record: dict[str, Any]) -> None:
    """Generating a golden record and translating the X12 gives the record back, apart
    from the excluded fields, with CTT01/CTT02 computed from the lines."""
    given_record = prepared(record)
    data = generate_x12([given_record], envelope(version))
    (outcome,) = read_back(data)
    # Warnings may differ from the original's: an ItemIds field does not keep which of
    # its 235 qualifiers was sent (UI or UP), and UP's check digit is checked.
    assert outcome.errors == []
    assert outcome.data is not None
    assert comparable(outcome.data) == comparable(given_record)
    lines = outcome.data["lines"]
    totals = outcome.data["totals"]
    assert totals["line_count"] == len(lines)
    quantities = [line["quantity"] for line in lines if line["quantity"] is not None]
    assert totals["quantity_total"] == (sum(quantities, Decimal(0)) if quantities else None)


def test_envelope_values_come_from_the_options() -> None:
    """ISA/GS identities, version and control numbers are the envelope's; SE01 counts."""
    record = next(r for _, v, r in GOLDEN_RECORDS if r["kind"] == "purchase_order")
    data = generate_x12([prepared(record), prepared(record)], envelope("004010"))
    first, second = read_back(data)
    assert first.document.control_number == "0001"
    assert second.document.control_number == "0002"
    source = first.data["source"] if first.data else {}
    assert source["sender"] == {"qualifier": "ZZ", "id": "EDIGATE"}
    assert source["receiver"] == {"qualifier": "ZZ", "id": "PARTNER"}
    assert source["interchange_control"] == "000000042"
    assert source["group_control"] == "7"
    assert source["version"].startswith("004010")
    assert first.issues == [] and second.issues == []


def test_one_group_per_functional_id() -> None:
    """An order and an invoice go in two groups (PO and IN), numbered from group_control."""
    order = next(r for _, _, r in GOLDEN_RECORDS if r["kind"] == "purchase_order")
    bill = next(r for _, _, r in GOLDEN_RECORDS if r["kind"] == "invoice")
    data = generate_x12([prepared(order), prepared(bill)], envelope())
    text = data.decode()
    assert "GS*PO*EDIGATE*PARTNER*20240301*0930*7*X*005010~" in text
    assert "GS*IN*EDIGATE*PARTNER*20240301*0930*8*X*005010~" in text
    assert [o.document.set_id for o in read_back(data)] == ["850", "810"]


@pytest.mark.parametrize("kind", sorted(SETS.values()))
@pytest.mark.parametrize("version", ["004010", "005010"])
def test_pyx12_accepts_generated_interchanges(
    kind: str, version: str, pyx12_errors: Callable[[bytes], list[str]]
) -> None:
    """pyx12, with edigate's maps, finds zero errors in what is generated of each kind."""
    records = [prepared(r) for _, _, r in GOLDEN_RECORDS if r["kind"] == kind][:5]
    assert records
    assert pyx12_errors(generate_x12(records, envelope(version))) == []


def test_an_invalid_golden_record_is_refused() -> None:
    """A record read from a rejected transaction is refused with issues located in the
    generated X12, never returned."""
    path = DATA / "invalid" / "850.4010.mandatory_loop.edi"
    (outcome,) = read_back(path.read_bytes())
    assert outcome.status == "R" and outcome.data is not None
    with pytest.raises(GenerationError) as caught:
        generate_x12([outcome.data], envelope("004010"))
    assert any(i.segment_tag == "BEG" for i in caught.value.issues)


def test_missing_po_number_is_a_located_error() -> None:
    """An 850 without a PO number fails validation at BEG03 and is not returned."""
    record = prepared(next(r for _, _, r in GOLDEN_RECORDS if r["kind"] == "purchase_order"))
    record["po_number"] = None
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope())
    (issue,) = [i for i in caught.value.issues if i.segment_tag == "BEG"]
    assert (issue.segment_position, issue.element_position) == (2, 3)


def test_a_value_that_does_not_read_back_names_its_field() -> None:
    """A value with no place in the X12 (a second id of a party: N1 holds one) is named."""
    record = prepared(
        next(r for _, _, r in GOLDEN_RECORDS if r["kind"] == "purchase_order" and r["parties"])
    )
    record["parties"][0]["ids"] = [
        {"qualifier": "92", "value": "A"},
        {"qualifier": "91", "value": "B"},
    ]
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope())
    assert caught.value.fields == ["records[0].parties[0].ids"]


def test_a_hash_total_that_disagrees_with_the_lines_is_refused() -> None:
    """A given CTT01 line count that is not the number of lines is an error, not sent."""
    record = prepared(next(r for _, _, r in GOLDEN_RECORDS if r["kind"] == "purchase_order"))
    record["totals"]["line_count"] = len(record["lines"]) + 1
    with pytest.raises(GenerationError) as caught:
        generate_x12([record], envelope())
    assert caught.value.fields == ["records[0].totals.line_count"]


_text = (
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -.", min_size=1, max_size=20)
    .map(str.strip)
    .filter(bool)
)
_quantity = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2)
_day = st.dates(min_value=datetime(2000, 1, 1).date(), max_value=datetime(2099, 12, 31).date())


@st.composite
def purchase_orders(draw: st.DrawFn) -> dict[str, Any]:
    """Generated 850 records: header codes, dates, parties with addresses, priced lines."""
    lines = []
    for n in range(draw(st.integers(1, 5))):
        lines.append(
            {
                "line_number": str(n + 1),
                "quantity": draw(_quantity),
                "unit": draw(st.sampled_from(["EA", "CA", "DZ"])),
                "unit_price": draw(_quantity),
                "item_ids": {"buyer_item": draw(_text), "upc": draw(st.none() | _text)},
                "description": draw(st.none() | _text),
            }
        )
    parties = [
        {
            "role_code": role,
            "role": party_role(role),
            "name": draw(_text),
            "address": {
                "lines": [draw(_text)],
                "city": draw(_text.filter(lambda c: len(c) > 1)),
                "region": "TX",
                "postal_code": "78245",
                "country": "US",
            },
        }
        for role in draw(st.lists(st.sampled_from(["ST", "BT", "VN"]), max_size=3, unique=True))
    ]
    return {
        "kind": "purchase_order",
        "source": {
            "standard": "x12",
            "version": "005010",
            "transaction_type": "850",
            "sender": {"id": "X"},
            "receiver": {"id": "Y"},
            "interchange_control": "1",
            "transaction_control": "1",
        },
        "purpose_code": draw(st.sampled_from(["00", "05", "06"])),
        "order_type_code": draw(st.sampled_from(["SA", "DS", "RL"])),
        "po_number": draw(_text).replace(" ", ""),
        "order_date": draw(_day).isoformat(),
        "dates": {"requested_delivery": draw(_day).isoformat()},
        "parties": parties,
        "lines": lines,
    }


@given(purchase_orders(), st.sampled_from(["004010", "005010"]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_purchase_orders_round_trip(record: dict[str, Any], version: str) -> None:
    """Any such 850 record reads back as given (every value it sets), in both versions."""
    data = generate_x12([record], envelope(version))
    (outcome,) = read_back(data)
    assert outcome.errors == []
    back = record_from_data(outcome.data or {}).model_dump()
    given_data = record_from_data(record).model_dump()
    for key in ("po_number", "order_date", "purpose_code", "order_type_code", "dates"):
        assert back[key] == given_data[key]
    for line, given_line in zip(back["lines"], given_data["lines"], strict=True):
        for key in ("line_number", "quantity", "unit", "unit_price", "item_ids", "description"):
            assert line[key] == given_line[key]
    assert [p["name"] for p in back["parties"]] == [p["name"] for p in given_data["parties"]]
    assert [p["address"] for p in back["parties"]] == [p["address"] for p in given_data["parties"]]
