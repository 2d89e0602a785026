"""Streaming UN/EDIFACT tokenizer: bytes in, located ``Segment`` objects out.

Responsible for cutting one or more interchanges into segments in bounded memory: the UNA
service string advice with any delimiters, the ISO 9735 defaults when UNA is absent (level
A, or level B's information separators when UNB is written with them), the release
character, the repetition separator of syntax version 4, the character set named by UNB
S001.0001 (decoding, and a located ``Issue`` for every segment holding bytes outside the
declared repertoire), CR/LF and other whitespace between segments and inside hard-wrapped
segments, several interchanges with different UNAs in one stream, and message-only files
(UNH..UNT without UNB), which the envelope walker reports.
It must not check envelopes or message content: that is ``envelope`` and the validators.

Sources: ISO 9735-1:2002 clause 7 (service characters, UNA, release character), clause 10
(character repertoires); ISO 9735 versions 1-3 for the ``reserved'' UNA position that
version 4 made the repetition separator.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import replace
from typing import BinaryIO, Final

from translators.edifact.charsets import FALLBACK, Charset, charset_for, invalid_byte_pattern
from translators.edifact.segment import LEVEL_A, LEVEL_B, Delimiters, Segment
from translators.errors import EDISyntaxError, Issue

__all__ = ["EDIFACTReader", "looks_like_edifact", "read_segments"]

# Final: the compiled build keeps these as C constants instead of looking them up in the
# module's dict on every use (twice a segment in the loop below).
_CHUNK: Final = 1 << 20
_MAX_SEGMENT: Final = 1 << 24
_BOM: Final = b"\xef\xbb\xbf"
_WS: Final = b" \t\r\n"
_BETWEEN: Final = b" \t\r\n\x00\x1a"  # \x1a: DOS end-of-file marker
# "No invalid byte ahead": larger than any offset, and small enough to stay an unboxed
# integer in the compiled build (comparisons with a boxed one take its slow path).
_NONE: Final = 1 << 60
_STARTS: Final = (b"UNA", b"UNB", b"UNH")
_BATCH: Final = 1 << 15  # bytes split at once: bounds the cost of a batch dropped early

Source = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]


def looks_like_edifact(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a document) starts a UN/EDIFACT interchange."""
    stripped = head.lstrip(_BETWEEN)
    while stripped.startswith(_BOM):
        stripped = stripped[3:].lstrip(_BETWEEN)
    return stripped[:3] in _STARTS


