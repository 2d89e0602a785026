"""The SFTP transport against a real OpenSSH server: inbound files stored through intake
and only then removed or archived, files still being written left alone, a changed host
key refused and ledgered, uploads under a temporary name renamed when complete, a
connection dropped mid-transfer retried, and a gateway killed between storing a file and
removing it neither losing the file nor storing it twice; on every backend. Also the
``[sftp]`` profile table's checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from gateway.delivery.sftp_sending import SFTPDeliverer
from gateway.intake.sftp import SFTPPoller
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.state import GatewayState
from gateway.store import leases
from gateway.store.base import utcnow
from gateway.store.models import Message
from gateway.store.sftp import SFTPStatus, SFTPTransfer
from partners.profile import SFTPProfile, describe_validation_error
from tests.gateway.sftp.conftest import Cutting, SSHServer

REPO = Path(__file__).resolve().parents[3]


def x12(control: str) -> bytes:
    return (f"ISA*00*          *00*          *ZZ*ACMESFTP       *ZZ*EDIGATE        *261220*"
            f"0900*U*00401*{control}*0*P*>~GS*PO*ACMESFTP*EDIGATE*20261220*0900*1*X*004010~"
            f"ST*850*0001~BEG*00*SA*PO-1**20261220~SE*3*0001~GE*1*1~IEA*1*{control}~"
            ).encode()


def profile_text(server: SSHServer, *, port: int | None = None, host_key: str | None = None,
                 stable: bool = True, archive: bool = False) -> str:
    archive_line = f'archive_path = "{server.remote("archive")}"' if archive else ""
    return f"""
id = "acme-sftp"
name = "Acme over SFTP"

[x12]
qualifier = "ZZ"
id = "ACMESFTP"

[sftp]
host = "127.0.0.1"
port = {port or server.port}
user = "{server.user}"
host_key = "{host_key or server.host_key}"
key_file = "{server.key_file}"
inbound_path = "{server.remote('in')}"
{archive_line}
pattern = "*.edi"
stable = {str(stable).lower()}
poll_seconds = 1
outbound_path = "{server.remote('out')}"
"""


@dataclass
class Gateway:
    state: GatewayState
    poller: SFTPPoller
    deliverer: SFTPDeliverer
    partners: Path

    def messages(self) -> int:
        with self.state.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(Message).where(
                Message.direction == "inbound")) or 0)

    def entries(self, *events: str) -> list[tuple[str, dict[str, Any]]]:
        with self.state.db.read() as session:
            rows = session.scalars(select(LedgerEntry).where(LedgerEntry.event.in_(events))
                                   .order_by(LedgerEntry.seq))
            return [(row.event, json.loads(row.details)) for row in rows]

    def queue(self, payload: bytes) -> str:
        partner = self.state.registry.get("acme-sftp")
        assert partner is not None
        with self.state.db.transaction() as session:
            return self.state.sftp.enqueue(session, partner, payload, message_id=None,
                                           actor="test").id

    def transfer(self, row_id: str) -> SFTPTransfer:
        with self.state.db.read() as session:
            row = session.get(SFTPTransfer, row_id)
            assert row is not None
            session.expunge(row)
            return row


MakeGateway = Callable[..., Gateway]


@pytest.fixture
def gateway(build_state: Callable[..., GatewayState], tmp_path: Path, sshd: SSHServer
            ) -> Iterator[MakeGateway]:
    """A factory of a gateway with the one SFTP partner ``profile_text(**options)``; the
    server's in/, out/ and archive/ directories emptied."""
    for folder in ("in", "out", "archive"):
        path = sshd.path(sshd.remote(folder))
        path.mkdir(exist_ok=True)
        for child in path.iterdir():
            child.unlink()
    made: list[SFTPDeliverer] = []

    def make(**options: Any) -> Gateway:
        folder = tmp_path / f"partners-{len(made)}"
        folder.mkdir()
        (folder / "acme-sftp.toml").write_text(profile_text(sshd, **options))
        state = build_state(partners_dir=folder, egress_allow="loopback",
                            outbox_backoff_seconds=5.0, outbox_max_attempts=3)
        deliverer = state.sftp_deliverer(worker="test-sftp", lease=timedelta(seconds=30),
                                         timeout=10)
        made.append(deliverer)
        return Gateway(state, state.sftp_poller(deadline_seconds=10), deliverer, folder)

    yield make
    for deliverer in made:
        deliverer.close()


# -- inbound ------------------------------------------------------------------------------

