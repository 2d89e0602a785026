"""Partner implementation guides (``translators.guides``): each rule finds what breaks it,
with the standard's code and the segment's place, and finds nothing in a document that
keeps it; the pipelines apply a guide at the severity asked for."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.pipeline import MessageOutcome, translate_edifact
from translators.edifact.reader import EDIFACTReader
from translators.guides import Guide, check_guide, element_reference
from translators.x12.pipeline import TransactionOutcome, translate_x12
from translators.x12.reader import X12Reader

X12_856 = (
    b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *240501*0800*U*"
    b"00401*000000001*0*P*>~GS*SH*A*B*20240501*0800*1*X*004010~ST*856*0001~"
    b"BSN*00*SHP-1*20240501*0800~HL*1**S~TD1*CTN25*1****G*12.5*LB~TD5**2*UPSN~"
    b"REF*IA*V12345~REF*BM*BOL-77~DTM*011*20240501~N1*ST*Acme DC 7~HL*2*1*O~PRF*PO-1~"
    b"HL*3*2*P~MAN*GM*000123456000000012~HL*4*3*I~LIN*1*VP*V-1~SN1*1*4*EA~CTT*4*4~"
    b"SE*18*0001~GE*1*1~IEA*1*000000001~"
)

EDIFACT_ORDERS = (
    b"UNA:+.? 'UNB+UNOC:3+SENDER:14+RECEIVER:14+240501:0800+42'"
    b"UNH+1+ORDERS:D:96A:UN'BGM+220+PO-1+9'DTM+137:20240501:102'"
    b"NAD+BY+5412345000013::9'NAD+SU+4012345500004::9'"
    b"LIN+1++4000862141404:EN'QTY+21:48'UNS+S'CNT+2:1'UNT+10+1'UNZ+1+42'"
)


def _x12_segments(data: bytes = X12_856) -> list[Any]:
    segments = list(X12Reader(data))
    start = next(i for i, s in enumerate(segments) if s.tag == "ST")
    end = next(i for i, s in enumerate(segments) if s.tag == "SE")
    return segments[start:end + 1]


def _edifact_segments() -> list[Any]:
    segments = list(EDIFACTReader(EDIFACT_ORDERS))
    start = next(i for i, s in enumerate(segments) if s.tag == "UNH")
    end = next(i for i, s in enumerate(segments) if s.tag == "UNT")
    return segments[start:end + 1]


def _guide(**data: Any) -> Guide:
    return Guide.from_data("856", data)


def test_a_document_that_keeps_the_guide_has_no_finding() -> None:
    """Every kind of rule, each kept by the sample 856, finds nothing."""
    guide = _guide(
        segments={"TD5": {"usage": "required"}, "PID": {"usage": "not_used"},
                  "REF": {"max_use": 2}},
        elements={"BSN01": {"value": "00"}, "TD101": {"codes": ["CTN25", "PLT94"]},
                  "MAN02": {"min_length": 18, "max_length": 20}, "N102": {"usage": "required"}},
        require=[{"segment": "REF", "where": {"REF01": "IA"}}])
    assert check_guide(guide, _x12_segments(), "x12") == []


@pytest.mark.parametrize(("data", "code", "tag", "position", "element"), [
    ({"segments": {"TD3": {"usage": "required"}}}, "3", "TD3", 18, None),
    ({"segments": {"TD1": {"usage": "not_used"}}}, "2", "TD1", 4, None),
    ({"segments": {"REF": {"max_use": 1}}}, "5", "REF", 7, None),
    ({"elements": {"BSN01": {"value": "05"}}}, "7", "BSN", 2, 1),
    ({"elements": {"TD101": {"codes": ["PLT94"]}}}, "7", "TD1", 4, 1),
    ({"elements": {"DTM02": {"max_length": 7}}}, "5", "DTM", 8, 2),
    ({"elements": {"MAN02": {"min_length": 20}}}, "4", "MAN", 13, 2),
    ({"elements": {"N103": {"usage": "required"}}}, "1", "N1", 9, 3),
    ({"elements": {"TD505": {"usage": "not_used"}}}, None, None, None, None),
    ({"elements": {"TD503": {"usage": "not_used"}}}, "10", "TD5", 5, 3),
    ({"require": [{"segment": "REF", "where": {"REF01": "CN"}, "message": "PRO"}]},
     "3", "REF", 18, None),
])
def test_each_x12_rule_is_located_with_its_ak3_ak4_code(
        data: dict[str, Any], code: str | None, tag: str | None, position: int | None,
        element: int | None) -> None:
    """A broken rule gives one issue with the AK304/AK403 code, the segment's position
    from ST (a missing one at SE) and the element's position; a kept one gives none."""
    found = check_guide(_guide(**data), _x12_segments(), "x12", severity="warning")
    if code is None:
        assert found == []
        return
    assert len(found) == 1, found
    issue = found[0]
    assert (issue.code, issue.segment_tag, issue.segment_position, issue.element_position) == \
        (code, tag, position, element)
    assert issue.severity == "warning"
    assert "partner" in issue.message


