"""AS2 sends through the outbox: a send that cannot ever succeed as configured is failed
at once with one located log line, not retried with a traceback each time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.delivery.as2_sending import AS2Deliverer
from gateway.store.as2 import AS2Message, AS2Status
from gateway.store.base import utcnow

AS2Gateway = Any  # conftest.AS2Gateway

# Encrypted, but no certificate to encrypt to: no attempt can ever be made.
NO_CERTIFICATE = """
id = "acme-as2"
name = "Acme over AS2"
transactions = ["850"]

[x12]
qualifier = "ZZ"
id = "ACMEAS2"
ack = "997"

[as2]
as2_id = "ACME"
url = "https://as2.acme.example/as2"
signed = true
encrypted = true
"""


def test_a_send_without_a_partner_certificate_fails_at_once_in_one_line(
        as2_gateway: Callable[..., AS2Gateway], tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """A document for a partner whose profile asks for encryption but lists no
    certificate is failed on its first attempt (not retried), with one error line naming
    the row and the partner and no traceback, and an AS2_SEND_FAILED ledger entry."""
    partners = tmp_path / "no-certificate"
    partners.mkdir()
    (partners / "acme-as2.toml").write_text(NO_CERTIFICATE)
    gateway = as2_gateway(partners_dir=partners)
    state = gateway.state
    assert state.as2 is not None
    partner = state.registry.get("acme-as2")
    assert partner is not None
    with state.db.transaction() as session:
        row_id = state.as2.outbox.enqueue(session, partner, b"ISA*00*...~", kind="document",
                                          message_id=None, actor="test").id
    with caplog.at_level(logging.INFO), \
            AS2Deliverer(state.as2.outbox, worker="test") as deliverer:
        assert deliverer.run_once() == 1
        assert deliverer.run_once(utcnow() + timedelta(days=1)) == 0
    with state.db.read() as session:
        row = session.get(AS2Message, row_id)
        assert row is not None and row.status == AS2Status.FAILED and row.attempts == 1
        assert "encryption needs a certificate" in (row.last_error or "")
    [failed] = gateway.events("AS2_SEND_FAILED")
    assert "encryption needs a certificate" in failed["error"]
    assert gateway.events("AS2_SEND_RETRY") == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    line = errors[0].getMessage()
    assert "\n" not in line and row_id in line and "acme-as2" in line
