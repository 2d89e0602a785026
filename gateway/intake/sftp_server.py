"""edigate's own SFTP server, for partners that push their files (``[sftp_inbox]``).

Responsible for the SSH side (``_Login``: public-key login only, with a key of the
partner's profile, an active partner; the "sftp" subsystem only: no shell, exec or
forwarding), for each partner's folder (``_Folder``: ``<spool>/<partner id>/`` is all a
partner sees, every path is resolved inside it) and for handing a complete file to
``Pipeline.receive`` (the same envelope checks, duplicate rules and ledger as every
transport). It must not know how a message is processed, nor send anything, nor read
the environment (``Settings`` says where to listen and where the folders are).

When a file is complete: an upload is written to a staging file outside the partner's
folder (``<spool>/.incoming/<partner>/``) and appears under its name only when the client
closes it with an explicit CLOSE. A connection that drops mid-upload never sends one:
paramiko closes the leftover handles after ``session_ended``, and the staging file is
removed then (or by the next start, if the gateway died), so a partial file is never
seen, received or swept. A file whose name matches the profile's ``pattern`` is received
at that CLOSE, or when a file is renamed to a matching name (upload as ``x.part``, then
rename); the CLOSE or RENAME is answered only after intake answered.

What the client is told, and what stays: stored, or a duplicate of a stored message: OK,
the file removed. Refused by intake (not EDI, not from this partner, ...): intake ledgers
the refusal (INTAKE_REJECTED), the client gets a failure status with the reason, and the
file is moved to ``<spool>/.refused/<partner>/`` for an operator (logged with its path).
Intake unavailable (or any other error): a failure status, the file kept in the folder;
the sweep receives it later. Larger than ``max_body_bytes``: the write that would pass the
limit fails, and the upload is discarded at its CLOSE (a failure status, logged).

Crash safety: a file that reached the folder and was not yet committed (the gateway
killed during intake) is received by the sweep (``sweep``), which runs when the server
starts and every ``SWEEP_SECONDS``; a file intake had committed is answered as a
duplicate and removed, so the sweep never stores a file twice. One server per spool
folder: the staging files of a previous run are removed when the server starts.
"""

from __future__ import annotations

import errno
import fnmatch
import hmac
import io
import logging
import os
import socket
import stat
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)
from paramiko.sftp import CMD_CLOSE

from gateway.delivery.sftp_client import fingerprint
from gateway.errors import GatewayError
from gateway.intake.pipeline import Delivery, IntakeRejected, Pipeline
from gateway.private_files import create_private_file
from gateway.runtime.settings import Settings
from partners import PartnerProfile

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ["SFTPEndpoint", "SweepResult", "load_host_key", "resolve_name", "virtual_path"]

log = logging.getLogger("edigate.sftp_server")

# How often the folders are swept for complete files not yet received.
SWEEP_SECONDS = 60.0
# Where uploads are written until their CLOSE, and where refused files are kept: beside
# the partners' folders, never inside one (a partner id is a slug: no dot).
INCOMING = ".incoming"
REFUSED = ".refused"
_NAME_BYTES = 255

_OK = paramiko.sftp.SFTP_OK
_FAILURE = paramiko.sftp.SFTP_FAILURE
_DENIED = paramiko.sftp.SFTP_PERMISSION_DENIED
_NO_SUCH_FILE = paramiko.sftp.SFTP_NO_SUCH_FILE


# -- paths ----------------------------------------------------------------------------------

