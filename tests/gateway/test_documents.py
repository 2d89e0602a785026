"""Outbound documents through the API and the CLI: records in, a partner's X12 out, stored,
ledgered, numbered without reuse or gaps, and bad records refused or held with located
errors (issue 18 points 1, 3, 4 and 6)."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.api.api_keys import issue_key
from gateway.intake.pipeline import Delivery
from gateway.ledger.chain import LedgerEntry
from gateway.processing.outbound import RecordsInvalid
from gateway.processing.reconcile import mark_overdue
from gateway.runtime.app import create_app
from gateway.runtime.cli import main as cli_main
from gateway.runtime.demo import demo_interchange
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.base import Base, utcnow
from gateway.store.models import Acknowledgment, Message
from gateway.store.outbound import SentDocument
from tests.gateway.conftest import copy_of_partners
from translators.edifact.pipeline import MessageOutcome, translate_edifact
from translators.x12.pipeline import TransactionOutcome, translate_x12
from translators.x12.segment import Delimiters
from translators.x12.writer import GroupSpec, InterchangeSpec, TransactionSpec, write_interchange

REPO = Path(__file__).resolve().parents[2]

RESPONSE: dict[str, Any] = {
    "kind": "order_response", "po_number": "PO-4711", "order_date": "2024-03-01",
    "purpose_code": "00", "response_code": "AC",
    "lines": [{"line_number": "1", "quantity": "10", "unit": "EA", "unit_price": "2.50",
               "item_ids": {"vendor_item": "V-100"}}],
}
INVOICE: dict[str, Any] = {
    "kind": "invoice", "invoice_number": "INV-9", "invoice_date": "2024-03-05",
    "po_number": "PO-4711",
    "lines": [{"line_number": "1", "quantity": "10", "unit": "EA", "unit_price": "2.50",
               "item_ids": {"vendor_item": "V-100"}}],
    "totals": {"amount": "25.00"},
}


@dataclass
class Env:
    client: TestClient
    state: GatewayState
    keys: dict[str, str]

    def send(self, body: object, key: str = "sender") -> Any:
        return self.client.post("/v1/documents", json=body,
                                headers={"Authorization": f"Bearer {self.keys[key]}"})

    def get(self, url: str, key: str = "ops", **params: str) -> Any:
        return self.client.get(url, params=params,
                               headers={"Authorization": f"Bearer {self.keys[key]}"})

    def count(self, model: Any) -> int:
        with self.state.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def events(self, message_id: str) -> list[str]:
        with self.state.db.read() as session:
            return list(session.scalars(select(LedgerEntry.event).where(
                LedgerEntry.message_id == message_id).order_by(LedgerEntry.seq)))


def _settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, partners_dir=REPO / "partners",
                    var_dir=tmp_path, ledger_key_path=tmp_path / "ledger.pem", workers=0)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    settings = _settings(database_url, tmp_path)
    state = GatewayState.build(settings, lease=timedelta(seconds=30))
    Base.metadata.create_all(state.db.engine)
    keys: dict[str, str] = {}
    with state.db.transaction() as session:
        keys["sender"] = issue_key(session, "consumer", scope="scm", can_send=True)[0]
        keys["reader"] = issue_key(session, "consumer", scope="crm")[0]
        keys["ops"] = issue_key(session, "ops", role="operator")[0]
        keys["viewer"] = issue_key(session, "ops", role="viewer")[0]
        keys["acme"] = issue_key(session, "partner", partner_id="acme-retail")[0]
    app = create_app(settings, state=state, start_workers=False)
    with TestClient(app) as client:
        yield Env(client, state, keys)
    state.close()


def _records(edi: bytes) -> list[dict[str, Any]]:
    return [o.record.model_dump(mode="json") for o in translate_x12(edi)
            if isinstance(o, TransactionOutcome) and o.record is not None and o.status == "A"]


def test_submitted_records_become_a_stored_valid_interchange(
        env: Env, pyx12_errors: Any) -> None:
    """A send-scoped consumer's records come back as one GENERATED outbound message whose
    X12 pyx12 accepts and reads back as the records, with a pending acknowledgment due in
    the partner's time and GENERATED in the ledger."""
    answer = env.send({"partner_id": "acme-retail", "records": [RESPONSE, INVOICE]})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["status"] == "GENERATED" and body["standard"] == "x12"
    assert [d["document_type"] for d in body["documents"]] == ["855", "810"]
    assert {d["ack_status"] for d in body["documents"]} == {"pending"}
    raw = env.get(f"/v1/messages/{body['message_id']}/raw")
    assert raw.status_code == 200
    edi = raw.content
    assert pyx12_errors(edi) == []
    back = _records(edi)
    assert [r["po_number"] for r in back] == ["PO-4711", "PO-4711"]
    assert back[1]["invoice_number"] == "INV-9"
    assert back[0]["source"]["receiver"] == {"qualifier": "ZZ", "id": "ACMERETAIL"}
    # acme-retail's profile says 004010.
    assert back[0]["source"]["version"] == "004010"
    message = env.get(f"/v1/messages/{body['message_id']}").json()
    assert message["direction"] == "outbound" and message["status"] == "GENERATED"
    assert "GENERATED" in env.events(body["message_id"])
    found = env.get("/v1/documents", key="reader", business_number="PO-4711",
                    kind="invoice").json()["items"]
    assert [d["document_type"] for d in found] == ["810"]
    detail = env.get(f"/v1/documents/{found[0]['id']}", key="viewer").json()
    assert detail["record"]["invoice_number"] == "INV-9"
    assert detail["record"]["source"]["interchange_control"] == body["interchange_control"]
    due = detail["ack_due_at"]
    assert due is not None and due > detail["created_at"]


