"""Streaming X12 tokenizer: bytes in, located ``Segment`` objects out.

Responsible for finding interchanges, sniffing each one's delimiters from its ISA (X12.5:
the element separator is the 4th byte, ISA11 the repetition separator from 00402, ISA16
the component separator, the byte after ISA16 the segment terminator), and cutting the
stream into segments with their byte offsets, in bounded memory.
It tolerates what real files carry: a UTF-8 BOM, CR/LF or indentation after terminators,
lines hard-wrapped inside segments, newline terminators, multi-byte terminators,
EBCDIC (cp037) interchanges, BIN segments with binary payloads, and several interchanges
with different delimiters in one file.
It must not check envelopes or schemas: that is ``envelope`` and ``validator``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import BinaryIO

from translators.errors import EDISyntaxError
from translators.x12.segment import Delimiters, Segment

__all__ = ["X12Reader", "looks_like_x12", "read_segments"]

_CHUNK = 1 << 20
_BOM = b"\xef\xbb\xbf"
_EBCDIC_ISA = b"\xc9\xe2\xc1"
_LEADING = b" \t\r\n\x00\x1a"  # \x1a: DOS end-of-file marker
_NEWLINES = b"\r\n"
# ISA is 106 bytes when every field has its fixed width; allow for short fields, wrapped
# lines and padding before giving up on finding the 16 separators.
_ISA_WINDOW = 512


def looks_like_x12(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a document) starts an X12 interchange."""
    stripped = head.lstrip(_BOM).lstrip(_LEADING)
    if stripped.startswith(_BOM):
        stripped = stripped[3:].lstrip(_LEADING)
    return stripped.startswith(b"ISA") or stripped.startswith(_EBCDIC_ISA)