class EDIFACTReader:
    """Iterate the segments of the UN/EDIFACT interchanges in ``source``.

    ``source`` is ``bytes``, a binary file object or an iterable of byte chunks; files and
    iterables are read ``chunk_size`` bytes at a time and never held whole. Input that
    cannot be tokenized (not EDIFACT, an unusable UNA, junk between interchanges, a
    segment longer than ``max_segment_bytes``) raises ``EDISyntaxError`` naming the byte
    offset; segments already yielded stay valid.

    While iterating, ``delimiters``, ``charset``, ``syntax_id`` and ``syntax_version``
    describe the interchange of the segment yielded last, and ``una_offset`` is the byte
    offset of its UNA (``None`` without one).
    """

    def __init__(
        self,
        source: Source,
        chunk_size: int = _CHUNK,
        max_segment_bytes: int = _MAX_SEGMENT,
    ) -> None:
        self._read: Callable[[int], bytes] | None = None
        self._chunks: Iterator[bytes] | None = None
        if isinstance(source, (bytes, bytearray, memoryview)):
            self._buf = bytes(source)
            self._eof = True
        else:
            self._buf = b""
            self._eof = False
            read = getattr(source, "read", None)
            if callable(read):
                self._read = read
            else:
                self._chunks = iter(source)
        self._chunk = max(1, chunk_size)
        self._max_segment = max_segment_bytes
        self._base = 0  # absolute offset of self._buf[0]
        self.delimiters: Delimiters = LEVEL_A
        self.charset: Charset = FALLBACK
        self.syntax_id = ""
        self.syntax_version = ""
        self.una_offset: int | None = None
        self.segment_count = 0  # segments of the current interchange read so far
        self._pattern: re.Pattern[bytes] | None = None

    # -- buffer -------------------------------------------------------------------------
    def _next_chunk(self) -> bytes:
        if self._read is not None:
            return bytes(self._read(self._chunk))
        if self._chunks is not None:
            for chunk in self._chunks:
                if chunk:
                    return bytes(chunk)
        return b""

    def _fill(self, pos: int) -> int:
        """Drop the bytes before ``pos``, append one chunk; return ``pos`` in the new buffer."""
        if self._eof:
            return pos
        if len(self._buf) - pos > self._max_segment:
            raise EDISyntaxError(
                f"no segment terminator within {self._max_segment} bytes", self._base + pos
            )
        chunk = self._next_chunk()
        if not chunk:
            self._eof = True
            return pos
        self._base += pos
        self._buf = self._buf[pos:] + chunk
        return 0

    def _ensure(self, pos: int, need: int) -> int:
        while not self._eof and len(self._buf) - pos < need:
            pos = self._fill(pos)
        return pos

    def _skip_between(self, pos: int) -> int:
        """Skip BOMs, whitespace, NULs and ^Z before an interchange."""
        while True:
            pos = self._ensure(pos, 3)
            buf = self._buf
            while pos < len(buf):
                if buf.startswith(_BOM, pos):
                    pos += 3
                elif buf[pos] in _BETWEEN:
                    pos += 1
                else:
                    break
            if pos < len(buf) or self._eof:
                return pos
            pos = self._fill(pos)

    # -- interchange start ----------------------------------------------------------------
    def _read_una(self, pos: int) -> int:
        """Read the UNA at ``pos``; set the delimiters; return the position after it."""
        pos = self._ensure(pos, 32)
        buf = self._buf
        offset = self._base + pos
        chars: list[int] = []
        i = pos + 3
        while i < len(buf) and len(chars) < 6:
            b = buf[i]
            # A CR/LF inside the advice is line wrapping, except as the terminator itself.
            if b in (0x0D, 0x0A) and len(chars) < 5:
                i += 1
                continue
            chars.append(b)
            i += 1
        if len(chars) < 6:
            raise EDISyntaxError("UNA service string advice is truncated", offset)
        comp, elem, dec, rel, rep, term = (chr(c) for c in chars)
        structural = [comp, elem, term]
        if rel != " ":
            structural.append(rel)
        if rep != " ":
            structural.append(rep)
        if len(set(structural)) != len(structural):
            raise EDISyntaxError(
                f"UNA advises the same character for two service functions: {bytes(chars)!r}",
                offset,
            )
        for ch in structural:
            if ch.isalnum() or ch == " ":
                raise EDISyntaxError(
                    f"UNA advises {ch!r}, which cannot be a service character", offset
                )
        self.delimiters = Delimiters(
            component=comp,
            element=elem,
            decimal=dec,
            release=None if rel == " " else rel,
            repetition=None if rep == " " else rep,
            segment=term,
            una=True,
        )
        self.una_offset = offset
        return i

    def _begin_interchange(self, seg: Segment) -> None:
        """Apply UNB S001 (syntax identifier and version) to the rest of the interchange."""
        syntax_id = seg.get(1, 1)
        version = seg.get(1, 2)
        self.syntax_id = syntax_id
        self.syntax_version = version
        self.charset = charset_for(syntax_id) or FALLBACK
        d = self.delimiters
        if not d.una:
            # ISO 9735 version 4: the default repetition separator is '*' (level A) or IS2.
            repetition: str | None = None
            if version.isascii() and version.isdigit() and int(version) >= 4:
                repetition = "\x1e" if d.element == LEVEL_B.element else "*"
            if repetition != d.repetition:
                self.delimiters = replace(d, repetition=repetition)
        self._pattern = invalid_byte_pattern(self.charset, self.delimiters.service_bytes())

    def _default_delimiters(self, separator: int) -> Delimiters | None:
        """Defaults for a UNB without UNA, from the byte after the tag (ISO 9735-1 7.1)."""
        if separator == 0x2B:  # '+'
            return LEVEL_A
        if separator == 0x1D:  # IS3
            return LEVEL_B
        return None

    # -- iteration ----------------------------------------------------------------------
    def __iter__(self) -> Iterator[Segment]:
        # The generator itself, not one that yields from it: each segment would pass
        # through two generators otherwise.
        return self._run()

    def _start_interchange(self, pos: int) -> int:
        """At an interchange boundary: check the header bytes, read a UNA; return pos."""
        pos = self._skip_between(pos)
        buf = self._buf
        head = buf[pos : pos + 3]
        if head not in _STARTS:
            raise EDISyntaxError(
                f"not UN/EDIFACT: expected UNA, UNB or UNH, found {buf[pos : pos + 16]!r}",
                self._base + pos,
            )
        self.una_offset = None
        self.delimiters = LEVEL_A
        self.charset = FALLBACK
        self.syntax_id = ""
        self.syntax_version = ""
        self.segment_count = 0
        self._pattern = None
        if head == b"UNA":
            pos = self._read_una(pos)
        return pos

    def _run(self) -> Generator[Segment, None, None]:
        pos = self._skip_between(0)
        if pos >= len(self._buf):
            return
        pos = self._start_interchange(pos)
        after_una = self.una_offset is not None
        expect_header = False
        msg_pos = 0
        # A batch: the buffer from ``batch_pos`` up to a terminator, split at the terminator
        # in one call (``pieces[k]`` starts at ``batch_pos``). One ``split`` costs far less
        # than a ``find`` and a slice per segment. The batch stays valid while the buffer,
        # the terminator and the codec do and ``pos`` follows it; it is dropped otherwise.
        # With a single-byte character set the batch is decoded whole and split as text
        # (``texts``): character offsets are byte offsets then, and one decode replaces a
        # decode, a byte-string strip and two line-break scans per segment.
        pieces: list[bytes] = []
        texts: list[str] = []
        as_text = False
        k = 0
        count = 0
        batch_pos = -1
        batch_cut = -1
        batch_stop = -1  # no batch starts at or before this position (see below)
        batch_buf = b""
        batch_term = b""
        batch_codec = ""
        # Whether the text batch holds any CR, any LF: pieces skip the scans for neither.
        batch_cr = True
        batch_lf = True
        # The text batch from the buffer offset ``batch_origin``, and the offset of its next
        # release character (``_NONE``: none left): a piece ending before it holds none,
        # which one comparison tells instead of a scan of each piece.
        whole = ""
        batch_origin = 0
        next_rel = _NONE
        while True:
            # (Re)load the interchange's constants into locals for the hot loop.
            d = self.delimiters
            term_s = d.segment
            term = term_s.encode("latin-1")
            term_len = len(term)
            esep = d.element
            csep = d.component
            rel_s = d.release
            rep_s = d.repetition
            rel = ord(rel_s) if rel_s is not None else -1
            rel_t = rel_s if rel_s is not None else ""
            charset = self.charset
            codec = charset.codec
            single_byte = not charset.multibyte
            pattern = self._pattern
            newline_term = term in (b"\n", b"\r")
            buf = self._buf
            if buf is not batch_buf or term != batch_term or codec != batch_codec:
                count = 0
                batch_stop = -1
            rel_b = rel_s.encode("latin-1") if rel_s is not None else b""
            next_bad = _NONE
            # A buffer without an invalid byte needs no search with the pattern at all.
            if pattern is not None and _any_invalid(buf, pattern):
                m = pattern.search(buf, pos)
                next_bad = m.start() if m is not None else _NONE
            reload = False
            while True:
                if expect_header:
                    expect_header = False
                    pos = self._skip_between(pos)
                    if pos >= len(self._buf) and self._eof:
                        return
                    pos = self._start_interchange(pos)
                    after_una = self.una_offset is not None
                    msg_pos = 0
                    reload = True
                    break
                text = ""
                piece = b""
                has_rel = False
                if k < count and pos == batch_pos and as_text:
                    text = texts[k]
                    k += 1
                    end = pos + len(text)
                    if end > pos and ord(text[-1]) == rel:
                        # Released terminators split this segment: join its pieces back.
                        while _odd_release_text(text, rel_t) and k < count:
                            text = text + term_s + texts[k]
                            k += 1
                        if _odd_release_text(text, rel_t):
                            # It runs past the batch: read it the slow way, once.
                            count = 0
                            batch_stop = batch_cut
                            continue
                        end = pos + len(text)
                    batch_pos = end + term_len
                    if next_rel < end:
                        has_rel = True
                        found = whole.find(rel_t, end - batch_origin)
                        next_rel = batch_origin + found if found >= 0 else _NONE
                elif k < count and pos == batch_pos:
                    piece = pieces[k]
                    k += 1
                    end = pos + len(piece)
                    if end > pos and piece[-1] == rel:
                        # Released terminators split this segment: join its pieces back.
                        while _odd_release(piece, rel_b) and k < count:
                            piece = piece + term + pieces[k]
                            k += 1
                        if _odd_release(piece, rel_b):
                            # It runs past the batch: read it the slow way, once.
                            count = 0
                            batch_stop = batch_cut
                            continue
                        end = pos + len(piece)
                    batch_pos = end + term_len
                else:
                    if pos > batch_stop:
                        cut = buf.rfind(term, pos, pos + _BATCH)
                        if cut > pos:
                            count = 0
                            as_text = False
                            chunk = buf[pos:cut]
                            if single_byte:
                                try:
                                    whole = chunk.decode(codec)
                                except UnicodeDecodeError:
                                    pass  # per segment, so that the bad one is located
                                else:
                                    texts = whole.split(term_s)
                                    count = len(texts)
                                    as_text = True
                                    batch_cr = "\r" in whole
                                    batch_lf = "\n" in whole
                                    batch_origin = pos
                                    found = whole.find(rel_t) if rel_t else -1
                                    next_rel = pos + found if found >= 0 else _NONE
                            if not as_text:
                                pieces = chunk.split(term)
                                count = len(pieces)
                            k = 0
                            batch_pos = pos
                            batch_cut = cut
                            batch_buf = buf
                            batch_term = term
                            batch_codec = codec
                            continue
                    count = 0
                    end = buf.find(term, pos)
                    if end > pos and buf[end - 1] == rel:
                        end = self._unescaped_end(buf, pos, end, term, rel)
                    if end < 0:
                        if not self._eof:
                            pos = self._fill(pos)
                            reload = True
                            break
                        if not buf[pos:].strip(_BETWEEN):
                            return
                        end = len(buf)
                    piece = buf[pos:end]
                start = pos
                pos = end + term_len
                issues: list[Issue] | None = None
                if text:
                    # One line break and then the tag, without a call: one segment a line.
                    if ord(text[0]) == 0x0A and len(text) > 1 and ord(text[1]) > 0x20:
                        lead = 1
                    else:
                        lead = _leading_whitespace(text)
                    if lead:
                        if lead == len(text):
                            continue
                        start += lead
                        text = text[lead:]
                    if len(text) > 1 and ord(text[0]) == 0x55 and ord(text[1]) == 0x4E:  # "UN"
                        third = ord(text[2]) if len(text) > 2 else 0
                        if third == 0x41 or (third == 0x42 and self.segment_count):
                            # UNA, or UNB after segments: a new interchange (without UNZ).
                            pos = start
                            expect_header = True
                            reload = True
                            break
                        if third == 0x42 and not after_una and len(text) > 3:
                            fresh = self._default_delimiters(ord(text[3]))
                            if fresh is not None and fresh != d:
                                self.delimiters = fresh
                                pos = start
                                reload = True
                                break
                    if end > next_bad and pattern is not None:
                        issues = self._repertoire_issues(
                            buf[start:end], start, pattern, d, msg_pos
                        )
                        m = pattern.search(buf, end)
                        next_bad = m.start() if m is not None else _NONE
                    if newline_term:
                        if batch_cr and "\r" in text:
                            text = text.replace("\r", "")
                    elif (batch_lf and "\n" in text) or (batch_cr and "\r" in text):
                        text = text.replace("\r", "").replace("\n", "")
                else:
                    if piece and piece[0] in _WS:
                        stripped_b = piece.lstrip(_WS)
                        start += len(piece) - len(stripped_b)
                        piece = stripped_b
                    if not piece:
                        continue
                    if piece[0] == 0x55 and len(piece) > 1 and piece[1] == 0x4E:  # "UN"
                        third_b = piece[2] if len(piece) > 2 else 0
                        if third_b == 0x41 or (third_b == 0x42 and self.segment_count):
                            # UNA, or UNB after segments: a new interchange (without UNZ).
                            pos = start
                            expect_header = True
                            reload = True
                            break
                        if third_b == 0x42 and not after_una and len(piece) > 3:
                            fresh = self._default_delimiters(piece[3])
                            if fresh is not None and fresh != d:
                                self.delimiters = fresh
                                pos = start
                                reload = True
                                break
                    if end > next_bad and pattern is not None:
                        issues = self._repertoire_issues(piece, start, pattern, d, msg_pos)
                        m = pattern.search(buf, end)
                        next_bad = m.start() if m is not None else _NONE
                    piece = _without_breaks(piece, newline_term)
                    try:
                        text = piece.decode(codec)
                    except UnicodeDecodeError as exc:
                        text = self._decode_badly(piece)
                        # Unless the repertoire check has reported it, or the character set
                        # is unknown (the envelope reports that once, at UNB S001).
                        if issues is None and charset is not FALLBACK:
                            issues = self._add_decode_issue(issues, exc, piece, start, d,
                                                            msg_pos)
                    has_rel = rel_s is not None and rel_s in text
                repeats: dict[int, list[list[str]]] | None = None
                if has_rel or (rep_s is not None and rep_s in text):
                    tag, elements, repeats, bad = _split_escaped(text, d)
                    if bad:
                        issues = self._add_escape_issue(issues, text, bad, start, d, msg_pos)
                else:
                    parts = text.split(esep)
                    tag = parts[0]
                    elements = _components(parts, csep)
                # One test instead of four comparisons for the segments of a message.
                service = len(tag) > 1 and ord(tag[0]) == 0x55 and ord(tag[1]) == 0x4E  # "UN"
                if service and tag == "UNH":
                    msg_pos = 1
                elif msg_pos:
                    msg_pos += 1
                if issues is not None and msg_pos:
                    issues = [_at_position(i, msg_pos) for i in issues]
                self.segment_count += 1
                seg = Segment(
                    tag,
                    elements,
                    self._base + start,
                    self.segment_count,
                    msg_pos,
                    repeats,
                    issues,
                )
                if service and tag == "UNB":
                    self._begin_interchange(seg)
                    if self._pattern is not None:
                        if not piece:  # read as text
                            piece = _without_breaks(buf[start:end], newline_term)
                        seg.issues = self._repertoire_issues(piece, start, self._pattern, d, 0)
                    after_una = False
                    yield seg
                    reload = True
                    break
                after_una = False
                if service:
                    if tag == "UNT":
                        msg_pos = 0
                    elif tag == "UNZ":
                        expect_header = True
                yield seg
            if not reload:
                return

    @staticmethod
    def _unescaped_end(buf: bytes, pos: int, end: int, term: bytes, rel: int) -> int:
        """The first terminator at or after ``end`` not escaped by the release character."""
        while end > pos and buf[end - 1] == rel:
            j = end - 1
            while j >= pos and buf[j] == rel:
                j -= 1
            if (end - 1 - j) % 2 == 0:
                return end  # an even run: the releases escape each other
            end = buf.find(term, end + 1)
            if end < 0:
                return -1
        return end

    # -- problems ---------------------------------------------------------------------------
    def _decode_badly(self, piece: bytes) -> str:
        try:
            return piece.decode("utf-8")
        except UnicodeDecodeError:
            return piece.decode("latin-1")

    def _repertoire_issues(
        self,
        piece: bytes,
        start: int,
        pattern: re.Pattern[bytes],
        d: Delimiters,
        msg_pos: int,
    ) -> list[Issue] | None:
        found = pattern.search(piece)
        if found is None:
            return None  # the invalid byte was whitespace between segments
        shown = ""
        for m in pattern.finditer(piece):
            run = m.group()
            chars = (
                self._decode_badly(run)
                if self.charset.codec == "ascii"
                else (run.decode(self.charset.codec, "replace"))
            )
            for ch in chars:
                if ch not in shown:
                    shown += ch
        idx = found.start()
        element, component, repetition = _locate(piece.decode("latin-1"), idx, d)
        return [
            _char_issue(
                "21",
                f"character(s) {shown!r} outside the {self.syntax_id or 'declared'} "
                f"repertoire (first at byte {self._base + start + idx})",
                self._base + start + idx,
                piece,
                element,
                component,
                repetition,
                shown,
                msg_pos,
            )
        ]

    def _add_decode_issue(
        self,
        issues: list[Issue] | None,
        exc: UnicodeDecodeError,
        piece: bytes,
        start: int,
        d: Delimiters,
        msg_pos: int,
    ) -> list[Issue]:
        out = list(issues or [])
        idx = exc.start
        element, component, repetition = _locate(piece.decode("latin-1"), idx, d)
        raw = piece[exc.start : exc.end]
        out.append(
            _char_issue(
                "21",
                f"bytes {raw!r} are not valid {self.charset.codec} "
                f"({self.syntax_id or 'no syntax identifier'})",
                self._base + start + idx,
                piece,
                element,
                component,
                repetition,
                raw.hex(),
                msg_pos,
            )
        )
        return out

    def _add_escape_issue(
        self,
        issues: list[Issue] | None,
        text: str,
        bad: list[int],
        start: int,
        d: Delimiters,
        msg_pos: int,
    ) -> list[Issue]:
        out = list(issues or [])
        idx = bad[0]
        # Character index; exact as a byte offset for single-byte character sets.
        element, component, repetition = _locate(text, idx, d)
        shown = text[idx : idx + 2]
        out.append(
            Issue(
                level="element" if element else "segment",
                code="22",
                message=f"release character {d.release!r} does not precede a service "
                f"character: {shown!r}",
                severity="warning",
                offset=self._base + start + idx,
                segment_tag=text.split(d.element, 1)[0][:3],
                segment_position=msg_pos or None,
                element_position=element or None,
                component_position=component if element else None,
                repetition=repetition if repetition > 1 else None,
                bad_value=shown,
            )
        )
        return out


