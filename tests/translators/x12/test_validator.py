"""The schema-compiled validator: every finding with its 720/723 code and exact location."""

from __future__ import annotations

from pathlib import Path

import pytest

from translators.errors import Issue
from translators.x12.schema import load_schema
from translators.x12.segment import Delimiters, Segment
from translators.x12.validator import TransactionValidator

DATAELE = """<?xml version="1.0"?>
<data_elements>
  <data_ele ele_num="143" data_type="ID" min_len="3" max_len="3" name="Transaction Set Identifier Code"/>
  <data_ele ele_num="329" data_type="AN" min_len="4" max_len="9" name="Transaction Set Control Number"/>
  <data_ele ele_num="96" data_type="N0" min_len="1" max_len="10" name="Number of Included Segments"/>
  <data_ele ele_num="353" data_type="ID" min_len="2" max_len="2" name="Purpose"/>
  <data_ele ele_num="373" data_type="DT" min_len="8" max_len="8" name="Date"/>
  <data_ele ele_num="337" data_type="TM" min_len="4" max_len="8" name="Time"/>
  <data_ele ele_num="782" data_type="R" min_len="1" max_len="6" name="Amount"/>
  <data_ele ele_num="610" data_type="N2" min_len="1" max_len="5" name="Amount N2"/>
  <data_ele ele_num="127" data_type="AN" min_len="1" max_len="10" name="Reference"
            min_len_004010="1" max_len_004010="5"/>
  <data_ele ele_num="98" data_type="ID" min_len="2" max_len="3" name="Entity"/>
  <data_ele ele_num="355" data_type="ID" min_len="2" max_len="2" name="Unit"/>
  <data_ele ele_num="1018" data_type="R" min_len="1" max_len="15" name="Exponent"/>
</data_elements>
"""

