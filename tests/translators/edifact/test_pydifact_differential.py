"""Differential test: pydifact and edigate agree on the segments and elements of every
EDIFACT file in ../shared/corpus (edifact/ and the EDIFACT files under broken/).

pydifact's tokenizer is the peer; its segment classes are bypassed with a plain factory
because they validate tags and look up directories, which is not tokenizing. Where
pydifact is known to differ, the difference is normalised here and named:

1. CR/LF inside a segment: pydifact keeps them in tags and values (so a hard-wrapped file
   gives the tag ``'UNH\\n'``); edigate treats them as line wrapping and removes them.
   pydifact's strings are compared with CR/LF removed.
2. Several UNAs in one stream: pydifact honours only the first UNA it finds (searching
   ``'UNA`` anywhere) for the whole text; edigate gives each interchange its own. pydifact
   is fed each UNA-led part of the stream separately.
3. Trailing empty components: pydifact drops them (``RFF+VA:1:`` gives ``['VA', '1']``);
   edigate keeps them. edigate's components are compared with trailing empties removed.
4. Repetitions (syntax version 4): pydifact does not split them, so ``a:b*c:d`` is the
   components ``a``, ``b*c``, ``d``. edigate's repetitions are joined back for comparison.
5. Junk after UNZ: edigate raises EDISyntaxError at the junk; pydifact reads it as one
   more segment. Only the bytes before edigate's error offset are compared.
6. pydifact works on ``str``: it is given the file decoded with the codec edigate chose
   from UNB S001 (UTF-8, else Latin-1, for levels A/B), without a UTF-8 BOM.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from translators.edifact.reader import EDIFACTReader, looks_like_edifact
from translators.edifact.segment import Delimiters, Segment
from translators.errors import EDISyntaxError

pydifact_parser = pytest.importorskip("pydifact.parser")

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"

if not CORPUS.is_dir():
    pytest.skip(
        f"{CORPUS} not present (CI has it): pydifact differential skipped",
        allow_module_level=True,
    )


def _samples() -> list[Path]:
    found = sorted(p for p in (CORPUS / "edifact").rglob("*") if p.is_file())
    found += sorted(
        p
        for p in (CORPUS / "broken").glob("*")
        if p.is_file() and looks_like_edifact(p.read_bytes()[:64])
    )
    return found


SAMPLES = _samples()

View = tuple[str, list[Any]]


class _PlainSegment:
    def __init__(self, tag: str, elements: tuple[Any, ...]) -> None:
        self.tag = tag
        self.elements = list(elements)


class _PlainFactory:
    """Builds bare segments: no tag validation, no directory lookups (and no warnings)."""

    @staticmethod
    def create_segment(name: str, *elements: Any, **_: Any) -> _PlainSegment:
        return _PlainSegment(name, elements)


def _no_newlines(value: str) -> str:
    return value.replace("\r", "").replace("\n", "")


def _edigate_view(seg: Segment, d: Delimiters) -> View:
    out: list[Any] = []
    for position, comps in enumerate(seg.elements, start=1):
        if seg.repeats and position in seg.repeats and d.repetition is not None:
            # (4) pydifact leaves repetition separators in the data.
            joined = d.repetition.join(d.component.join(c) for c in seg.repeats[position])
            comps = joined.split(d.component)
        while len(comps) > 1 and comps[-1] == "":  # (3)
            comps = comps[:-1]
        out.append(comps[0] if len(comps) == 1 else comps)
    return seg.tag, out


def _pydifact_view(seg: _PlainSegment) -> View:
    out: list[Any] = []
    for element in seg.elements:
        if isinstance(element, list):
            comps = [_no_newlines(c) for c in element]  # (1)
            while len(comps) > 1 and comps[-1] == "":
                comps = comps[:-1]
            out.append(comps[0] if len(comps) == 1 else comps)
        else:
            out.append(_no_newlines(element))
    return _no_newlines(seg.tag), out


def _una_parts(data: bytes) -> list[bytes]:
    """(2) The stream cut before every UNA that starts a segment."""
    starts = [
        i
        for i in range(len(data))
        if data.startswith(b"UNA", i) and (i == 0 or data[i - 1] in b"'\r\n")
    ]
    cuts = [0, *[s for s in starts if s > 0], len(data)]
    return [data[a:b] for a, b in itertools.pairwise(cuts) if data[a:b].strip()]


def _decode(data: bytes, codec: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for name in ("utf-8", "latin-1") if codec == "ascii" else (codec, "latin-1"):
        try:
            return data.decode(name)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def edigate_segments(data: bytes) -> tuple[list[View], str, int]:
    """edigate's view, the codec of the last interchange and how many bytes it read."""
    reader = EDIFACTReader(data)
    views: list[View] = []
    codecs: set[str] = set()
    end = len(data)
    try:
        for seg in reader:
            views.append(_edigate_view(seg, reader.delimiters))
            codecs.add(reader.charset.codec)
    except EDISyntaxError as exc:
        end = exc.offset  # (5)
    return views, codecs.pop() if len(codecs) == 1 else "latin-1", end


def pydifact_segments(data: bytes, codec: str) -> list[View]:
    views: list[View] = []
    for part in _una_parts(data):
        parser = pydifact_parser.Parser(factory=_PlainFactory())  # type: ignore[arg-type]
        for seg in parser.parse(_decode(part, codec)):
            if seg.tag != "UNA":
                views.append(_pydifact_view(seg))
    return views


@pytest.mark.corpus
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.relative_to(CORPUS).as_posix())
def test_pydifact_and_edigate_agree(sample: Path) -> None:
    """Same tags, elements and components as pydifact, apart from the listed quirks."""
    data = sample.read_bytes()
    ours, codec, end = edigate_segments(data)
    theirs = pydifact_segments(data[:end], codec)
    assert len(ours) == len(theirs)
    for index, (a, b) in enumerate(zip(ours, theirs, strict=True), start=1):
        assert a == b, f"segment {index}"


def test_the_corpus_has_edifact_files() -> None:
    """The differential really covers the corpus (a glob typo would make it vacuous)."""
    assert len(SAMPLES) >= 80