@functools.lru_cache(maxsize=32)
def _valid_bytes(pattern: re.Pattern[bytes]) -> bytes:
    """Every byte ``pattern`` (an ``invalid_byte_pattern``) does not match."""
    return bytes(b for b in range(256) if pattern.match(bytes((b,))) is None)


@functools.lru_cache(maxsize=32)
def _invalid_ascii(pattern: re.Pattern[bytes]) -> tuple[bytes, ...]:
    """Every byte below 0x80 that ``pattern`` matches, each as a one-byte string."""
    return tuple(bytes((b,)) for b in range(0x80) if pattern.match(bytes((b,))) is not None)


def _any_invalid(buf: bytes, pattern: re.Pattern[bytes]) -> bool:
    """True when ``buf`` holds a byte ``pattern`` (an ``invalid_byte_pattern``) matches.

    Deleting the valid bytes is a far faster scan than the pattern's; for an ASCII buffer
    (the ASCII test is faster still) a memchr for each of the few invalid ASCII bytes is
    faster again."""
    if buf.isascii():
        invalid = _invalid_ascii(pattern)
        if len(invalid) <= 40:
            return any(byte in buf for byte in invalid)
    return bool(buf.translate(None, _valid_bytes(pattern)))


def _odd_release(piece: bytes, rel: bytes) -> bool:
    """True when ``piece`` ends with an odd run of release characters, which releases the
    terminator after it; an even run releases itself."""
    return (len(piece) - len(piece.rstrip(rel))) % 2 == 1


