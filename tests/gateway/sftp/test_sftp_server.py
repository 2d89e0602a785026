"""edigate's own SFTP server (``[sftp_inbox]``), driven by clients nobody here wrote:
OpenSSH's ``sftp`` (skipped, saying so, when ``/usr/bin/sftp`` is missing) and paramiko's
``SFTPClient``. Uploads are received through intake once complete and then removed;
logins other than a partner's own keys are refused; no path leads out of a partner's
folder; a dropped upload is never received; refusals are told to the client, ledgered
and kept; a restart receives what a killed gateway left. On every backend."""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paramiko
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from paramiko.sftp import CMD_CLOSE
from pydantic import ValidationError
from sqlalchemy import func, select

from gateway.intake.sftp_server import (
    INCOMING,
    REFUSED,
    SFTPEndpoint,
    load_host_key,
    resolve_name,
    virtual_path,
)
from gateway.ledger.chain import LedgerEntry
from gateway.runtime.app import create_app
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.models import Message
from partners import PartnerConfigError, PartnerRegistry
from partners.profile import SFTPInboxProfile, describe_validation_error

SFTP = Path("/usr/bin/sftp")


def x12(sender: str, control: str) -> bytes:
    return (f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*EDIGATE        *261220*"
            f"0900*U*00401*{control}*0*P*>~GS*PO*{sender}*EDIGATE*20261220*0900*1*X*004010~"
            f"ST*850*0001~BEG*00*SA*PO-1**20261220~SE*3*0001~GE*1*1~IEA*1*{control}~"
            ).encode()


def public_line(key: paramiko.PKey, comment: str = "test") -> str:
    return f"{key.get_name()} {key.get_base64()} {comment}"


@dataclass
class Keys:
    """Client keys (paramiko objects and PEM files OpenSSH reads): partner A's, partner
    B's, the inactive partner's, and one nobody listed."""

    acme: paramiko.PKey
    globex: paramiko.PKey
    dormant: paramiko.PKey
    stranger: paramiko.PKey
    files: dict[str, Path] = field(default_factory=dict)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    folder = tmp_path_factory.mktemp("client-keys")
    acme, globex, dormant, stranger = (paramiko.ECDSAKey.generate(bits=256) for _ in range(4))
    made = Keys(acme, globex, dormant, stranger)
    for name in ("acme", "globex", "dormant", "stranger"):
        path = folder / name
        getattr(made, name).write_private_key_file(str(path))
        made.files[name] = path
    return made


def write_partners(folder: Path, keys: Keys) -> None:
    (folder / "acme-push.toml").write_text(f"""
id = "acme-push"
name = "Acme, pushing"
[x12]
qualifier = "ZZ"
id = "ACMEPUSH"
[sftp_inbox]
public_keys = ["{public_line(keys.acme)}"]
pattern = "*.edi"
""")
    (folder / "globex-push.toml").write_text(f"""
id = "globex-push"
name = "Globex, pushing"
[x12]
qualifier = "ZZ"
id = "GLOBEXPUSH"
[sftp_inbox]
user = "globex"
public_keys = ["{public_line(keys.globex)}"]
""")
    (folder / "dormant-push.toml").write_text(f"""
id = "dormant-push"
name = "Dormant"
active = false
[x12]
qualifier = "ZZ"
id = "DORMANT"
[sftp_inbox]
public_keys = ["{public_line(keys.dormant)}"]
""")