def test_control_numbers_count_on_and_are_shared_with_acknowledgments(env: Env) -> None:
    """ISA13 of generated interchanges and of the 997s sent to the same partner come from
    one counter: consecutive, never reused; ST02 counts per transaction set."""
    first = env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).json()
    # An inbound PO from acme-retail is answered with a 997 that takes the next ISA13.
    inbound = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401",
                               env.state.settings, 555)
    posted = env.client.post("/v1/messages", content=inbound,
                             headers={"Authorization": f"Bearer {env.keys['acme']}"})
    assert posted.status_code == 202, posted.text
    assert sum(1 for _ in env.state.pipeline.drain("test")) == 1
    ack = env.get(f"/v1/messages/{posted.json()['message_id']}").json()["acknowledgments"]
    second = env.send({"partner_id": "acme-retail", "records": [RESPONSE, RESPONSE]}).json()
    ack_isa13 = ack[0]["content"].split(ack[0]["content"][3])[13]
    isa13 = [first["interchange_control"], ack_isa13, second["interchange_control"]]
    assert [int(n) for n in isa13] == [1, 2, 3]
    assert [d["transaction_control"] for d in first["documents"] + second["documents"]] == \
        ["0001", "0002", "0003"]


def test_records_that_are_not_records_are_refused_with_pointers(env: Env) -> None:
    """Each offending field is named by JSON pointer in a 422 problem, and nothing is
    stored."""
    bad = copy.deepcopy(RESPONSE)
    bad["lines"][0]["quantity"] = "ten"
    bad["po_nmuber"] = "typo"
    answer = env.send({"partner_id": "acme-retail",
                       "records": [RESPONSE, bad, {"kind": "forecast"}, {"kind": ["x"]}]})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    pointers = {e["pointer"] for e in answer.json()["errors"]}
    assert pointers == {"/records/1/lines/0/quantity", "/records/1/po_nmuber",
                        "/records/2/kind", "/records/3/kind"}
    assert env.count(Message) == 0 and env.count(SentDocument) == 0