# The two loops of every segment, outside the generator: there each local is a field of the
# generator object, here a C variable.


def _leading_whitespace(text: str) -> int:
    """How many of the characters ``text`` starts with are CR, LF, space or tab (mostly the
    line break after the last terminator); str.lstrip with an argument costs more."""
    lead = 0
    size = len(text)
    while lead < size:
        c = ord(text[lead])
        if c != 0x0A and c != 0x20 and c != 0x0D and c != 0x09:
            break
        lead += 1
    return lead


def _components(parts: list[str], csep: str) -> list[list[str]]:
    """Data elements 1.. of a segment cut at its element separators, each cut into its
    components."""
    return [parts[i].split(csep) for i in range(1, len(parts))]


def _odd_release_text(text: str, rel: str) -> bool:
    """``_odd_release`` for a piece of a text batch."""
    return (len(text) - len(text.rstrip(rel))) % 2 == 1


def _without_breaks(piece: bytes, newline_term: bool) -> bytes:
    """A segment's bytes without the line breaks that wrap it (they carry no data). When
    the terminator is itself a line break, only CRs go (the CR of a CR LF line end)."""
    if newline_term:
        return piece.replace(b"\r", b"") if 0x0D in piece else piece
    if 0x0A in piece or 0x0D in piece:
        return piece.replace(b"\r", b"").replace(b"\n", b"")
    return piece


