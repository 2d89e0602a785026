"""The validator's fast per-element test never passes a value the exact check would
refuse (it may only send more values to the exact check), for every kind and length."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.schema import ElementDef
from translators.edifact.segment import Segment
from translators.edifact.validator import (
    _check_composite,
    _composite_ok,
    _ElementPlan,
    _fast_ok,
    _value_error,
    _ValueCheck,
)
from translators.errors import Issue

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
    [("1250", True), ("12.50", True), ("12.", True), ("12345.6", True), ("123456.7", False),
     ("1234567", False), (".5", False), ("1.2.3", False), ("-1", False), ("1,5", True),
     (",5", False), ("1,2.3", False), ("\u00b2", False), ("\u0661\u0662", False)],
)
def test_fast_numeric_test_on_typical_values(value: str, passes: bool) -> None:
    """An n..6 element: digits, or digits with one decimal mark (full stop or comma) after
    the first (which does not count towards the length), pass fast; anything else,
    including non-ASCII digits, goes to the exact check."""
    edef = ElementDef(id="6060", name="test", mandatory=False, kind="n", min_length=1,
                      max_length=6, codes=None)
    assert _fast_ok(_ValueCheck(edef), value) is passes


_COMPONENT = st.builds(
    ElementDef, id=st.just("9999"), name=st.just("c"), mandatory=st.booleans(),
    kind=st.sampled_from(["n", "a", "an"]), min_length=st.integers(0, 3),
    max_length=st.integers(3, 6), codes=st.none() | st.just(frozenset({"1", "AB"})),
)


@settings(max_examples=400, deadline=None)
@given(mandatory=st.booleans(), components=st.lists(_COMPONENT, min_size=1, max_size=4),
       parts=st.lists(st.sampled_from(["", "1", "AB", "12.5", "X1", "1234567"]), min_size=1,
                      max_size=5))
def test_fast_composite_pass_implies_exact_pass(mandatory: bool,
                                                components: list[ElementDef],
                                                parts: list[str]) -> None:
    """Whenever the fast composite test passes, the exact check finds nothing, empty
    composites included."""
    edef = ElementDef(id="C999", name="test", mandatory=mandatory, kind="", min_length=0,
                      max_length=0, codes=None, components=tuple(components))
    if _composite_ok(_ElementPlan(edef), parts):
        issues: list[Issue] = []
        _check_composite(edef, 1, parts, Segment("TST", [parts]), 1, "", issues)
        assert issues == [], (mandatory, components, parts)


def test_an_empty_optional_composite_passes_fast() -> None:
    """An optional composite sent empty passes without the exact check even when one of
    its components is mandatory; a mandatory one goes to the exact check."""
    component = ElementDef(id="5289", name="c", mandatory=True, kind="an", min_length=1,
                           max_length=3, codes=None)
    optional = ElementDef(id="C533", name="t", mandatory=False, kind="", min_length=0,
                          max_length=0, codes=None, components=(component,))
    assert _composite_ok(_ElementPlan(optional), [""])
    assert not _composite_ok(_ElementPlan(optional), ["", "x"])  # more than defined
    mandatory = ElementDef(id="C533", name="t", mandatory=True, kind="", min_length=0,
                           max_length=0, codes=None, components=(component,))
    assert not _composite_ok(_ElementPlan(mandatory), [""])


def test_a_one_byte_stray_segment_is_an_issue_not_a_crash() -> None:
    """A lone 'U' between segments (once an IndexError in the batch splitter) is reported
    as a segment outside any message."""
    from translators.edifact.envelope import InterchangeEnd, walk
    from translators.edifact.reader import EDIFACTReader

    events = list(walk(EDIFACTReader(b"UNB+UNOC:3+A+B+240101:1200+1'U'UNZ+0+1'")))
    end = events[-1]
    assert isinstance(end, InterchangeEnd)
    assert "33" in [issue.code for issue in end.issues]