# A made-up transaction set "T01" exercising every construct: a header with a syntax-rule
# laden segment, a repeatable element, a composite, and a required repeating loop.
MAP = """<?xml version="1.0"?>
<transaction xid="T01">
 <name>Test set</name>
 <loop xid="ISA_LOOP" type="explicit"><name>ISA</name><usage>R</usage><pos>1</pos><repeat>1</repeat>
 <loop xid="GS_LOOP" type="explicit"><name>GS</name><usage>R</usage><pos>2</pos><repeat>1</repeat>
 <loop xid="ST_LOOP" type="explicit"><name>ST</name><usage>R</usage><pos>3</pos><repeat>1</repeat>
  <segment xid="ST"><name>Header</name><usage>R</usage><pos>10</pos><max_use>1</max_use>
   <element xid="ST01"><data_ele>143</data_ele><name>Id</name><usage>R</usage><seq>01</seq>
    <valid_codes><code>T01</code></valid_codes></element>
   <element xid="ST02"><data_ele>329</data_ele><name>Control</name><usage>R</usage><seq>02</seq></element>
  </segment>
  <loop xid="HEADER" type="wrapper"><name>Header</name><usage>R</usage><pos>20</pos><repeat>1</repeat>
   <segment xid="BGN"><name>Beginning</name><usage>R</usage><pos>20</pos><max_use>1</max_use>
    <syntax>P0304</syntax><syntax>R0506</syntax><syntax>E0708</syntax><syntax>C0910</syntax>
    <syntax>L111213</syntax>
    <element xid="BGN01"><data_ele>353</data_ele><name>Purpose</name><usage>R</usage><seq>01</seq>
     <valid_codes><code>00</code><code>05</code></valid_codes></element>
    <element xid="BGN02"><data_ele>373</data_ele><name>Date</name><usage>R</usage><seq>02</seq></element>
    <element xid="BGN03"><data_ele>337</data_ele><name>Time</name><usage>S</usage><seq>03</seq></element>
    <element xid="BGN04"><data_ele>782</data_ele><name>Amount</name><usage>S</usage><seq>04</seq></element>
    <element xid="BGN05"><data_ele>610</data_ele><name>Amount N2</name><usage>S</usage><seq>05</seq></element>
    <element xid="BGN06"><data_ele>127</data_ele><name>Ref</name><usage>S</usage><seq>06</seq></element>
    <element xid="BGN07"><data_ele>127</data_ele><name>Ref</name><usage>S</usage><seq>07</seq></element>
    <element xid="BGN08"><data_ele>127</data_ele><name>Ref</name><usage>S</usage><seq>08</seq></element>
    <element xid="BGN09"><data_ele>127</data_ele><name>Ref</name><usage>S</usage><seq>09</seq></element>
    <element xid="BGN10"><data_ele>127</data_ele><name>Ref</name><usage>S</usage><seq>10</seq></element>
    <element xid="BGN11"><data_ele>127</data_ele><name>Ref</name><usage>S</usage><seq>11</seq></element>
    <element xid="BGN12"><data_ele>127</data_ele><name>Ref</name><usage>S</usage><seq>12</seq></element>
    <element xid="BGN13"><data_ele>127</data_ele><name>Ref</name><usage>S</usage><seq>13</seq></element>
   </segment>
   <segment xid="REF"><name>Reference</name><usage>S</usage><pos>30</pos><max_use>2</max_use>
    <element xid="REF01"><data_ele>127</data_ele><name>Ref</name><usage>R</usage><seq>01</seq>
     <repeat>3</repeat></element>
    <composite xid="REF02"><data_ele>C001</data_ele><name>Unit composite</name><usage>S</usage><seq>02</seq>
     <element xid="REF02-01"><data_ele>355</data_ele><name>Unit</name><usage>R</usage><seq>01</seq>
      <valid_codes><code>EA</code><code>CA</code></valid_codes></element>
     <element xid="REF02-02"><data_ele>1018</data_ele><name>Exponent</name><usage>S</usage><seq>02</seq></element>
    </composite>
   </segment>
  </loop>
  <loop xid="DETAIL" type="wrapper"><name>Detail</name><usage>R</usage><pos>40</pos><repeat>1</repeat>
   <loop xid="N1" type="explicit"><name>Party</name><usage>R</usage><pos>40</pos><repeat>2</repeat>
    <segment xid="N1"><name>Name</name><usage>R</usage><pos>40</pos><max_use>1</max_use>
     <element xid="N101"><data_ele>98</data_ele><name>Entity</name><usage>R</usage><seq>01</seq></element>
    </segment>
    <segment xid="N3"><name>Address</name><usage>R</usage><pos>50</pos><max_use>1</max_use>
     <element xid="N301"><data_ele>127</data_ele><name>Line</name><usage>R</usage><seq>01</seq></element>
    </segment>
   </loop>
  </loop>
  <segment xid="SE"><name>Trailer</name><usage>R</usage><pos>90</pos><max_use>1</max_use>
   <element xid="SE01"><data_ele>96</data_ele><name>Count</name><usage>R</usage><seq>01</seq></element>
   <element xid="SE02"><data_ele>329</data_ele><name>Control</name><usage>R</usage><seq>02</seq></element>
  </segment>
 </loop></loop></loop>
</transaction>
"""

D = Delimiters(element="*", component=":", segment="~", repetition="^")


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> TransactionValidator:
    folder = tmp_path_factory.mktemp("maps")
    (folder / "dataele.xml").write_text(DATAELE)
    (folder / "T01.4010.xml").write_text(MAP)
    return TransactionValidator(load_schema(folder / "T01.4010.xml"),
                                lambda: frozenset({"DTM", "N4"}))


def segs(*texts: str) -> list[Segment]:
    return [Segment(t.split("*"), 100 * i, i, D) for i, t in enumerate(texts, start=1)]


GOOD = ["ST*T01*0001", "BGN*00*20261125***100", "N1*BY", "N3*MAIN", "SE*5*0001"]


