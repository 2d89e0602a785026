"""The gateway's long-lived objects, built once from ``Settings``.

``GatewayState`` owns the database, the partner registry, the ledger and the pipeline;
the FastAPI app, the background worker and the CLI all use the same construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from gateway.api.api_keys import KeyCache
from gateway.delivery.as2_service import AS2Service
from gateway.intake.pipeline import Pipeline
from gateway.ledger.anchor import AnchorWriter, anchor_path
from gateway.ledger.chain import Ledger, LedgerSigner
from gateway.runtime.metrics import Metrics
from gateway.runtime.settings import Settings
from gateway.store.db import Database
from partners import PartnerRegistry

__all__ = ["GatewayState"]


@dataclass
class GatewayState:
    settings: Settings
    db: Database
    registry: PartnerRegistry
    signer: LedgerSigner
    ledger: Ledger
    pipeline: Pipeline
    metrics: Metrics
    keys: KeyCache = field(default_factory=KeyCache)
    as2: AS2Service | None = None

    @classmethod
    def build(cls, settings: Settings, *, lease: timedelta | None = None) -> GatewayState:
        db = Database(settings.database_url)
        registry = PartnerRegistry.load(settings.partners_dir)
        signer = LedgerSigner.load_or_create(settings.ledger_key_path)
        ledger = Ledger(signer, settings.ledger_checkpoint_every, anchor=AnchorWriter(
            anchor_path(settings.var_dir), signer, db, settings.ledger_anchor_seconds))
        metrics = Metrics()
        pipeline = Pipeline(settings, db, registry, ledger,
                            lease=lease or timedelta(seconds=settings.lease_seconds),
                            metrics=metrics)
        as2 = AS2Service(settings, db, registry, ledger, pipeline, metrics)
        if as2.identity is not None:
            pipeline.outbound = as2
        return cls(settings, db, registry, signer, ledger, pipeline, metrics, as2=as2,
                   keys=KeyCache.watching(settings.var_dir, db.url))

    def close(self) -> None:
        self.pipeline.close()
        self.keys.close()
        self.ledger.close(self.db)  # after intake's last batch: signs and anchors the head
        self.db.dispose()
