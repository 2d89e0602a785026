"""X12 serializer: segments in, bytes out, with correct envelopes.

Responsible for writing segments with given ``Delimiters``, for the fixed-width ISA
(X12.5), and for the envelope trailers whose counts and control numbers must agree with
their headers: SE01/SE02, GE01/GE02, IEA01/IEA02. Acknowledgment builders (997, 999, TA1)
and the benchmark generator write through this module.
It must not know about transaction schemas, and it must not guess: X12 has no release
character, so a value that contains a delimiter cannot be written and raises
``ValueError`` instead of producing an interchange that reads back differently.

Values are element text. A simple element is a ``str``; a composite is a
``Composite("EA", "12")``; a repeated element is a ``Repetition("A", "B")`` whose items
are ``str`` or ``Composite``. Segments read by ``X12Reader`` can be written as they are.

Typical use::

    data = write_interchange(
        InterchangeSpec(sender_id="SENDER", receiver_id="RECEIVER", date="240101",
                        time="1200", control_number="1"),
        [GroupSpec(functional_id="FA", sender_code="SENDER", receiver_code="RECEIVER",
                   date="20240101", time="1200", control_number="1", version="004010",
                   transactions=[TransactionSpec("997", "0001", [["AK1", "PO", "7"], ...])])],
        Delimiters(),
    )
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import BinaryIO, TypeAlias

from translators.x12.segment import Delimiters, Segment

__all__ = [
    "ISA_WIDTHS",
    "Composite",
    "ElementValue",
    "GroupSpec",
    "InterchangeSpec",
    "Repetition",
    "SegmentLike",
    "TransactionSpec",
    "X12Writer",
    "build_isa",
    "check_delimiters",
    "effective_delimiters",
    "segment_text",
    "write_interchange",
]

# X12.5 ISA01..ISA16 field widths; the ISA is fixed-width so that readers can find the
# delimiters at fixed byte positions (106 bytes with the terminator).
ISA_WIDTHS: tuple[int, ...] = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)

# Interchange control version from which ISA11 carries the repetition separator
# (X12.5 version 00402); before it ISA11 is the standards identifier, "U".
_REPETITION_FROM_VERSION = "00402"

# Characters a reader skips or treats as line wrapping between and inside segments; a
# delimiter among them could not be told apart from layout.
_LAYOUT = " \t\r\n\x00\x1a"


@dataclass(frozen=True, slots=True, init=False)
class Composite:
    """A composite element: its components in order (X12.6 composite data structure)."""

    components: tuple[str, ...]

    def __init__(self, *components: str) -> None:
        object.__setattr__(self, "components", tuple(components))


@dataclass(frozen=True, slots=True, init=False)
class Repetition:
    """A repeated element: its occurrences in order, written with the repetition separator."""

    values: tuple[str | Composite, ...]

    def __init__(self, *values: str | Composite) -> None:
        object.__setattr__(self, "values", tuple(values))


ElementValue: TypeAlias = str | Composite | Repetition
SegmentLike: TypeAlias = Sequence[ElementValue] | Segment


@dataclass(frozen=True, slots=True)
class InterchangeSpec:
    """The values of an ISA header; the writer pads them to their X12.5 widths.

    ``date`` is YYMMDD (ISA09), ``time`` HHMM (ISA10). ``control_number`` (ISA13) is
    digits, zero-padded to 9 on output. ``version`` is ISA12, e.g. ``"00401"``,
    ``"00501"``; it decides what ISA11 holds.
    """

    sender_id: str
    receiver_id: str
    date: str
    time: str
    control_number: str
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    version: str = "00401"
    ack_requested: str = "0"
    usage: str = "P"
    authorization_qualifier: str = "00"
    authorization: str = ""
    security_qualifier: str = "00"
    security: str = ""


@dataclass(frozen=True, slots=True)
class TransactionSpec:
    """One transaction: ST01, ST02 and the body segments between ST and SE.

    ``implementation_reference`` is ST03 (e.g. ``"005010X222A1"``), omitted when ``None``.
    """

    transaction_set: str
    control_number: str
    segments: Sequence[SegmentLike] = ()
    implementation_reference: str | None = None


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """The values of a GS header and the transactions of the group.

    ``date`` is CCYYMMDD (GS04), ``time`` HHMM[SS] (GS05), ``version`` GS08 such as
    ``"004010"`` or ``"005010X222A1"``.
    """

    functional_id: str
    sender_code: str
    receiver_code: str
    date: str
    time: str
    control_number: str
    version: str
    agency: str = "X"
    transactions: Sequence[TransactionSpec] = field(default_factory=tuple)


def check_delimiters(delimiters: Delimiters) -> None:
    """Raise ``ValueError`` unless ``delimiters`` can be written and read back unambiguously.

    Element, component and repetition separators are single ASCII characters (they sit
    at fixed byte positions in the ISA), not alphanumeric and not layout whitespace; all
    delimiters differ from one another.
    """
    singles = {"element": delimiters.element, "component": delimiters.component}
    if delimiters.repetition is not None:
        singles["repetition"] = delimiters.repetition
    for name, char in singles.items():
        if len(char) != 1 or ord(char) > 0x7F:
            raise ValueError(f"{name} separator must be one ASCII character, got {char!r}")
        if char.isalnum() or char in _LAYOUT:
            raise ValueError(f"{name} separator {char!r} is alphanumeric or whitespace")
    term = delimiters.segment
    if not term or any(c.isalnum() for c in term) or term in (" ", "\t", "\x00", "\x1a"):
        raise ValueError(f"segment terminator {term!r} is empty, alphanumeric or blank")
    chars = list(singles.values())
    if len(set(chars)) != len(chars) or any(c in term for c in chars):
        raise ValueError(f"delimiters are not distinct: {delimiters!r}")


def effective_delimiters(delimiters: Delimiters, version: str) -> Delimiters:
    """The delimiters an interchange of ISA12 ``version`` really has.

    Before 00402 ISA11 is the standards identifier, so there is no repetition separator
    and its character is ordinary data; from 00402 one is required (X12.5).
    """
    if version < _REPETITION_FROM_VERSION:
        return replace(delimiters, repetition=None) if delimiters.repetition else delimiters
    if delimiters.repetition is None:
        raise ValueError(f"ISA12 {version} needs a repetition separator (ISA11)")
    return delimiters


def _check_text(text: str, delimiters: Delimiters, where: str) -> str:
    for char in text:
        if (
            char == delimiters.element
            or char == delimiters.component
            or char == delimiters.repetition
            or char in "\r\n"
            or char in delimiters.segment
        ):
            raise ValueError(
                f"{where}: value {text!r} contains delimiter or line break {char!r};"
                " X12 has no release character"
            )
    return text


def _trim(parts: list[str]) -> list[str]:
    # X12.6: trailing empty elements/components are omitted together with their separators.
    end = len(parts)
    while end > 1 and parts[end - 1] == "":
        end -= 1
    return parts[:end]


def _component_text(value: str | Composite, d: Delimiters, where: str, trim: bool) -> str:
    if isinstance(value, Composite):
        parts = [_check_text(c, d, where) for c in value.components]
        return d.component.join(_trim(parts) if trim else parts)
    return _check_text(value, d, where)


def _element_text(value: ElementValue, d: Delimiters, where: str, trim: bool) -> str:
    if isinstance(value, Repetition):
        if len(value.values) > 1 and d.repetition is None:
            raise ValueError(f"{where}: repeated value but no repetition separator")
        rep = d.repetition or ""
        return rep.join(_component_text(v, d, where, trim) for v in value.values)
    return _component_text(value, d, where, trim)


def _segment_fields(segment: SegmentLike, delimiters: Delimiters, trim: bool) -> list[str]:
    if isinstance(segment, Segment):
        return _reader_segment_fields(segment, delimiters, trim)
    if not segment:
        raise ValueError("a segment needs at least its tag")
    tag = segment[0]
    if not isinstance(tag, str) or not (2 <= len(tag) <= 3 and tag.isalnum() and tag.isascii()):
        raise ValueError(f"segment tag must be 2-3 ASCII letters/digits, got {tag!r}")
    fields = [tag]
    for position, value in enumerate(segment[1:], start=1):
        fields.append(_element_text(value, delimiters, f"{tag}{position:02d}", trim))
    return _trim(fields) if trim else fields


def _reader_segment_fields(segment: Segment, d: Delimiters, trim: bool) -> list[str]:
    """Fields of a read segment, re-delimited when ``d`` differs from its own delimiters."""
    own = segment.delimiters
    fields: list[str] = [segment.tag]
    for position, raw in enumerate(segment.fields[1:], start=1):
        where = f"{segment.tag}{position:02d}"
        reps = raw.split(own.repetition) if own.repetition and own.repetition in raw else [raw]
        value = Repetition(*(Composite(*r.split(own.component)) for r in reps))
        fields.append(_element_text(value, d, where, trim))
    return _trim(fields) if trim else fields


def segment_text(fields: SegmentLike, delimiters: Delimiters, *, trim: bool = True) -> str:
    """One segment as text, terminator included (no line break).

    ``fields[0]`` is the tag. With ``trim`` (the default) trailing empty elements and
    components are dropped as X12.6 requires. Raises ``ValueError`` for a value that
    contains a delimiter or a line break. Not for ISA: use ``build_isa``.
    """
    tag = fields.tag if isinstance(fields, Segment) else fields[0] if fields else ""
    if tag == "ISA":
        raise ValueError("ISA is fixed-width: use build_isa()")
    return delimiters.element.join(_segment_fields(fields, delimiters, trim)) + delimiters.segment


def build_isa(header: InterchangeSpec, delimiters: Delimiters) -> str:
    """The ISA segment, every element padded to its X12.5 width, terminator included.

    Alphanumeric elements are left-justified and space-padded; ISA13 is zero-padded to 9
    digits. ISA11 is the repetition separator from 00402 on, ``"U"`` before. Raises
    ``ValueError`` for a value that is too long or contains a delimiter.
    """
    check_delimiters(delimiters)
    d = effective_delimiters(delimiters, header.version)
    if not header.control_number.isdigit() or len(header.control_number) > 9:
        raise ValueError(f"ISA13 must be 1-9 digits, got {header.control_number!r}")
    isa11 = d.repetition if d.repetition is not None else "U"
    values = (
        header.authorization_qualifier,
        header.authorization,
        header.security_qualifier,
        header.security,
        header.sender_qualifier,
        header.sender_id,
        header.receiver_qualifier,
        header.receiver_id,
        header.date,
        header.time,
        isa11,
        header.version,
        header.control_number.zfill(9),
        header.ack_requested,
        header.usage,
        d.component,
    )
    out = ["ISA"]
    for position, (value, width) in enumerate(zip(values, ISA_WIDTHS, strict=True), start=1):
        if len(value) > width:
            raise ValueError(f"ISA{position:02d} {value!r} is longer than {width}")
        if position not in (11, 16):
            _check_text(value, d, f"ISA{position:02d}")
        out.append(value.ljust(width))
    return d.element.join(out) + d.segment


class X12Writer:
    """Streaming writer: opens and closes envelopes and keeps their counts.

    Call ``start_interchange``, ``start_group``, ``start_transaction``, then
    ``write_segment`` for each body segment, then the matching ``end_*`` calls. The
    trailers (SE, GE, IEA) are written with counts and control numbers taken from what
    was actually written. ``write_segment`` outside a transaction is allowed directly in
    an interchange (e.g. TA1) and counts toward nothing.
    ``line_break`` writes CRLF after every terminator (ignored when the terminator is
    itself a line break).
    """

    def __init__(
        self,
        out: BinaryIO,
        delimiters: Delimiters,
        *,
        line_break: bool = False,
        encoding: str = "utf-8",
    ) -> None:
        check_delimiters(delimiters)
        self._out = out
        self._base = delimiters
        self._d = delimiters
        self._encoding = encoding
        self._eol = "\r\n" if line_break and delimiters.segment not in ("\n", "\r\n") else ""
        self._isa13: str | None = None
        self._group_count = 0
        self._gs06: str | None = None
        self._transaction_count = 0
        self._st02: str | None = None
        self._segment_count = 0
        self.segments_written = 0

    @property
    def delimiters(self) -> Delimiters:
        """The delimiters in force (no repetition separator before ISA12 00402)."""
        return self._d

    def _emit(self, text: str) -> None:
        self._out.write((text + self._eol).encode(self._encoding))
        self.segments_written += 1

    def start_interchange(self, header: InterchangeSpec) -> None:
        if self._isa13 is not None:
            raise ValueError("interchange already open")
        isa = build_isa(header, self._base)
        self._d = effective_delimiters(self._base, header.version)
        self._isa13 = header.control_number.zfill(9)
        self._group_count = 0
        self._emit(isa)

    def start_group(self, group: GroupSpec) -> None:
        if self._isa13 is None or self._gs06 is not None:
            raise ValueError("a group starts inside an interchange and outside a group")
        self._gs06 = group.control_number
        self._transaction_count = 0
        self._group_count += 1
        self._emit(
            segment_text(
                [
                    "GS",
                    group.functional_id,
                    group.sender_code,
                    group.receiver_code,
                    group.date,
                    group.time,
                    group.control_number,
                    group.agency,
                    group.version,
                ],
                self._d,
            )
        )

    def start_transaction(
        self,
        transaction_set: str,
        control_number: str,
        implementation_reference: str | None = None,
    ) -> None:
        if self._gs06 is None or self._st02 is not None:
            raise ValueError("a transaction starts inside a group and outside a transaction")
        self._st02 = control_number
        self._segment_count = 0
        self._transaction_count += 1
        st: list[ElementValue] = ["ST", transaction_set, control_number]
        if implementation_reference is not None:
            st.append(implementation_reference)
        self._write(st)

    def write_segment(self, segment: SegmentLike) -> None:
        """Write one segment; inside a transaction it counts toward SE01."""
        if self._isa13 is None:
            raise ValueError("segments are written inside an interchange")
        tag = segment.tag if isinstance(segment, Segment) else segment[0] if segment else ""
        if tag in _ENVELOPE_TAGS:
            raise ValueError(f"{tag} is written by the start_/end_ methods")
        self._write(segment)

    def _write(self, segment: SegmentLike) -> None:
        if self._st02 is not None:
            self._segment_count += 1
        self._emit(segment_text(segment, self._d))

    def end_transaction(self) -> None:
        if self._st02 is None:
            raise ValueError("no transaction is open")
        self._write(["SE", str(self._segment_count + 1), self._st02])
        self._st02 = None

    def end_group(self) -> None:
        if self._gs06 is None or self._st02 is not None:
            raise ValueError("no group is open, or a transaction in it is still open")
        self._emit(segment_text(["GE", str(self._transaction_count), self._gs06], self._d))
        self._gs06 = None

    def end_interchange(self) -> None:
        if self._isa13 is None or self._gs06 is not None:
            raise ValueError("no interchange is open, or a group in it is still open")
        self._emit(segment_text(["IEA", str(self._group_count), self._isa13], self._d))
        self._isa13 = None

    def write_transaction(self, transaction: TransactionSpec) -> None:
        """ST, the body segments and SE."""
        self.start_transaction(
            transaction.transaction_set,
            transaction.control_number,
            transaction.implementation_reference,
        )
        for segment in transaction.segments:
            self.write_segment(segment)
        self.end_transaction()

    def write_group(self, group: GroupSpec) -> None:
        """GS, every transaction of ``group`` and GE."""
        self.start_group(group)
        for transaction in group.transactions:
            self.write_transaction(transaction)
        self.end_group()


_ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})


def write_interchange(
    header: InterchangeSpec,
    groups: Sequence[GroupSpec],
    delimiters: Delimiters,
    *,
    line_break: bool = False,
    interchange_segments: Iterable[SegmentLike] = (),
    encoding: str = "utf-8",
) -> bytes:
    """One complete interchange as bytes: ISA, groups with their transactions, IEA.

    ``interchange_segments`` are written right after the ISA, outside any group (a TA1).
    SE01, GE01 and IEA01 are counted; SE02, GE02 and IEA02 repeat their headers'
    control numbers.
    """
    buffer = io.BytesIO()
    writer = X12Writer(buffer, delimiters, line_break=line_break, encoding=encoding)
    writer.start_interchange(header)
    for segment in interchange_segments:
        writer.write_segment(segment)
    for group in groups:
        writer.write_group(group)
    writer.end_interchange()
    return buffer.getvalue()