def test_edifact_rules_use_0085_codes_and_components() -> None:
    """EDIFACT findings carry 0085 codes (13 missing, 12 invalid value, 35 too many) and
    component references (NAD02-03) read the component."""
    guide = Guide.from_data("ORDERS", {
        "segments": {"FTX": {"usage": "required"}, "NAD": {"max_use": 1}},
        "elements": {"NAD02-03": {"codes": ["9"]}, "BGM02": {"max_length": 3}},
    })
    found = check_guide(guide, _edifact_segments(), "edifact")
    assert sorted((i.code, i.segment_tag) for i in found) == \
        [("13", "FTX"), ("35", "NAD"), ("39", "BGM")]


def test_element_references_are_checked() -> None:
    """References name a segment, a two-digit element and optionally a component."""
    assert element_reference("TD101") == ("TD1", 1, None)
    assert element_reference("NAD03-01") == ("NAD", 3, 1)
    for bad in ("TD1", "td101", "REF00", "NAD03-00", "REF1"):
        with pytest.raises(ValueError):
            element_reference(bad)


def test_the_pipelines_apply_a_guide_at_its_severity() -> None:
    """translate_x12/translate_edifact add a guide's findings to the transaction's issues:
    as errors they reject it, as warnings they leave it accepted with the errors noted
    (AK5 E)."""
    guide = _guide(require=[{"segment": "REF", "where": {"REF01": "CN"}}])
    as_error = [o for o in translate_x12(X12_856, guides={"856": (guide, "error")})
                if isinstance(o, TransactionOutcome)]
    assert as_error[0].status == "R"
    assert [i.code for i in as_error[0].errors] == ["3"]
    as_warning = [o for o in translate_x12(X12_856, guides={"856": (guide, "warning")})
                  if isinstance(o, TransactionOutcome)]
    assert as_warning[0].status == "E" and as_warning[0].record is not None
    assert any(i.code == "3" and i.severity == "warning" for i in as_warning[0].issues)
    orders = Guide.from_data("ORDERS", {"segments": {"FTX": {"usage": "required"}}})
    messages = [o for o in translate_edifact(EDIFACT_ORDERS,
                                             guides={"ORDERS": (orders, "error")})
                if isinstance(o, MessageOutcome)]
    assert [(i.code, i.segment_tag) for i in messages[0].errors] == [("13", "FTX")]


TAGS = st.sampled_from(["BSN", "HL", "TD1", "TD5", "REF", "DTM", "N1", "MAN", "LIN", "SN1",
                        "PID", "XYZ"])
REFERENCES = st.builds(lambda tag, n, c: f"{tag}{n:02d}" + (f"-{c:02d}" if c else ""),
                       TAGS, st.integers(1, 12), st.one_of(st.none(), st.integers(1, 3)))


@settings(max_examples=150, deadline=None)
@given(segments=st.dictionaries(TAGS, st.fixed_dictionaries(
    {}, optional={"usage": st.sampled_from(["required", "not_used", "optional"]),
                  "max_use": st.integers(1, 3)}), max_size=4),
       elements=st.dictionaries(REFERENCES, st.fixed_dictionaries(
           {}, optional={"usage": st.sampled_from(["required", "not_used", "optional"]),
                         "codes": st.lists(st.text("A0", min_size=1, max_size=3), max_size=3),
                         "min_length": st.integers(1, 5), "max_length": st.integers(1, 30),
                         "value": st.text("A0", min_size=1, max_size=3)}), max_size=4))
def test_any_guide_gives_located_findings_only(segments: dict[str, Any],
                                               elements: dict[str, Any]) -> None:
    """Whatever the guide, checking never fails and every finding names a segment and a
    position inside the transaction set."""
    body = _x12_segments()
    for issue in check_guide(_guide(segments=segments, elements=elements), body, "x12"):
        assert issue.segment_tag and issue.segment_position is not None
        assert 1 <= issue.segment_position <= len(body)
