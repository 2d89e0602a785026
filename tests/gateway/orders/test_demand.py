"""Demand signals (issue 19 point 8): forecasts, product activity and inventory stored per
product and period when they are processed, read back as series through /v1/demand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gateway.api.api_keys import issue_key
from gateway.intake.pipeline import Delivery
from gateway.orders.demand import demand_points, product_key
from gateway.runtime.app import create_app
from gateway.runtime.state import GatewayState
from gateway.store.orders import DemandPointRow
from tests.gateway.conftest import copy_of_partners
from translators.edifact.pipeline import MessageOutcome, translate_edifact
from translators.x12.pipeline import TransactionOutcome, translate_x12

DATA = Path(__file__).resolve().parents[2] / "data"
ACTIVITY = (DATA / "x12" / "mapping" / "852-activity.x12").read_bytes()
INVENTORY = (DATA / "x12" / "mapping" / "846-inventory.x12").read_bytes()
FORECAST = (DATA / "edifact" / "delfor-d96a-places.edi").read_bytes()


def x12_record(body: bytes) -> dict[str, Any]:
    outcome = next(o for o in translate_x12(body) if isinstance(o, TransactionOutcome))
    assert outcome.data is not None
    return outcome.data


def test_product_activity_points_in_total_and_per_location() -> None:
    points = demand_points("product_activity", x12_record(ACTIVITY))
    sold = [(p.location, p.quantity) for p in points
            if p.measure == "sold" and p.product == "gtin:00012345678905"]
    assert sold == [(None, "20"), ("0001", "12"), ("0002", "8")]
    assert {(p.signal, p.period_start, p.period_end) for p in points} == {
        ("activity", "2026-11-01", "2026-11-30")}


def test_inventory_and_forecast_points() -> None:
    stock = demand_points("inventory_report", x12_record(INVENTORY))
    first = [p for p in stock if p.product == "gtin:00012345678905"]
    assert [(p.measure, p.quantity, p.unit, p.period_start) for p in first] == [
        ("available", "150", "EA", "2026-11-20T06:00:00"),
        ("on_hand", "175", "EA", "2026-12-01")]
    message = next(o for o in translate_edifact(FORECAST) if isinstance(o, MessageOutcome))
    assert message.data is not None
    forecast = demand_points("planning_schedule", message.data)
    assert forecast[0][:4] == ("buyer_item:P-1", None, "forecast", "scheduled")
    assert (forecast[0].period_start, forecast[0].quantity) == ("2027-01-04", "10")


def test_one_product_whatever_its_number_is_called() -> None:
    assert product_key({"upc": "012345678905", "vendor_item": "V"}) == "gtin:00012345678905"
    assert product_key({"vendor_item": "V", "buyer_item": "B"}) == "buyer_item:B"
    assert product_key({}) is None


def _as_partner(body: bytes, sender: bytes) -> bytes:
    """An X12 test file as acme-retail sends it to the gateway."""
    return (body.replace(sender.ljust(15), b"ACMERETAIL".ljust(15))
            .replace(b"SELLERCO".ljust(15), b"EDIGATE".ljust(15))
            .replace(b"WIDGETCO".ljust(15), b"EDIGATE".ljust(15)))


def test_reports_are_stored_when_processed_and_read_as_series(
        build_state: Callable[..., GatewayState], tmp_path: Path) -> None:
    partners = copy_of_partners(tmp_path, lambda stem, text: text.replace(
        'transactions = ["850", "860"]', 'transactions = ["850", "860", "846", "852"]'))
    state = build_state(partners_dir=partners)
    first = state.pipeline.receive(Delivery("acme-retail", "https", _as_partner(
        ACTIVITY, b"ACMESTORES")), "test").message_id
    # A revised report for the same period: its figures replace the first one's.
    revised = ACTIVITY.replace(b"ZA*QS*20*EA", b"ZA*QS*26*EA").replace(
        b"000000401", b"000000402")
    state.pipeline.receive(Delivery("acme-retail", "https", _as_partner(
        revised, b"ACMESTORES")), "test")
    state.pipeline.receive(Delivery("acme-retail", "https", _as_partner(
        INVENTORY, b"BUYERCO")), "test")
    results = list(state.pipeline.drain("test"))
    assert [r.status for r in results] == ["PROCESSED"] * 3, [r.error for r in results]
    with state.db.transaction() as session:
        keys = {"scm": issue_key(session, "consumer", scope="scm")[0],
                "crm": issue_key(session, "consumer", scope="crm")[0]}
    with TestClient(create_app(state.settings, state=state, start_workers=False)) as client:
        def get(url: str, key: str = "scm", **params: str) -> Any:
            return client.get(url, params=params, headers={"Authorization": f"Bearer {keys[key]}"})

        products = get("/v1/demand/acme-retail").json()["products"]
        assert "gtin:00012345678905" in [p["product"] for p in products]
        series = get("/v1/demand/acme-retail/gtin:00012345678905").json()["series"]
        total_sold = next(s for s in series if s["signal"] == "activity"
                          and s["measure"] == "sold" and s["location"] is None)
        assert [p["quantity"] for p in total_sold["points"]] == ["26"]
        stock = next(s for s in series if s["signal"] == "inventory"
                     and s["measure"] == "on_hand")
        assert [(p["period_start"], p["quantity"]) for p in stock["points"]] == [
            ("2026-12-01", "175")]
        later = get("/v1/demand/acme-retail/gtin:00012345678905", since="2026-11-25")
        assert {s["signal"] for s in later.json()["series"]} == {"inventory"}
        assert get("/v1/demand/acme-retail/gtin:00012345678905", key="crm").status_code == 403
        assert get("/v1/demand/acme-retail/nothing:1").status_code == 404
        assert get("/v1/demand/acme-retail/gtin:1", since="Nov 1").status_code == 422

    with state.db.read() as session:
        before = session.scalar(select(func.count()).select_from(DemandPointRow))
    state.pipeline.reprocess(first, "test")
    with state.db.read() as session:
        gone = session.scalar(select(func.count()).where(DemandPointRow.message_id == first))
    assert gone == 0
    list(state.pipeline.drain("test"))
    with state.db.read() as session:
        assert session.scalar(select(func.count()).select_from(DemandPointRow)) == before