def found(validator: TransactionValidator, *texts: str) -> list[tuple[object, ...]]:
    """(code, segment tag, segment position, element, component, repetition) per issue."""
    issues: list[Issue] = validator.validate(segs(*texts))
    return [(i.code, i.segment_tag, i.segment_position, i.element_position,
             i.component_position, i.repetition) for i in issues]


def with_bgn(bgn: str) -> list[str]:
    return [GOOD[0], bgn, *GOOD[2:]]


def test_valid_transaction_has_no_issues(validator: TransactionValidator) -> None:
    """A transaction that follows the schema produces no findings."""
    assert found(validator, *GOOD) == []


def test_every_error_is_reported_not_just_the_first(validator: TransactionValidator) -> None:
    """A bad code, a bad date and a bad time in one segment are three located findings."""
    assert found(validator, *with_bgn("BGN*99*20261399*2575*1*100")) == [
        ("7", "BGN", 2, 1, None, None),
        ("8", "BGN", 2, 2, None, None),
        ("9", "BGN", 2, 3, None, None),
    ]


@pytest.mark.parametrize(
    ("bgn", "expected"),
    [
        ("BGN*00*20261125*1200*12.5*100", []),  # both present
        ("BGN*00*20261125**12.5*100", [("2", "BGN", 2, 3, None, None)]),  # 04 without 03
        ("BGN*00*20261125*1200**100", [("2", "BGN", 2, 4, None, None)]),  # 03 without 04
    ],
)
def test_paired_rule(validator: TransactionValidator, bgn: str, expected: list[object]) -> None:
    """P0304: if either of BGN03/BGN04 is present the other is required (723 code 2)."""
    assert found(validator, *with_bgn(bgn)) == expected


def test_required_exclusion_conditional_and_list_rules(validator: TransactionValidator) -> None:
    """R0506 needs one of 05/06; E0708 allows only one; C0910 needs 10 with 09; L111213
    needs 12 or 13 with 11 — each violation is located at the element it concerns."""
    ok = "BGN*00*20261125***100"
    assert found(validator, *with_bgn(ok)) == []
    assert found(validator, *with_bgn("BGN*00*20261125")) == [("2", "BGN", 2, 5, None, None)]
    # ``ok`` ends at BGN05, so k separators put the next value at BGN(05 + k).
    assert found(validator, *with_bgn(ok + "**A*B")) == [("10", "BGN", 2, 8, None, None)]
    assert found(validator, *with_bgn(ok + "****C")) == [("2", "BGN", 2, 10, None, None)]
    assert found(validator, *with_bgn(ok + "****C*D")) == []
    assert found(validator, *with_bgn(ok + "******D")) == [("2", "BGN", 2, 12, None, None)]
    assert found(validator, *with_bgn(ok + "******D**E")) == []


def test_numeric_types_and_lengths(validator: TransactionValidator) -> None:
    """R and Nn lengths count digits only (sign and point excluded); junk is code 6."""
    base = "BGN*00*20261125*1200*"
    assert found(validator, *with_bgn(base + "-1234.56*1")) == []  # 6 digits in R 1/6
    assert found(validator, *with_bgn(base + "1234567*1")) == [("5", "BGN", 2, 4, None, None)]
    assert found(validator, *with_bgn(base + "12A*1")) == [("6", "BGN", 2, 4, None, None)]
    assert found(validator, *with_bgn(base + "1*123456")) == [("5", "BGN", 2, 5, None, None)]
    assert found(validator, *with_bgn(base + "1*1.5")) == [("6", "BGN", 2, 5, None, None)]
    assert found(validator, *with_bgn(base + "1*-12345")) == []  # N2: sign not counted


def test_version_specific_lengths(validator: TransactionValidator) -> None:
    """A 4010 map uses the 004010 length of element 127 (max 5), not the widest (10)."""
    assert found(validator, *with_bgn("BGN*00*20261125***1*ABCDEF")) == [
        ("5", "BGN", 2, 6, None, None)]


