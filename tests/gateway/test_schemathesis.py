"""Schemathesis over the whole OpenAPI spec, with a valid key of every kind and role.

Every operation of ``/openapi.json`` gets generated requests (valid and invalid per the
spec), each sent once with each key (a partner, consumers of scope crm, scm and all, ops
viewer and operator) and, for operations with an id in the path, once more with the id
of a real object. Every answer must be no 5xx, have a documented status code and content
type, and match the documented response schema. Runs on SQLite and PostgreSQL with a
fixed number of derandomized examples, so that CI is reproducible. No workers run, so
nothing generated (webhook URLs, AS2 sends) ever leaves the process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from gateway.api.api_keys import issue_key
from gateway.as2.keys import generate_identity
from gateway.delivery import webhooks
from gateway.runtime.app import create_app
from gateway.runtime.demo import demo_interchange
from gateway.runtime.state import GatewayState
from gateway.store.models import Message, RecordRow
from gateway.store.webhooks import WebhookDelivery

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# Per operation and generation mode; each example is sent with every key (and the real id).
EXAMPLES = 15


@dataclass
class Api:
    schema: Any
    keys: dict[str, str]
    ids: dict[str, str]


def _seed(state: GatewayState, partner_key: str) -> dict[str, str]:
    """A processed purchase order with its record, acknowledgment and a webhook delivery;
    the ids of real objects by path parameter name."""
    with state.db.transaction() as session:
        hook = webhooks.create_webhook(session, state.ledger, url="https://webhook.invalid/e",
                                       kinds="purchase_order", actor="test")
        hook_id = hook.id
    body = demo_interchange("acme-850.edi", "ZZ", "ACMERETAIL", "00401", state.settings, 101)
    app = create_app(state.settings, state=state, start_workers=False)
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        answer = client.post("/v1/messages", content=body, params={"sync": "true"},
                             headers={"Authorization": f"Bearer {partner_key}"})
    assert answer.status_code == 200, answer.text
    message_id = answer.json()["message_id"]
    with state.db.read() as session:
        record = session.query(RecordRow).filter_by(message_id=message_id).one()
        delivery = session.query(WebhookDelivery).filter_by(webhook_id=hook_id).one()
        assert session.get(Message, message_id) is not None
        return {"message_id": message_id, "record_id": record.id, "webhook_id": hook_id,
                "delivery_id": delivery.id, "partner_id": "acme-retail"}


@pytest.fixture
def api(build_state: Callable[..., GatewayState], tmp_path: Path) -> Iterator[Api]:
    generate_identity("EDIGATE", tmp_path / "as2.key", tmp_path / "as2.crt", bits=2048)
    state = build_state(max_body_bytes=100_000, as2_id="EDIGATE", as2_key=tmp_path / "as2.key",
                        as2_cert=tmp_path / "as2.crt")
    with state.db.transaction() as session:
        keys = {"partner": issue_key(session, "partner", partner_id="acme-retail")[0],
                "crm": issue_key(session, "consumer", scope="crm")[0],
                "scm": issue_key(session, "consumer", scope="scm")[0],
                "all": issue_key(session, "consumer", scope="all")[0],
                "viewer": issue_key(session, "ops", role="viewer")[0],
                "operator": issue_key(session, "ops", role="operator")[0]}
    ids = _seed(state, keys["partner"])
    app = create_app(state.settings, state=state, start_workers=False)
    # The spec declares the bearer scheme; generated Authorization headers would replace the
    # real keys each request is sent with, so none are generated.
    config = schemathesis.Config.from_dict({"generation": {"with-security-parameters": False}})
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    try:
        yield Api(schema, keys, ids)
    finally:
        # Schemathesis keeps the app's lifespan (the intake writer) running until told.
        shutdown_lifespans()


def _probe(api: Api, case: Case) -> None:
    for key in api.keys.values():
        case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)
    real = {name: api.ids[name] for name in (case.path_parameters or {}) if name in api.ids}
    if real:
        case.path_parameters = {**(case.path_parameters or {}), **real}
        for key in api.keys.values():
            case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)


# Values a database or a datetime cannot take, or that are out of every bound: for each
# path and query parameter of each operation, whatever its declared type (issue 15, 3).
HOSTILE = ["\x00", "a\x00b", "\x1b[0m", "\u0085", "x" * 10_000, "9" * 30, str(2**63), "-1",
           "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2020-01-01T00:00:00",
           "\u00b2", "%00", "\ufffd\U0001f600"]
# JSON bodies: control characters, huge numbers, deep nesting, wrong shapes.
HOSTILE_JSON: list[Any] = [
    {"url": "https://webhook.invalid/", "kinds": "\x00"},
    {"url": "https://webhook.invalid/", "kinds": ["purchase_order\x00"]},
    {"url": 10**400, "kinds": "invoice"}, {"url": "https://webhook.invalid/", "kinds": 1e308},
    {"url": "https://webhook.invalid/", "kinds": [[[[[[[[[[[["invoice"]]]]]]]]]]]]},
    {"url": "https://webhook.invalid/" + "a" * 5000, "kinds": "invoice"},
    {"url": "https://webhook.invalid/", "kinds": "invoice", "extra": {"a": {"b": [None]}}},
    {"url": "https://webhook.invalid/\x00", "kinds": "invoice"},
    {"url": "https://webhook.invalid/a\x85b", "kinds": "invoice"},
    [], "x", None, 10**400,
]


def _hostile(operation: Any, ids: dict[str, str]) -> Iterator[Case]:
    path = {p.name: ids.get(p.name, "x") for p in operation.path_parameters}
    for parameter in [*operation.path_parameters, *operation.query]:
        for value in HOSTILE:
            if parameter.location.value == "path":
                yield operation.Case(path_parameters={**path, parameter.name: value})
            else:
                yield operation.Case(path_parameters=path, query={parameter.name: value})
    if operation.body and any(b.media_type == "application/json" for b in operation.body):
        for body in HOSTILE_JSON:
            yield operation.Case(path_parameters=path, body=body, media_type="application/json")


def test_hostile_values_in_every_parameter(api: Api) -> None:
    """Control characters, out-of-range integers and datetimes, over-long values and
    odd JSON bodies in every parameter of every operation are answered with a documented
    4xx (or a 2xx), never a 5xx."""
    failures: list[str] = []
    keys = [api.keys[k] for k in ("partner", "all", "operator")]
    for result in api.schema.get_all_operations():
        operation = result.ok()
        for case in _hostile(operation, api.ids):
            for key in keys:
                try:
                    case.call_and_validate(headers={"Authorization": f"Bearer {key}"},
                                           checks=CHECKS)
                except (Exception, BaseExceptionGroup) as exc:
                    sent = {"path": case.path_parameters, "query": case.query,
                            "body": case.body if case.media_type else None}
                    failures.append(f"{operation.label} {str(sent)[:200]}: {exc}")
    assert not failures, "\n\n".join(failures[:20])


def test_every_operation_with_every_key(api: Api) -> None:
    """No generated request to any operation, with any kind of key, gets a 5xx or an
    answer outside the spec (status code, content type, schema)."""
    failures: list[str] = []
    operations = [result.ok() for result in api.schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        strategy = st.one_of(operation.as_strategy(generation_mode=mode)
                             for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE))

        @settings(max_examples=2 * EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def probe(case: Case) -> None:
            _probe(api, case)

        try:
            probe()
        except (Exception, BaseExceptionGroup) as exc:  # one run reports every operation
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
