"""Until the AS2-From names a trading partner, POST /as2 bodies are limited to
``as2_unknown_max_bytes`` (64 KiB by default) and refused with 413 problem+json without
reading the rest: the declared Content-Length is checked before any byte is read, a
streamed body is read only up to the limit. Known partners keep ``max_body_bytes``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

AS2Gateway = Any  # conftest.AS2Gateway

CHUNK = 8 * 1024


def _headers(as2_from: bytes, content_length: int | None = None) -> list[tuple[bytes, bytes]]:
    headers = [(b"as2-from", as2_from), (b"as2-to", b"EDIGATE"),
               (b"message-id", b"<limit-1@example>"),
               (b"content-type", b"application/pkcs7-mime; smime-type=enveloped-data"),
               (b"disposition-notification-to", b"as2@example")]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    return headers


def test_declared_length_over_the_limit_is_refused_before_reading(
        as2_gateway: Callable[..., AS2Gateway]) -> None:
    """An unknown AS2-From declaring 1 MiB: 413 problem+json, and not one body chunk was
    asked for."""
    gateway = as2_gateway()
    response = gateway.raw(_headers(b"NOBODY", 1 << 20), itertools.repeat(b"x" * CHUNK))
    assert response.status == 413 and response.is_problem
    assert response.chunks_read == 0


def test_streamed_body_is_read_only_up_to_the_limit(
        as2_gateway: Callable[..., AS2Gateway]) -> None:
    """An unknown AS2-From streaming an endless body without Content-Length: 413 after at
    most the limit's worth of chunks (64 KiB in 8 KiB chunks: 9 at most)."""
    gateway = as2_gateway()
    response = gateway.raw(_headers(b"NOBODY"), itertools.repeat(b"x" * CHUNK))
    assert response.status == 413 and response.is_problem
    assert response.chunks_read <= 64 * 1024 // CHUNK + 1


def test_the_limit_is_a_setting(as2_gateway: Callable[..., AS2Gateway]) -> None:
    """as2_unknown_max_bytes = 1024: 2 KiB from an unknown AS2-From is refused, 1 KiB gets
    the authentication-failed MDN as before."""
    gateway = as2_gateway(as2_unknown_max_bytes=1024)
    refused = gateway.raw(_headers(b"NOBODY"), [b"x" * 2048])
    assert refused.status == 413 and refused.is_problem
    answered = gateway.raw(_headers(b"NOBODY"), [b"x" * 1024])
    assert answered.status == 200
    assert b"processed/error: authentication-failed" in answered.body


def test_known_partner_keeps_max_body_bytes(as2_gateway: Callable[..., AS2Gateway]) -> None:
    """The partner's AS2-From with a 200 KiB body (over the unknown limit, under
    max_body_bytes): read whole and answered with an MDN (here an error one: the body is
    not a CMS structure), not a 413."""
    gateway = as2_gateway(max_body_bytes=1 << 20)
    chunks = [b"x" * CHUNK] * 25
    response = gateway.raw(_headers(b"ACME"), chunks)
    assert response.status == 200, response.body
    assert b"processed/error" in response.body
    assert response.chunks_read == 25
    too_big = gateway.raw(_headers(b"ACME", 2 << 20), itertools.repeat(b"x" * CHUNK))
    assert too_big.status == 413 and too_big.chunks_read == 0