def test_missing_required_element_and_too_many_elements(validator: TransactionValidator) -> None:
    """An empty required element is code 1; elements past the last defined one are code 3."""
    assert found(validator, *with_bgn("BGN**20261125***1")) == [("1", "BGN", 2, 1, None, None)]
    extra = "BGN*00*20261125***100" + "*" * 8 + "*X"
    assert found(validator, *with_bgn(extra)) == [("3", "BGN", 2, 14, None, None)]


def test_repetitions_and_components(validator: TransactionValidator) -> None:
    """REF01 repeats up to 3 times (12 beyond); REF02-01 codes are checked per component."""
    base = [*GOOD[:2]]
    tail = GOOD[2:]
    assert found(validator, *base, "REF*A^B^C", *tail) == []
    assert found(validator, *base, "REF*A^B^C^D", *tail) == [("12", "REF", 3, 1, None, None)]
    assert found(validator, *base, "REF*A^ABCDEF", *tail) == [("5", "REF", 3, 1, None, 2)]
    assert found(validator, *base, "REF*A*XX:2", *tail) == [("7", "REF", 3, 2, 1, None)]
    assert found(validator, *base, "REF*A*:2", *tail) == [("1", "REF", 3, 2, 1, None)]
    assert found(validator, *base, "REF*A*EA:2:9", *tail) == [("13", "REF", 3, 2, 3, None)]


def test_repetition_separator_in_a_non_repeating_element(validator: TransactionValidator) -> None:
    """The separator splits even where the schema allows one occurrence: code 12."""
    assert found(validator, GOOD[0], GOOD[1], "N1*BY^ST", *GOOD[3:]) == [
        ("12", "N1", 3, 1, None, None)]


def test_segment_structure_codes(validator: TransactionValidator) -> None:
    """Unknown (1), not in this set (6), out of sequence (7), over max use (5), missing
    required segment (3) and loop over its repeat (4), each at its position."""
    assert found(validator, *GOOD[:2], "ZZZ*1", *GOOD[2:]) == [("1", "ZZZ", 3, None, None, None)]
    assert found(validator, *GOOD[:2], "DTM*1", *GOOD[2:]) == [("6", "DTM", 3, None, None, None)]
    assert found(validator, *GOOD[:4], GOOD[1], GOOD[4]) == [
        ("7", "BGN", 5, None, None, None)]
    assert found(validator, *GOOD[:2], "REF*A", "REF*B", "REF*C", *GOOD[2:]) == [
        ("5", "REF", 5, None, None, None)]
    assert found(validator, GOOD[0], GOOD[1], "N1*BY", "SE*4*0001") == [
        ("3", "N3", 4, None, None, None)]
    parties = ["N1*BY", "N3*A", "N1*ST", "N3*B", "N1*SE", "N3*C"]
    assert found(validator, *GOOD[:2], *parties, GOOD[4]) == [("4", "N1", 7, None, None, None)]


def test_missing_required_loop_and_header(validator: TransactionValidator) -> None:
    """A set without BGN and without any N1 loop reports both as 720 code 3."""
    assert found(validator, "ST*T01*0001", "SE*2*0001") == [
        ("3", "BGN", 2, None, None, None),
        ("3", "N1", 2, None, None, None),
    ]


def test_issue_offsets_point_at_the_segment(validator: TransactionValidator) -> None:
    """Each finding carries the byte offset of its segment in the input."""
    issues = validator.validate(segs(*with_bgn("BGN*99*20261125***1")))
    assert [(i.offset, i.data_element, i.bad_value) for i in issues] == [(200, "353", "99")]


def test_real_850_map_compiles_and_accepts_a_minimal_order() -> None:
    """The shipped 004010 850 map validates a minimal purchase order without findings."""
    maps = Path(__file__).resolve().parents[3] / "schemas" / "x12" / "maps"
    v = TransactionValidator(load_schema(maps / "850.4010.xml"))
    assert v.validate(segs("ST*850*0001", "BEG*00*SA*PO1**20261125", "PO1*1*2*EA*3.5",
                           "CTT*1", "SE*5*0001")) == []
