"""A real OpenSSH server for the SFTP transport tests: Debian's ``sshd`` started on a
free loopback port as the current user, with its own host key, a generated client key as
its only authorized key, and the internal SFTP server. Skipped, saying so, when
``/usr/sbin/sshd`` is not installed (``.ci/run`` installs ``openssh-server``).

``Cutting`` is a TCP relay in front of it that drops a connection after a number of bytes
sent to the server: a server (or network) that goes away in the middle of a transfer.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paramiko
import pytest

from gateway.delivery.sftp_client import fingerprint

SSHD = Path("/usr/sbin/sshd")


@dataclass
class SSHServer:
    port: int
    user: str
    root: Path          # where the tests' remote directories are (local files)
    key_file: Path      # the client's private key (authorized on the server)
    host_key: str       # SHA256 fingerprint of the server's host key
    process: subprocess.Popen[bytes]

    def path(self, remote: str) -> Path:
        """The local file behind a remote path (the server runs unchrooted on this host:
        the same path)."""
        return Path(remote)

    def remote(self, name: str) -> str:
        """The remote (absolute) path of ``root / name``."""
        return str(self.root / name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    if not SSHD.exists() or shutil.which("ssh-keygen") is None:
        pytest.skip("/usr/sbin/sshd is not installed (apt-get install openssh-server): "
                    "the SFTP transport tests need a real OpenSSH server")
    base = tmp_path_factory.mktemp("sshd")
    if os.geteuid() == 0:
        # sshd started by root checks its privilege separation directory exists.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    host, client = base / "host_ed25519", base / "client_ed25519"
    _keygen(host)
    _keygen(client)
    (base / "authorized_keys").write_text((base / "client_ed25519.pub").read_text())
    root = base / "files"
    root.mkdir()
    port = _free_port()
    config = base / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {host}
PidFile {base / 'sshd.pid'}
AuthorizedKeysFile {base / 'authorized_keys'}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
LogLevel ERROR
""")
    process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)],
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"sshd did not start on port {port} (exit {process.poll()})")
            time.sleep(0.05)
    host_key = fingerprint(paramiko.PKey.from_path(str(host)))
    yield SSHServer(port, getpass.getuser(), root, client, host_key, process)
    process.terminate()
    process.wait(timeout=10)


@dataclass
class Cutting:
    """A loopback relay to ``target``; the connections listed in ``cut_after`` (by their
    order, from 0) are dropped once that many bytes went towards the server."""

    target: int
    cut_after: dict[int, int] = field(default_factory=dict)
    port: int = 0
    connections: int = 0
    cut: int = 0

    def start(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                downstream, _ = self.server.accept()
            except OSError:
                return
            limit = self.cut_after.get(self.connections)
            self.connections += 1
            upstream = socket.create_connection(("127.0.0.1", self.target))
            both = (downstream, upstream)
            threading.Thread(target=self._pipe, args=(downstream, upstream, limit, both),
                             daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, downstream, None, both),
                             daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, limit: int | None,
              both: tuple[socket.socket, socket.socket]) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                if limit is not None and sent + len(data) > limit:
                    self.cut += 1
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in both:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def cutting(sshd: SSHServer) -> Iterator[Cutting]:
    relay = Cutting(sshd.port)
    relay.start()
    yield relay
    relay.close()
