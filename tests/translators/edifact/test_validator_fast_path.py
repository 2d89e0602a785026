"""The validator's fast per-element test never passes a value the exact check would
refuse (it may only send more values to the exact check), for every kind and length."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.schema import ElementDef
from translators.edifact.validator import _fast_ok, _value_error, _ValueCheck

NUMERIC_TEXT = st.text(alphabet="0123456789.-,+ eE", min_size=1, max_size=20)
ANY_TEXT = st.text(min_size=1, max_size=20)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from(["n", "a", "an"]), low=st.integers(0, 6), span=st.integers(0, 12),
       value=st.one_of(NUMERIC_TEXT, ANY_TEXT))
def test_fast_pass_implies_exact_pass(kind: str, low: int, span: int, value: str) -> None:
    """Whenever the fast test says a value is fine, ``_value_error`` agrees; so the fast
    path can never hide a 0085 error."""
    edef = ElementDef(id="9999", name="test", mandatory=False, kind=kind, min_length=low,
                      max_length=low + span, codes=None)
    if _fast_ok(_ValueCheck(edef), value):
        assert _value_error(edef, value) is None, (kind, low, span, value)


@pytest.mark.parametrize(
    ("value", "passes"),
    [("1250", True), ("12.50", True), ("12.", True), ("12345.6", True), ("123456.7", False), ("1234567", False),
     (".5", False), ("1.2.3", False), ("-1", False), ("1,5", False), ("\u00b2", False),
     ("\u0661\u0662", False)],
)
def test_fast_numeric_test_on_typical_values(value: str, passes: bool) -> None:
    """An n..6 element: digits, or digits with one full stop after the first (which does
    not count towards the length), pass fast; anything else, including non-ASCII digits,
    goes to the exact check."""
    edef = ElementDef(id="6060", name="test", mandatory=False, kind="n", min_length=1,
                      max_length=6, codes=None)
    assert _fast_ok(_ValueCheck(edef), value) is passes


def test_a_one_byte_stray_segment_is_an_issue_not_a_crash() -> None:
    """A lone 'U' between segments (once an IndexError in the batch splitter) is reported
    as a segment outside any message."""
    from translators.edifact.envelope import InterchangeEnd, walk
    from translators.edifact.reader import EDIFACTReader

    events = list(walk(EDIFACTReader(b"UNB+UNOC:3+A+B+240101:1200+1'U'UNZ+0+1'")))
    end = events[-1]
    assert isinstance(end, InterchangeEnd)
    assert "33" in [issue.code for issue in end.issues]