@dataclass
class Push:
    """A gateway with its SFTP server listening on a loopback port."""

    state: GatewayState
    endpoint: SFTPEndpoint
    keys: Keys
    work: Path

    @property
    def port(self) -> int:
        return self.endpoint.address[1]

    def folder(self, partner: str = "acme-push") -> Path:
        return self.endpoint.folder(partner)

    def incoming(self, partner: str = "acme-push") -> list[Path]:
        directory = self.endpoint.spool / INCOMING / partner
        return sorted(directory.iterdir()) if directory.is_dir() else []

    def refused(self, partner: str = "acme-push") -> list[Path]:
        directory = self.endpoint.spool / REFUSED / partner
        return sorted(directory.iterdir()) if directory.is_dir() else []

    def connect(self, user: str = "acme-push", key: paramiko.PKey | None = None
                ) -> tuple[paramiko.Transport, paramiko.SFTPClient]:
        transport = paramiko.Transport(("127.0.0.1", self.port))
        try:
            transport.connect(self.endpoint.host_key, username=user,
                              pkey=key or self.keys.acme)
            client = paramiko.SFTPClient.from_transport(transport)
            assert client is not None
        except BaseException:
            transport.close()
            raise
        return transport, client

    def openssh(self, batch: str, *, user: str = "acme-push", key: str = "acme",
                extra: tuple[str, ...] = (), wait: bool = True
                ) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
        if not SFTP.exists():
            pytest.skip("/usr/bin/sftp is not installed (apt-get install openssh-client): "
                        "these cases drive the server with OpenSSH's client")
        known = self.work / "known_hosts"
        host_key = self.endpoint.host_key
        known.write_text(f"[127.0.0.1]:{self.port} {host_key.get_name()} "
                         f"{host_key.get_base64()}\n")
        script = self.work / "batch"
        script.write_text(batch)
        command = [str(SFTP), "-b", str(script), "-i", str(self.keys.files[key]),
                   "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes",
                   "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                   "-o", "IdentityAgent=none", "-F", "/dev/null", *extra,
                   "-P", str(self.port), f"{user}@127.0.0.1"]
        if not wait:
            return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def messages(self, partner: str = "acme-push") -> list[Message]:
        with self.state.db.read() as session:
            rows = list(session.scalars(select(Message).where(
                Message.partner_id == partner).order_by(Message.received_at)))
            for row in rows:
                session.expunge(row)
            return rows

    def count(self) -> int:
        with self.state.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(Message)) or 0)

    def entries(self, *events: str) -> list[tuple[str, dict[str, Any]]]:
        with self.state.db.read() as session:
            rows = session.scalars(select(LedgerEntry).where(LedgerEntry.event.in_(events))
                                   .order_by(LedgerEntry.seq))
            return [(row.event, json.loads(row.details)) for row in rows]


MakePush = Callable[..., Push]


@pytest.fixture
def make_push(build_state: Callable[..., GatewayState], tmp_path: Path, keys: Keys
              ) -> Iterator[MakePush]:
    """A factory of a started SFTP server over a gateway with three pushing partners
    (``acme-push``: ``*.edi``; ``globex-push``, login ``globex``; ``dormant-push``,
    inactive); keywords override settings. Every server is stopped at teardown."""
    partners = tmp_path / "partners"
    partners.mkdir()
    write_partners(partners, keys)
    started: list[SFTPEndpoint] = []

    def make(**overrides: Any) -> Push:
        state = build_state(partners_dir=partners, sftp_listen="127.0.0.1:0",
                            var_dir=tmp_path / "var", **overrides)
        endpoint = state.sftp_endpoint()
        assert endpoint is not None
        endpoint.start()
        started.append(endpoint)
        return Push(state, endpoint, keys, tmp_path)

    yield make
    for endpoint in started:
        endpoint.stop()


@pytest.fixture
def push(make_push: MakePush) -> Push:
    return make_push()


def close_reading_status(client: paramiko.SFTPClient, handle: paramiko.SFTPFile) -> None:
    """Send the CLOSE of ``handle`` and raise what the server answered (paramiko's own
    ``close`` ignores a failed CLOSE, so its private request is used)."""
    handle.flush()
    try:
        client._request(CMD_CLOSE, handle.handle)  # type: ignore[attr-defined]
    finally:
        handle._closed = True  # type: ignore[attr-defined]  # no second CLOSE


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, "timed out"
        time.sleep(0.02)


# -- receiving ------------------------------------------------------------------------------