def test_records_that_do_not_generate_are_held_and_their_numbers_given_back(env: Env) -> None:
    """A record the X12 validator rejects once written (855 without BAK01) is held with
    the error at its record, never queued, and the next document gets the number the
    held one would have had."""
    bad = dict(RESPONSE, purpose_code=None)
    answer = env.send({"partner_id": "acme-retail", "records": [RESPONSE, bad]})
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["type"] == "urn:edigate:problem:document-held"
    assert [e["pointer"] for e in problem["errors"]] == ["/records/1"]
    assert "BAK01" in problem["errors"][0]["location"]
    held = env.get(f"/v1/messages/{problem['message_id']}").json()
    assert held["status"] == "HELD" and held["direction"] == "outbound"
    assert "BAK01" in held["error"]
    assert env.count(SentDocument) == 0
    assert env.events(problem["message_id"]) == ["HELD"]
    ok = env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).json()
    assert ok["interchange_control"] == "000000001"


def test_only_send_scoped_keys_may_submit(env: Env) -> None:
    """A consumer key without the send permission and a partner key get 403; an unknown
    partner 404."""
    body = {"partner_id": "acme-retail", "records": [RESPONSE]}
    assert env.send(body, key="reader").status_code == 403
    assert env.send(body, key="acme").status_code == 403
    assert env.send({"partner_id": "nobody", "records": [RESPONSE]}).status_code == 404
    assert env.count(Message) == 0


def test_outbound_messages_are_resent_not_reprocessed(env: Env) -> None:
    """Reprocessing is for inbound messages (409 for an outbound one); resending a
    document for a partner without a transport says so (409)."""
    sent = env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).json()
    url = f"/v1/messages/{sent['message_id']}"
    headers = {"Authorization": f"Bearer {env.keys['ops']}"}
    assert env.client.post(f"{url}/reprocess", headers=headers).status_code == 409
    answer = env.client.post(f"{url}/resend", headers=headers)
    assert answer.status_code == 409
    assert answer.json()["type"] == "urn:edigate:problem:no-transport"


