"""Load X12 transaction maps (pyx12's XML map format) into compiled, immutable definitions.

Responsible for reading a map and the data element dictionary and code lists beside it
(``dataele.xml``, ``codes.xml``) once, and turning them into plain tuples and frozensets
that the validator walks without touching XML again. Wrapper loops (HEADER/DETAIL/FOOTER)
are flattened; the ISA/GS loops around the transaction set are dropped, since the envelope
walker owns them.
It must not validate anything itself.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "ElementDef",
    "LoopDef",
    "SegmentDef",
    "SyntaxRule",
    "TransactionSchema",
    "load_schema",
]

_UNBOUNDED = 1 << 30


@dataclass(frozen=True, slots=True)
class ElementDef:
    """A simple element, or a component of a composite (``components`` empty)."""

    ref: str  # "BEG03", or "C00101" for a component
    position: int
    data_element: str
    name: str
    usage: str  # R, S or N
    data_type: str  # AN, ID, N0..N9, R, DT, TM, B
    min_length: int
    max_length: int
    codes: frozenset[str] | None
    repeat: int
    components: tuple[ElementDef, ...] = ()

    @property
    def is_composite(self) -> bool:
        return bool(self.components)


@dataclass(frozen=True, slots=True)
class SyntaxRule:
    """An X12.6 syntax note: P paired, R required, E exclusion, C conditional, L list."""

    kind: str
    positions: tuple[int, ...]

    @property
    def text(self) -> str:
        return self.kind + "".join(f"{p:02d}" for p in self.positions)


@dataclass(frozen=True, slots=True)
class SegmentDef:
    tag: str
    name: str
    usage: str
    position: int
    max_use: int
    elements: tuple[ElementDef, ...]
    rules: tuple[SyntaxRule, ...]


@dataclass(frozen=True, slots=True)
class LoopDef:
    loop_id: str
    name: str
    usage: str
    position: int
    repeat: int
    children: tuple[SegmentDef | LoopDef, ...]

    @property
    def trigger(self) -> str:
        """The tag of the segment that starts each occurrence of the loop."""
        first = self.children[0]
        return first.tag if isinstance(first, SegmentDef) else first.trigger


@dataclass(frozen=True, slots=True)
class TransactionSchema:
    set_id: str
    name: str
    version: str
    root: LoopDef  # the ST_LOOP: ST, body, SE
    known_tags: frozenset[str]
    source: Path


def _text(node: ET.Element, name: str, default: str = "") -> str:
    """A value that pyx12 maps write either as an attribute or as a child element."""
    value = node.get(name)
    if value is not None:
        return value.strip()
    child = node.find(name)
    if child is not None and child.text is not None:
        return child.text.strip()
    return default


def _count(text: str) -> int:
    text = text.strip()
    if not text or text.startswith(">") or text.lower() in ("unbounded", "inf"):
        return _UNBOUNDED
    return int(text)


@dataclass(frozen=True, slots=True)
class _DataElement:
    data_type: str
    min_length: int
    max_length: int
    name: str


@functools.lru_cache(maxsize=8)
def _dictionary(path: Path, version: str) -> dict[str, _DataElement]:
    """Data elements with their lengths for ``version`` ("004010", "005010").

    pyx12 reads one ``dataele.xml`` per map folder, so it carries the widest lengths in
    ``min_len``/``max_len``; our maps add the exact ones per version as
    ``min_len_004010`` etc., which take precedence here.
    """
    out: dict[str, _DataElement] = {}
    for node in ET.parse(path).getroot().iter("data_ele"):
        number = node.get("ele_num")
        if number is None:
            continue
        out[number] = _DataElement(
            data_type=node.get("data_type", "AN"),
            min_length=int(node.get(f"min_len_{version}") or node.get("min_len") or "1"),
            max_length=int(node.get(f"max_len_{version}") or node.get("max_len") or "999999"),
            name=node.get("name", ""),
        )
    return out


@functools.lru_cache(maxsize=8)
def _external_codes(path: Path) -> dict[str, frozenset[str]]:
    """The code lists of ``codes.xml`` by codeset id, for ``<valid_codes external=...>``.

    A map folder without codes.xml has none; an id it does not define leaves the element
    unchecked, as pyx12's own HIPAA maps name code sources it does not ship.
    """
    if not path.is_file():
        return {}
    out: dict[str, frozenset[str]] = {}
    for node in ET.parse(path).getroot().iter("codeset"):
        codeset_id = _text(node, "id")
        found = [c.text.strip() for c in node.iterfind("version/code") if c.text]
        if codeset_id and found:
            out[codeset_id] = frozenset(found)
    return out


def _map_version(path: Path) -> str:
    """``850.4010.xml`` -> ``004010``; empty when the file name carries no version."""
    parts = path.stem.split(".")
    return ("00" + parts[1]) if len(parts) > 1 and parts[1].isdigit() else ""


def _parse_rule(text: str) -> SyntaxRule | None:
    text = text.strip()
    if len(text) < 3 or text[0] not in "PRECL" or (len(text) - 1) % 2:
        return None
    digits = text[1:]
    if not digits.isdigit():
        return None
    return SyntaxRule(text[0], tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2)))


_Externals = dict[str, frozenset[str]]


def _element(node: ET.Element, dictionary: dict[str, _DataElement], tag: str,
             external: _Externals) -> ElementDef:
    number = _text(node, "data_ele")
    entry = dictionary.get(number, _DataElement("AN", 1, 999999, ""))
    codes_node = node.find("valid_codes")
    codes: frozenset[str] | None = None
    if codes_node is not None:
        codeset_id = codes_node.get("external")
        if codeset_id is not None:
            codes = external.get(codeset_id)
        else:
            found = [c.text.strip() for c in codes_node.findall("code") if c.text]
            codes = frozenset(found) if found else None
    seq = int(_text(node, "seq", "0") or 0)
    return ElementDef(
        ref=node.get("xid") or f"{tag}{seq:02d}",
        position=seq,
        data_element=number,
        name=_text(node, "name") or entry.name,
        usage=_text(node, "usage", "S") or "S",
        data_type=entry.data_type,
        min_length=entry.min_length,
        max_length=entry.max_length,
        codes=codes,
        repeat=_count(_text(node, "repeat", "1")),
    )


def _segment(node: ET.Element, dictionary: dict[str, _DataElement],
             external: _Externals) -> SegmentDef:
    tag = node.get("xid", "")
    elements: list[ElementDef] = []
    for child in node:
        if child.tag == "element":
            elements.append(_element(child, dictionary, tag, external))
        elif child.tag == "composite":
            comps = tuple(
                _element(c, dictionary, tag, external) for c in child.findall("element")
            )
            seq = int(_text(child, "seq", "0") or 0)
            elements.append(
                ElementDef(
                    ref=child.get("xid") or f"{tag}{seq:02d}",
                    position=seq,
                    data_element=_text(child, "data_ele"),
                    name=_text(child, "name"),
                    usage=_text(child, "usage", "S") or "S",
                    data_type="composite",
                    min_length=0,
                    max_length=0,
                    codes=None,
                    repeat=_count(_text(child, "repeat", "1")),
                    components=comps,
                )
            )
    elements.sort(key=lambda e: e.position)
    rules = tuple(
        r for r in (_parse_rule(s.text or "") for s in node.findall("syntax")) if r is not None
    )
    return SegmentDef(
        tag=tag,
        name=_text(node, "name"),
        usage=_text(node, "usage", "S") or "S",
        position=int(_text(node, "pos", "0") or 0),
        max_use=_count(_text(node, "max_use", "1")),
        elements=tuple(elements),
        rules=rules,
    )


def _children(node: ET.Element, dictionary: dict[str, _DataElement],
              external: _Externals) -> list[SegmentDef | LoopDef]:
    out: list[SegmentDef | LoopDef] = []
    for child in node:
        if child.tag == "segment":
            out.append(_segment(child, dictionary, external))
        elif child.tag == "loop":
            kids = _children(child, dictionary, external)
            if child.get("type") == "wrapper":
                out.extend(kids)  # HEADER/DETAIL/FOOTER areas are not loops in X12 terms
            elif kids:
                out.append(
                    LoopDef(
                        loop_id=child.get("xid", ""),
                        name=_text(child, "name"),
                        usage=_text(child, "usage", "S") or "S",
                        position=int(_text(child, "pos", "0") or 0),
                        repeat=_count(_text(child, "repeat", "1")),
                        children=tuple(kids),
                    )
                )
    return out


def _tags(loop: LoopDef) -> set[str]:
    tags: set[str] = set()
    for child in loop.children:
        if isinstance(child, SegmentDef):
            tags.add(child.tag)
        else:
            tags |= _tags(child)
    return tags


@functools.lru_cache(maxsize=64)
def load_schema(path: Path) -> TransactionSchema:
    """Compile the map at ``path`` (``dataele.xml`` and ``codes.xml`` are read from the
    same folder)."""
    version = _map_version(path)
    dictionary = _dictionary(path.parent / "dataele.xml", version)
    external = _external_codes(path.parent / "codes.xml")
    root = ET.parse(path).getroot()
    st_loop = next((n for n in root.iter("loop") if n.get("xid") == "ST_LOOP"), None)
    if st_loop is None:
        raise ValueError(f"{path}: no ST_LOOP in map")
    kids = _children(st_loop, dictionary, external)
    loop = LoopDef("ST_LOOP", _text(st_loop, "name"), "R", 0, 1, tuple(kids))
    first = kids[0] if kids else None
    if not isinstance(first, SegmentDef) or first.tag != "ST":
        raise ValueError(f"{path}: ST_LOOP does not start with ST")
    st_codes = first.elements[0].codes if first.elements else None
    set_id = root.get("xid", "") or (sorted(st_codes)[0] if st_codes else "")
    return TransactionSchema(
        set_id=set_id,
        name=_text(root, "name"),
        version=version,
        root=loop,
        known_tags=frozenset(_tags(loop)),
        source=path,
    )
