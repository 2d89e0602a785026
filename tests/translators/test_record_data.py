"""Records as plain data: ``complete`` fills a mapper's tree exactly as the model would,
``record_json`` writes the model's JSON, ``check_canonical`` finds any difference."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators import record_data
from translators.record_data import check_canonical, complete, record_json, render_plans
from translators.records import Invoice, PurchaseOrder


def _source() -> dict[str, Any]:
    return {
        "standard": "x12", "version": "004010", "transaction_type": "850",
        "sender": {"id": "S"}, "receiver": {"qualifier": "ZZ", "id": "R"},
        "interchange_control": "1", "transaction_control": "0001",
    }


def test_complete_fills_defaults_in_model_order() -> None:
    tree = {"po_number": "PO1", "source": _source(),
            "lines": [{"line_number": "1", "quantity": Decimal("2")}]}
    data = complete("PurchaseOrder", tree)
    model = PurchaseOrder.model_validate(tree)
    assert data == model.model_dump()
    assert list(data) == list(model.model_dump())
    assert list(data["lines"][0]["item_ids"]) == list(model.lines[0].item_ids.model_dump())
    assert data["kind"] == "purchase_order"
    assert data["source"]["sender"] == {"qualifier": None, "id": "S"}


def test_defaults_are_fresh_objects() -> None:
    one = complete("PurchaseOrder", {"source": _source()})
    two = complete("PurchaseOrder", {"source": _source()})
    one["parties"].append({"role": "buyer"})
    one["dates"]["x"] = "y"
    assert two["parties"] == [] and two["dates"] == {}
    assert one["totals"] is not two["totals"]


def test_unknown_and_missing_fields_are_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown field.*po_nmber"):
        complete("PurchaseOrder", {"source": _source(), "po_nmber": "X"})
    with pytest.raises(ValueError, match="required field 'source'"):
        complete("PurchaseOrder", {})
    with pytest.raises(ValueError, match="Identity: required field 'id'"):
        complete("PurchaseOrder", {"source": {**_source(), "sender": {}}})


def test_record_json_is_the_models_json() -> None:
    tree = {"source": _source(), "invoice_number": "INV-1",
            "totals": {"amount": Decimal("1E+3"), "terms_discount": Decimal("10.50")}}
    data = complete("Invoice", tree)
    expected = json.dumps(Invoice.model_validate(tree).model_dump(mode="json"),
                          separators=(",", ":"))
    assert record_json(data) == expected
    assert '"amount":"1000"' in record_json(data)
    with pytest.raises(TypeError, match="date is not part of a canonical record"):
        record_json({**data, "invoice_date": date(2024, 1, 2)})


def test_check_canonical_names_the_first_difference() -> None:
    data = complete("PurchaseOrder", {"source": _source(), "po_number": "PO1"})
    assert check_canonical(data).po_number == "PO1"
    reordered = dict(reversed(list(data.items())))
    with pytest.raises(ValueError, match="record: keys"):
        check_canonical(reordered)
    wrong_type = complete("PurchaseOrder", {"source": _source(), "lines": [
        {"line_number": "1", "quantity": 2}]})  # an int where the model keeps a Decimal
    with pytest.raises(ValueError, match=r"record\.lines\[0\]\.quantity: 2 \(int\)"):
        check_canonical(wrong_type)


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
_AMOUNT = st.decimals(allow_nan=False, allow_infinity=False, places=2,
                      min_value=-10**9, max_value=10**9)


@settings(max_examples=200, deadline=None)
@given(
    number=st.none() | _TEXT,
    lines=st.lists(st.fixed_dictionaries(
        {"line_number": st.none() | _TEXT, "quantity": st.none() | _AMOUNT},
        optional={"unit": st.none() | _TEXT, "unit_price": st.none() | _AMOUNT,
                  "item_ids": st.fixed_dictionaries({}, optional={"upc": _TEXT})}),
        max_size=4),
    notes=st.lists(_TEXT, max_size=3),
)
def test_complete_agrees_with_the_model(number: str | None, lines: list[dict[str, Any]],
                                        notes: list[str]) -> None:
    """Whatever subset of fields a mapper writes, ``complete`` gives the model's dump."""
    tree = {"source": _source(), "po_number": number, "lines": lines, "notes": notes}
    check_canonical(complete("PurchaseOrder", tree))


def test_generated_plans_are_up_to_date() -> None:
    """``translators/record_plans.py`` is what the models give (``python -m
    translators.record_data`` rewrites it), and translating does not import Pydantic."""
    path = Path(record_data.__file__).with_name("record_plans.py")
    assert path.read_text("utf-8") == render_plans()
    assert record_data.main(["--check"]) == 0
    code = ("import sys, translators.edifact.pipeline, translators.edifact.mappers, "
            "translators.x12.pipeline; print('pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"
