"""SSH/SFTP connections to partners' servers, for both halves of the SFTP transport.

Responsible for opening one SFTP session to the server of a partner's ``[sftp]`` profile
(``open_sftp``): the address judged by the egress policy (the same allowed destinations
as every outbound HTTP connection), the server's host key checked against the profile's
SHA256 fingerprint before any credential is sent, the login by key file, SSH agent or
password, and one deadline over the whole session (a timer closes the connection when it
passes, so a server that trickles cannot outlive an outbox lease). It must not decide
what to transfer (``gateway.delivery.sftp_sending`` uploads, ``gateway.intake.sftp``
polls), nor read ``os.environ`` itself: secrets come in a mapping from the composition
root and exist only in paramiko's calls, never in an error text.

Host keys are never learnt: paramiko's own known-hosts handling is not used at all, the
key the server offers is compared with the one fingerprint the reviewed profile names,
and a mismatch ends the connection (``HostKeyMismatch``, final: only a reviewed profile
change can make it succeed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import paramiko

from gateway.delivery.egress import EgressPolicy
from partners.profile import SFTPProfile

__all__ = ["HostKeyMismatch", "SFTPUnusable", "fingerprint", "open_sftp"]


class SFTPUnusable(Exception):
    """The partner's configuration cannot make this connection (a missing key file or
    secret, credentials the server refuses): retrying cannot help until an operator
    changes something. The message is one located line without any secret."""


class HostKeyMismatch(SFTPUnusable):
    """The server presented a host key other than the profile's ``host_key``."""


def fingerprint(key: paramiko.PKey) -> str:
    """The key's SHA256 fingerprint as OpenSSH prints it (unpadded base64)."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def _where(partner_id: str, profile: SFTPProfile) -> str:
    return f"partner {partner_id}: [sftp] {profile.user}@{profile.host}:{profile.port}"


@contextmanager
def open_sftp(partner_id: str, profile: SFTPProfile, secrets: Mapping[str, str],
              policy: EgressPolicy, deadline_seconds: float) -> Iterator[paramiko.SFTPClient]:
    """One SFTP session to the partner's server, closed on leaving the block.

    Raises ``EgressRefused`` (the policy refuses the address), ``SFTPUnusable`` /
    ``HostKeyMismatch`` (final), or ``OSError`` / ``paramiko.SSHException`` for what the
    network and the server do (worth another try). Every blocking step ends by the
    deadline: each socket read by its own timeout, the whole session by a timer that
    closes it.
    """
    ends = time.monotonic() + deadline_seconds
    addresses = policy.resolve(profile.host, profile.port, deadline=ends)
    family, sockaddr = addresses[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    transport: paramiko.Transport | None = None
    timer: threading.Timer | None = None
    try:
        sock.settimeout(max(ends - time.monotonic(), 0.1))
        sock.connect(sockaddr)
        transport = paramiko.Transport(sock)
        timer = threading.Timer(max(ends - time.monotonic(), 0.1), transport.close)
        timer.daemon = True
        timer.start()
        transport.banner_timeout = deadline_seconds
        transport.auth_timeout = deadline_seconds
        transport.start_client(timeout=max(ends - time.monotonic(), 0.1))
        key = transport.get_remote_server_key()
        offered = fingerprint(key)
        if not hmac.compare_digest(offered, profile.host_key):
            raise HostKeyMismatch(
                f"{_where(partner_id, profile)}: the server's host key is {key.get_name()} "
                f"{offered}, not host_key {profile.host_key}: refused (an unknown or changed "
                "host key is never accepted; if the partner changed its key, check the new "
                "fingerprint with them and change the profile)")
        _log_in(transport, partner_id, profile, secrets)
        client = paramiko.SFTPClient.from_transport(transport)
        if client is None:
            raise paramiko.SSHException("the server opened no SFTP subsystem")
        channel = client.get_channel()
        if channel is not None:
            channel.settimeout(max(deadline_seconds, 0.1))
        try:
            yield client
        finally:
            client.close()
    finally:
        if timer is not None:
            timer.cancel()
        if transport is not None:
            transport.close()
        sock.close()


def _log_in(transport: paramiko.Transport, partner_id: str, profile: SFTPProfile,
            secrets: Mapping[str, str]) -> None:
    where = _where(partner_id, profile)
    try:
        if profile.auth == "password":
            assert profile.password_env is not None  # SFTPProfile requires it
            password = secrets.get(profile.password_env) or ""
            if not password:
                raise SFTPUnusable(f"{where}: password_env: the environment variable "
                                   f"{profile.password_env} is not set or empty")
            transport.auth_password(profile.user, password)
            return
        if profile.auth == "key":
            transport.auth_publickey(profile.user, _key_file(where, profile, secrets))
            return
        keys = paramiko.Agent().get_keys()
        if not keys:
            raise SFTPUnusable(f'{where}: auth = "agent" but no SSH agent key is available '
                               "(SSH_AUTH_SOCK)")
        for agent_key in keys:
            try:
                transport.auth_publickey(profile.user, agent_key)
                return
            except paramiko.AuthenticationException:
                continue
        raise paramiko.AuthenticationException("no agent key was accepted")
    except paramiko.BadAuthenticationType as exc:
        raise SFTPUnusable(f"{where}: the server does not take {profile.auth} logins (it "
                           f"allows: {', '.join(exc.allowed_types)})") from None
    except paramiko.AuthenticationException:
        raise SFTPUnusable(f"{where}: the server refused the {profile.auth} login") from None


def _key_file(where: str, profile: SFTPProfile, secrets: Mapping[str, str]) -> paramiko.PKey:
    assert profile.key_file is not None  # SFTPProfile requires it with auth = "key"
    passphrase = secrets.get(profile.passphrase_env) if profile.passphrase_env else None
    try:
        return paramiko.PKey.from_path(profile.key_file, password=passphrase or None)
    except FileNotFoundError:
        raise SFTPUnusable(f"{where}: key_file {profile.key_file} does not exist") from None
    except paramiko.PasswordRequiredException:
        raise SFTPUnusable(f"{where}: key_file {profile.key_file} is encrypted: name the "
                           "variable holding its passphrase in passphrase_env") from None
    except (OSError, ValueError, paramiko.SSHException) as exc:
        # The exception's text may quote the file's content: only its type is kept.
        raise SFTPUnusable(f"{where}: key_file {profile.key_file} cannot be read as a "
                           f"private key ({type(exc).__name__})") from None
