"""Canonical record models: decimal strings, discriminator, strictness, published schemas."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from translators.records import (
    RECORD_ADAPTER,
    RECORD_MODELS,
    Identity,
    Invoice,
    InvoiceTotals,
    Line,
    PurchaseOrder,
    ShipNotice,
    Source,
)
from translators.records_schema import main, render_json_schemas, stale_json_schemas

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "records"


def _source() -> Source:
    return Source(
        standard="x12",
        version="004010",
        transaction_type="850",
        sender=Identity(qualifier="ZZ", id="BUYER"),
        receiver=Identity(qualifier="ZZ", id="SELLER"),
        interchange_control="000000001",
        group_control="1",
        transaction_control="0001",
    )


def test_decimals_serialise_as_strings() -> None:
    """Decimals dump to JSON strings keeping the places as sent, never floats or exponents."""
    po = PurchaseOrder(
        source=_source(),
        lines=[Line(quantity=Decimal("0008"), unit_price=Decimal("10.50"))],
    )
    po.totals.quantity_total = Decimal("1E+3")
    data = json.loads(po.model_dump_json())
    assert data["lines"][0]["quantity"] == "8"
    assert data["lines"][0]["unit_price"] == "10.50"
    assert data["totals"]["quantity_total"] == "1000"
    assert po.model_dump(mode="json")["lines"][0]["unit_price"] == "10.50"


def test_python_dump_keeps_decimal() -> None:
    """In Python mode decimals stay Decimal so consumers can compute with them."""
    totals = InvoiceTotals(amount=Decimal("123.45"))
    assert totals.model_dump()["amount"] == Decimal("123.45")


def test_discriminator_selects_model() -> None:
    """The Record union picks the model named by ``kind`` when validating JSON."""
    invoice = Invoice(source=_source(), invoice_number="INV-1")
    parsed = RECORD_ADAPTER.validate_json(invoice.model_dump_json())
    assert isinstance(parsed, Invoice)
    assert parsed == invoice
    ship = RECORD_ADAPTER.validate_python({"kind": "ship_notice", "source": _source()})
    assert isinstance(ship, ShipNotice)


def test_unknown_kind_rejected() -> None:
    """A record with an unknown ``kind`` does not validate."""
    with pytest.raises(ValidationError):
        RECORD_ADAPTER.validate_python({"kind": "weather_report", "source": _source()})


def test_extra_fields_forbidden() -> None:
    """Every model rejects fields it does not define."""
    with pytest.raises(ValidationError):
        PurchaseOrder.model_validate({"source": _source(), "po_nummer": "1"})
    with pytest.raises(ValidationError):
        Line.model_validate({"qty": "1"})


def test_round_trip_through_json() -> None:
    """A record survives dump to JSON and validation back unchanged, decimals included."""
    po = PurchaseOrder(
        source=_source(),
        po_number="PO-1",
        dates={"requested_delivery": "2026-11-25"},
        lines=[Line(line_number="1", quantity=Decimal("2.50"), unit="EA", unit_rec20="EA")],
    )
    again = PurchaseOrder.model_validate_json(po.model_dump_json())
    assert again == po
    assert again.lines[0].quantity == Decimal("2.50")


def test_every_kind_has_a_model() -> None:
    """RECORD_MODELS covers each kind, and each model's ``kind`` default is its key."""
    for kind, model in RECORD_MODELS.items():
        instance = model.model_validate({"source": _source()})
        assert instance.model_dump()["kind"] == kind


def test_json_schema_files_up_to_date() -> None:
    """The committed schemas/records files equal what the models generate."""
    assert stale_json_schemas(SCHEMA_DIR) == []


def test_json_schema_decimals_are_strings() -> None:
    """The published schema types decimal fields as strings."""
    schema = json.loads(render_json_schemas()["invoice.schema.json"])
    amount = schema["$defs"]["InvoiceTotals"]["properties"]["amount"]
    assert {"type": "string"} in amount["anyOf"]


def test_schema_check_reports_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``--check`` exits 1 naming stale files, and 0 after regeneration."""
    assert main([str(tmp_path), "--check"]) == 1
    assert "record.schema.json" in capsys.readouterr().err
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path), "--check"]) == 0
    (tmp_path / "invoice.schema.json").write_text("{}\n", encoding="utf-8")
    assert main([str(tmp_path), "--check"]) == 1
    assert "invoice.schema.json" in capsys.readouterr().err