def _char_issue(
    code: str,
    message: str,
    offset: int,
    piece: bytes,
    element: int,
    component: int,
    repetition: int,
    value: str,
    msg_pos: int,
) -> Issue:
    tag = piece[:3].decode("latin-1")
    return Issue(
        level="element" if element else "segment",
        code=code,
        message=message,
        offset=offset,
        segment_tag=tag,
        segment_position=msg_pos or None,
        element_position=element or None,
        component_position=component if element else None,
        repetition=repetition if repetition > 1 else None,
        bad_value=value,
    )


def _at_position(issue: Issue, msg_pos: int) -> Issue:
    if issue.segment_position == msg_pos:
        return issue
    return replace(issue, segment_position=msg_pos)


def _locate(text: str, idx: int, d: Delimiters) -> tuple[int, int, int]:
    """(element, component, repetition) holding character ``idx`` of a segment's text;
    element 0 is the tag. Release characters are honoured."""
    esep = d.element
    csep = d.component
    rsep = d.repetition or ""
    rel = d.release or ""
    element, component, repetition = 0, 1, 1
    i = 0
    while i < idx and i < len(text):
        b = text[i]
        if b == rel:
            i += 2
            continue
        if b == esep:
            element += 1
            component = 1
            repetition = 1
        elif b == csep:
            component += 1
        elif b == rsep:
            repetition += 1
            component = 1
        i += 1
    return element, component, repetition


