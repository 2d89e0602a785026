"""The composition root: the gateway's long-lived objects, built once from ``Settings``.

``GatewayState.build`` is the one place that decides how the parts fit: which intake writer
runs (a thread, or a child process), whether processing sends acknowledgments over AS2,
which ledger every part appends to. Every other module gets its dependencies passed in and
imports none of the modules that use it, so the import graph has no cycle (a test walks it)
and nothing is patched onto an object after it was built. The FastAPI app, the worker
processes and the CLI all use this construction; the intake writer's child process builds
its smaller graph with ``build_ledger`` (``gateway.runtime.intake_child``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from gateway.api.api_keys import KeyCache
from gateway.delivery.as2_partners import AS2Partners, load_as2_identity
from gateway.delivery.as2_sending import AS2Deliverer, AS2Outbox
from gateway.delivery.brokers import BrokerDeliverer, BrokerTarget, broker_targets
from gateway.delivery.https_sending import HTTPSDeliverer, HTTPSOutbox
from gateway.delivery.sftp_sending import AckTransports, SFTPDeliverer, SFTPOutbox
from gateway.delivery.webhooks import Deliverer
from gateway.intake.activity import IntakeActivity
from gateway.intake.as2 import AS2Receiver
from gateway.intake.group_commit import IntakeWriter
from gateway.intake.pipeline import IntakeCounter, Pipeline
from gateway.intake.sftp import SFTPPoller
from gateway.intake.sftp_server import SFTPEndpoint, load_host_key
from gateway.intake.writer_process import IntakeProcess
from gateway.ledger.anchor import AnchorWriter, anchor_path
from gateway.ledger.chain import Ledger, LedgerSigner
from gateway.processing.outbound import OutboundService
from gateway.processing.processor import Processor
from gateway.processing.reconcile import sent_document_counts
from gateway.runtime.child_process import child_setup
from gateway.runtime.metrics import Metrics
from gateway.runtime.settings import Settings
from gateway.store.db import Database
from partners import PartnerRegistry

__all__ = ["INTAKE_CHILD", "GatewayState", "build_ledger"]

# The intake writer's child process: ``serve`` on the channel given as the last argument.
# -P: no working directory on sys.path (see gateway.runtime.workers).
INTAKE_CHILD = [sys.executable, "-P", "-m", "gateway.runtime.intake_child"]


def build_ledger(settings: Settings, db: Database) -> tuple[LedgerSigner, Ledger]:
    """The signing key and the ledger every part of one process appends to, with the
    anchor file kept up to date for it."""
    signer = LedgerSigner.load_or_create(settings.ledger_key_path)
    ledger = Ledger(signer, settings.ledger_checkpoint_every, anchor=AnchorWriter(
        anchor_path(settings.var_dir), signer, db, settings.ledger_anchor_seconds))
    return signer, ledger


def _intake_writer(settings: Settings, db: Database, ledger: Ledger,
                   counter: IntakeCounter) -> IntakeWriter | IntakeProcess:
    """The group-commit writer: a child process when the settings ask for one (an
    in-memory database cannot be shared with another process), else a thread."""
    if settings.intake_writer == "process" and not db.is_memory:
        return IntakeProcess(settings, command=INTAKE_CHILD, preexec=lambda: child_setup(0),
                             on_stored=counter.stored, on_batch=counter.batched)
    return IntakeWriter(db, ledger, on_stored=counter.stored, on_batch=counter.batched)


@dataclass
class GatewayState:
    settings: Settings
    db: Database
    registry: PartnerRegistry
    signer: LedgerSigner
    ledger: Ledger
    pipeline: Pipeline
    metrics: Metrics
    outbound: OutboundService
    https: HTTPSOutbox
    sftp: SFTPOutbox
    keys: KeyCache = field(default_factory=KeyCache)
    as2: AS2Receiver | None = None
    # The message brokers events are published to (none configured: none).
    brokers: tuple[BrokerTarget, ...] = ()

    @classmethod
    def build(cls, settings: Settings, *, lease: timedelta | None = None) -> GatewayState:
        # Checked before anything starts: a broker setting that cannot work stops the
        # process with the variable named, rather than events queueing for nobody.
        brokers = broker_targets(settings)
        db = Database(settings.database_url,
                      broker_routes=[target.route for target in brokers])
        registry = PartnerRegistry.load(settings.partners_dir)
        signer, ledger = build_ledger(settings, db)
        metrics = Metrics()
        identity, as2_problem = load_as2_identity(settings)
        as2_partners = AS2Partners(settings, registry, metrics, identity)
        outbox = AS2Outbox(settings, db, ledger, as2_partners)
        counter = IntakeCounter(metrics, IntakeActivity(settings.var_dir / "intake.activity"))
        # Partners' SFTP passwords and key passphrases: read from the environment at each
        # connection, by the variable names their profiles give.
        sftp = SFTPOutbox(settings, db, ledger, registry, os.environ)
        # Acknowledgments go back over AS2 (with an AS2 identity) or SFTP, by the profile.
        processor = Processor(settings, db, registry, ledger, metrics,
                              lease or timedelta(seconds=settings.lease_seconds),
                              outbound=AckTransports(outbox if identity is not None else None,
                                                     sftp))
        pipeline = Pipeline(settings, db, registry, ledger,
                            intake=_intake_writer(settings, db, ledger, counter),
                            processor=processor, counter=counter)
        as2 = AS2Receiver(settings, db, ledger, pipeline, metrics, partners=as2_partners,
                          outbox=outbox, problem=as2_problem)
        # Partners' HTTPS secrets are read from the environment at each attempt, by the
        # variable names their profiles give (never EDIGATE_* settings).
        https = HTTPSOutbox(settings, db, ledger, registry, os.environ)
        outbound = OutboundService(db, settings, registry, ledger,
                                   outbox if identity is not None else None, https, sftp)
        metrics.watch("edigate_sent_documents", "Documents sent to partners by partner and "
                      "acknowledgment state (pending, overdue, rejected, ...)",
                      ["partner", "ack_status"], lambda: sent_document_counts(db))
        return cls(settings, db, registry, signer, ledger, pipeline, metrics, as2=as2,
                   outbound=outbound, https=https, sftp=sftp,
                   keys=KeyCache.watching(settings.var_dir, db.url), brokers=brokers)

    def webhook_deliverer(self, **kwargs: Any) -> Deliverer:
        """The outbox worker of webhook deliveries, on this state's database, ledger and
        settings."""
        return Deliverer(self.db, self.ledger, self.settings, **kwargs)

    def as2_deliverer(self, **kwargs: Any) -> AS2Deliverer | None:
        """The outbox worker of AS2 sends and async MDNs; None while AS2 is off."""
        if self.as2 is None or self.as2.identity is None:
            return None
        return AS2Deliverer(self.as2.outbox, **kwargs)

    def https_deliverer(self, **kwargs: Any) -> HTTPSDeliverer:
        """The outbox worker of HTTPS transfers."""
        return HTTPSDeliverer(self.https, **kwargs)

    def sftp_deliverer(self, **kwargs: Any) -> SFTPDeliverer:
        """The outbox worker of SFTP uploads."""
        return SFTPDeliverer(self.sftp, **kwargs)

    def sftp_poller(self, **kwargs: Any) -> SFTPPoller:
        """The poller of partners' SFTP inbound paths, storing through this state's
        intake pipeline."""
        return SFTPPoller(self.settings, self.pipeline, self.sftp.secrets, **kwargs)

    def sftp_endpoint(self) -> SFTPEndpoint | None:
        """edigate's own SFTP server for partners with ``[sftp_inbox]`` (receiving through
        this state's intake pipeline), its host key created if missing; None when
        ``EDIGATE_SFTP_LISTEN`` is unset."""
        if self.settings.sftp_listen is None:
            return None
        return SFTPEndpoint(self.settings, self.pipeline,
                            load_host_key(self.settings.sftp_host_key_path))

    def broker_deliverers(self, **kwargs: Any) -> list[BrokerDeliverer]:
        """The outbox workers of broker deliveries, one per configured broker."""
        return [BrokerDeliverer(target, self.db, self.ledger, self.settings, **kwargs)
                for target in self.brokers]

    def close(self) -> None:
        self.pipeline.close()
        self.keys.close()
        self.ledger.close(self.db)  # after intake's last batch: signs and anchors the head
        self.db.dispose()