def virtual_path(path: str) -> str:
    """``path`` as an absolute path inside the partner's folder, the way a chroot reads
    it: relative paths start at the top, ``.`` is dropped, ``..`` goes up one level and
    stays at the top when there is none. No file system is looked at."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def resolve_name(path: str) -> str | None:
    """The file name ``path`` stands for in the partner's folder, ``""`` for the folder
    itself, or None when it names nothing that may exist there: the folder has no
    subfolders, and a name has no control characters and at most 255 bytes."""
    virtual = virtual_path(path)
    if virtual == "/":
        return ""
    name = virtual[1:]
    if "/" in name or any(ord(char) < 32 or ord(char) == 127 for char in name):
        return None
    try:
        if len(name.encode()) > _NAME_BYTES:
            return None
    except UnicodeEncodeError:  # a lone surrogate from undecodable bytes
        return None
    return name


def _regular(path: Path) -> os.stat_result | None:
    """The ``lstat`` of ``path`` when it is a regular file (never a symlink's target)."""
    try:
        found = os.lstat(path)
    except OSError:
        return None
    return found if stat.S_ISREG(found.st_mode) else None


def _errno_status(exc: OSError) -> int:
    if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink: as if there were no file
        return _NO_SUCH_FILE
    return int(paramiko.SFTPServer.convert_errno(exc.errno or 0))


# -- the host key ---------------------------------------------------------------------------

def load_host_key(path: Path) -> paramiko.PKey:
    """The server's host key from ``path`` (any key paramiko reads), created first when
    the file does not exist: an ECDSA P-256 key, mode 0600, written under a temporary
    name and linked into place, so that two starts never see half a key."""
    if not path.exists():
        key = paramiko.ECDSAKey.generate(bits=256)
        text = io.StringIO()
        key.write_private_key(text)
        # Another process may create it meanwhile: then theirs is read below.
        if create_private_file(path, text.getvalue().encode("ascii")):
            log.warning("created the SFTP server's host key %s: %s %s (give partners "
                        "this fingerprint)", path, key.get_name(), fingerprint(key))
    return paramiko.PKey.from_path(path)


# -- the server -----------------------------------------------------------------------------

@dataclass(slots=True)
class SweepResult:
    """What one sweep did with the complete files it found in the partners' folders
    (paths as the partner sees them, ``partner:/name``)."""

    stored: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """How receiving one file ended: the SFTP status for the client, its text, and
    which list of a ``SweepResult`` it belongs to."""

    code: int
    text: str
    kind: str


class SFTPEndpoint:
    """The SFTP server: ``start`` listens on ``settings.sftp_listen`` and sweeps,
    ``stop`` ends every connection. Files are received through ``pipeline``."""

    def __init__(self, settings: Settings, pipeline: Pipeline, host_key: paramiko.PKey) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.host_key = host_key
        self.spool = settings.sftp_spool_path
        self._slots = threading.BoundedSemaphore(settings.sftp_max_connections)
        self._stop = threading.Event()
        self._guard = threading.Lock()
        self._busy: set[Path] = set()
        self._transports: set[paramiko.Transport] = set()
        self._threads: list[threading.Thread] = []  # the accept loop and the sweep
        self._connections: set[threading.Thread] = set()
        self._listener: socket.socket | None = None

    # -- running ------------------------------------------------------------------------
    @property
    def address(self) -> tuple[str, int]:
        """Where the server listens (the port the system chose for port 0)."""
        assert self._listener is not None, "the server is not started"
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Remove what uploads a previous run left unfinished, listen, and start the
        sweep (its first round at once)."""
        address = self.settings.sftp_address
        assert address is not None, "EDIGATE_SFTP_LISTEN is not set"
        self.spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._discard_unfinished()
        self._listener = socket.create_server(
            address, family=socket.AF_INET6 if ":" in address[0] else socket.AF_INET,
            backlog=64)
        self._listener.settimeout(0.5)  # the accept loop looks at the stop flag
        for name, target in (("sftp-server", self._accept), ("sftp-sweep", self._sweep_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("SFTP server listening on %s:%d (host key %s %s), folders in %s",
                 *self.address, self.host_key.get_name(), fingerprint(self.host_key),
                 self.spool)

    def stop(self) -> None:
        """Stop accepting, end every connection (their unfinished uploads discarded) and
        wait for the threads; a file being received finishes its intake first."""
        self._stop.set()
        with self._guard:
            transports = list(self._transports)
        for transport in transports:
            transport.close()
        for thread in self._threads:
            thread.join(timeout=30)
        with self._guard:
            connections = list(self._connections)
        for thread in connections:
            thread.join(timeout=30)
        if self._listener is not None:
            self._listener.close()

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self._stop.is_set():
            try:
                sock, peer = listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if self._stop.is_set():
                    return
                log.warning("SFTP server: accept failed: %s", exc)
                self._stop.wait(0.5)
                continue
            remote = f"{peer[0]}:{peer[1]}"
            if not self._slots.acquire(blocking=False):
                log.warning("SFTP server: connection from %s closed: %d connections are "
                            "served already (EDIGATE_SFTP_MAX_CONNECTIONS)", remote,
                            self.settings.sftp_max_connections)
                sock.close()
                continue
            thread = threading.Thread(target=self._serve, args=(sock, remote),
                                      name=f"sftp:{remote}", daemon=True)
            with self._guard:
                self._connections.add(thread)
            thread.start()

    def _serve(self, sock: socket.socket, remote: str) -> None:
        """One connection: the SSH handshake, the login and one or more SFTP sessions,
        closed when the login or the first session takes longer than
        ``sftp_login_seconds``, or when no session is open for ``sftp_idle_seconds``."""
        transport = paramiko.Transport(sock)
        with self._guard:
            self._transports.add(transport)
        try:
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", _Session, _Folder)
            login = _Login(self, transport, remote)
            transport.start_server(server=login)
            deadline = time.monotonic() + self.settings.sftp_login_seconds
            while not login.opened.wait(0.2):
                if not transport.is_active() or self._stop.is_set():
                    return
                if time.monotonic() > deadline:
                    log.info("SFTP server: %s did not log in and open a session in time: "
                             "closed", remote)
                    return
            while transport.is_active() and not self._stop.is_set():
                if login.idle_for() > self.settings.sftp_idle_seconds:
                    log.info("SFTP server: %s idle: closed", remote)
                    return
                self._stop.wait(0.5)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            log.info("SFTP server: connection from %s ended: %s", remote,
                     f"{type(exc).__name__}: {exc}")
        finally:
            transport.close()
            sock.close()
            with self._guard:
                self._transports.discard(transport)
                self._connections.discard(threading.current_thread())
            self._slots.release()

    # -- the folders --------------------------------------------------------------------
    def folder(self, partner_id: str) -> Path:
        """The partner's folder: all it sees (created when first needed)."""
        path = self.spool / partner_id
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return path

    def staging(self, partner_id: str) -> Path:
        """A new staging file's path for one of the partner's uploads."""
        directory = self.spool / INCOMING / partner_id
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return directory / uuid.uuid4().hex

    def _discard_unfinished(self) -> None:
        incoming = self.spool / INCOMING
        if not incoming.is_dir():
            return
        for path in incoming.glob("*/*"):
            log.warning("SFTP server: %s is an upload a previous run never saw closed: "
                        "removed", path)
            path.unlink(missing_ok=True)

    def claim(self, path: Path) -> bool:
        """Take ``path`` for one receipt (or rename) at a time; False: it is taken."""
        with self._guard:
            if path in self._busy:
                return False
            self._busy.add(path)
            return True

    def release(self, path: Path) -> None:
        with self._guard:
            self._busy.discard(path)

    # -- receiving ----------------------------------------------------------------------
    def receive(self, partner: PartnerProfile, name: str, evidence: dict[str, Any]
                ) -> _Outcome:
        """Receive the complete file ``name`` of the partner's folder, claimed by the
        caller (see the module docstring for what each outcome leaves behind)."""
        path = self.spool / partner.id / name
        limit = self.settings.max_body_bytes
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(descriptor, "rb") as handle:
                body = handle.read(limit + 1)
        except FileNotFoundError:
            return _Outcome(_NO_SUCH_FILE, "the file is gone", "kept")
        except OSError as exc:
            log.error("partner %s: SFTP file /%s cannot be read: %s", partner.id, name, exc)
            return _Outcome(_FAILURE, "the file cannot be read; kept", "kept")
        if len(body) > limit:
            kept = self._set_aside(partner.id, path, name)
            log.warning("partner %s: SFTP file /%s is more than %d bytes "
                        "(EDIGATE_MAX_BODY_BYTES): not received, moved to %s", partner.id,
                        name, limit, kept)
            return _Outcome(_FAILURE, f"refused: larger than {limit} bytes", "refused")
        delivery = Delivery(partner.id, "sftp", body,
                            evidence={**evidence, "sftp_path": "/" + name})
        try:
            received = self.pipeline.receive(delivery, f"sftp:{partner.id}")
        except IntakeRejected as exc:
            kept = self._set_aside(partner.id, path, name)
            log.warning("partner %s: SFTP file /%s refused at intake (%s); moved to %s",
                        partner.id, name, exc.slug, kept)
            return _Outcome(_FAILURE, f"refused: {exc.title}: {exc.detail}", "refused")
        except GatewayError as exc:  # IntakeUnavailable: its reason is logged by intake
            log.warning("partner %s: SFTP file /%s not received now (%s); kept for the "
                        "sweep", partner.id, name, exc.detail)
            return _Outcome(_FAILURE, f"not received: {exc.detail} The file is kept and "
                            "received later.", "kept")
        except Exception:  # a database outage during the refusal's ledger entry, ...
            log.exception("partner %s: SFTP file /%s not received; kept for the sweep",
                          partner.id, name)
            return _Outcome(_FAILURE, "not received (a gateway error, logged); the file "
                            "is kept and received later", "kept")
        path.unlink(missing_ok=True)
        log.info("partner %s: SFTP file /%s %s message %s", partner.id, name,
                 "was a duplicate of" if received.duplicate else "stored as",
                 received.message_id)
        return _Outcome(_OK, f"received as message {received.message_id}",
                        "duplicates" if received.duplicate else "stored")

    def _set_aside(self, partner_id: str, path: Path, name: str) -> Path:
        """Move a refused file out of the partner's folder, for an operator."""
        directory = self.spool / REFUSED / partner_id
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        target = directory / f"{stamp}-{name}"
        try:
            os.replace(path, target)
        except OSError as exc:
            log.error("partner %s: refused SFTP file /%s cannot be moved to %s (%s): left "
                      "in the folder", partner_id, name, target, exc)
            return path
        return target

    def sweep(self) -> SweepResult:
        """Receive every complete file in the partners' folders whose name matches their
        pattern and that no upload or receipt holds now."""
        result = SweepResult()
        for partner in self.pipeline.registry.all():
            inbox = partner.sftp_inbox
            if inbox is None or not partner.active or not (self.spool / partner.id).is_dir():
                continue
            with os.scandir(self.spool / partner.id) as listing:
                entries = sorted(listing, key=lambda e: e.name)
            for entry in entries:
                if not entry.is_file(follow_symlinks=False) or \
                        not fnmatch.fnmatchcase(entry.name, inbox.pattern):
                    continue
                path = Path(entry.path)
                if not self.claim(path):
                    continue
                try:
                    outcome = self.receive(partner, entry.name, {
                        "sftp_user": partner.sftp_login, "sftp_swept": True})
                finally:
                    self.release(path)
                getattr(result, outcome.kind).append(f"{partner.id}:/{entry.name}")
        return result

    def _sweep_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception:  # the sweep must outlive a full disk or a database hiccup
                log.exception("SFTP server: sweep failed")
            self._stop.wait(SWEEP_SECONDS)


# -- one connection -------------------------------------------------------------------------

class _Login(paramiko.ServerInterface):
    """One connection's SSH side: who may log in, and that only an SFTP session opens."""

    def __init__(self, endpoint: SFTPEndpoint, transport: paramiko.Transport,
                 remote: str) -> None:
        self.endpoint = endpoint
        self.transport = transport
        self.remote = remote
        self.opened = threading.Event()
        self._sessions = 0
        self._idle_since = time.monotonic()
        self._lock = threading.Lock()

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        # Called for the client's query (is this key acceptable?) and again after
        # paramiko verified the signature; only the second completes the login.
        partner = self.endpoint.pipeline.registry.by_sftp_login(username)
        offered = key.asbytes()
        if partner is not None and partner.sftp_inbox is not None and any(
                hmac.compare_digest(offered, blob) for blob in partner.sftp_inbox.key_blobs):
            return AUTH_SUCCESSFUL
        log.warning("SFTP server: %s refused: user %r with key %s %s (%s)", self.remote,
                    username[:64], key.get_name(), fingerprint(key),
                    "no active partner has this login" if partner is None
                    else "not a key of this partner's [sftp_inbox]")
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_subsystem_request(self, channel: paramiko.Channel, name: str) -> bool:
        if name != "sftp":
            return False
        return bool(super().check_channel_subsystem_request(channel, name))

    def session_started(self) -> None:
        with self._lock:
            self._sessions += 1
        self.opened.set()

    def session_ended(self) -> None:
        with self._lock:
            self._sessions -= 1
            self._idle_since = time.monotonic()

    def idle_for(self) -> float:
        """Seconds without an open SFTP session (0 while one is open)."""
        with self._lock:
            return 0.0 if self._sessions else time.monotonic() - self._idle_since

    def partner(self) -> PartnerProfile:
        """The partner this connection logged in as."""
        partner = self.endpoint.pipeline.registry.by_sftp_login(
            self.transport.get_username() or "")
        if partner is None or partner.sftp_inbox is None:
            raise paramiko.SSHException("an SFTP session without a partner's login")
        return partner


class _Session(paramiko.SFTPServer):
    """paramiko's SFTP server loop, with an idle limit and the one request it does not
    let the handle answer: the CLOSE of an upload, whose status is intake's answer.

    Private paramiko API, isolated here: ``_process``, ``file_table`` and
    ``_send_status`` (paramiko answers every CLOSE with OK and ignores what a handle's
    ``close`` returns). ``tests/gateway/sftp/test_sftp_server.py`` fails if they change:
    a refused upload's CLOSE must fail with intake's reason."""

    def start_subsystem(self, name: str, transport: paramiko.Transport,
                        channel: paramiko.Channel) -> None:
        folder = self.server
        assert isinstance(folder, _Folder)
        # A session silent this long ends (the read times out, paramiko ends the loop).
        channel.settimeout(folder.endpoint.settings.sftp_idle_seconds)
        super().start_subsystem(name, transport, channel)

    def _process(self, t: int, request_number: int, msg: paramiko.Message) -> None:
        if t == CMD_CLOSE:
            peek = paramiko.Message(msg.asbytes())
            peek.get_int()  # the request number, read already from msg
            handle_name = peek.get_binary()
            handle = self.file_table.get(handle_name)
            if isinstance(handle, _Upload):
                del self.file_table[handle_name]
                outcome = handle.finish()
                self._send_status(  # type: ignore[attr-defined]  # private, see above
                    request_number, outcome.code, outcome.text)
                return
        super()._process(t, request_number, msg)  # type: ignore[misc]  # private


class _Folder(paramiko.SFTPServerInterface):
    """One SFTP session's file system: the partner's folder, nothing else.

    Every path is resolved by ``resolve_name`` (a chroot's rules: nothing above the top)
    to one name directly in the folder, and a name is used only for a regular file:
    symlinks are neither followed nor listed. Allowed: list, stat, read, upload (new or
    truncated, never appended or resumed), remove, rename. Anything else:
    permission denied."""

    def __init__(self, server: _Login, *args: Any, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.login = server
        self.endpoint = server.endpoint
        self.partner = server.partner()
        inbox = self.partner.sftp_inbox
        assert inbox is not None
        self.pattern = inbox.pattern
        self.root = self.endpoint.folder(self.partner.id)
        self.ended = False

    def session_started(self) -> None:
        self.login.session_started()

    def session_ended(self) -> None:
        # paramiko calls this before it closes the handles a client left open: from now
        # on a handle's close is a teardown, never a finished upload.
        self.ended = True
        self.login.session_ended()

    def canonicalize(self, path: str) -> str:
        return virtual_path(path)

    def _attributes(self, name: str) -> paramiko.SFTPAttributes | int:
        if name == "":
            return paramiko.SFTPAttributes.from_stat(os.stat(self.root), "/")
        found = _regular(self.root / name)
        if found is None:
            return _NO_SUCH_FILE
        return paramiko.SFTPAttributes.from_stat(found, name)

    def list_folder(self, path: str) -> list[paramiko.SFTPAttributes] | int:
        if resolve_name(path) != "":
            return _NO_SUCH_FILE
        listed = []
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    listed.append(paramiko.SFTPAttributes.from_stat(
                        entry.stat(follow_symlinks=False), entry.name))
        return listed

    def stat(self, path: str) -> paramiko.SFTPAttributes | int:
        name = resolve_name(path)
        return _NO_SUCH_FILE if name is None else self._attributes(name)

    lstat = stat

    def open(self, path: str, flags: int, attr: paramiko.SFTPAttributes
             ) -> paramiko.SFTPHandle | int:
        name = resolve_name(path)
        writing = flags & (os.O_WRONLY | os.O_RDWR)
        if name is None:  # in a subfolder (there is none), or a name that cannot be
            return _DENIED if writing else _NO_SUCH_FILE
        if name == "":
            return _FAILURE  # the folder itself
        if not writing:
            try:
                descriptor = os.open(self.root / name, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError as exc:
                return _errno_status(exc)
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                os.close(descriptor)
                return _NO_SUCH_FILE
            return _Reading(descriptor)
        # An upload is a whole new file: appending or resuming would join bytes of two
        # connections into one message.
        if flags & os.O_APPEND or not flags & os.O_CREAT or not flags & (os.O_TRUNC |
                                                                          os.O_EXCL):
            return _DENIED
        if flags & os.O_EXCL and os.path.lexists(self.root / name):
            return _FAILURE
        staging = self.endpoint.staging(self.partner.id)
        descriptor = os.open(staging, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                             0o600)
        return _Upload(self, name, staging, descriptor)

    def remove(self, path: str) -> int:
        name = resolve_name(path)
        if not name or _regular(self.root / name) is None:
            return _NO_SUCH_FILE
        try:
            (self.root / name).unlink()
        except OSError as exc:
            return _errno_status(exc)
        return _OK

    def rename(self, oldpath: str, newpath: str) -> int:
        # SFTP v3 (draft-ietf-secsh-filexfer-02 §6.5): fails when newpath exists.
        return self._rename(oldpath, newpath, replace=False)

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        return self._rename(oldpath, newpath, replace=True)

    def _rename(self, oldpath: str, newpath: str, *, replace: bool) -> int:
        old, new = resolve_name(oldpath), resolve_name(newpath)
        if not old or _regular(self.root / old) is None:
            return _NO_SUCH_FILE
        if not new:
            return _DENIED
        if old == new:
            return _OK
        source, target = self.root / old, self.root / new
        if not self.endpoint.claim(source):
            return _FAILURE
        try:
            if not self.endpoint.claim(target):
                return _FAILURE
            try:
                if replace:
                    if os.path.lexists(target) and _regular(target) is None:
                        return _DENIED
                    os.replace(source, target)
                else:
                    os.link(source, target)  # fails when target exists, never replaces
                    source.unlink()
                if not fnmatch.fnmatchcase(new, self.pattern):
                    return _OK
                # A RENAME's answer is a code only (paramiko takes no text for it): the
                # reason of a failure is in the log, and ledgered when intake refused.
                return self.endpoint.receive(self.partner, new, self.evidence()).code
            except OSError as exc:
                return _errno_status(exc)
            finally:
                self.endpoint.release(target)
        finally:
            self.endpoint.release(source)

    def evidence(self) -> dict[str, Any]:
        return {"sftp_user": self.partner.sftp_login, "sftp_remote": self.login.remote}

    def mkdir(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        return _DENIED

    def rmdir(self, path: str) -> int:
        return _DENIED

    def chattr(self, path: str, attr: paramiko.SFTPAttributes) -> int:
        return _DENIED

    def symlink(self, target_path: str, path: str) -> int:
        return _DENIED

    def readlink(self, path: str) -> int:
        return _DENIED


class _OpenFile(paramiko.SFTPHandle):
    """A handle on an open file descriptor (``None`` once closed): reads, its attributes
    (under ``name``), no attribute changes."""

    def __init__(self, descriptor: int, name: str | None = None) -> None:
        super().__init__()
        self.descriptor: int | None = descriptor
        self.name = name

    def read(self, offset: int, length: int) -> bytes | int:
        if self.descriptor is None:
            return _FAILURE
        return os.pread(self.descriptor, min(length, 1 << 20), offset)

    def stat(self) -> paramiko.SFTPAttributes | int:
        if self.descriptor is None:
            return _FAILURE
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.descriptor), self.name)

    def chattr(self, attr: paramiko.SFTPAttributes) -> int:
        return _DENIED


class _Reading(_OpenFile):
    """A file of the folder opened for reading (a partner checking what it sent)."""

    def close(self) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None


class _Upload(_OpenFile):
    """An upload, written to a staging file until its CLOSE (``finish``). Closed any
    other way (the session ended under it) it is incomplete, and discarded."""

    name: str

    def __init__(self, folder: _Folder, name: str, staging: Path, descriptor: int) -> None:
        super().__init__(descriptor, name)
        self.folder = folder
        self.staging = staging
        self.too_large = False

    def write(self, offset: int, data: Buffer) -> int:
        if self.descriptor is None:
            return _FAILURE
        limit = self.folder.endpoint.settings.max_body_bytes
        if offset + memoryview(data).nbytes > limit:
            if not self.too_large:
                log.warning("partner %s: SFTP upload of /%s passes %d bytes "
                            "(EDIGATE_MAX_BODY_BYTES): refused", self.folder.partner.id,
                            self.name, limit)
            self.too_large = True
            return _FAILURE
        try:
            os.pwrite(self.descriptor, data, offset)
        except OSError as exc:
            return _errno_status(exc)
        return _OK

    def finish(self) -> _Outcome:
        """The client's CLOSE: the file appears in the folder under its name and, when
        the name matches the pattern, is received; the outcome is the CLOSE's answer."""
        folder, endpoint = self.folder, self.folder.endpoint
        descriptor, self.descriptor = self.descriptor, None
        if descriptor is None:
            return _Outcome(_FAILURE, "closed already", "kept")
        target = folder.root / self.name
        try:
            if not self.too_large:
                os.fsync(descriptor)
        except OSError as exc:
            log.error("partner %s: SFTP upload of /%s cannot be kept: %s", folder.partner.id,
                      self.name, exc)
            self.too_large = True  # discarded below all the same
        finally:
            os.close(descriptor)
        if self.too_large:
            self.staging.unlink(missing_ok=True)
            limit = endpoint.settings.max_body_bytes
            return _Outcome(_FAILURE, f"refused: larger than {limit} bytes", "refused")
        if not endpoint.claim(target):
            self.staging.unlink(missing_ok=True)
            return _Outcome(_FAILURE, "a file of this name is being received; upload it "
                            "again", "kept")
        try:
            os.replace(self.staging, target)
            if not fnmatch.fnmatchcase(self.name, folder.pattern):
                return _Outcome(_OK, "stored; its name does not match the pattern of the "
                                "files received", "kept")
            return endpoint.receive(folder.partner, self.name, folder.evidence())
        except OSError as exc:
            self.staging.unlink(missing_ok=True)
            log.error("partner %s: SFTP upload of /%s cannot be kept: %s", folder.partner.id,
                      self.name, exc)
            return _Outcome(_errno_status(exc), "the file cannot be kept", "kept")
        finally:
            endpoint.release(target)

    def close(self) -> None:
        # Only a teardown gets here (``_Session`` answers the client's CLOSE with
        # ``finish``): the connection ended before the upload was complete.
        descriptor, self.descriptor = self.descriptor, None
        if descriptor is None:
            return
        os.close(descriptor)
        self.staging.unlink(missing_ok=True)
        log.warning("partner %s: SFTP upload of /%s ended without its CLOSE (the "
                    "connection %s ended): discarded", self.folder.partner.id, self.name,
                    self.folder.login.remote)