class X12Reader:
    """Iterate the segments of one or more X12 interchanges in ``source``.

    ``source`` is ``bytes`` or a binary file object (read in chunks). Input that is not
    X12 raises ``EDISyntaxError`` naming the byte offset; segments already yielded stay
    valid, so a consumer never loses the interchanges before the bad bytes.
    """

    def __init__(
        self, source: bytes | bytearray | memoryview | BinaryIO, chunk_size: int = _CHUNK
    ) -> None:
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._buf = bytes(source)
            self._file: BinaryIO | None = None
            self._eof = True
        else:
            self._buf = b""
            self._file = source
            self._eof = False
        self._chunk = chunk_size
        self._base = 0  # absolute offset of self._buf[0]
        self._ebcdic = False
        self.delimiters: Delimiters | None = None
        self.segment_count = 0

    # -- buffer -------------------------------------------------------------------------
    def _fill(self, pos: int) -> int:
        """Drop consumed bytes before ``pos``, read one more chunk; return the new pos."""
        assert self._file is not None
        chunk = self._file.read(self._chunk)
        if not chunk:
            self._eof = True
            return pos
        if self._ebcdic:
            chunk = chunk.decode("cp037").encode("latin-1")
        self._base += pos
        self._buf = self._buf[pos:] + chunk
        return 0

    def _ensure(self, pos: int, need: int) -> int:
        """Make at least ``need`` bytes available from ``pos`` unless at EOF."""
        while not self._eof and len(self._buf) - pos < need:
            pos = self._fill(pos)
        return pos

    # -- iteration ----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Segment]:
        pos = 0
        while True:
            pos = self._skip_between(pos)
            if pos >= len(self._buf) and self._eof:
                return
            pos, delims, term = self._read_isa(pos)
            pos = yield from self._segments(pos, delims, term)

    def _skip_between(self, pos: int) -> int:
        """Skip BOMs, whitespace and NULs before an interchange."""
        while True:
            pos = self._ensure(pos, 8)
            buf = self._buf
            start = pos
            while pos < len(buf):
                if buf.startswith(_BOM, pos):
                    pos += 3
                elif buf[pos] in _LEADING:
                    pos += 1
                else:
                    break
            if pos < len(buf) or self._eof:
                return pos
            if pos == start:
                pos = self._fill(pos)

    def _read_isa(self, pos: int) -> tuple[int, Delimiters, bytes]:
        pos = self._ensure(pos, _ISA_WINDOW)
        buf = self._buf
        offset = self._base + pos
        if buf.startswith(_EBCDIC_ISA, pos) and not self._ebcdic:
            # cp037 is a single-byte code, so offsets are preserved by transcoding.
            self._ebcdic = True
            self._buf = buf = buf[:pos] + buf[pos:].decode("cp037").encode("latin-1")
        if not buf.startswith(b"ISA", pos):
            sample = buf[pos : pos + 16]
            raise EDISyntaxError(
                f"not X12: expected an ISA interchange header, found {sample!r}", offset
            )
        if len(buf) - pos < 4:
            raise EDISyntaxError("truncated ISA interchange header", offset)
        sep = buf[pos + 3]
        if chr(sep).isalnum() or sep in _LEADING:
            raise EDISyntaxError(
                f"invalid element separator {bytes([sep])!r} after ISA", offset + 3
            )
        # Find the 16 separators of the ISA; CR/LF inside it are line wrapping, not data.
        count = 0
        i = pos + 3
        end = min(len(buf), pos + _ISA_WINDOW)
        sep_byte = bytes([sep])
        j = i
        while count < 16:
            j = buf.find(sep_byte, j, end)
            if j < 0:
                break
            count += 1
            j += 1
        if count == 16 and buf.find(b"\n", pos, j) < 0 and buf.find(b"\r", pos, j) < 0:
            raw = bytearray(buf[pos:j])  # the usual one-line ISA: no byte-by-byte walk
            i = j
        else:
            count = 0
            raw = bytearray(b"ISA")
            while i < end and count < 16:
                b = buf[i]
                if b == sep:
                    count += 1
                if b not in _NEWLINES:
                    raw.append(b)
                i += 1
        while i < end and buf[i] in _NEWLINES:
            i += 1
        if count < 16 or i >= end:
            raise EDISyntaxError(
                "ISA interchange header is incomplete: fewer than 16 elements", offset
            )
        component = buf[i]
        raw.append(component)
        i += 1
        if i >= len(buf):
            raise EDISyntaxError("ISA interchange header has no segment terminator", offset)
        term, i = self._terminator(buf, i)
        fields = raw.decode("latin-1").split(chr(sep))
        rep_char = fields[11] if len(fields) > 11 else ""
        repetition = (
            rep_char
            # Only layout blanks mean "none" here: str.isspace() would also drop the
            # information separators \x1c-\x1f, which are legal delimiters (X12.5).
            if len(rep_char) == 1
            and not rep_char.isalnum()
            and rep_char not in _LEADING.decode("latin-1")
            and rep_char not in (chr(sep), chr(component))
            else None
        )
        term_text = term.decode("utf-8", "replace") if term not in (b"\n",) else "\n"
        delims = Delimiters(
            element=chr(sep), component=chr(component), segment=term_text, repetition=repetition
        )
        if delims.component == delims.element or delims.component.encode("latin-1") == term:
            raise EDISyntaxError(
                "ISA16 component separator repeats another delimiter", offset + (i - pos)
            )
        self.delimiters = delims
        self.segment_count += 1
        isa = Segment(fields, offset, self.segment_count, delims)
        self._pending_isa = isa
        return i, delims, term

    @staticmethod
    def _terminator(buf: bytes, i: int) -> tuple[bytes, int]:
        """The segment terminator starting at ``buf[i]`` and the index after it."""
        b = buf[i]
        if b == 0x0D:  # CR: CRLF lines or a bare CR
            if i + 1 < len(buf) and buf[i + 1] == 0x0A:
                return b"\n", i + 2
            return b"\r", i + 1
        if b == 0x0A:
            return b"\n", i + 1
        if b == 0x20:
            # A space terminator is only usable together with the line break after it,
            # since free text is full of spaces.
            j = i + 1
            while j < len(buf) and buf[j] in _NEWLINES:
                j += 1
            return buf[i:j], j
        if b >= 0xC0:  # a UTF-8 sequence such as U+2026 HORIZONTAL ELLIPSIS
            n = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            cand = buf[i : i + n]
            try:
                cand.decode("utf-8")
            except UnicodeDecodeError:
                return buf[i : i + 1], i + 1
            return cand, i + n
        return buf[i : i + 1], i + 1

    def _segments(
        self, pos: int, delims: Delimiters, term: bytes
    ) -> Generator[Segment, None, int]:
        """Yield the ISA and the following segments up to and including IEA."""
        yield self._pending_isa
        sep_b = delims.element.encode("latin-1")
        sep = delims.element
        newline_term = term == b"\n"
        tlen = len(term)
        bin_prefix = b"BIN" + sep_b
        isa_prefix = b"ISA" + sep_b
        while True:
            buf = self._buf
            end = buf.find(term, pos)
            if end < 0:
                if not self._eof:
                    pos = self._fill(pos)
                    continue
                end = len(buf)
                if not buf[pos:end].strip(_LEADING):
                    return end
            piece = buf[pos:end]
            stripped = piece.lstrip(_LEADING)
            if not stripped:
                pos = end + tlen
                continue
            start = pos + (len(piece) - len(stripped))
            if stripped.startswith(bin_prefix):
                span = self._bin_span(start, sep_b)
                if span is not None:
                    start, seg_end = span
                    buf = self._buf  # _bin_span may have refilled
                    fields = self._bin_fields(buf[start:seg_end], sep_b)
                    self.segment_count += 1
                    yield Segment(fields, self._base + start, self.segment_count, delims)
                    pos = seg_end + tlen if buf.startswith(term, seg_end) else seg_end
                    continue
            if stripped.startswith(isa_prefix):
                return start  # a new interchange without IEA before it: re-sniff
            if newline_term:
                stripped = stripped.rstrip(b"\r")
            elif b"\n" in stripped or b"\r" in stripped:
                stripped = stripped.replace(b"\r", b"").replace(b"\n", b"")
            try:
                text = stripped.decode("utf-8")
            except UnicodeDecodeError:
                text = stripped.decode("latin-1")
            fields = text.split(sep)
            self.segment_count += 1
            yield Segment(fields, self._base + start, self.segment_count, delims)
            pos = end + tlen
            if fields[0] == "IEA":
                return pos

    def _bin_span(self, start: int, sep: bytes) -> tuple[int, int] | None:
        """(start, end) of a BIN segment in the buffer (X12.6: BIN01 is the byte count)."""
        start = self._ensure(start, 32)
        buf = self._buf
        first = buf.find(sep, start)
        second = buf.find(sep, first + 1) if first >= 0 else -1
        if second < 0:
            return None
        length_text = buf[first + 1 : second]
        if not length_text.isdigit():
            return None
        need = second + 1 + int(length_text)
        while not self._eof and len(self._buf) < need:
            self._fill_keep()
        if len(self._buf) < need:
            return None
        return start, need

    def _fill_keep(self) -> None:
        """Read one more chunk without discarding anything (BIN payloads span chunks)."""
        assert self._file is not None
        chunk = self._file.read(self._chunk)
        if not chunk:
            self._eof = True
            return
        if self._ebcdic:
            chunk = chunk.decode("cp037").encode("latin-1")
        self._buf = self._buf + chunk

    @staticmethod
    def _bin_fields(raw: bytes, sep: bytes) -> list[str]:
        tag, length, payload = raw.split(sep, 2)
        return [tag.decode("latin-1"), length.decode("latin-1"), payload.decode("latin-1")]


def read_segments(source: bytes | BinaryIO) -> Iterator[Segment]:
    """Shorthand for ``iter(X12Reader(source))``."""
    return iter(X12Reader(source))
