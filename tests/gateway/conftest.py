"""Gateway fixtures: a fresh database on every backend the suite can reach.

``db`` runs each test on SQLite (a file under tmp_path, WAL) and, when
``EDIGATE_TEST_DATABASE_URL`` is set (CI sets it), on PostgreSQL in a schema of its own
that is dropped afterwards. Without the variable the PostgreSQL cases skip and say why.
``build_state`` builds a whole ``GatewayState`` on the same database.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.as2 import AS2Message, AS2Status
from gateway.store.base import Base, utcnow
from gateway.store.db import Database

PG_URL = os.environ.get("EDIGATE_TEST_DATABASE_URL", "")
REPO = Path(__file__).resolve().parents[2]


def _pg_url(url: str) -> str:
    """SQLAlchemy URL with the psycopg 3 driver."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'edigate.db'}"
        return
    if not PG_URL:
        pytest.skip("EDIGATE_TEST_DATABASE_URL is not set: PostgreSQL cases skipped")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_pg_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{_pg_url(PG_URL)}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A ``Database`` with every table created (migrations are tested separately)."""
    database = Database(database_url)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def build_state(database_url: str, tmp_path: Path
                ) -> Iterator[Callable[..., GatewayState]]:
    """A factory of ``GatewayState`` on the database, with every table created: the demo
    partners, the var directory and ledger key under tmp_path, no workers. Keywords
    override these settings; ``lease`` goes to ``GatewayState.build``. Each state built is
    closed at teardown."""
    built: list[GatewayState] = []

    def build(*, lease: timedelta | None = None, **overrides: Any) -> GatewayState:
        fields: dict[str, Any] = {
            "database_url": database_url, "partners_dir": REPO / "partners",
            "var_dir": tmp_path, "ledger_key_path": tmp_path / "ledger.pem", "workers": 0}
        settings = Settings(**(fields | overrides))
        state = GatewayState.build(settings, lease=lease)
        built.append(state)
        Base.metadata.create_all(state.db.engine)
        return state

    yield build
    for state in reversed(built):
        state.close()


@pytest.fixture
def trickling_port() -> Iterator[int]:
    """The port of a loopback HTTP server that answers its first connection with a status
    line and then one header line every 0.3 s for up to 30 s: never a whole answer within
    a sensible deadline, yet never silent long enough for a per-read timeout."""
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))

    def trickle() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(1 << 20)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for n in range(100):
                if stop.wait(0.3):
                    return
                try:
                    conn.sendall(f"X-Trickle-{n}: still here\r\n".encode())
                except OSError:
                    return

    threading.Thread(target=trickle, daemon=True).start()
    yield server.getsockname()[1]
    stop.set()
    server.close()


def copy_of_partners(tmp_path: Path, edit: Callable[[str, str], str] | None = None) -> Path:
    """A copy of the repository's partner profiles and guides under ``tmp_path``; ``edit``
    (profile stem, text) -> text changes a profile on the way."""
    folder = tmp_path / "partners"
    folder.mkdir()
    for profile in (REPO / "partners").glob("*.toml"):
        text = profile.read_text()
        (folder / profile.name).write_text(edit(profile.stem, text) if edit else text)
    shutil.copytree(REPO / "partners" / "guides", folder / "guides")
    return folder


def partners_with_receipt_url(tmp_path: Path, url: str) -> Path:
    """A copy of the repository's partner profiles in which acme-retail lists ``url`` as a
    receipt URL (an asynchronous MDN goes only to a URL the partner's profile lists)."""
    return copy_of_partners(tmp_path, lambda stem, text: text.replace(
        'as2_id = "ACMERETAIL"\n', f'as2_id = "ACMERETAIL"\nreceipt_urls = ["{url}"]\n', 1)
        if stem == "acme-retail" else text)


def queue_mdn(state: GatewayState, url: str) -> str:
    """An asynchronous MDN owed to acme-retail at ``url``, due now, queued as the AS2
    endpoint queues one; its row id."""
    with state.db.transaction() as session:
        row = AS2Message(id=str(uuid.uuid4()), direction="mdn", partner_id="acme-retail",
                         as2_message_id=f"m-{uuid.uuid4()}", status=AS2Status.SENT,
                         mdn_url=url, mdn_status=AS2Status.PENDING,
                         mdn_headers=json.dumps({"Content-Type": "multipart/report"}),
                         mdn_body=b"--b\r\n\r\nreport\r\n--b--\r\n",
                         mdn_message_id=f"<{uuid.uuid4()}@edigate>", next_attempt_at=utcnow())
        session.add(row)
        return row.id
