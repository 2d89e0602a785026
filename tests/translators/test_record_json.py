"""``record_json`` writes exactly the text of its reference, ``json.dumps`` (compact, keys
in the record's order, UTF-8, decimals by ``decimal_text``), for every record the
translators make of the corpus and the hand-written documents, and for generated records
and record-shaped values: non-ASCII and control characters, big, negative and
high-precision decimals, integers beyond what orjson takes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from translators.edifact.pipeline import MessageOutcome, translate_edifact
from translators.errors import TranslatorError
from translators.record_data import complete, decimal_text, record_json, reference_json
from translators.x12.pipeline import TransactionOutcome, translate_x12
from translators.x12.reader import looks_like_x12

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
DOCUMENTS = sorted(
    p for root in (CORPUS, REPO / "tests" / "data") if root.is_dir()
    for p in root.rglob("*") if p.is_file() and p.suffix.lower() not in (".md", ".json", ".py")
)


def _records(data: bytes) -> Iterator[dict[str, Any]]:
    translate = translate_x12 if looks_like_x12(data[:64]) else translate_edifact
    try:
        for outcome in translate(data):
            if isinstance(outcome, (TransactionOutcome, MessageOutcome)) and outcome.data:
                yield outcome.data
    except TranslatorError:
        return  # a document too broken to read to the end: the records before it count


def test_documents_are_found() -> None:
    assert len(DOCUMENTS) >= 10, DOCUMENTS


def test_every_record_of_the_corpus_and_tests_data_is_its_reference_text() -> None:
    records = 0
    non_ascii = 0
    for path in DOCUMENTS:
        for data in _records(path.read_bytes()):
            text = record_json(data)
            assert text == reference_json(data), path
            assert json.loads(text, parse_float=Decimal) is not None
            records += 1
            non_ascii += not text.isascii()
    assert records >= (100 if CORPUS.is_dir() else 10), records  # tests/data alone: 50
    assert non_ascii > 0, "no record with non-ASCII text: the UTF-8 path is untested"


def _source() -> dict[str, Any]:
    return {
        "standard": "x12", "version": "004010", "transaction_type": "810",
        "sender": {"id": "S"}, "receiver": {"qualifier": "ZZ", "id": "R"},
        "interchange_control": "1", "transaction_control": "0001",
    }


# Text as received may hold anything a character set decodes to: control characters, the
# characters JSON escapes, line and paragraph separators, a BOM, astral characters.
_SPECIAL = "\x00\x01\x08\t\n\x0b\x0c\r\x1b\x1f\x7f\x80\x85\xa0\"\\/'\u2028\u2029\ufeffé€😀"
TEXT = st.one_of(st.text(), st.text(alphabet=st.sampled_from(_SPECIAL)))
# Decimals of any sign, precision and exponent: "1E+3", "-0", "0E-7", 60 digits.
DECIMALS = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(
        lambda sign, digits, exponent: Decimal((sign, tuple(digits), exponent)),
        st.integers(0, 1), st.lists(st.integers(0, 9), min_size=1, max_size=60),
        st.integers(-40, 40),
    ),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), DECIMALS, TEXT)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=500)
@given(st.one_of(DECIMALS, st.decimals()))
@example(Decimal("0.000001"))
@example(Decimal("0.0000001"))
@example(Decimal("-0E-7"))
@example(Decimal("1E+3"))
@example(Decimal("sNaN"))
@example(Decimal("-Infinity"))
def test_decimal_text_is_the_fixed_point_format(value: Decimal) -> None:
    assert decimal_text(value) == format(value, "f")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(TEXT, VALUES, max_size=6))  # a record is an object (and typed so)
@example({"b": Decimal("10.50"), "a": [Decimal("1E+3"), Decimal("-0.0000001")]})
@example({"big": 2**64, "small": -(2**63) - 1})  # beyond orjson: the reference writes it
@example({"name": "M\u00fcller \u2713 \ud83d"})  # a lone surrogate: the reference too
def test_record_shaped_values_are_their_reference_text(value: dict[str, Any]) -> None:
    assert record_json(value) == reference_json(value)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(number=TEXT, currency=TEXT, amount=DECIMALS, quantities=st.lists(DECIMALS, max_size=5),
       line_count=st.integers())
def test_generated_records_are_their_reference_text(
        number: str, currency: str, amount: Decimal, quantities: list[Decimal],
        line_count: int) -> None:
    data = complete("Invoice", {
        "source": _source(), "invoice_number": number, "currency": currency,
        "lines": [{"line_number": str(i), "quantity": q} for i, q in enumerate(quantities)],
        "totals": {"amount": amount, "line_count": line_count},
    })
    text = record_json(data)
    assert text == reference_json(data)
    assert f'"amount":"{decimal_text(amount)}"' in text
    assert json.loads(text)["invoice_number"] == number


def test_text_is_utf8_and_decimals_fixed_point() -> None:
    """The decisions the reference pins, spelled out: non-ASCII text as it is (the
    gateway stores text, consumers parse it), control characters escaped as JSON requires,
    decimals with their places and never in exponent form, keys in the record's order."""
    value = {"z": "Müller\x00\x1f\n\u2028", "a": Decimal("10.50"), "m": Decimal("1E+3"),
             "n": Decimal("-0.0000001"), "i": 7, "t": True, "x": None}
    assert record_json(value) == (
        '{"z":"Müller\\u0000\\u001f\\n\u2028","a":"10.50","m":"1000",'
        '"n":"-0.0000001","i":7,"t":true,"x":null}')


@pytest.mark.parametrize("value", [date(2024, 1, 2), object(), {1, 2}])
def test_what_is_no_part_of_a_record_is_refused_as_the_reference_refuses_it(
        value: object) -> None:
    record: dict[str, Any] = {"when": value}
    with pytest.raises(TypeError, match="is not part of a canonical record"):
        reference_json(record)
    with pytest.raises(TypeError, match="is not part of a canonical record"):
        record_json(record)