def test_a_file_is_stored_through_intake_and_then_removed(
        gateway: MakeGateway, sshd: SSHServer) -> None:
    """A complete file in the partner's outbox becomes one RECEIVED message with its exact
    bytes, and is removed from the server only after that; files that do not match the
    pattern are left alone."""
    gw = gateway(stable=False)
    inbox = sshd.path(sshd.remote("in"))
    (inbox / "po-1.edi").write_bytes(x12("000000001"))
    (inbox / "notes.txt").write_bytes(b"not for us")
    result = gw.poller.poll("acme-sftp", "test")
    assert result.error is None
    assert result.stored == [sshd.remote("in/po-1.edi")]
    assert sorted(p.name for p in inbox.iterdir()) == ["notes.txt"]
    with gw.state.db.read() as session:
        message = session.scalars(select(Message)).one()
        assert (message.partner_id, message.transport) == ("acme-sftp", "sftp")
        assert message.interchange_control == "000000001"
    received = gw.entries("RECEIVED")
    assert received[0][1]["sftp_path"] == sshd.remote("in/po-1.edi")


def test_a_stored_file_is_moved_to_the_archive_when_the_profile_has_one(
        gateway: MakeGateway, sshd: SSHServer) -> None:
    """With ``archive_path`` the stored file is moved there, byte for byte."""
    gw = gateway(stable=False, archive=True)
    body = x12("000000002")
    sshd.path(sshd.remote("in/po-2.edi")).write_bytes(body)
    assert gw.poller.poll("acme-sftp", "test").stored
    assert not sshd.path(sshd.remote("in/po-2.edi")).exists()
    assert sshd.path(sshd.remote("archive/po-2.edi")).read_bytes() == body


def test_a_file_still_being_written_is_taken_only_once_it_stops_changing(
        gateway: MakeGateway, sshd: SSHServer) -> None:
    """A file whose size changes between listings waits; the message stored is the whole
    file, taken on the first poll that lists it unchanged."""
    gw = gateway(stable=True)
    path = sshd.path(sshd.remote("in/po-3.edi"))
    body = x12("000000003")
    path.write_bytes(body[:60])
    first = gw.poller.poll("acme-sftp", "test")
    assert first.waiting and not first.stored and gw.messages() == 0
    with path.open("ab") as file:
        file.write(body[60:])
    second = gw.poller.poll("acme-sftp", "test")
    assert second.waiting and not second.stored and gw.messages() == 0
    third = gw.poller.poll("acme-sftp", "test")
    assert third.stored == [sshd.remote("in/po-3.edi")]
    assert not path.exists()
    with gw.state.db.read() as session:
        assert session.scalars(select(Message)).one().size == len(body)


def test_a_file_intake_refuses_is_left_in_place_and_not_submitted_again(
        gateway: MakeGateway, sshd: SSHServer) -> None:
    """A file that is not EDI is refused by intake (ledgered as for any transport), stays
    on the server, and the next poll does not submit it again."""
    gw = gateway(stable=False)
    path = sshd.path(sshd.remote("in/junk.edi"))
    path.write_bytes(b"hello, this is not EDI")
    assert gw.poller.poll("acme-sftp", "test").refused == [sshd.remote("in/junk.edi")]
    assert gw.poller.poll("acme-sftp", "test").refused == []
    assert path.exists() and gw.messages() == 0
    assert len(gw.entries("INTAKE_REJECTED")) == 1


def test_a_changed_host_key_is_refused_before_logging_in_and_ledgered_once(
        gateway: MakeGateway, sshd: SSHServer) -> None:
    """A server whose host key is not the profile's is refused: nothing is downloaded or
    removed, the error names the partner, the offered key and the expected one, and the
    ledger has one SFTP_POLL_REFUSED for repeated polls."""
    wrong = "SHA256:" + "A" * 43
    gw = gateway(stable=False, host_key=wrong)
    path = sshd.path(sshd.remote("in/po-4.edi"))
    path.write_bytes(x12("000000004"))
    result = gw.poller.poll("acme-sftp", "test")
    assert result.error is not None
    assert "acme-sftp" in result.error and wrong in result.error
    assert sshd.host_key in result.error
    gw.poller.poll("acme-sftp", "test")
    assert path.exists() and gw.messages() == 0
    refused = gw.entries("SFTP_POLL_REFUSED")
    assert len(refused) == 1 and refused[0][1]["partner"] == "acme-sftp"


def test_a_changed_host_key_fails_an_upload_at_once(
        gateway: MakeGateway, sshd: SSHServer) -> None:
    """An upload to a server with another host key fails on its first attempt (no retry:
    only a reviewed profile change can fix it), and nothing is written."""
    gw = gateway(host_key="SHA256:" + "B" * 42 + "A")
    row_id = gw.queue(x12("000000005"))
    assert gw.deliverer.run_once() == 1
    row = gw.transfer(row_id)
    assert row.status == SFTPStatus.FAILED and row.attempts == 1
    assert "host key" in (row.last_error or "")
    assert list(sshd.path(sshd.remote("out")).iterdir()) == []
    assert [event for event, _ in gw.entries("SFTP_SEND_FAILED")] == ["SFTP_SEND_FAILED"]