def test_an_openssh_upload_is_stored_for_its_partner_and_removed(push: Push) -> None:
    """``put`` with OpenSSH's client: one RECEIVED message of that partner with the
    file's bytes and its path as evidence; the file is gone from the folder, no staging
    file is left, and the client's batch succeeds."""
    body = x12("ACMEPUSH", "000000101")
    (push.work / "po.edi").write_bytes(body)
    done = push.openssh(f"put {push.work / 'po.edi'}\nls -l\n")
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode == 0, done.stderr
    [message] = push.messages()
    assert (message.transport, message.interchange_control, message.size) == (
        "sftp", "000000101", len(body))
    [(_, details)] = push.entries("RECEIVED")
    assert details["sftp_path"] == "/po.edi" and details["sftp_user"] == "acme-push"
    assert list(push.folder().iterdir()) == [] and push.incoming() == []


def test_an_upload_under_a_temporary_name_is_received_once_when_renamed(
        push: Push) -> None:
    """A ``.part`` upload (not matching ``*.edi``) stays in the folder unreceived; its
    rename to ``.edi`` receives it, once; with OpenSSH's client and with paramiko's."""
    (push.work / "a.edi").write_bytes(x12("ACMEPUSH", "000000102"))
    done = push.openssh(f"put {push.work / 'a.edi'} a.part\nrename a.part a.edi\n")
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode == 0, done.stderr
    transport, client = push.connect()
    with transport:
        client.putfo(io.BytesIO(x12("ACMEPUSH", "000000103")), "b.part", confirm=True)
        assert client.listdir("/") == ["b.part"] and len(push.messages()) == 1
        client.rename("b.part", "b.edi")
        assert client.listdir("/") == []
    assert [m.interchange_control for m in push.messages()] == ["000000102", "000000103"]
    assert len(push.entries("RECEIVED")) == 2 and push.entries("DUPLICATE") == []


def test_the_same_file_sent_twice_is_a_duplicate_and_still_removed(push: Push) -> None:
    """Intake's duplicate rule decides: the second upload of the same bytes is answered
    OK, ledgered DUPLICATE on the first message, and removed."""
    transport, client = push.connect()
    body = x12("ACMEPUSH", "000000104")
    with transport:
        client.putfo(io.BytesIO(body), "one.edi", confirm=False)
        client.putfo(io.BytesIO(body), "two.edi", confirm=False)
        assert client.listdir("/") == []
    assert len(push.messages()) == 1 and len(push.entries("DUPLICATE")) == 1


def test_a_name_the_pattern_does_not_match_stays_unreceived(push: Push) -> None:
    """``notes.txt`` under ``pattern = "*.edi"`` is kept, listed and readable, and no
    sweep receives it."""
    transport, client = push.connect()
    with transport:
        client.putfo(io.BytesIO(b"call me"), "notes.txt", confirm=True)
        assert client.listdir("/") == ["notes.txt"]
        with client.open("notes.txt", "rb") as handle:
            assert handle.read() == b"call me"
    assert push.endpoint.sweep().stored == [] and push.count() == 0


def test_a_file_intake_refuses_fails_its_close_with_the_reason_and_is_kept(
        push: Push) -> None:
    """Not EDI: the CLOSE fails with intake's reason (OpenSSH's batch stops; paramiko,
    asked directly, reads the text), intake ledgers INTAKE_REJECTED for the partner and
    transport, and the bytes are kept under .refused/, not in the folder."""
    (push.work / "junk.edi").write_bytes(b"hello, not EDI")
    done = push.openssh(f"put {push.work / 'junk.edi'}\n")
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode != 0 and "close remote" in done.stderr
    transport, client = push.connect()
    with transport:
        handle = client.open("junk2.edi", "wb")
        handle.write(b"still not EDI")
        handle.flush()
        with pytest.raises(OSError, match="Not EDI"):
            close_reading_status(client, handle)
    rejected = push.entries("INTAKE_REJECTED")
    assert [(d["partner"], d["transport"], d["reason"]) for _, d in rejected] == [
        ("acme-push", "sftp", "not-edi")] * 2
    assert list(push.folder().iterdir()) == [] and push.count() == 0
    kept = push.refused()
    assert [p.name.split("-", 1)[1] for p in kept] == ["junk.edi", "junk2.edi"]
    assert kept[0].read_bytes() == b"hello, not EDI"