def _split_escaped(
    text: str, d: Delimiters
) -> tuple[str, list[list[str]], dict[int, list[list[str]]] | None, list[int]]:
    """Split a segment that holds release or repetition characters, one character at a
    time. Returns the tag, the elements (first repetitions), all repetitions of repeated
    elements, and the indices of release characters that precede no service character."""
    esep = d.element
    csep = d.component
    rsep = d.repetition or ""
    rel = d.release or ""
    service = {esep, csep, d.segment}
    if rel:
        service.add(rel)
    if rsep:
        service.add(rsep)
    bad: list[int] = []
    fields: list[list[list[str]]] = []
    reps: list[list[str]] = []
    comps: list[str] = []
    cur: list[str] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch == rel:
            if i + 1 < n:
                nxt = text[i + 1]
                if nxt not in service:
                    bad.append(i)
                cur.append(nxt)
                i += 2
            else:
                bad.append(i)  # a release character at the end releases nothing
                i += 1
            continue
        if ch == esep:
            comps.append("".join(cur))
            reps.append(comps)
            fields.append(reps)
            reps = []
            comps = []
            cur = []
        elif ch == csep:
            comps.append("".join(cur))
            cur = []
        elif ch == rsep:
            comps.append("".join(cur))
            reps.append(comps)
            comps = []
            cur = []
        else:
            cur.append(ch)
        i += 1
    comps.append("".join(cur))
    reps.append(comps)
    fields.append(reps)
    tag = csep.join(fields[0][0])
    elements: list[list[str]] = []
    repeats: dict[int, list[list[str]]] | None = None
    for position in range(1, len(fields)):
        element_reps = fields[position]
        elements.append(element_reps[0])
        if len(element_reps) > 1:
            if repeats is None:
                repeats = {}
            repeats[position] = element_reps
    return tag, elements, repeats, bad


def read_segments(source: Source) -> Iterator[Segment]:
    """Shorthand for ``iter(EDIFACTReader(source))``."""
    return iter(EDIFACTReader(source))