def test_documents_list_pages_newest_first(env: Env) -> None:
    """``GET /v1/documents`` filters by partner and acknowledgment state and pages by
    keyset without repeating or skipping a document."""
    for n in range(5):
        env.send({"partner_id": "acme-retail",
                  "records": [dict(RESPONSE, po_number=f"PO-{n}")]})
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"partner": "acme-retail", "ack_status": "pending", "limit": "2"}
        if cursor:
            params["cursor"] = cursor
        page = env.get("/v1/documents", **params).json()
        seen += [d["business_number"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"PO-{n}" for n in reversed(range(5))]
    assert env.get("/v1/documents", ack_status="bogus").status_code == 422
    assert env.get("/v1/documents", ack_status="rejected").json()["items"] == []


def test_concurrent_senders_never_share_or_skip_a_number(
        database_url: str, tmp_path: Path) -> None:
    """Eight threads submitting at once (on PostgreSQL: real row locks) get ISA13 1..8
    and ST02 1..16, each once."""
    state = GatewayState.build(_settings(database_url, tmp_path))
    Base.metadata.create_all(state.db.engine)
    partner = state.registry.get("acme-retail")
    assert partner is not None
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def send() -> None:
        try:
            start.wait()
            assert state.outbound is not None
            results.append(state.outbound.submit(partner, [RESPONSE, RESPONSE], actor="t"))
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert sorted(int(r.interchange_control) for r in results) == list(range(1, 9))
        st02 = sorted(int(d["transaction_control"]) for r in results for d in r.documents)
        assert st02 == list(range(1, 17))
    finally:
        state.close()


def test_cli_generate_prints_the_edi_and_dry_run_stores_nothing(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    """``edigate generate FILE --partner ID`` writes the interchange and stores it;
    ``--dry-run`` writes the same document without storing it or using a number up;
    invalid records exit 1 naming the field."""
    monkeypatch.setenv("EDIGATE_DATABASE_URL", database_url)
    monkeypatch.setenv("EDIGATE_PARTNERS_DIR", str(REPO / "partners"))
    monkeypatch.setenv("EDIGATE_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("EDIGATE_LEDGER_KEY_PATH", str(tmp_path / "ledger.pem"))
    state = GatewayState.build(_settings(database_url, tmp_path))
    Base.metadata.create_all(state.db.engine)
    state.close()
    source = tmp_path / "records.json"
    source.write_text(json.dumps({"records": [RESPONSE]}))
    assert cli_main(["generate", str(source), "--partner", "acme-retail", "--dry-run"]) == 0
    dry = capsysbinary.readouterr().out
    assert cli_main(["generate", str(source), "--partner", "acme-retail"]) == 0
    stored = capsysbinary.readouterr().out
    # The same interchange number: the dry run gave its number back.
    assert dry.split(b"~")[0] == stored.split(b"~")[0]
    assert _records(stored)[0]["po_number"] == "PO-4711"
    source.write_text(json.dumps([dict(RESPONSE, lines=[{"quantity": []}])]))
    assert cli_main(["generate", str(source), "--partner", "acme-retail"]) == 1
    assert b"/records/0/lines/0/quantity" in capsysbinary.readouterr().err


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=12)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.one_of(JSON, st.lists(st.fixed_dictionaries(
    {"kind": st.sampled_from(["order_response", "invoice", "purchase_order"])},
    optional={"lines": JSON, "po_number": JSON, "totals": JSON}), max_size=3)))
def test_any_json_is_refused_held_or_generated(tmp_path: Path, records: object) -> None:
    """Whatever JSON is submitted as records, the outcome is a refusal with pointers, a
    held message or a generated one: never another exception."""
    database = tmp_path / "h.db"
    state = GatewayState.build(_settings(f"sqlite:///{database}", tmp_path))
    Base.metadata.create_all(state.db.engine)
    partner = state.registry.get("acme-retail")
    assert partner is not None and state.outbound is not None
    try:
        result = state.outbound.submit(partner, records, actor="t")
        assert result.status in ("GENERATED", "HELD")
        assert result.status == "GENERATED" or result.errors
    except RecordsInvalid as exc:
        assert exc.errors and all(e.pointer.startswith("/records") for e in exc.errors)
    finally:
        state.close()
        database.unlink(missing_ok=True)


def _partner_997(env: Env, group_control: str, sets: list[tuple[str, str, list[list[str]]]],
                 group_code: str, control: int = 900) -> bytes:
    """A 997 from acme-retail to this gateway acknowledging group ``group_control``: one
    AK2 loop per (ST02, AK501, AK3/AK4 segments) and AK9 ``group_code``."""
    settings = env.state.settings
    body: list[list[str]] = [["AK1", "PR", group_control]]
    for st02, code, errors in sets:
        body += [["AK2", "855", st02], *errors, ["AK5", code]]
    accepted = sum(1 for _, code, _ in sets if code in ("A", "E"))
    body.append(["AK9", group_code, str(len(sets)), str(len(sets)), str(accepted)])
    now = datetime.now(UTC)
    header = InterchangeSpec(
        sender_id="ACMERETAIL", receiver_id=settings.x12_sender_id, sender_qualifier="ZZ",
        receiver_qualifier=settings.x12_qualifier, date=now.strftime("%y%m%d"),
        time=now.strftime("%H%M"), control_number=str(control), version="00401", usage="P")
    group = GroupSpec(functional_id="FA", sender_code="ACMERETAIL",
                      receiver_code=settings.x12_sender_id, date=now.strftime("%Y%m%d"),
                      time=now.strftime("%H%M"), control_number=str(control),
                      version="004010", transactions=[TransactionSpec("997", "0001", body)])
    return write_interchange(header, [group], Delimiters("*", ">", "~", None))


def test_a_partners_997_settles_what_was_sent(env: Env) -> None:
    """A 997 naming one set rejected (with its AK3/AK4) and one accepted settles each sent
    document so, keeps the reported error with it, and ledgers ACK_MATCHED; a document
    nobody acknowledges becomes overdue after its due time."""
    sent = env.send({"partner_id": "acme-retail",
                     "records": [RESPONSE, dict(RESPONSE, po_number="PO-2")]}).json()
    group = sent["documents"][0]["group_control"]
    first, second = (d["transaction_control"] for d in sent["documents"])
    ack = _partner_997(env, group, [(first, "R", [["AK3", "PO1", "3", "", "8"],
                                                  ["AK4", "2", "330", "6", "ten"]]),
                                    (second, "A", [])], "P")
    posted = env.client.post("/v1/messages", content=ack,
                             headers={"Authorization": f"Bearer {env.keys['acme']}"})
    assert posted.status_code == 202, posted.text
    assert sum(1 for _ in env.state.pipeline.drain("test")) == 1
    states = {d["transaction_control"]: d for d in env.get(
        "/v1/documents", partner="acme-retail").json()["items"]}
    assert states[first]["ack_status"] == "rejected"
    assert states[second]["ack_status"] == "accepted"
    assert states[first]["ack_message_id"] == posted.json()["message_id"]
    errors = states[first]["ack_detail"]["errors"]
    assert errors[0]["segment_tag"] == "PO1" and errors[0]["segment_position"] == 3
    assert "ACK_MATCHED" in env.events(posted.json()["message_id"])
    # A third document is not acknowledged: overdue once its due time has passed.
    late = env.send({"partner_id": "acme-retail", "records": [RESPONSE]}).json()
    assert mark_overdue(env.state.db, env.state.ledger, utcnow(), "test") == 0
    assert mark_overdue(env.state.db, env.state.ledger, utcnow() + timedelta(hours=25), "test") == 1
    overdue = env.get("/v1/documents", ack_status="overdue").json()["items"]
    assert [d["message_id"] for d in overdue] == [late["message_id"]]
    # Swept once: a second sweep finds nothing new.
    assert mark_overdue(env.state.db, env.state.ledger, utcnow() + timedelta(hours=26), "test") == 0


def _asn(**changes: Any) -> dict[str, Any]:
    """A ship notice that keeps Acme Retail's 856 guide (partners/guides/acme-retail-856.toml)."""
    item = {"line_number": "1", "item_ids": {"vendor_item": "V-1"}, "quantity_shipped": "4",
            "unit": "EA"}
    notice: dict[str, Any] = {
        "kind": "ship_notice", "purpose_code": "00", "shipment_id": "SHP-1",
        "ship_date": "2024-05-01", "dates": {"transaction_creation": "2024-05-01T08:00:00"},
        "bill_of_lading": "BOL-77", "references": [{"qualifier": "IA", "value": "V12345"}],
        "packaging": {"code": "CTN25", "quantity": "1"},
        "weight": {"value": "12.5", "unit": "LB", "qualifier": "G"},
        "carrier": {"scac": "UPSN"},
        "parties": [{"role": "ship_to", "role_code": "ST", "name": "Acme DC 7"}],
        "orders": [{"po_number": "PO-1", "packs": [{"sscc": "000123456000000012",
                                                    "items": [item]}]}],
    }
    notice.update(changes)
    return notice


def test_a_document_that_breaks_the_partners_guide_is_held(env: Env) -> None:
    """Acme Retail's guide wants REF*IA and an original BSN01: an ASN that keeps it is
    generated, one without them is held with both findings at their segments."""
    ok = env.send({"partner_id": "acme-retail", "records": [_asn()]})
    assert ok.status_code == 202, ok.text
    held = env.send({"partner_id": "acme-retail",
                     "records": [_asn(references=[], purpose_code="05")]})
    assert held.status_code == 422
    findings = {(e["code"], e["location"].split(" ")[0]) for e in held.json()["errors"]}
    assert findings == {("7", "BSN01"), ("3", "REF")}
    assert all(e["pointer"] == "/records/0" for e in held.json()["errors"])


@pytest.mark.parametrize(("inbound", "status", "ak5"), [("error", "R", "R"),
                                                       ("warning", "E", "E")])
def test_an_inbound_guide_finding_is_acknowledged_as_the_guide_says(
        database_url: str, tmp_path: Path, inbound: str, status: str, ak5: str) -> None:
    """With a guide narrowing PO103 to EA and CA, Acme's PO with a line in LB is rejected
    (guide ``inbound = "error"``: 997 AK5 R with AK3/AK4 code 7 at PO103) or accepted
    with the error noted (``"warning"``: AK5 E)."""
    partners = copy_of_partners(tmp_path, lambda stem, text: text.replace(
        '"856" = "guides/acme-retail-856.toml"', '"850" = "guides/acme-850.toml"'))
    (partners / "guides" / "acme-850.toml").write_text(
        f'transaction = "850"\ninbound = "{inbound}"\n[elements.PO103]\ncodes = ["EA", "CA"]\n')
    settings = Settings(database_url=database_url, partners_dir=partners, var_dir=tmp_path,
                        ledger_key_path=tmp_path / "ledger.pem", workers=0)
    state = GatewayState.build(settings)
    Base.metadata.create_all(state.db.engine)
    try:
        body = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", settings, 77)
        state.pipeline.receive(Delivery("acme-retail", "https", body), "test")
        results = list(state.pipeline.drain("test"))
        assert [r.transactions[0]["status"] for r in results] == [status]
        with state.db.read() as session:
            ack = session.scalars(select(Acknowledgment.content)).one()
        assert f"AK5*{ak5}" in ack
        # The rejection says where: AK3 at the PO1 (segment 21), AK4 code 7 at PO103.
        assert ("AK3*PO1*21**8~" in ack and "AK4*3**7*LB~" in ack) == (inbound == "error")
    finally:
        state.close()


EDIFACT_ORDER: dict[str, Any] = {
    "kind": "purchase_order", "po_number": "PO-9", "order_date": "2024-03-01",
    "purpose_code": "9", "order_type_code": "220",
    "parties": [{"role": "buyer", "role_code": "BY",
                 "ids": [{"qualifier": "9", "value": "5412345000013"}]}],
    "lines": [{"line_number": "1", "quantity": "10", "unit": "PCE",
               "item_ids": {"vendor_item": "V-1"}}],
}


def test_edifact_partners_get_edifact_and_their_contrl_settles_it(env: Env) -> None:
    """Records for an EDIFACT partner (initech-eu) become one D96A interchange numbered
    from its UNB/UNH counters; its CONTRL rejecting the second message (UCM action 4 with
    a UCS) settles the first as accepted and the second as rejected."""
    invoice = dict(INVOICE, currency="EUR", invoice_type_code="380",
                   lines=[dict(INVOICE["lines"][0], unit="PCE")])
    answer = env.send({"partner_id": "initech-eu", "records": [EDIFACT_ORDER, invoice]})
    assert answer.status_code == 202, answer.text
    sent = answer.json()
    assert sent["standard"] == "edifact"
    assert [(d["document_type"], d["transaction_control"]) for d in sent["documents"]] == \
        [("ORDERS", "1"), ("INVOIC", "2")]
    edi = env.get(f"/v1/messages/{sent['message_id']}/raw").content
    messages = [o for o in translate_edifact(edi) if isinstance(o, MessageOutcome)]
    assert [(m.document.type, m.document.version + m.document.release) for m in messages] == \
        [("ORDERS", "D96A"), ("INVOIC", "D96A")]
    assert all(m.record is not None and not m.errors for m in messages)
    control = sent["interchange_control"]
    contrl = (f"UNA:+.? 'UNB+UNOC:3+5412345000013:14+{env.state.settings.edifact_id.split(':')[1]}"
              f":ZZ+240301:1200+77'UNH+1+CONTRL:D:3:UN'"
              f"UCI+{control}+EDIGATE:ZZ+5412345000013:14+4'"
              f"UCM+1+ORDERS:D:96A:UN+7'UCM+2+INVOIC:D:96A:UN+4'UCS+4+13'"
              f"UNT+6+1'UNZ+1+77'").encode()
    partner_key = _issue_partner_key(env, "initech-eu")
    posted = env.client.post("/v1/messages", content=contrl,
                             headers={"Authorization": f"Bearer {partner_key}"})
    assert posted.status_code == 202, posted.text
    assert sum(1 for _ in env.state.pipeline.drain("test")) == 1
    states = {d["document_type"]: d for d in env.get(
        "/v1/documents", partner="initech-eu").json()["items"]}
    assert states["ORDERS"]["ack_status"] == "accepted"
    assert states["INVOIC"]["ack_status"] == "rejected"
    assert states["INVOIC"]["ack_detail"]["errors"][0]["segment_position"] == 4


def _issue_partner_key(env: Env, partner_id: str) -> str:
    with env.state.db.transaction() as session:
        return issue_key(session, "partner", partner_id=partner_id)[0]


def test_numbers_carry_on_across_a_restart(database_url: str, tmp_path: Path) -> None:
    """A gateway started again on the same database goes on from the last number used:
    ISA13 2 after 1, ST02 0002 after 0001."""
    numbers = []
    for _ in range(2):
        state = GatewayState.build(_settings(database_url, tmp_path))
        Base.metadata.create_all(state.db.engine)
        partner = state.registry.get("acme-retail")
        assert partner is not None and state.outbound is not None
        try:
            sent = state.outbound.submit(partner, [RESPONSE], actor="t")
            numbers.append((sent.interchange_control, sent.documents[0]["transaction_control"]))
        finally:
            state.close()
    assert numbers == [("000000001", "0001"), ("000000002", "0002")]


@pytest.mark.parametrize(("code", "state"), [("R", "rejected"), ("A", "pending")])
def test_a_partners_ta1_settles_a_rejected_interchange(env: Env, code: str, state: str) -> None:
    """A TA1 from the partner rejecting our interchange (TA104 R) rejects every document in
    it; one accepting it leaves them waiting for their 997. Either way the TA1 message is
    PROCESSED, not rejected, and ledgered ACK_MATCHED."""
    sent = env.send({"partner_id": "acme-retail", "records": [RESPONSE, RESPONSE]}).json()
    settings = env.state.settings
    ta1 = (f"ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*"
           f"{settings.x12_sender_id:<15}*240301*1200*U*00401*000000900*0*P*>~"
           f"TA1*{sent['interchange_control']}*240301*1200*{code}*022~"
           f"IEA*0*000000900~").encode()
    posted = env.client.post("/v1/messages", content=ta1,
                             headers={"Authorization": f"Bearer {env.keys['acme']}"})
    assert posted.status_code == 202, posted.text
    [result] = list(env.state.pipeline.drain("test"))
    assert result.status == "PROCESSED"
    states = {d["ack_status"] for d in env.get("/v1/documents").json()["items"]}
    assert states == {state}
    assert "ACK_MATCHED" in env.events(posted.json()["message_id"])


def test_an_aperak_settles_the_document_it_names(env: Env) -> None:
    """An APERAK from the partner rejecting invoice INV-9 by its number (RFF+IV, BGM 1225
    27) settles that sent document as rejected with the ERC code kept."""
    invoice = dict(INVOICE, currency="EUR", invoice_type_code="380",
                   lines=[dict(INVOICE["lines"][0], unit="PCE")])
    sent = env.send({"partner_id": "initech-eu", "records": [EDIFACT_ORDER, invoice]}).json()
    assert sent["status"] == "GENERATED"
    aperak = (f"UNA:+.? 'UNB+UNOC:3+5412345000013:14+{env.state.settings.edifact_id.split(':')[1]}"
              f":ZZ+240301:1200+78'UNH+1+APERAK:D:01B:UN'BGM+305+ERR-1+27'"
              f"RFF+IV:INV-9'ERC+12'UNT+5+1'UNZ+1+78'").encode()
    posted = env.client.post("/v1/messages", content=aperak, headers={
        "Authorization": f"Bearer {_issue_partner_key(env, 'initech-eu')}"})
    assert posted.status_code == 202, posted.text
    [result] = list(env.state.pipeline.drain("test"))
    assert result.status == "PROCESSED", result
    states = {d["document_type"]: d for d in env.get(
        "/v1/documents", partner="initech-eu").json()["items"]}
    assert states["INVOIC"]["ack_status"] == "rejected"
    assert states["INVOIC"]["ack_detail"]["errors"][0]["code"] == "12"
    assert states["ORDERS"]["ack_status"] == "not-expected"


def test_the_partners_asn_structure_decides_the_856_hierarchy(
        database_url: str, tmp_path: Path) -> None:
    """``[outbound] asn_structure = "SOI"`` (no pack level) holds an ASN whose items are in
    packs, naming the pack; the default (the record's own tree) writes it with a P level."""
    partners = copy_of_partners(tmp_path, lambda stem, text: text + (
        '\n[outbound]\nasn_structure = "SOI"\n' if stem == "acme-retail" else ""))
    levels = {}
    for name, folder in (("auto", REPO / "partners"), ("SOI", partners)):
        settings = Settings(database_url=database_url, partners_dir=folder,
                            var_dir=tmp_path / name, ledger_key_path=tmp_path / "ledger.pem",
                            workers=0)
        state = GatewayState.build(settings)
        Base.metadata.create_all(state.db.engine)
        try:
            partner = state.registry.get("acme-retail")
            assert partner is not None and state.outbound is not None
            sent = state.outbound.submit(partner, [_asn()], actor="t")
            levels[name] = (sent.status, [e.pointer for e in sent.errors],
                            [seg.split("*")[3] for seg in (sent.edi or b"").decode().split("~")
                             if seg.startswith("HL*")])
        finally:
            state.close()
    assert levels["auto"] == ("GENERATED", [], ["S", "O", "P", "I"])
    status, pointers, _ = levels["SOI"]
    assert status == "HELD" and any("/packs" in p for p in pointers), pointers


def test_a_requested_ta1_is_awaited_and_settled(database_url: str, tmp_path: Path) -> None:
    """With ``[outbound] ack_requested`` the interchange asks for a TA1 (ISA14 1) and each
    document awaits it; the partner's TA1 accepting the interchange settles that, while
    the 997 is still awaited; one never sent is overdue after the due time."""
    partners = copy_of_partners(tmp_path, lambda stem, text: text + (
        '\n[outbound]\nack_requested = true\n' if stem == "acme-retail" else ""))
    settings = Settings(database_url=database_url, partners_dir=partners, var_dir=tmp_path,
                        ledger_key_path=tmp_path / "ledger.pem", workers=0)
    state = GatewayState.build(settings)
    Base.metadata.create_all(state.db.engine)
    try:
        partner = state.registry.get("acme-retail")
        assert partner is not None and state.outbound is not None
        first = state.outbound.submit(partner, [RESPONSE], actor="t")
        second = state.outbound.submit(partner, [RESPONSE], actor="t")
        assert first.edi is not None and first.edi.split(b"*")[14] == b"1"  # ISA14
        assert {d["ta1_status"] for d in first.documents} == {"pending"}
        ta1 = (f"ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*"
               f"{settings.x12_sender_id:<15}*240301*1200*U*00401*000000901*0*P*>~"
               f"TA1*{first.interchange_control}*240301*1200*A*000~IEA*0*000000901~").encode()
        state.pipeline.receive(Delivery("acme-retail", "https", ta1), "test")
        assert [r.status for r in state.pipeline.drain("test")] == ["PROCESSED"]
        assert mark_overdue(state.db, state.ledger, utcnow() + timedelta(hours=25), "t") == 2
        with state.db.read() as session:
            rows = {r.message_id: (r.ta1_status, r.ack_status)
                    for r in session.scalars(select(SentDocument))}
        assert rows[first.message_id] == ("accepted", "overdue")
        assert rows[second.message_id] == ("overdue", "overdue")
    finally:
        state.close()