def test_a_file_larger_than_intake_takes_is_refused_and_discarded(
        make_push: MakePush) -> None:
    """Past ``max_body_bytes`` the write fails and the upload is discarded at its CLOSE:
    nothing stored, nothing left in the folder or the staging area."""
    push = make_push(max_body_bytes=2000)
    transport, client = push.connect()
    with transport:
        handle = client.open("big.edi", "wb")
        with pytest.raises(OSError):
            handle.write(x12("ACMEPUSH", "000000105") + b"N" * 5000)
        with pytest.raises(OSError, match="larger than 2000 bytes"):
            close_reading_status(client, handle)
        assert client.listdir("/") == []
    assert push.count() == 0 and push.incoming() == []


def test_a_file_intake_cannot_take_now_is_kept_and_swept_later(
        make_push: MakePush) -> None:
    """With intake's writer gone the CLOSE fails and the file stays in the folder; the
    sweep of a gateway whose intake works receives it and removes it."""
    push = make_push()
    push.state.pipeline.intake.close()
    transport, client = push.connect()
    with transport:
        handle = client.open("later.edi", "wb")
        handle.write(x12("ACMEPUSH", "000000106"))
        with pytest.raises(OSError, match="kept and received later"):
            close_reading_status(client, handle)
        assert client.listdir("/") == ["later.edi"]
    push.endpoint.stop()
    again = make_push()
    wait_for(lambda: not (again.folder() / "later.edi").exists())
    assert [m.interchange_control for m in again.messages()] == ["000000106"]


# -- connections cut short and restarts -----------------------------------------------------

def test_a_connection_closed_mid_upload_receives_nothing_and_leaves_nothing(
        push: Push) -> None:
    """paramiko's transport closed while a file is open for writing: the server discards
    the staging file (no CLOSE came), no message is stored, the folder stays empty."""
    transport, client = push.connect()
    handle = client.open("cut.edi", "wb")
    handle.write(x12("ACMEPUSH", "000000107")[:-12])  # the IEA not sent yet
    handle.flush()
    assert len(push.incoming()) == 1
    transport.close()
    wait_for(lambda: push.incoming() == [])
    assert list(push.folder().iterdir()) == [] and push.count() == 0
    assert push.refused() == [] and push.entries("INTAKE_REJECTED") == []
    assert push.endpoint.sweep().stored == []


def test_an_openssh_client_killed_mid_upload_leaves_nothing_received(push: Push) -> None:
    """OpenSSH's ``sftp`` killed (SIGKILL) while its bandwidth-limited upload is under
    way: nothing is received, no file appears, the staging file is removed."""
    big = push.work / "slow.edi"
    big.write_bytes(x12("ACMEPUSH", "000000108") + b"N" * 2_000_000)
    child = push.openssh(f"put {big}\n", extra=("-l", "800"), wait=False)
    assert isinstance(child, subprocess.Popen)
    try:
        wait_for(lambda: any(p.stat().st_size > 0 for p in push.incoming()), 30)
        child.kill()
    finally:
        child.communicate(timeout=30)
    wait_for(lambda: push.incoming() == [])
    assert list(push.folder().iterdir()) == [] and push.count() == 0


def test_a_restart_receives_a_closed_file_and_drops_unfinished_uploads(
        make_push: MakePush) -> None:
    """What a killed gateway leaves: a file that reached the folder but was not
    committed is received by the next start's sweep; the same bytes again (committed
    before the kill) are answered as a duplicate and removed; an upload never closed
    (its staging file) is removed, never received."""
    first = make_push()
    body = x12("ACMEPUSH", "000000109")
    first.endpoint.stop()
    (first.folder() / "left.edi").write_bytes(body)
    (first.endpoint.spool / INCOMING / "acme-push").mkdir(parents=True, exist_ok=True)
    (first.endpoint.spool / INCOMING / "acme-push" / "abc").write_bytes(body[:50])
    second = make_push()
    wait_for(lambda: not (second.folder() / "left.edi").exists())
    assert second.incoming() == [] and len(second.messages()) == 1
    (second.folder() / "again.edi").write_bytes(body)
    result = second.endpoint.sweep()
    assert result.duplicates == ["acme-push:/again.edi"] and not result.stored
    assert list(second.folder().iterdir()) == [] and len(second.messages()) == 1


