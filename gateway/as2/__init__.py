"""AS2 (RFC 4130) message core: unwrap inbound messages, wrap outbound ones, build and parse MDNs,
send one outbound message and judge its receipt.

Transport-independent: the caller hands in HTTP headers and body bytes and gets payload and
evidence back (or an :class:`AS2Failure` with the disposition modifier for the MDN). Private
modules: ``cms`` (the only one touching ``cryptography.hazmat`` and ``asn1crypto``),
``mime`` (byte-exact MIME), ``message`` (unwrap/wrap), ``mdn`` (receipts), ``outbound`` (one
HTTP send attempt; the only module here that does HTTP).

It must not: do HTTP outside ``outbound``, read partner profiles, store or log messages.
"""

from gateway.as2.cms import ContentCipher, DigestAlgorithm, KeyTransport, SignatureScheme
from gateway.as2.mdn import (
    MDN,
    MDNParseError,
    MDNResult,
    build_mdn,
    build_reply_mdn,
    parse_mdn,
)
from gateway.as2.message import (
    MIC,
    AS2Failure,
    AS2Identity,
    InboundAS2,
    MDNRequest,
    OutboundAS2,
    PartnerSecurity,
    SignerEvidence,
    parse_mdn_request,
    unwrap,
    wrap,
)
from gateway.as2.outbound import (
    AS2Sender,
    OutboundPartner,
    SendResult,
    mdn_original_message_id,
)

__all__ = [
    "MDN",
    "MIC",
    "AS2Failure",
    "AS2Identity",
    "AS2Sender",
    "ContentCipher",
    "DigestAlgorithm",
    "InboundAS2",
    "KeyTransport",
    "MDNParseError",
    "MDNRequest",
    "MDNResult",
    "OutboundAS2",
    "OutboundPartner",
    "PartnerSecurity",
    "SendResult",
    "SignatureScheme",
    "SignerEvidence",
    "build_mdn",
    "build_reply_mdn",
    "mdn_original_message_id",
    "parse_mdn",
    "parse_mdn_request",
    "unwrap",
    "wrap",
]
