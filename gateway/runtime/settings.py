"""The gateway's settings: the one place that reads ``EDIGATE_*`` environment variables.

Everything else receives a ``Settings`` object (FastAPI dependency, CLI argument). Secrets
(the ledger signing key) are file paths, never values in the repository. A setting that
may carry a credential (a broker URL with a password) is a ``SecretStr``: its repr and a
validation error show asterisks, and only ``to_env`` (for the gateway's own child
processes) and the code that connects read it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from partners.profile import RETENTION_KEYS

__all__ = ["Settings"]

_PREFIX = "EDIGATE_"
# Settings renamed: the earlier environment name, read when the new one is not set.
_EARLIER_NAMES = {
    "outbox_backoff_seconds": "webhook_backoff_seconds",
    "outbox_max_attempts": "webhook_max_attempts",
}


class Settings(BaseModel):
    """Gateway configuration; ``Settings.from_env()`` builds it from the environment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = "sqlite:///./var/edigate.db"
    partners_dir: Path = Path("./partners")
    var_dir: Path = Path("./var")
    # The gateway's own interchange identities, "qualifier:id".
    x12_id: str = "ZZ:EDIGATE"
    edifact_id: str = "ZZ:EDIGATE"
    max_body_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    # AS2 (RFC 4130): the gateway's AS2 name, and its RSA key and certificate (PEM files,
    # never in the repository: `edigate certs generate` creates them). No id: no AS2.
    as2_id: str | None = None
    as2_key: Path = Path("./var/as2/key.pem")
    as2_cert: Path = Path("./var/as2/cert.pem")
    # Where partners reach this gateway (async MDNs for what edigate sends go to
    # <public_url>/as2); None: ask partners for synchronous MDNs only.
    public_url: str | None = None
    # Ed25519 private key (PEM) that signs ledger checkpoints; created on first use when absent.
    ledger_key_path: Path = Path("./var/ledger-ed25519.pem")
    ledger_checkpoint_every: int = Field(default=100, gt=0)
    # A worker's claim on a message; after it expires (the worker died) another resumes it.
    lease_seconds: float = Field(default=60.0, gt=0)
    # Workers that process messages beside the web process: child processes (default; they
    # use every core and keep CPU-bound translation away from intake) or threads.
    workers: int = Field(default=1, ge=0)
    worker_mode: Literal["process", "thread"] = "process"
    # Where intake's group commits run: a thread of the web process, or a child process
    # of its own (gateway.intake.writer_process) so that building and writing a batch does not
    # take the GIL from the event loop. `edigate serve` uses "process" unless
    # EDIGATE_INTAKE_WRITER says otherwise; tests and the CLI keep the thread.
    intake_writer: Literal["thread", "process"] = "thread"
    # Nice increment of worker processes: intake (the web process) goes first under load.
    # 10, not 19: at 19 PostgreSQL intake beside a busy worker gained but SQLite intake
    # lost more (a worker preempted while it holds the database's write lock stalls every
    # intake batch behind it); see bench/README.md, intake, fourth round.
    worker_nice: int = Field(default=10, ge=0, le=19)
    # Messages a worker claims and finishes together (one transaction each way, one
    # ledger head lock): larger batches cost less per message under a backlog; a message
    # waits at most for the others of its batch to be translated.
    worker_batch: int = Field(default=16, ge=1, le=500)
    # Intake first (gateway.intake.activity): while intake on this host is busy, workers wait,
    # for at most this long before they work off the backlog regardless; 0: never wait.
    worker_defer_seconds: float = Field(default=5.0, ge=0)
    # The outbox (gateway.delivery.outbox: webhook deliveries, AS2 sends, async MDNs), one
    # policy for all: a failed try is retried after base, 2 base, 4 base, ... seconds, at
    # most cap apart; after outbox_max_attempts tries the item is given up (a webhook
    # delivery dead, retryable by an operator; an AS2 send or MDN failed). The defaults
    # keep trying for about four hours. EDIGATE_WEBHOOK_BACKOFF_SECONDS and
    # EDIGATE_WEBHOOK_MAX_ATTEMPTS, their earlier names, are still read.
    outbox_backoff_seconds: float = Field(default=30.0, gt=0)
    outbox_backoff_cap_seconds: float = Field(default=6 * 3600.0, gt=0)
    outbox_max_attempts: int = Field(default=10, ge=1)
    worker_id: str = Field(default_factory=lambda: f"{os.uname().nodename}-{os.getpid()}")
    # /metrics: unset, the API serves it to ops keys (viewer or above); "host:port" (e.g.
    # "127.0.0.1:9100"), `edigate serve` serves it there without a key, on a listener of
    # its own, and the API's /metrics is 404.
    metrics_bind: str | None = None
    # /readyz fails while the SQLite database's filesystem has less free space than this.
    readyz_min_free_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # Request body bytes being received at once, in total and per partner (per AS2-From
    # or API key): a request that would go past either answers 503 before its body is read.
    max_inflight_bytes: int = Field(default=256 * 1024 * 1024, gt=0)
    max_inflight_bytes_per_partner: int = Field(default=64 * 1024 * 1024, gt=0)
    # The log lets the same message (logger and template) through this many times per
    # interval, then says how many it suppressed (an outage must not fill the disk).
    log_repeat_limit: int = Field(default=10, ge=1)
    log_repeat_seconds: float = Field(default=60.0, gt=0)
    # POST /as2 bodies whose AS2-From names no trading partner are refused (413) past this
    # many bytes, before more is read; known partners have max_body_bytes.
    as2_unknown_max_bytes: int = Field(default=64 * 1024, gt=0)
    # Outbound HTTP (gateway.delivery.egress: webhooks, AS2 sends, async MDNs). Destinations in
    # loopback, link-local, private (RFC 1918, ULA, CGNAT) and other special-purpose ranges
    # are refused unless let through here: a comma list of CIDRs and/or the words
    # loopback, private, link-local.
    egress_allow: str = ""
    # The whole of one outbound attempt (resolve, connect, send, every read) ends after this.
    egress_deadline_seconds: float = Field(default=30.0, gt=0)
    # Outbound attempts in flight per process, and to any one (scheme, host, port): a
    # destination that hangs holds at most egress_per_destination of the pool's threads.
    egress_pool_size: int = Field(default=8, ge=1, le=256)
    egress_per_destination: int = Field(default=2, ge=1)
    # The ledger's newest signed head is written to <var_dir>/ledger-anchor.json at most
    # this often (and at shutdown) by each process that appended: entries newer than the
    # anchor are not yet protected against someone who can rewrite the database.
    ledger_anchor_seconds: float = Field(default=1.0, gt=0)
    # Message brokers that internal systems consume events from (gateway.delivery.brokers):
    # every row of the events table goes, through the one outbox, to each broker
    # configured here whose event filter takes its type. No URL: that broker is off.
    # AMQP (RabbitMQ): amqp[s]://user:password@host:port/vhost; a durable topic exchange,
    # routing key = event type.
    amqp_url: SecretStr | None = None
    amqp_exchange: str = "edigate.events"
    # A comma list of event types this broker gets; empty: every event type.
    amqp_events: str = ""
    # NATS JetStream: nats://[user:password@]host:port (or tls://); subject
    # <prefix>.<event type> in the stream named here, created over <prefix>.> if missing.
    nats_url: SecretStr | None = None
    nats_subject_prefix: str = "edigate.events"
    nats_stream: str = "EDIGATE_EVENTS"
    nats_events: str = ""
    # Retention (gateway.retention): days to keep messages after they were received, per
    # record kind, final status or "default", as a comma list such as
    # "invoice=2555,functional_ack=90,rejected=30"; a partner's [retention] table
    # overrides it key by key. Empty, and no partner with a table: nothing is purged.
    retention: str = ""
    # Where archives are written before a purge; unset: <var_dir>/archive.
    retention_archive_dir: Path | None = None
    # Messages archived and purged per transaction: each batch commits on its own, so
    # intake waits for one batch at most.
    retention_batch: int = Field(default=1000, ge=1, le=10000)
    # edigate's own SFTP server for partners that push files ([sftp_inbox] in their
    # profiles; gateway.intake.sftp_server): "host:port" to listen on (e.g.
    # "127.0.0.1:2222"); unset, no server runs. `edigate serve` runs it in the web
    # process, beside intake's writer.
    sftp_listen: str | None = None
    # The server's private host key (OpenSSH or PEM); created (ECDSA P-256, mode 0600)
    # on first start when absent. Unset: <var_dir>/sftp/host_key.
    sftp_host_key: Path | None = None
    # Partners' folders (<spool>/<partner id>/, each partner's whole view) and the
    # server's own working folders. Unset: <var_dir>/sftp/spool.
    sftp_spool_dir: Path | None = None
    # Connections served at once; one more is closed at once (logged).
    sftp_max_connections: int = Field(default=16, ge=1, le=1000)
    # A connection that has not logged in and opened its SFTP session this long after
    # connecting is closed, and so is a session idle this long.
    sftp_login_seconds: float = Field(default=30.0, gt=0)
    sftp_idle_seconds: float = Field(default=300.0, gt=0)

    @field_validator("sftp_listen")
    @classmethod
    def _listen_address(cls, value: str | None) -> str | None:
        if value is not None:
            _host_port(value)
        return value

    @field_validator("retention")
    @classmethod
    def _retention_list(cls, value: str) -> str:
        _retention_days(value)
        return value

    @property
    def retention_days(self) -> dict[str, int]:
        """``retention`` as days by key."""
        return _retention_days(self.retention)

    @property
    def archive_dir(self) -> Path:
        return self.retention_archive_dir or self.var_dir / "archive"

    @property
    def sftp_address(self) -> tuple[str, int] | None:
        """``sftp_listen`` as (host, port), or None when the SFTP server is off."""
        return None if self.sftp_listen is None else _host_port(self.sftp_listen)

    @property
    def sftp_host_key_path(self) -> Path:
        return self.sftp_host_key or self.var_dir / "sftp" / "host_key"

    @property
    def sftp_spool_path(self) -> Path:
        return self.sftp_spool_dir or self.var_dir / "sftp" / "spool"

    @property
    def x12_qualifier(self) -> str:
        return self.x12_id.split(":", 1)[0] if ":" in self.x12_id else "ZZ"

    @property
    def x12_sender_id(self) -> str:
        return self.x12_id.split(":", 1)[-1]

    def to_env(self, exclude: set[str] | frozenset[str] = frozenset()) -> dict[str, str]:
        """``EDIGATE_*`` variables that ``from_env`` reads back into these settings."""
        return {_PREFIX + name.upper(): (value.get_secret_value()
                                         if isinstance(value, SecretStr) else str(value))
                for name, value in self.model_dump().items()
                if name not in exclude and value is not None}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``EDIGATE_<FIELD>`` variables (e.g. ``EDIGATE_DATABASE_URL``)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            for key in (_PREFIX + name.upper(),
                        _PREFIX + _EARLIER_NAMES.get(name, name).upper()):
                if key in env:
                    values[name] = env[key]
                    break
        values.update(overrides)
        return cls.model_validate(values)


def _retention_days(text: str) -> dict[str, int]:
    """The days by key of an EDIGATE_RETENTION value; ValueError naming the bad item."""
    days: dict[str, int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, number = (side.strip() for side in item.partition("="))
        if not sep or not number.isdigit() or not 1 <= int(number) <= 36500:
            raise ValueError(f"{item!r}: each item must be key=days, days 1 to 36500")
        if key not in RETENTION_KEYS:
            raise ValueError(f"{key!r} is no record kind, final status or 'default' "
                             f"(known: {', '.join(sorted(RETENTION_KEYS))})")
        if key in days:
            raise ValueError(f"{key!r} is given twice")
        days[key] = int(number)
    return days


def _host_port(text: str) -> tuple[str, int]:
    """``host:port`` (an IPv6 address in brackets: ``[::1]:2222``); port 0 lets the
    system choose (tests)."""
    host, sep, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]") if host.startswith("[") else host
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{text!r} must be host:port, e.g. 127.0.0.1:2222 or [::1]:2222")
    return host, int(port)
