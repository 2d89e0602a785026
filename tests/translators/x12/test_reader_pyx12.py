"""Differential test: our X12 reader against pyx12's on every X12 file of the shared corpus.

pyx12 (4.0.0) is the reference for plain files; where it cannot read a file, or splits
it differently because of an edge case our reader handles by design, the file is on
``PYX12_CANNOT_READ`` with the reason. The list is checked both ways: a listed file that
starts to agree fails the test and must be removed from it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from translators.x12.reader import X12Reader

pyx12_x12file = pytest.importorskip("pyx12.x12file")

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"

if not CORPUS.is_dir():
    pytest.skip(
        f"shared EDI corpus not found at {CORPUS} (it lives beside the repository)",
        allow_module_level=True,
    )

pytestmark = pytest.mark.corpus

_BOM = b"\xef\xbb\xbf"

# Reasons, shared by several files.
_WRAPPED = "hard-wrapped at 80 columns, LF inside the ISA; pyx12 reads the ISA as fixed 106 chars"
_NO_FINAL_TERMINATOR = "last segment (IEA) has no terminator; pyx12 silently drops it"
_SHORT_ISA = "ISA not fixed-width (a short ISA06/ISA08); pyx12 takes delimiters at fixed offsets"
_MANY = "several interchanges with different delimiters; pyx12 sniffs the first ISA only"

# Corpus path -> why pyx12 cannot read the file or reads it differently. Every entry must
# still disagree (test_reader_agrees_with_pyx12 fails otherwise), so the list stays exact.
PYX12_CANNOT_READ: dict[str, str] = {
    "x12/210/staedi-210-wrapped-80-columns-004010.edi": _WRAPPED,
    "x12/810/oopfactory-810-004010-isa-version-00040-crlf-terminator.txt": _NO_FINAL_TERMINATOR,
    "x12/850/bots-850-004010-ebcdic-cp037.x12": "EBCDIC (cp037): pyx12 reads ASCII only",
    "x12/850/bots-850-004010-wrapped-80-columns.x12": _WRAPPED,
    "x12/850/oopfactory-850-004010-space-segment-terminator.txt": _SHORT_ISA,
    "x12/850/oopfactory-850-004010-tilde-element-crlf-terminator.txt": _NO_FINAL_TERMINATOR,
    "x12/850/oopfactory-850-004010-tilde-element-star-terminator-isa00300.txt": _SHORT_ISA,
    "x12/855/oopfactory-855-004010-adobe-crlf-terminator.txt": _NO_FINAL_TERMINATOR,
    "x12/mixed/bots-mailbag-8-interchanges-mixed-delimiters.x12": _MANY,
    "x12/mixed/ediengine-940-two-interchanges-two-groups-each.edi": _NO_FINAL_TERMINATOR,
    "broken/ediengine-940-wrong-SE01-count-no-eol.edi": _NO_FINAL_TERMINATOR,
    "broken/edifabric-810-newline-terminator-short-ISA.txt": _SHORT_ISA,
    "broken/edifabric-810-runaway-N1-segments.txt": (
        "terminators missing, LF inside N1: our reader takes the LF as line wrapping and drops"
        " it (by design); pyx12 keeps it inside the element value"
    ),
    "broken/edifabric-810-short-ISA-fields-iea-count-mismatch.txt": _SHORT_ISA,
    "broken/oopfactory-ta1-gt-element-plus-odd-terminator.txt": _NO_FINAL_TERMINATOR,
    "broken/oopfactory-860-004010-missing-terminator-after-N1.txt": _SHORT_ISA,
}


def _starts_with_isa(data: bytes) -> bool:
    return data.removeprefix(_BOM).lstrip().startswith(b"ISA")


def _corpus_files() -> list[str]:
    names = [p for p in sorted((CORPUS / "x12").rglob("*")) if p.is_file()]
    names += [
        p
        for p in sorted((CORPUS / "broken").iterdir())
        if p.is_file() and _starts_with_isa(p.read_bytes())
    ]
    return [str(p.relative_to(CORPUS)) for p in names]


FILES = _corpus_files()


def _text_for_pyx12(data: bytes) -> tuple[str, str | None]:
    """The file as text for pyx12, and the original ISA12 if it had to be replaced.

    The text is decoded the way our reader decodes: BOM dropped, UTF-8 else Latin-1.
    pyx12 opens paths as ASCII, which fails on any BOM or non-ASCII byte before it gets to
    tokenizing. It also refuses any ISA12 but 00401/00501, although its tokenizer does not
    depend on it; a fixed-width ISA's ISA12 is therefore shown to it as 00401 and put back
    in its output. Both adaptations compare the tokenizers, not the file opening.
    """
    data = data.removeprefix(_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    version = text[84:89]
    fixed_width = len(text) > 106 and text[3] == text[83] == text[89]
    if text.startswith("ISA") and fixed_width and version not in ("00401", "00501"):
        return text[:84] + "00401" + text[89:], version
    return text, None


def _pyx12_segments(data: bytes) -> list[list[str]]:
    text, original_version = _text_for_pyx12(data)
    reader = pyx12_x12file.X12Reader(io.StringIO(text, newline=""))
    out: list[list[str]] = []
    with reader:
        for seg in reader:
            # Raw component join: Composite.format() would trim trailing empty components.
            values = [c.subele_term.join(e.value for e in c.elements) for c in seg.elements]
            out.append([seg.get_seg_id(), *values])
    if original_version is not None and out and out[0][0] == "ISA":
        out[0][12] = original_version
    return out


def _outcome(data: bytes) -> tuple[bool, str]:
    """(agree, explanation) for one file."""
    try:
        theirs = _pyx12_segments(data)
    except Exception as exc:  # pyx12 raises many types on input it cannot read
        return False, f"pyx12 raised {type(exc).__name__}: {exc}"[:300]
    ours = [seg.fields for seg in X12Reader(data)]
    if ours == theirs:
        return True, f"{len(ours)} segments agree"
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        if a != b:
            return False, f"segment {i + 1}: ours {a!r} pyx12 {b!r}"
    return False, f"segment counts differ: ours {len(ours)} pyx12 {len(theirs)}"


def test_corpus_has_x12_files() -> None:
    """The corpus holds the X12 files this differential test is about."""
    assert len(FILES) > 50


def test_allow_list_names_only_corpus_files() -> None:
    """Every file on the allow-list exists in the corpus, so no stale entries linger."""
    assert sorted(set(PYX12_CANNOT_READ) - set(FILES)) == []


@pytest.mark.parametrize("name", FILES)
def test_reader_agrees_with_pyx12(name: str) -> None:
    """Our reader and pyx12 give the same segment ids and element values, or the file is listed."""
    agree, why = _outcome((CORPUS / name).read_bytes())
    if name in PYX12_CANNOT_READ:
        assert not agree, f"{name} now agrees with pyx12 ({why}): remove it from the allow-list"
    else:
        assert agree, why
