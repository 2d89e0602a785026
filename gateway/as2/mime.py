"""Byte-exact MIME for AS2: parse and build entities without re-serialising them.

AS2 hashes MIME bytes (the MIC and the signature cover the signed entity's headers and body
exactly as they travelled, RFC 4130 §7.3.1, RFC 5751 §3.1), so this module keeps every
entity's raw bytes next to its parsed headers and never regenerates bytes that someone may
hash. Header names match case-insensitively; folded header lines are unfolded for reading only.

It must not: use the ``email`` package to serialise anything; canonicalise line endings of
received bytes; know about CMS, AS2 headers or MDNs. Every refusal is a :class:`MIMEError`
whose message says where the problem is.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "ContentType",
    "Entity",
    "Headers",
    "MIMEError",
    "build_entity",
    "decode_transfer_encoding",
    "encode_base64",
    "format_parameters",
    "make_boundary",
    "parse_entity",
    "parse_header_block",
    "parse_parameters",
    "split_multipart",
]

MAX_HEADER_LINES = 1000
"""More header lines than this in one entity is an attack or garbage, not a message."""


class MIMEError(ValueError):
    """The bytes are not a MIME entity of the expected shape; the message locates the problem."""


# ---------------------------------------------------------------------------------------------
# Headers


class Headers(Mapping[str, str]):
    """Ordered header fields, looked up case-insensitively (RFC 5322 §1.2.2).

    As a Mapping, ``headers[name]`` is the first field of that name; :meth:`items_in_order`
    keeps duplicates and the order and spelling as received.
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: tuple[tuple[str, str], ...] = tuple(fields)
        index: dict[str, str] = {}
        for name, value in self._fields:
            index.setdefault(name.lower(), value)
        self._index = index

    @classmethod
    def of(cls, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> Headers:
        """Wrap a mapping (e.g. the HTTP request headers) or an iterable of pairs."""
        if isinstance(headers, Headers):
            return headers
        if isinstance(headers, Mapping):
            return cls((str(k), str(v)) for k, v in headers.items())
        return cls(headers)

    def __getitem__(self, name: str) -> str:
        return self._index[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def items_in_order(self) -> tuple[tuple[str, str], ...]:
        """All fields, duplicates included, as received."""
        return self._fields

    def __repr__(self) -> str:
        return f"Headers({list(self._fields)!r})"


_FIELD_NAME = re.compile(rb"^[!-9;-~]+$")  # RFC 5322 §3.6.8 ftext: printable US-ASCII except ':'


def parse_header_block(block: bytes, *, where: str = "entity") -> Headers:
    """Parse a header block (no terminating empty line) into Headers, unfolding folded lines.

    Values are decoded as Latin-1 so that any byte survives; RFC 2047 encoded words are
    left as they are.
    """
    fields: list[tuple[str, bytes]] = []
    lines = block.split(b"\n")
    if len(lines) > MAX_HEADER_LINES:
        raise MIMEError(f"{where}: more than {MAX_HEADER_LINES} header lines")
    for number, line in enumerate(lines, start=1):
        line = line.removesuffix(b"\r")
        if not line:
            continue
        if line[:1] in (b" ", b"\t"):
            # RFC 5322 §2.2.3: a line starting with white space continues the previous field.
            if not fields:
                raise MIMEError(
                    f"{where}: header line {number} is a continuation with nothing to continue"
                )
            name, value = fields[-1]
            fields[-1] = (name, value + line)
            continue
        raw_name, colon, value = line.partition(b":")
        raw_name = raw_name.rstrip(b" \t")  # RFC 5322 §4.5.2: obsolete WSP before ':'
        if not colon or not _FIELD_NAME.match(raw_name):
            shown = line[:40].decode("latin-1")
            raise MIMEError(f"{where}: header line {number} is not 'Name: value' ({shown!r})")
        fields.append((raw_name.decode("ascii"), value))
    return Headers((n, v.decode("latin-1").strip(" \t")) for n, v in fields)


# ---------------------------------------------------------------------------------------------
# Parameters (RFC 2045 §5.1, RFC 2183, RFC 2231)


def _split_unquoted(value: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif quoted and char == "\\":
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_parameters(value: str) -> tuple[str, dict[str, str]]:
    """Split ``token; name=value; name="quoted"`` into the token and lower-cased parameters.

    RFC 2231 ``name*=charset''percent-encoded`` values are decoded; malformed parameters
    are skipped rather than refused, since only a few named parameters matter to AS2.
    """
    head, *rest = _split_unquoted(value, ";")
    params: dict[str, str] = {}
    for item in rest:
        name, equals, raw = item.partition("=")
        name = name.strip().lower()
        if not equals or not name:
            continue
        if name.endswith("*"):
            charset, _, encoded = raw.strip().partition("''")
            try:
                params[name[:-1]] = urllib.parse.unquote(
                    encoded or charset, encoding=charset if encoded else "utf-8", errors="strict"
                )
            except (LookupError, UnicodeDecodeError):
                continue
        else:
            params.setdefault(name, _unquote(raw))
    return head.strip(), params


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 2045 §5.1 token


def format_parameters(head: str, params: Sequence[tuple[str, str]]) -> str:
    """Build ``head; name=value`` quoting values that are not tokens (RFC 2045 §5.1).

    Non-ASCII values use RFC 2231 extended notation.
    """
    pieces = [head]
    for name, value in params:
        if _TOKEN.match(value):
            pieces.append(f"{name}={value}")
        elif value.isascii() and value.isprintable():
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            pieces.append(f'{name}="{escaped}"')
        else:
            pieces.append(f"{name}*=utf-8''{urllib.parse.quote(value, safe='')}")
    return "; ".join(pieces)


@dataclass(frozen=True)
class ContentType:
    """A parsed Content-Type: lower-cased ``type/subtype`` and lower-cased parameter names."""

    mime_type: str
    params: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: str | None) -> ContentType:
        """Parse a Content-Type value; absent means text/plain (RFC 2045 §5.2)."""
        if value is None or not value.strip():
            return cls("text/plain", {"charset": "us-ascii"})
        head, params = parse_parameters(value)
        head = head.lower()
        if head.count("/") != 1 or not all(_TOKEN.match(p) for p in head.split("/")):
            raise MIMEError(f"Content-Type {value[:80]!r} is not type/subtype")
        return cls(head, params)

    def param(self, name: str) -> str | None:
        """The parameter's value, or None."""
        return self.params.get(name.lower())


# ---------------------------------------------------------------------------------------------
# Entities


@dataclass(frozen=True)
class Entity:
    """One MIME entity: parsed headers, the body bytes, and the exact bytes it was parsed from."""

    headers: Headers
    body: bytes
    raw: bytes

    @property
    def content_type(self) -> ContentType:
        """The parsed Content-Type (text/plain when absent)."""
        return ContentType.parse(self.headers.get("content-type"))

    def decoded_body(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone."""
        return decode_transfer_encoding(self.body, self.headers.get("content-transfer-encoding"))


def parse_entity(raw: bytes, *, where: str = "entity") -> Entity:
    """Split ``raw`` at the first empty line into headers and body, keeping ``raw`` as is.

    Lines may end in CRLF or a bare LF (both are seen from real peers); the body is not
    touched.
    """
    position = 0
    while True:
        newline = raw.find(b"\n", position)
        if newline == -1:
            raise MIMEError(f"{where}: the header block is not ended by an empty line")
        if raw[position:newline] in (b"", b"\r"):
            headers = parse_header_block(raw[:position], where=where)
            return Entity(headers=headers, body=raw[newline + 1 :], raw=raw)
        position = newline + 1


_DELIMITER_TAIL = re.compile(rb"(--)?[ \t]*(?:\r?\n|\Z)")
"""What follows ``--boundary`` in a delimiter line: ``--`` if it closes, then the line end."""


def split_multipart(body: bytes, boundary: str, *, where: str = "multipart") -> list[bytes]:
    """Return the exact bytes of each body part between the boundary delimiters.

    RFC 2046 §5.1.1: the line break before a delimiter belongs to the delimiter, not to the
    part, so a part's bytes end before it. Preamble and epilogue are dropped. A missing
    close delimiter is refused (the body was truncated).
    """
    if not boundary or len(boundary) > 200:  # RFC 2046 §5.1.1: 1 to 70 characters (tolerant)
        raise MIMEError(f"{where}: boundary parameter is missing or malformed")
    try:
        marker = boundary.encode("ascii")
    except UnicodeEncodeError as exc:
        raise MIMEError(f"{where}: boundary is not ASCII") from exc
    # The delimiter is "--boundary" at the start of a line; searching for that literal with
    # bytes.find and checking the line break around it is what a regex beginning with a line
    # break cannot do (it tries every position, so its time grows with the part's size).
    dash_marker = b"--" + marker
    parts: list[bytes] = []
    start: int | None = None
    floor = 0  # a delimiter, with its line break, starts after the previous one ended
    search = 0
    while True:
        found = body.find(dash_marker, search)
        if found == -1:
            break
        # The line break before the delimiter belongs to it: CRLF, LF, or the body's start.
        if found >= floor + 2 and body[found - 2 : found] == b"\r\n":
            begin = found - 2
        elif found >= floor + 1 and body[found - 1 : found] == b"\n":
            begin = found - 1
        elif found == 0:
            begin = 0
        else:
            search = found + 1
            continue
        tail = _DELIMITER_TAIL.match(body, found + len(dash_marker))
        if tail is None:
            search = found + 1
            continue
        if start is not None:
            parts.append(body[start:begin])
        if tail.group(1):
            if start is None:
                raise MIMEError(f"{where}: close delimiter before any body part")
            return parts
        start = floor = search = tail.end()
    if start is None:
        raise MIMEError(f"{where}: no '--{boundary}' delimiter found in the body")
    raise MIMEError(
        f"{where}: no closing '--{boundary}--' delimiter after {len(parts) + 1} part(s): "
        "the body is truncated"
    )


def decode_transfer_encoding(body: bytes, encoding: str | None) -> bytes:
    """Undo a Content-Transfer-Encoding (RFC 2045 §6): identity, base64 or quoted-printable."""
    name = (encoding or "7bit").strip().lower()
    if name in ("7bit", "8bit", "binary"):
        return body
    if name == "base64":
        compact = re.sub(rb"[\s]+", b"", body)
        try:
            return binascii.a2b_base64(compact, strict_mode=True)
        except binascii.Error as exc:
            raise MIMEError(f"base64 body does not decode ({exc})") from exc
    if name == "quoted-printable":
        return binascii.a2b_qp(body)
    raise MIMEError(f"Content-Transfer-Encoding {encoding!r} is not supported")


def encode_base64(data: bytes) -> bytes:
    """Base64 in lines of 76 characters ending in CRLF (RFC 2045 §6.8)."""
    encoded = base64.b64encode(data)
    return b"".join(encoded[i : i + 76] + b"\r\n" for i in range(0, len(encoded), 76))


def _check_header(name: str, value: str) -> None:
    # A CR or LF in a value would let a caller inject header fields or end the block early.
    if not _FIELD_NAME.match(name.encode("ascii", "replace")):
        raise ValueError(f"invalid header name {name!r}")
    if "\r" in value or "\n" in value or not value.isascii():
        raise ValueError(f"header {name} value must be one line of ASCII: {value!r}")


def build_entity(headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    """Serialise header fields (in order, CRLF line ends) and an empty line, then ``body``."""
    block = []
    for name, value in headers:
        _check_header(name, value)
        block.append(f"{name}: {value}\r\n".encode("ascii"))
    return b"".join(block) + b"\r\n" + body


def make_boundary() -> str:
    """A random multipart boundary that cannot plausibly occur in any content."""
    return f"----=_edigate_{secrets.token_hex(16)}"


def multipart_body(boundary: str, parts: Sequence[bytes]) -> bytes:
    """``parts`` joined as a multipart body (RFC 2046 §5.1.1: the CRLF before each
    delimiter belongs to the delimiter, so part bytes stay exactly as given)."""
    marker = b"--" + boundary.encode("ascii")
    chunks = [marker + b"\r\n" + parts[0]]
    chunks.extend(b"\r\n" + marker + b"\r\n" + part for part in parts[1:])
    return b"".join(chunks) + b"\r\n" + marker + b"--\r\n"


def multipart_signed(signed: bytes, signature_der: bytes, micalg: str) -> tuple[str, bytes]:
    """A multipart/signed entity (RFC 1847 §2.1, RFC 5751 §3.5.3): the Content-Type value
    and the body, part 1 ``signed`` byte for byte, part 2 the detached CMS signature."""
    signature_part = build_entity(
        [
            ("Content-Type", format_parameters(
                "application/pkcs7-signature",
                [("name", "smime.p7s"), ("smime-type", "signed-data")])),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", format_parameters("attachment",
                                                      [("filename", "smime.p7s")])),
        ],
        encode_base64(signature_der),
    )
    boundary = make_boundary()
    content_type = format_parameters(
        "multipart/signed",
        [("protocol", "application/pkcs7-signature"), ("micalg", micalg.strip().lower()),
         ("boundary", boundary)],
    )
    return content_type, multipart_body(boundary, [signed, signature_part])
