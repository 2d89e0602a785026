"""Reader invariants over every X12 file of the shared corpus (no second opinion needed)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from translators.errors import EDISyntaxError
from translators.x12.reader import X12Reader, looks_like_x12

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"

if not CORPUS.is_dir():
    pytest.skip(
        f"shared EDI corpus not found at {CORPUS} (it lives beside the repository)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.corpus

FILES = [
    str(p.relative_to(CORPUS))
    for p in sorted((CORPUS / "x12").rglob("*")) + sorted((CORPUS / "broken").iterdir())
    if p.is_file() and looks_like_x12(p.read_bytes()[:64])
]


def _read(source: bytes | io.BytesIO, chunk_size: int = 1 << 20) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    try:
        for seg in X12Reader(source, chunk_size=chunk_size):
            out.append((seg.fields, seg.offset, seg.index, seg.delimiters))
    except EDISyntaxError as exc:
        out.append(("error", exc.offset))
    return out


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("chunk_size", [7, 4096])
def test_chunked_file_reading_equals_reading_bytes(name: str, chunk_size: int) -> None:
    """A corpus file read from a file object in small chunks gives the same segments, offsets
    and errors as from bytes."""
    data = (CORPUS / name).read_bytes()
    assert _read(io.BytesIO(data), chunk_size) == _read(data)


@pytest.mark.parametrize("name", [n for n in FILES if n.startswith("x12/")])
def test_every_corpus_interchange_reads_to_its_iea(name: str) -> None:
    """Every well-formed corpus file reads without error and its last segment is IEA."""
    segments = list(X12Reader((CORPUS / name).read_bytes()))
    assert segments[0].tag == "ISA"
    assert segments[-1].tag == "IEA"
    assert all(seg.offset < (CORPUS / name).stat().st_size for seg in segments)