def test_the_app_runs_the_server_while_it_runs(build_state: Callable[..., GatewayState],
                                              tmp_path: Path, keys: Keys) -> None:
    """With ``sftp_listen`` the app's lifespan starts the server (an upload is stored)
    and its shutdown stops it (the port refuses connections)."""
    partners = tmp_path / "partners"
    partners.mkdir()
    write_partners(partners, keys)
    state = build_state(partners_dir=partners, sftp_listen="127.0.0.1:0")
    app = create_app(state.settings, state=state, start_workers=False)
    with TestClient(app):
        endpoint = app.state.sftp
        assert isinstance(endpoint, SFTPEndpoint)
        push = Push(state, endpoint, keys, tmp_path)
        port = push.port
        transport, client = push.connect()
        with transport:
            client.putfo(io.BytesIO(x12("ACMEPUSH", "000000111")), "app.edi", confirm=False)
        assert len(push.messages()) == 1
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


# -- who may log in, and to what --------------------------------------------------------------

@pytest.mark.parametrize(("user", "key"), [
    ("acme-push", "stranger"),     # a key nobody listed
    ("nobody", "acme"),            # a login no partner has
    ("globex", "acme"),            # partner A's key for partner B's login
    ("acme-push", "globex"),       # and the other way round
    ("dormant-push", "dormant"),   # an inactive partner
])
def test_only_a_partners_own_key_logs_it_in(push: Push, user: str, key: str) -> None:
    """A login is refused unless the key is one of that login's partner's keys and the
    partner is active: paramiko's client gets AuthenticationException, OpenSSH's says
    "Permission denied (publickey)"."""
    with pytest.raises(paramiko.AuthenticationException):
        push.connect(user, getattr(push.keys, key))
    done = push.openssh("ls\n", user=user, key=key)
    assert isinstance(done, subprocess.CompletedProcess)
    assert done.returncode != 0 and "Permission denied (publickey)" in done.stderr


def test_partner_b_logs_in_to_its_own_folder(push: Push) -> None:
    """``globex`` (an explicit login) lands in globex-push's folder: its upload is a
    message of globex-push, and partner A's folder stays empty."""
    transport, client = push.connect("globex", push.keys.globex)
    with transport:
        client.putfo(io.BytesIO(x12("GLOBEXPUSH", "000000110")), "in.x12", confirm=False)
    assert [m.partner_id for m in push.messages("globex-push")] == ["globex-push"]
    assert list(push.folder().iterdir()) == []


def test_only_public_key_logins_and_only_the_sftp_subsystem(push: Push) -> None:
    """No password login is offered; a shell, a command, another subsystem and port
    forwarding are refused on an authenticated connection."""
    transport = paramiko.Transport(("127.0.0.1", push.port))
    with transport:
        transport.start_client(timeout=10)
        with pytest.raises(paramiko.BadAuthenticationType) as caught:
            transport.auth_password("acme-push", "guess")
        assert caught.value.allowed_types == ["publickey"]
    transport, _ = push.connect()
    with transport:
        for request in ("exec_command", "invoke_shell", "invoke_subsystem"):
            channel = transport.open_session()
            with pytest.raises(paramiko.SSHException):
                if request == "exec_command":
                    channel.exec_command("cat /etc/passwd")
                elif request == "invoke_shell":
                    channel.invoke_shell()
                else:
                    channel.invoke_subsystem("netconf")
            channel.close()
        with pytest.raises(paramiko.ChannelException):
            transport.open_channel("direct-tcpip", ("127.0.0.1", 22), ("127.0.0.1", 5))


def test_connections_past_the_limit_are_closed(make_push: MakePush) -> None:
    """With ``sftp_max_connections = 1`` a second connection ends before its handshake,
    while the first works on."""
    push = make_push(sftp_max_connections=1)
    transport, client = push.connect()
    with transport:
        with pytest.raises((paramiko.SSHException, EOFError, OSError)):
            push.connect()
        assert client.listdir("/") == []


# -- the folder is all a partner sees ---------------------------------------------------------

