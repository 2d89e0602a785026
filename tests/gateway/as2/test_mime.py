"""gateway.as2.mime: byte-exact parsing and building of MIME entities."""

from __future__ import annotations

import pytest

from gateway.as2.mime import (
    ContentType,
    Headers,
    MIMEError,
    build_entity,
    decode_transfer_encoding,
    encode_base64,
    format_parameters,
    parse_entity,
    parse_parameters,
    split_multipart,
)


def test_headers_are_case_insensitive_and_keep_order():
    """Lookup ignores case; the fields keep their spelling, order and duplicates."""
    headers = Headers([("Content-Type", "a/b"), ("X-Dup", "1"), ("x-dup", "2")])
    assert headers["content-type"] == headers["CONTENT-TYPE"] == "a/b"
    assert headers["X-DUP"] == "1"
    assert headers.items_in_order()[2] == ("x-dup", "2")
    assert "Content-type" in headers and "Nope" not in headers


def test_folded_header_lines_are_unfolded():
    """A continuation line joins the previous field (RFC 5322 §2.2.3)."""
    entity = parse_entity(
        b'Content-Type: multipart/signed;\r\n\tboundary="b1";\r\n micalg=sha-256\r\n\r\nX'
    )
    content_type = entity.content_type
    assert content_type.mime_type == "multipart/signed"
    assert content_type.param("boundary") == "b1"
    assert content_type.param("micalg") == "sha-256"


def test_parse_entity_keeps_raw_bytes_and_accepts_lf():
    """The raw bytes stay untouched and a bare-LF header block is accepted."""
    raw = b"Content-Type: text/plain\nX: y\n\nline1\r\nline2\n"
    entity = parse_entity(raw)
    assert entity.raw is raw
    assert entity.body == b"line1\r\nline2\n"
    assert entity.headers["x"] == "y"


def test_entity_without_end_of_headers_is_refused():
    """Bytes without an empty line after the headers are not an entity."""
    with pytest.raises(MIMEError, match="not ended by an empty line"):
        parse_entity(b"Content-Type: text/plain\r\nno blank line")


def test_header_line_without_colon_is_located():
    """A header line that is not 'Name: value' is refused with its line number."""
    with pytest.raises(MIMEError, match="line 2"):
        parse_entity(b"Content-Type: text/plain\r\nthis is not a header\r\n\r\nbody")


def test_split_multipart_keeps_exact_part_bytes():
    """Parts exclude the CRLF before each delimiter (RFC 2046 §5.1.1) and keep everything else,
    including trailing whitespace and binary bytes."""
    part1 = b"Content-Type: text/plain\r\n\r\nhello  \r\n\r\n"
    part2 = b"Content-Type: application/octet-stream\r\n\r\n\x00\xff--b\r\n"
    body = b"preamble\r\n--b\r\n" + part1 + b"\r\n--b  \r\n" + part2 + b"\r\n--b--\r\nepilogue"
    assert split_multipart(body, "b") == [part1, part2]


def test_split_multipart_truncated():
    """A body without the close delimiter is refused as truncated."""
    with pytest.raises(MIMEError, match="truncated"):
        split_multipart(b"--b\r\nA: b\r\n\r\nx\r\n--b\r\nA: c\r\n\r\ny", "b")


def test_split_multipart_without_delimiter():
    """A body that never mentions the boundary is refused."""
    with pytest.raises(MIMEError, match="no '--b' delimiter"):
        split_multipart(b"just text", "b")


def test_parameters_quoted_and_rfc2231():
    """Quoted values with escapes and RFC 2231 extended values are decoded."""
    head, params = parse_parameters(
        'attachment; filename="a \\"b\\".edi"; name*=utf-8\'\'%C3%A9t%C3%A9.edi; x=1'
    )
    assert head == "attachment"
    assert params == {"filename": 'a "b".edi', "name": "été.edi", "x": "1"}


def test_format_parameters_round_trips():
    """format_parameters quotes what needs quoting and parse_parameters reads it back."""
    value = format_parameters("attachment", [("filename", 'po 1 "x".edi'), ("n", "été")])
    assert parse_parameters(value) == ("attachment", {"filename": 'po 1 "x".edi', "n": "été"})


def test_content_type_defaults_and_refusals():
    """Absent Content-Type is text/plain (RFC 2045 §5.2); a value without a slash is refused."""
    assert ContentType.parse(None).mime_type == "text/plain"
    with pytest.raises(MIMEError):
        ContentType.parse("garbage")


def test_transfer_encodings():
    """base64 (with line breaks), binary and quoted-printable decode; unknown ones are refused."""
    data = bytes(range(256)) * 3
    assert decode_transfer_encoding(encode_base64(data), "Base64") == data
    assert decode_transfer_encoding(b"\x00\x01", "binary") == b"\x00\x01"
    assert decode_transfer_encoding(b"a=3Db", "quoted-printable") == b"a=b"
    with pytest.raises(MIMEError, match="base64"):
        decode_transfer_encoding(b"!!!!", "base64")
    with pytest.raises(MIMEError, match="not supported"):
        decode_transfer_encoding(b"x", "x-uuencode")


def test_base64_lines_are_76_characters():
    """encode_base64 writes 76-character CRLF lines (RFC 2045 §6.8)."""
    lines = encode_base64(bytes(200)).split(b"\r\n")
    assert {len(line) for line in lines[:-2]} == {76}


def test_build_entity_refuses_header_injection():
    """A CR or LF in a header value is refused rather than written."""
    with pytest.raises(ValueError, match="one line"):
        build_entity([("Subject", "x\r\nBcc: evil")], b"")
    assert build_entity([("A", "b")], b"body") == b"A: b\r\n\r\nbody"
