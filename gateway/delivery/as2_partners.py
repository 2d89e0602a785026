"""Who is who in AS2: the gateway's own identity and each partner's certificates and
security options, as both the receiving (``gateway.intake.as2``) and the sending half
(``gateway.delivery.as2_sending``) need them.

Responsible for loading the gateway's AS2 identity from the settings, loading and caching
each partner's certificates, matching an AS2-From to a partner, turning a partner's
``[as2]`` profile into what ``gateway.as2`` needs to unwrap (``PartnerSecurity``) or send
(``OutboundPartner``), and the certificate expiry metric. It must not do cryptography
itself (``gateway.as2``), touch the database, nor know about FastAPI.
"""

from __future__ import annotations

import logging

from cryptography import x509

from gateway.as2 import AS2Identity, PartnerSecurity
from gateway.as2.keys import (
    CertificateInfo,
    KeyFileError,
    certificate_info,
    load_certificates,
    load_identity,
)
from gateway.as2.outbound import OutboundPartner
from gateway.runtime.metrics import Metrics
from gateway.runtime.settings import Settings
from partners import PartnerProfile, PartnerRegistry

__all__ = ["EXPIRY_WARNING_DAYS", "AS2Partners", "load_as2_identity"]

log = logging.getLogger("edigate.as2")

EXPIRY_WARNING_DAYS = 30


def load_as2_identity(settings: Settings) -> tuple[AS2Identity | None, str | None]:
    """The gateway's own AS2 identity, or None and the reason AS2 is off (logged)."""
    if not settings.as2_id:
        return None, "EDIGATE_AS2_ID is not set"
    try:
        return load_identity(settings.as2_id, settings.as2_key, settings.as2_cert), None
    except KeyFileError as exc:
        log.error("AS2 is off: %s (run `edigate certs generate`)", exc)
        return None, str(exc)


class AS2Partners:
    """The gateway's AS2 identity (None: AS2 is off) and its partners' security, built
    once per process; building it exports the certificate expiry metric."""

    def __init__(self, settings: Settings, registry: PartnerRegistry, metrics: Metrics,
                 identity: AS2Identity | None) -> None:
        self.settings = settings
        self.registry = registry
        self.metrics = metrics
        self.identity = identity
        self._certificates: dict[str, tuple[x509.Certificate, ...]] = {}
        self.export_certificate_metrics()

    def known_partner(self, as2_from: str) -> PartnerProfile | None:
        """The active partner whose AS2 name is ``as2_from``, if it has an [as2] table."""
        partner = self.registry.by_as2(as2_from) if as2_from else None
        return partner if partner is not None and partner.as2 is not None else None

    def partner_certificates(self, partner: PartnerProfile) -> tuple[x509.Certificate, ...]:
        """The partner's certificates (cached); ``OSError`` or ``KeyFileError`` when a
        file of its profile cannot be read."""
        found = self._certificates.get(partner.id)
        if found is None:
            certificates: list[x509.Certificate] = []
            for path in self.registry.certificate_paths(partner.id):
                certificates += load_certificates(path.read_bytes())
            found = self._certificates[partner.id] = tuple(certificates)
        return found

    def certificates(self) -> dict[str, list[CertificateInfo]]:
        """Every certificate in use: the gateway's own (key ``edigate``) and each partner's."""
        result: dict[str, list[CertificateInfo]] = {}
        if self.identity is not None:
            result["edigate"] = [certificate_info(self.identity.certificate)]
        for partner in self.registry.all():
            if partner.as2 is not None:
                try:
                    result[partner.id] = [certificate_info(c)
                                          for c in self.partner_certificates(partner)]
                except (OSError, KeyFileError) as exc:
                    log.error("certificates of partner %s: %s", partner.id, exc)
        return result

    def export_certificate_metrics(self) -> None:
        """Set the expiry gauge and warn for certificates that end within 30 days."""
        for owner, infos in self.certificates().items():
            for info in infos:
                days = info.days_left()
                self.metrics.certificate_expiry_days.labels(owner, info.sha256[:16]).set(days)
                if days < EXPIRY_WARNING_DAYS:
                    log.warning("certificate %s of %s (%s) expires in %.0f days (%s)",
                                info.sha256[:16], owner, info.subject, days,
                                info.not_after.isoformat())

    def security(self, partner: PartnerProfile) -> PartnerSecurity:
        """What an inbound message from ``partner`` must satisfy."""
        assert partner.as2 is not None
        profile = partner.as2
        return PartnerSecurity(
            as2_id=profile.as2_id, certificates=self.partner_certificates(partner),
            sign=tuple(str(s) for s in profile.sign),
            encrypt=tuple(str(e) for e in profile.encrypt),
            allow_3des=profile.allow_3des, require_signed=profile.signed,
            require_encrypted=profile.encrypted)

    def outbound_partner(self, partner: PartnerProfile) -> OutboundPartner:
        """How to send to ``partner``: its [as2] profile as the sender needs it. Async
        receipts need EDIGATE_PUBLIC_URL; without it the partner is asked for a sync MDN.
        ``ValueError`` (a profile that cannot work), ``OSError`` or ``KeyFileError`` (its
        certificates cannot be read) when no send to it can succeed as configured."""
        profile = partner.as2
        assert profile is not None
        mode = profile.mdn.mode
        if mode == "async" and not self.settings.public_url:
            mode = "sync"
        return OutboundPartner(
            as2_id=profile.as2_id, url=profile.url or "",
            certificates=self.partner_certificates(partner),
            sign=str(profile.sign[0]) if profile.signed else None,
            encrypt=str(profile.encrypt[0]) if profile.encrypted else None,
            compress=profile.compress, compress_before_signing=profile.compress_before_signing,
            transfer_encoding=profile.transfer_encoding, mdn_mode=mode,
            mdn_signed=profile.mdn.signed, micalg=str(profile.mdn.micalg))

    @property
    def async_mdn_url(self) -> str | None:
        """Where partners post asynchronous MDNs for what edigate sends."""
        url = self.settings.public_url
        return url.rstrip("/") + "/as2" if url else None