def test_no_path_leads_out_of_the_partners_folder(push: Push, tmp_path: Path) -> None:
    """``..`` and absolute paths are read inside the folder (as a chroot would), another
    partner's folder and the host's files cannot be named, symlinks are neither listed
    nor followed nor replaced through, and folders and links cannot be made."""
    outside = tmp_path / "secret.txt"
    outside.write_text("host secret")
    (push.folder("globex-push")).mkdir(parents=True, exist_ok=True)
    (push.folder("globex-push") / "theirs.x12").write_text("globex's")
    (push.folder() / "link.txt").symlink_to(outside)
    transport, client = push.connect()
    with transport:
        assert client.normalize("../../..") == "/" and client.normalize("/../x") == "/x"
        client.putfo(io.BytesIO(b"up"), "../../escape.txt", confirm=False)
        assert sorted(client.listdir("/..")) == ["escape.txt"]
        for path in ("/etc/passwd", "../globex-push/theirs.x12", str(outside),
                     "link.txt", "/link.txt"):
            with pytest.raises(FileNotFoundError):
                client.stat(path)
            with pytest.raises(FileNotFoundError):
                client.open(path, "rb")
        with pytest.raises(FileNotFoundError):
            client.rename("link.txt", "moved.txt")
        with pytest.raises(PermissionError):
            client.mkdir("sub")
        with pytest.raises(PermissionError):
            client.symlink(str(outside), "mine.txt")
        client.putfo(io.BytesIO(b"over"), "link.txt", confirm=False)
    assert outside.read_text() == "host secret"
    assert (push.folder() / "escape.txt").read_bytes() == b"up"
    assert not (push.endpoint.spool / "escape.txt").exists()
    assert not (push.endpoint.spool.parent / "escape.txt").exists()
    assert not (push.folder() / "link.txt").is_symlink()
    assert (push.folder() / "link.txt").read_bytes() == b"over"


def test_an_absolute_host_path_is_a_name_inside_the_folder(push: Push, tmp_path: Path
                                                           ) -> None:
    """An upload to an absolute path of the host (a folder that exists there) is
    refused: the folder has no subfolders, and nothing is written on the host."""
    target = tmp_path / "host-dir"
    target.mkdir()
    transport, client = push.connect()
    with transport, pytest.raises(PermissionError):
        client.putfo(io.BytesIO(b"x"), str(target / "planted.txt"), confirm=False)
    assert list(target.iterdir()) == [] and list(push.folder().iterdir()) == []


@given(st.text(alphabet=st.sampled_from("/.a\\\x00\n ~é"), max_size=30) | st.text(max_size=40))
def test_no_path_resolves_outside_the_folder(path: str) -> None:
    """Every path is read the way ``posixpath.normpath`` reads it under ``/``, and
    resolves to the folder itself or one name directly in it, never ``.``, ``..`` or a
    name with a slash or a control character."""
    virtual = virtual_path(path)
    assert virtual == re.sub("^/+", "/", posixpath.normpath("/" + path))
    name = resolve_name(path)
    root = Path("/spool/acme-push")
    if name is None:
        return
    if name == "":
        assert virtual == "/"
        return
    assert name not in (".", "..") and "/" not in name
    assert not any(ord(c) < 32 for c in name)
    assert (root / name).parent == root
    assert posixpath.normpath(posixpath.join(str(root), name)).startswith(str(root) + "/")


# -- the host key, the settings and the profile -----------------------------------------------

def test_the_host_key_is_made_once_private_and_then_kept(tmp_path: Path) -> None:
    """A missing host key file is created with mode 0600 and read back as the same key
    on the next start."""
    path = tmp_path / "sftp" / "host_key"
    first = load_host_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_host_key(path).asbytes() == first.asbytes()
    assert [p.name for p in path.parent.iterdir()] == ["host_key"]