def test_one_process_polls_a_partner_while_the_others_stand_by(
        gateway: MakeGateway, sshd: SSHServer) -> None:
    """Two worker processes' pollers: the one holding the partner's lease polls, the other
    neither connects nor downloads; when the first stands down the other takes over."""
    gw = gateway(stable=False)
    other = gw.state.sftp_poller(deadline_seconds=10)  # another process's poller
    inbox = sshd.path(sshd.remote("in"))
    (inbox / "po-7.edi").write_bytes(x12("000000007"))
    assert gw.poller.poll("acme-sftp", "worker-a").stored == [sshd.remote("in/po-7.edi")]
    (inbox / "po-8.edi").write_bytes(x12("000000008"))
    standing_by = other.poll("acme-sftp", "worker-b")
    assert (standing_by.polled_by, standing_by.stored) == ("worker-a", [])
    assert (inbox / "po-8.edi").exists() and gw.messages() == 1
    gw.poller.stand_down("worker-a")
    assert other.poll("acme-sftp", "worker-b").stored == [sshd.remote("in/po-8.edi")]
    assert gw.poller.poll("acme-sftp", "worker-a").polled_by == "worker-b"
    assert gw.messages() == 2 and gw.entries("DUPLICATE") == []


def test_a_kill_9_between_storing_and_removing_neither_loses_nor_doubles_the_file(
        gateway: MakeGateway, sshd: SSHServer, tmp_path: Path) -> None:
    """A poller process killed with SIGKILL after intake committed a file and before it
    removed it leaves the file on the server; the next poll answers it as a duplicate and
    removes it, and the database holds exactly one message for it."""
    gw = gateway(stable=False)
    path = sshd.path(sshd.remote("in/po-6.edi"))
    path.write_bytes(x12("000000006"))
    settings = gw.state.settings
    script = textwrap.dedent(f"""
        import sys, time
        from gateway.intake.sftp import SFTPPoller
        from gateway.runtime.settings import Settings
        from gateway.runtime.state import GatewayState

        def stop_before_removing(*args):
            print("stored", flush=True)
            time.sleep(120)

        SFTPPoller._done = stop_before_removing
        settings = Settings(database_url={settings.database_url!r},
                            partners_dir={str(gw.partners)!r}, var_dir={str(tmp_path)!r},
                            ledger_key_path={str(settings.ledger_key_path)!r}, workers=0,
                            egress_allow="loopback")
        state = GatewayState.build(settings)
        state.sftp_poller(deadline_seconds=10).poll("acme-sftp", "child")
        """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"stored\n"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert path.exists() and gw.messages() == 1
    # The dead child's lease on the partner stands until it runs out: nobody polls.
    assert gw.poller.poll("acme-sftp", "test").polled_by == "child"
    leases.give_up(gw.state.db, "sftp-poll:acme-sftp", "child", utcnow())  # ran out
    result = gw.poller.poll("acme-sftp", "test")
    assert result.duplicates == [sshd.remote("in/po-6.edi")] and not result.stored
    assert not path.exists() and gw.messages() == 1
    assert len(gw.entries("DUPLICATE")) == 1


# -- outbound -----------------------------------------------------------------------------

def test_an_upload_appears_under_its_final_name_only_when_complete(
        gateway: MakeGateway, sshd: SSHServer) -> None:
    """A queued interchange is written to the outbound path under ``{id}.x12`` byte for
    byte, with no temporary file left, and the ledger has SFTP_QUEUED then SFTP_SENT."""
    gw = gateway()
    body = x12("000000007")
    row_id = gw.queue(body)
    assert gw.deliverer.run_once() == 1
    row = gw.transfer(row_id)
    assert row.status == SFTPStatus.DELIVERED
    out = sshd.path(sshd.remote("out"))
    assert [p.name for p in out.iterdir()] == [f"{row_id}.x12"]
    assert (out / f"{row_id}.x12").read_bytes() == body
    assert [e for e, _ in gw.entries("SFTP_QUEUED", "SFTP_SENT")] == ["SFTP_QUEUED",
                                                                       "SFTP_SENT"]


def test_a_connection_dropped_mid_upload_is_retried_and_leaves_no_final_file(
        gateway: MakeGateway, sshd: SSHServer, cutting: Cutting) -> None:
    """The server's connection drops part-way through a large upload: the attempt is a
    retry (SFTP_SEND_RETRY), no file exists under the final name, and the next attempt
    delivers the whole payload."""
    cutting.cut_after = {0: 400_000}
    gw = gateway(port=cutting.port)
    body = x12("000000008") + b"N" * 2_000_000
    row_id = gw.queue(body)
    assert gw.deliverer.run_once() == 1
    assert cutting.cut == 1
    row = gw.transfer(row_id)
    assert row.status == SFTPStatus.PENDING and row.attempts == 1
    final = sshd.path(sshd.remote(f"out/{row_id}.x12"))
    assert not final.exists()
    assert [e for e, _ in gw.entries("SFTP_SEND_RETRY")] == ["SFTP_SEND_RETRY"]
    assert gw.deliverer.run_once(row.next_attempt_at) == 1
    assert gw.transfer(row_id).status == SFTPStatus.DELIVERED
    assert final.read_bytes() == body


def test_a_connection_dropped_mid_download_keeps_the_file_for_the_next_poll(
        gateway: MakeGateway, sshd: SSHServer, cutting: Cutting) -> None:
    """A poll whose connection drops while it reads a file stores nothing and removes
    nothing; the next poll stores the file once."""
    # Towards the server a download sends only small read requests: cut after the
    # handshake and a few of them.
    cutting.cut_after = {0: 6_000}
    gw = gateway(stable=False, port=cutting.port)
    path = sshd.path(sshd.remote("in/po-9.edi"))
    path.write_bytes(x12("000000009") + b"N" * 3_000_000)
    first = gw.poller.poll("acme-sftp", "test")
    assert first.error is not None and cutting.cut == 1
    assert path.exists() and gw.messages() == 0
    second = gw.poller.poll("acme-sftp", "test")
    assert second.stored == [sshd.remote("in/po-9.edi")]
    assert not path.exists() and gw.messages() == 1


# -- the profile --------------------------------------------------------------------------

BASE: dict[str, Any] = {"host": "sftp.example", "user": "edigate",
                        "host_key": "SHA256:" + "q" * 42 + "A", "key_file": "/keys/id",
                        "inbound_path": "/outbox"}


@pytest.mark.parametrize(("change", "key", "words"), [
    ({"host_key": "AAAAC3NzaC1lZDI1NTE5"}, "host_key", "SHA256 fingerprint"),
    ({"host_key": None}, "host_key", "required"),
    ({"inbound_path": None}, "inbound_path/outbound_path", "needs inbound_path"),
    ({"inbound_path": "outbox"}, "inbound_path", "absolute"),
    ({"inbound_path": "/a/../b"}, "inbound_path", "'..'"),
    ({"key_file": None}, "key_file", 'auth = "key"'),
    ({"auth": "password", "key_file": None}, "password_env", "environment variable"),
    ({"auth": "password", "key_file": None, "password_env": "s3cret pass"},
     "password_env", "name of an environment variable"),
    ({"archive_path": "/outbox"}, "archive_path", "differ"),
    ({"outbound_path": "/in", "outbound_name": "po.edi"}, "outbound_name", "{id}"),
    ({"outbound_path": "/in", "outbound_name": "{id}.{date}"}, "outbound_name",
     "placeholders"),
    ({"port": 0}, "port", ""),
    ({"password": "x"}, "password", "unknown key"),
])
def test_profile_mistakes_are_located(change: dict[str, Any], key: str, words: str) -> None:
    """Each mistake in an ``[sftp]`` table is one error at its key, saying what is wrong."""
    values = {k: v for k, v in (BASE | change).items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        SFTPProfile(**values)
    found = describe_validation_error(caught.value, SFTPProfile)
    assert [k for k, _ in found] == [key]
    assert words in found[0][1]


def test_a_minimal_profile_takes_the_documented_defaults() -> None:
    """Port 22, key login, every file, the stable-size rule, polls a minute apart."""
    profile = SFTPProfile(**BASE)
    assert (profile.port, profile.auth, profile.pattern, profile.stable,
            profile.poll_seconds) == (22, "key", "*", True, 60)
    assert profile.upload_name("t-1", "edifact") == "t-1.edi"


def test_the_acknowledgment_of_a_polled_file_is_uploaded_to_the_partner(
        gateway: MakeGateway, sshd: SSHServer) -> None:
    """A partner with ``[sftp] outbound_path`` and no AS2 gets the 997 of the interchange
    it left on the server uploaded back, as an ack transfer of that message."""
    gw = gateway(stable=False)
    sshd.path(sshd.remote("in/po-10.edi")).write_bytes(x12("000000010"))
    assert gw.poller.poll("acme-sftp", "test").stored
    # The minimal 850 lacks required segments: rejected, so the 997 says why (AK5 R).
    results = list(gw.state.pipeline.drain("test-worker"))
    assert [r.status for r in results] == ["REJECTED"]
    assert gw.deliverer.run_once() == 1
    files = list(sshd.path(sshd.remote("out")).iterdir())
    assert len(files) == 1 and files[0].suffix == ".x12"
    text = files[0].read_text()
    assert "ST*997*" in text and "AK1*PO*1" in text
    queued = gw.entries("SFTP_QUEUED")
    assert [d["kind"] for _, d in queued] == ["ack"]
