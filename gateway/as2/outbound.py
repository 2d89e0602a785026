"""One outbound AS2 send attempt (RFC 4130 §7): wrap, POST, read and judge the receipt.

:class:`AS2Sender` turns a payload into an AS2 message for one partner, posts it once and
classifies the outcome as a :class:`SendResult`: ``delivered`` (a trustworthy receipt, or
no receipt asked for), ``awaiting-mdn`` (an asynchronous receipt will come to our URL; feed
it to :meth:`AS2Sender.check_async_mdn`), ``failed`` (the partner refused the message or
sent a receipt we cannot trust: sending the same bytes again will not help) or ``retry``
(the network, a timeout or an HTTP 5xx/429: the caller may try again later).

Receipts are judged strictly: a signed receipt must verify against one of the partner's
certificates, an unsigned one is a failure when a signed one was requested, and the
Received-Content-MIC must equal the MIC of what was sent (a missing MIC is tolerated only
for unsigned messages, for which RFC 4130 §7.3.1 implementations disagree and e.g. pyas2lib
sends none).

It must not: retry, sleep, persist or log anything (the caller owns the queue and the
ledger); raise on anything the partner or the network does — every such outcome is a
result. It raises ValueError only for our own configuration (an unknown algorithm name, a
missing certificate or async URL). HTTP goes through ``gateway.delivery.egress.Egress``, the seam
tests and callers can replace: a partner URL the egress policy refuses (loopback, private,
link-local addresses unless allowed) is ``failed``, since sending again gets the same
answer; its deadline bounds the whole attempt, connect, send and every read together.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from cryptography import x509

from gateway.as2 import cms, mime
from gateway.as2.cms import ContentCipher, DigestAlgorithm
from gateway.as2.mdn import MDNParseError, MDNResult, parse_mdn
from gateway.as2.message import (
    MIC,
    AS2Identity,
    MDNRequest,
    OutboundAS2,
    parse_as2_name,
    wrap,
)
from gateway.delivery.egress import Egress, EgressPolicy, EgressRefused

__all__ = [
    "AS2Sender",
    "MDNMode",
    "OutboundPartner",
    "SendResult",
    "SendStatus",
    "mdn_original_message_id",
]

SendStatus = Literal["delivered", "awaiting-mdn", "failed", "retry"]
MDNMode = Literal["sync", "async", "none"]
TransferEncoding = Literal["binary", "base64"]

MAX_RESPONSE_BYTES = 1 << 20
"""A synchronous MDN is a few kilobytes; a response larger than this is not one."""

_RETRY_STATUSES = frozenset({408, 425, 429})
"""4xx answers that say "not now" rather than "never" (RFC 9110 §15.5.9, RFC 8470, RFC 6585)."""


@dataclass(frozen=True)
class OutboundPartner:
    """How to send to one partner, filled by the caller from the partner's profile.

    ``certificates``: the first is the one we encrypt to; any of them may sign receipts (a
    rollover lists old and new). ``sign``: digest name (``sha256``/``sha-256``...) or None.
    ``encrypt``: cipher name (``aes256-cbc``, ``aes128-gcm``, ``3des``...) or None.
    ``micalg``: the MIC algorithm to request for a signed receipt; None asks for the
    signature's digest (or sha256 for unsigned messages) — the choice that also suits peers,
    like pyas2lib, that answer with the signature's digest whatever was requested.
    """

    as2_id: str
    url: str
    certificates: tuple[x509.Certificate, ...]
    sign: str | None = "sha256"
    encrypt: str | None = "aes256-cbc"
    compress: bool = False
    compress_before_signing: bool = True
    transfer_encoding: TransferEncoding = "binary"
    mdn_mode: MDNMode = "sync"
    mdn_signed: bool = True
    micalg: str | None = None

    def __post_init__(self) -> None:
        if self.sign is not None and DigestAlgorithm.from_name(self.sign) is None:
            raise ValueError(f"partner {self.as2_id}: unknown signature digest {self.sign!r}")
        if self.encrypt is not None:
            if ContentCipher.from_name(self.encrypt) is None:
                raise ValueError(f"partner {self.as2_id}: unknown cipher {self.encrypt!r}")
            if not self.certificates:
                raise ValueError(f"partner {self.as2_id}: encryption needs a certificate")
        if self.micalg is not None and DigestAlgorithm.from_name(self.micalg) is None:
            raise ValueError(f"partner {self.as2_id}: unknown MIC algorithm {self.micalg!r}")
        if self.transfer_encoding not in ("binary", "base64"):
            raise ValueError(f"partner {self.as2_id}: transfer encoding must be binary or base64")
        if self.mdn_mode not in ("sync", "async", "none"):
            raise ValueError(f"partner {self.as2_id}: MDN mode must be sync, async or none")
        if not self.url.lower().startswith(("http://", "https://")):
            raise ValueError(f"partner {self.as2_id}: URL {self.url!r} is not http(s)")

    @property
    def requested_micalg(self) -> str:
        """The MIC algorithm asked for in ``signed-receipt-micalg``, as it is spelled."""
        return self.micalg or self.sign or DigestAlgorithm.SHA256.value


@dataclass
class SendResult:
    """The outcome of one send attempt.

    ``mic``: what the partner's receipt must return (keep it for an asynchronous MDN).
    ``http_status``: None when no HTTP answer came. ``mdn``: the receipt as judged (its
    ``problems`` include every reason it is not trusted), None when there was none or it was
    unreadable. ``error``: why the status is ``failed`` or ``retry``. ``evidence``: what the
    ledger records — algorithms, certificate fingerprints, MIC, receipt details.
    """

    message_id: str
    mic: MIC
    status: SendStatus
    http_status: int | None = None
    mdn: MDNResult | None = None
    error: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Response:
    status: int
    headers: mime.Headers
    body: bytes
    truncated: bool


class _NoAnswer(Exception):
    """The POST got no HTTP answer; ``retry`` says whether trying again may help."""

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


def mdn_original_message_id(headers: Mapping[str, str], body: bytes) -> str | None:
    """The Original-Message-ID an MDN answers, read without any check; None if not an MDN.

    For routing an asynchronous MDN to the message it answers before calling
    :meth:`AS2Sender.check_async_mdn`; the value is untrusted until that call says ``ok``.
    """
    try:
        result = parse_mdn(
            headers, body, partner_certificates=(), expected_message_id=None, expected_mic=None
        )
    except MDNParseError:
        return None
    return result.original_message_id or None


class AS2Sender:
    """Sends AS2 messages as ``ours``, one attempt per :meth:`send`.

    ``egress``: the outbound client (policy and deadline); by default one that refuses
    every special-purpose address, with ``timeout`` as the total deadline of an attempt
    (connect, send and all reads), created and closed by :meth:`close`.
    ``async_mdn_url``: where partners post asynchronous MDNs (needed only for partners
    whose ``mdn_mode`` is ``async``).
    """

    def __init__(
        self,
        ours: AS2Identity,
        *,
        egress: Egress | None = None,
        timeout: float = 60,
        async_mdn_url: str | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.ours = ours
        self.async_mdn_url = async_mdn_url
        self.max_response_bytes = max_response_bytes
        self._owns_egress = egress is None
        self._egress = egress or Egress(
            EgressPolicy(), deadline_seconds=timeout, user_agent="edigate AS2"
        )

    def close(self) -> None:
        """Close the outbound client if this sender created it."""
        if self._owns_egress:
            self._egress.close()

    def __enter__(self) -> AS2Sender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- send ----------------------------------------------------------------------------------

    def send(
        self,
        payload: bytes,
        *,
        partner: OutboundPartner,
        content_type: str = "application/edi-x12",
        filename: str | None = None,
        message_id: str | None = None,
        subject: str | None = None,
    ) -> SendResult:
        """Wrap ``payload`` for ``partner``, POST it once and judge the answer.

        Pass the ``message_id`` of an earlier attempt when retrying, so that the partner can
        recognise a duplicate (RFC 4130 §9.6 resends keep the Message-ID).
        """
        outbound = wrap(
            payload,
            content_type=content_type,
            filename=filename,
            ours=self.ours,
            partner_as2_id=partner.as2_id,
            partner_certificate=partner.certificates[0] if partner.certificates else None,
            sign=partner.sign,
            encrypt=partner.encrypt,
            compress=partner.compress,
            compress_before_signing=partner.compress_before_signing,
            transfer_encoding=partner.transfer_encoding,
            mdn=self._mdn_request(partner),
            message_id=message_id,
            subject=subject or "AS2 message",
        )
        evidence = self._evidence(partner, outbound)

        def result(status: SendStatus, error: str | None = None, **extra: Any) -> SendResult:
            evidence["status"] = status
            return SendResult(
                message_id=outbound.message_id,
                mic=outbound.mic,
                status=status,
                error=error,
                evidence=evidence,
                **extra,
            )

        try:
            response = self._post(partner.url, outbound)
        except _NoAnswer as exc:
            return result("retry" if exc.retry else "failed", str(exc))
        status = response.status
        evidence["http_status"] = status
        if status >= 300:
            excerpt = _excerpt(response.body)
            reason = f"HTTP {status} from {partner.url}" + (f": {excerpt}" if excerpt else "")
            retry_after = response.headers.get("retry-after")
            if retry_after:
                evidence["retry_after"] = retry_after.strip()
            # 5xx and "too many requests" are the partner's passing trouble; other 4xx (and
            # unfollowed redirects) say this request will not be accepted as it is.
            retry = status >= 500 or status in _RETRY_STATUSES
            return result("retry" if retry else "failed", reason, http_status=status)
        if partner.mdn_mode == "none":
            return result("delivered", http_status=status)
        if partner.mdn_mode == "async":
            return result("awaiting-mdn", http_status=status)

        if response.truncated:
            return result(
                "failed",
                f"HTTP {status} answer is larger than {self.max_response_bytes} bytes: not an MDN",
                http_status=status,
            )
        if not response.body.strip():
            return result(
                "failed",
                f"HTTP {status} without the synchronous MDN that was requested",
                http_status=status,
            )
        try:
            mdn = self._judge(
                response.headers,
                response.body,
                partner=partner,
                message_id=outbound.message_id,
                mic=outbound.mic,
            )
        except MDNParseError as exc:
            return result(
                "failed", f"HTTP {status} answer is not an MDN: {exc}", http_status=status
            )
        _mdn_evidence(evidence, mdn)
        if not mdn.ok:
            return result("failed", _mdn_error(mdn), http_status=status, mdn=mdn)
        return result("delivered", http_status=status, mdn=mdn)

    def check_async_mdn(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        partner: OutboundPartner,
        message_id: str,
        mic: MIC,
    ) -> MDNResult:
        """Judge an MDN that came to our URL for the message ``message_id`` sent with ``mic``.

        The same rules as a synchronous receipt; ``ok`` means delivered (a ``warning``
        modifier may still be set). Bytes that are not an MDN give a result whose
        ``disposition_type`` is empty and whose ``problems`` say why.
        """
        try:
            return self._judge(headers, body, partner=partner, message_id=message_id, mic=mic)
        except MDNParseError as exc:
            return MDNResult(
                original_message_id="",
                disposition="",
                disposition_type="",
                modifier=None,
                mic=None,
                signed=False,
                signature_valid=None,
                mic_matches=None,
                signer_fingerprint=None,
                reporting_ua=None,
                description="",
                problems=(f"not an MDN: {exc}",),
            )

    # -- internals -----------------------------------------------------------------------------

    def _mdn_request(self, partner: OutboundPartner) -> MDNRequest | None:
        if partner.mdn_mode == "none":
            return None
        async_url: str | None = None
        if partner.mdn_mode == "async":
            if not self.async_mdn_url:
                raise ValueError(
                    f"partner {partner.as2_id} wants asynchronous MDNs, "
                    "but the sender has no async_mdn_url"
                )
            async_url = self.async_mdn_url
        # RFC 4130 §7.3: without signed-receipt-protocol the receipt comes unsigned; only a
        # signed request names a MIC algorithm, so an unsigned one leaves the default to wrap.
        return MDNRequest(
            to=async_url or self.ours.as2_id,
            signed=partner.mdn_signed,
            micalgs=(partner.requested_micalg,) if partner.mdn_signed else (),
            async_url=async_url,
        )

    def _post(self, url: str, outbound: OutboundAS2) -> _Response:
        try:
            with self._egress.stream(
                "POST", url, content=outbound.body, headers=outbound.headers
            ) as response:
                chunks: list[bytes] = []
                size = 0
                truncated = False
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_response_bytes:
                        truncated = True
                        break
                    chunks.append(chunk)
                return _Response(
                    status=response.status_code,
                    headers=mime.Headers(response.headers.multi_items()),
                    body=b"".join(chunks),
                    truncated=truncated,
                )
        except EgressRefused as exc:
            raise _NoAnswer(f"cannot post to {url}: {exc}", retry=False) from exc
        except httpx.TimeoutException as exc:
            raise _NoAnswer(f"timed out posting to {url} ({_describe(exc)})", retry=True) from exc
        except httpx.UnsupportedProtocol as exc:
            raise _NoAnswer(f"cannot post to {url}: {_describe(exc)}", retry=False) from exc
        except httpx.TransportError as exc:
            # Connection refused or reset, DNS, TLS handshake, a broken HTTP answer: the
            # network or the partner's server, not the message.
            reason = f"network error posting to {url}: {_describe(exc)}"
            raise _NoAnswer(reason, retry=True) from exc
        except httpx.HTTPError as exc:
            raise _NoAnswer(f"HTTP error posting to {url}: {_describe(exc)}", retry=True) from exc

    def _judge(
        self,
        headers: Mapping[str, str],
        body: bytes,
        *,
        partner: OutboundPartner,
        message_id: str,
        mic: MIC,
    ) -> MDNResult:
        """parse_mdn, then this sender's rules for the MIC and the receipt's addressing."""
        fields = mime.Headers.of(headers)
        parsed = parse_mdn(
            fields,
            body,
            partner_certificates=partner.certificates,
            expected_message_id=message_id,
            expected_mic=None,  # judged below, warnings and unsigned messages included
            require_signed=partner.mdn_signed,
        )
        problems = list(parsed.problems)
        mic_matches: bool | None = None
        warning = parsed.modifier is not None and parsed.modifier.lower().startswith("warning")
        if parsed.disposition_type == "processed" and (parsed.modifier is None or warning):
            if parsed.mic is None:
                if partner.sign is not None:
                    # RFC 4130 §7.3.1: the receipt of a signed message returns its MIC.
                    mic_matches = False
                    problems.append(
                        "the MDN has no Received-Content-MIC for a signed message "
                        f"(expected {mic.header_value()})"
                    )
            else:
                mic_matches = mic.matches(parsed.mic)
                if not mic_matches:
                    problems.append(_mic_problem(parsed.mic, mic))
        sender = fields.get("as2-from")
        if sender is not None and parse_as2_name(sender) != partner.as2_id:
            problems.append(
                f"the MDN is from AS2-From {parse_as2_name(sender)!r}, not {partner.as2_id!r}"
            )
        recipient = fields.get("as2-to")
        if recipient is not None and parse_as2_name(recipient) != self.ours.as2_id:
            problems.append(
                f"the MDN is for AS2-To {parse_as2_name(recipient)!r}, not {self.ours.as2_id!r}"
            )
        return dataclasses.replace(parsed, mic_matches=mic_matches, problems=tuple(problems))

    def _evidence(self, partner: OutboundPartner, outbound: OutboundAS2) -> dict[str, Any]:
        # The certificate we encrypt to (the first listed), recorded even for unencrypted sends.
        first = partner.certificates[0] if partner.certificates else None
        compress_order = partner.compress_before_signing if partner.compress else None
        return {
            "message_id": outbound.message_id,
            "url": partner.url,
            "as2_from": self.ours.as2_id,
            "as2_to": partner.as2_id,
            "sign": partner.sign,
            "encrypt": partner.encrypt,
            "compress": partner.compress,
            "compress_before_signing": compress_order,
            "transfer_encoding": partner.transfer_encoding,
            "mdn_mode": partner.mdn_mode,
            "mdn_signed": partner.mdn_signed if partner.mdn_mode != "none" else None,
            "micalg": partner.requested_micalg if partner.mdn_signed else None,
            "our_certificate_sha256": cms.certificate_sha256(self.ours.certificate),
            "partner_certificate_sha256": cms.certificate_sha256(first) if first else None,
            "mic": outbound.mic.header_value(),
            "body_bytes": len(outbound.body),
        }


def _mdn_evidence(evidence: dict[str, Any], mdn: MDNResult) -> None:
    evidence.update(
        {
            "mdn_disposition": mdn.disposition,
            "mdn_signed": mdn.signed,
            "mdn_signature_valid": mdn.signature_valid,
            "mdn_signer_sha256": mdn.signer_fingerprint,
            "mdn_mic": mdn.mic.header_value() if mdn.mic else None,
            "mdn_mic_matches": mdn.mic_matches,
            "mdn_reporting_ua": mdn.reporting_ua,
            "mdn_problems": list(mdn.problems),
        }
    )
    if mdn.modifier is not None and mdn.modifier.lower().startswith("warning"):
        evidence["warning"] = mdn.modifier


def _mdn_error(mdn: MDNResult) -> str:
    text = "; ".join(mdn.problems)
    if mdn.description and (mdn.disposition_type != "processed" or mdn.modifier):
        text += f" (partner says: {_excerpt(mdn.description.encode('utf-8', 'replace'))})"
    return text


def _mic_problem(received: MIC, expected: MIC) -> str:
    if received.digest is not expected.digest:
        return (
            f"Received-Content-MIC {received.header_value()} uses {received.algorithm}, "
            f"but {expected.algorithm} was requested (expected {expected.header_value()})"
        )
    return (
        f"Received-Content-MIC {received.header_value()} does not match the MIC of the "
        f"message sent, {expected.header_value()}"
    )


def _excerpt(body: bytes, limit: int = 200) -> str:
    text = body[: limit * 4].decode("utf-8", "replace")
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__