def test_the_server_is_off_unless_a_listen_address_is_set(tmp_path: Path) -> None:
    """No ``EDIGATE_SFTP_LISTEN``: no server; its folders and key default under the var
    directory; a listen value that is not host:port is refused at load."""
    settings = Settings.from_env({"EDIGATE_VAR_DIR": str(tmp_path)})
    assert settings.sftp_address is None
    assert settings.sftp_spool_path == tmp_path / "sftp" / "spool"
    assert settings.sftp_host_key_path == tmp_path / "sftp" / "host_key"
    assert Settings.from_env({"EDIGATE_SFTP_LISTEN": "[::1]:2222"}).sftp_address == (
        "::1", 2222)
    with pytest.raises(ValidationError, match="host:port"):
        Settings.from_env({"EDIGATE_SFTP_LISTEN": "2222"})


ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ3cSVfZC0oR0bFcxXSdWlYI3Vt0i1jbPNCAMvE4l5mI a@b"


def test_a_minimal_inbox_logs_in_as_the_partner_id_and_takes_every_name() -> None:
    """Defaults: the login is the partner id, the pattern ``*``; a key's blob is what a
    client presents."""
    inbox = SFTPInboxProfile(public_keys=(ED25519,))
    assert (inbox.user, inbox.pattern) == (None, "*")
    assert inbox.key_blobs[0][4:15] == b"ssh-ed25519"


@pytest.mark.parametrize(("keys_given", "key", "words"), [
    (["ssh-ed25519 AAAA!!!!"], "public_keys[0]", "base64"),
    ([], "public_keys", "at least one public key"),
    (["ssh-dss AAAAB3NzaC1kc3MAAACBAP"], "public_keys[0]", "of a type edigate takes"),
    (["AAAAC3NzaC1lZDI1NTE5AAAAIJ3c"], "public_keys[0]", "OpenSSH public key line"),
    (['from="10.0.0.1" ' + ED25519], "public_keys[0]", "options"),
    (["ssh-rsa " + ED25519.split()[1]], "public_keys[0]", "not a ssh-rsa key"),
    (["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAEJ3cSVfZC0oR0bFcxXSdWlY="], "public_keys[0]",
     "32-byte"),
    ([ED25519, ED25519.replace("a@b", "other")], "public_keys[1]", "same key twice"),
])
def test_inbox_key_mistakes_are_located(keys_given: list[str], key: str, words: str
                                        ) -> None:
    """Each bad public key is one error at its place in the list, saying what is wrong."""
    with pytest.raises(ValidationError) as caught:
        SFTPInboxProfile(public_keys=tuple(keys_given))
    found = describe_validation_error(caught.value, SFTPInboxProfile)
    assert [k for k, _ in found] == [key], found
    assert words in found[0][1]


def test_a_short_rsa_key_is_refused() -> None:
    """RSA keys below 2048 bits are refused, naming their size."""
    weak = paramiko.RSAKey.generate(1024)
    with pytest.raises(ValidationError, match="1024 bits"):
        SFTPInboxProfile(public_keys=(public_line(weak),))


def test_two_partners_cannot_share_a_login(tmp_path: Path, keys: Keys) -> None:
    """A login claimed twice (here: one partner's explicit ``user`` is the other's id) is
    a located registry problem."""
    write_partners(tmp_path, keys)
    text = (tmp_path / "globex-push.toml").read_text()
    (tmp_path / "globex-push.toml").write_text(text.replace('user = "globex"',
                                                            'user = "acme-push"'))
    with pytest.raises(PartnerConfigError) as caught:
        PartnerRegistry.load(tmp_path)
    [problem] = caught.value.problems
    assert problem.key == "sftp_inbox.user" and "acme-push" in problem.message
    assert problem.source.endswith("globex-push.toml")


def test_the_openssh_client_sees_only_its_folder(push: Push) -> None:
    """OpenSSH's ``cd ..``, ``ls /`` and ``ls /etc`` stay in the folder."""
    (push.folder() / "kept.txt").write_text("mine")
    done = push.openssh("cd ..\npwd\nls /\nls /etc\n")
    assert isinstance(done, subprocess.CompletedProcess)
    assert "Remote working directory: /" in done.stdout
    assert "kept.txt" in done.stdout and "passwd" not in done.stdout
    assert done.returncode != 0  # ls /etc: no such directory
    assert os.listdir(push.folder()) == ["kept.txt"]
