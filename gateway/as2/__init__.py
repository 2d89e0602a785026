"""AS2 (RFC 4130) message core: unwrap inbound messages, wrap outbound ones, build and parse MDNs.

Transport-independent: the caller hands in HTTP headers and body bytes and gets payload and
evidence back (or an :class:`AS2Failure` with the disposition modifier for the MDN). Private
modules: ``cms`` (the only one touching ``cryptography.hazmat`` and ``asn1crypto``),
``mime`` (byte-exact MIME), ``message`` (unwrap/wrap), ``mdn`` (receipts).

It must not: do HTTP, read partner profiles, store or log messages.
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

__all__ = [
    "MDN",
    "MIC",
    "AS2Failure",
    "AS2Identity",
    "ContentCipher",
    "DigestAlgorithm",
    "InboundAS2",
    "KeyTransport",
    "MDNParseError",
    "MDNRequest",
    "MDNResult",
    "OutboundAS2",
    "PartnerSecurity",
    "SignatureScheme",
    "SignerEvidence",
    "build_mdn",
    "build_reply_mdn",
    "parse_mdn",
    "parse_mdn_request",
    "unwrap",
    "wrap",
]
