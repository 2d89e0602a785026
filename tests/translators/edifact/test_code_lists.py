"""Issue 16 point 9, UN/EDIFACT code lists: the key UNCL lists are closed per directory.

A value outside a closed list is 0085 code 12 (invalid value) at its segment position and
data element, the message is rejected (CONTRL UCM 4, UCS + UCD 12); a partner whose
profile relaxes the list gets a warning and the message is accepted. The lists differ per
directory: a code D.01B has and D.96A lacks is refused only in a D.96A message, and the
one D.96A code D.01B deleted (1001 492) only in a D.01B message.

Each case below is a hand-written ORDERS: ``BASE`` is valid, and each failing document is
``BASE`` with one coded value replaced (the replaced segment is named in the case).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.edifact.contrl import build_contrl
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.edifact.schema import load_directory

# Segment positions (UNH is 1): BGM 2, DTM 3, RFF 4, NAD 5, CTA 6, COM 7, NAD 8, CUX 9,
# LIN 10, QTY 11, MOA 12, PRI 13, TAX 14, ALC 15, UNS 16, CNT 17, UNT 18.
BASE = ("UNA:+.? '"
        "UNB+UNOC:3+5412345000013:14+4012345000023:14+261206:2100+CL0001'"
        "UNH+1+ORDERS:D:96A:UN'"
        "BGM+220+PO-3001+9'"
        "DTM+137:20261206:102'"
        "RFF+CT:C-77'"
        "NAD+BY+5412345000013::9'"
        "CTA+PD+:J SMITH'"
        "COM+0123456789:TE'"
        "NAD+SU+4012345000023::9'"
        "CUX+2:EUR:9'"
        "LIN+1++4012345678901:EN'"
        "QTY+21:2:PCE'"
        "MOA+203:25.00'"
        "PRI+AAA:12.50'"
        "TAX+7+VAT+++:::19+S'"
        "ALC+A'"
        "UNS+S'"
        "CNT+2:1'"
        "UNT+18+1'"
        "UNZ+1+CL0001'")


def outcomes(text: str, **kwargs: object) -> tuple[MessageOutcome, EDIFACTInterchangeOutcome]:
    found = list(translate_edifact(text.encode("latin-1"), **kwargs))  # type: ignore[arg-type]
    (message,) = [o for o in found if isinstance(o, MessageOutcome)]
    end = [o for o in found if isinstance(o, EDIFACTInterchangeOutcome)][-1]
    return message, end


def replaced(good: str, bad: str, text: str = BASE) -> str:
    assert text.count(good) == 1, good
    return text.replace(good, bad)


def test_the_base_document_is_valid() -> None:
    """Every coded value of BASE is in its D.96A list: the cases below fail for their one
    replaced value only."""
    message, _end = outcomes(BASE)
    assert message.issues == [] and message.action == "7"


# (segment as in BASE, the same segment with a code outside the list, data element,
#  segment position, UCD element position "element:component" or "element").
CASES = [
    ("BGM+220+PO-3001+9'", "BGM+999+PO-3001+9'", "1001", 2, "1:1"),
    ("BGM+220+PO-3001+9'", "BGM+220+PO-3001+99'", "1225", 2, "3"),
    ("DTM+137:20261206:102'", "DTM+1:20261206:102'", "2005", 3, "1:1"),
    ("RFF+CT:C-77'", "RFF+API:C-77'", "1153", 4, "1:1"),
    ("NAD+BY+5412345000013::9'", "NAD+QQ+5412345000013::9'", "3035", 5, "1"),
    ("CTA+PD+:J SMITH'", "CTA+ZZ+:J SMITH'", "3139", 6, "1"),
    ("COM+0123456789:TE'", "COM+0123456789:PH'", "3155", 7, "1:2"),
    ("CUX+2:EUR:9'", "CUX+2:EUR:99'", "6343", 9, "1:3"),
    ("LIN+1++4012345678901:EN'", "LIN+1++4012345678901:SRV'", "7143", 10, "3:2"),
    ("QTY+21:2:PCE'", "QTY+4:2:PCE'", "6063", 11, "1:1"),
    ("MOA+203:25.00'", "MOA+999:25.00'", "5025", 12, "1:1"),
    ("PRI+AAA:12.50'", "PRI+NTP:12.50'", "5125", 13, "1:1"),
    ("TAX+7+VAT+++:::19+S'", "TAX+8+VAT+++:::19+S'", "5283", 14, "1"),
    ("TAX+7+VAT+++:::19+S'", "TAX+7+VAX+++:::19+S'", "5153", 14, "2:1"),
    ("TAX+7+VAT+++:::19+S'", "TAX+7+VAT+++:::19+AA'", "5305", 14, "6"),
    ("ALC+A'", "ALC+I'", "5463", 15, "1"),
]


@pytest.mark.parametrize(("good", "bad", "element", "position", "where"), CASES,
                         ids=[case[2] for case in CASES])
def test_code_outside_the_list_is_12_located(good: str, bad: str, element: str,
                                            position: int, where: str) -> None:
    """The bad code is the message's only finding: code 12 at its segment and data
    element, the message rejected, CONTRL UCM 4 with UCS <position> and UCD 12 <where>."""
    message, end = outcomes(replaced(good, bad))
    (issue,) = message.issues
    parts = [int(p) for p in where.split(":")]
    assert (issue.code, issue.severity, issue.data_element, issue.segment_position,
            issue.element_position, issue.component_position) == (
        "12", "error", element, position, parts[0], parts[1] if len(parts) > 1 else None)
    assert message.action == "4"
    contrl = build_contrl(end)
    assert contrl is not None
    assert f"+ORDERS:D:96A:UN+4'UCS+{position}'UCD+12+{where}'UNT".encode() in contrl


@pytest.mark.parametrize(("good", "bad", "element", "position", "where"), CASES,
                         ids=[case[2] for case in CASES])
def test_a_relaxed_list_is_a_warning_and_accepted(good: str, bad: str, element: str,
                                                 position: int, where: str) -> None:
    """The same documents from a partner whose profile relaxes the element's list: the
    finding stays, as a warning, and the message is accepted (CONTRL UCM 7)."""
    message, end = outcomes(replaced(good, bad), relax_code_lists=(element,))
    assert [(i.code, i.severity, i.data_element) for i in message.issues] == [
        ("12", "warning", element)]
    assert message.action == "7"
    contrl = build_contrl(end)
    assert contrl is not None and b"+ORDERS:D:96A:UN+7'" in contrl


def test_relaxing_another_list_does_not_relax_this_one() -> None:
    message, _end = outcomes(replaced("NAD+BY+", "NAD+QQ+"), relax_code_lists=("1001",))
    assert [(i.code, i.severity) for i in message.issues] == [("12", "error")]
    assert message.action == "4"


def test_a_code_d01b_added_is_refused_in_d96a_only() -> None:
    """7143 SRV (GS1 GTIN) is in the D.01B list, not in the D.96A one: a D.96A ORDERS with
    LIN ...:SRV is rejected; the same message as D.01B is accepted, while a code outside
    the D.01B list (SRX) is rejected there too."""
    srv = replaced("4012345678901:EN'", "4012345678901:SRV'")
    d96a, _end = outcomes(srv)
    assert [(i.code, i.data_element, i.bad_value) for i in d96a.issues] == [
        ("12", "7143", "SRV")]
    d01b, _end = outcomes(replaced("ORDERS:D:96A:UN", "ORDERS:D:01B:UN", srv))
    assert d01b.issues == [] and d01b.action == "7"
    srx = replaced("4012345678901:EN'", "4012345678901:SRX'", D01B_BASE)
    other, end = outcomes(srx)
    assert [(i.code, i.data_element, i.segment_position, i.bad_value)
            for i in other.issues] == [("12", "7143", 10, "SRX")]
    contrl = build_contrl(end)
    assert contrl is not None
    assert b"+ORDERS:D:01B:UN+4'UCS+10'UCD+12+3:2'UNT" in contrl


# The same ORDERS as a D.01B message; the cases use codes outside the D.01B lists (1001
# 492 is a D.96A code D.01B no longer has: accepted in D.96A, refused in D.01B).
D01B_BASE = replaced("ORDERS:D:96A:UN", "ORDERS:D:01B:UN")

D01B_CASES = [
    ("BGM+220+PO-3001+9'", "BGM+492+PO-3001+9'", "1001", 2, "1:1"),
    ("DTM+137:20261206:102'", "DTM+25:20261206:102'", "2005", 3, "1:1"),
    ("RFF+CT:C-77'", "RFF+DK:C-77'", "1153", 4, "1:1"),
    ("NAD+BY+5412345000013::9'", "NAD+QQ+5412345000013::9'", "3035", 5, "1"),
    ("QTY+21:2:PCE'", "QTY+446:2:PCE'", "6063", 11, "1:1"),
    ("MOA+203:25.00'", "MOA+999:25.00'", "5025", 12, "1:1"),
]


def test_the_d01b_base_document_is_valid() -> None:
    message, _end = outcomes(D01B_BASE)
    assert message.issues == [] and message.action == "7"


@pytest.mark.parametrize(("good", "bad", "element", "position", "where"), D01B_CASES,
                         ids=[case[2] for case in D01B_CASES])
def test_d01b_code_outside_the_list_is_12_located(good: str, bad: str, element: str,
                                                 position: int, where: str) -> None:
    """D.01B closes its own lists: the bad code is code 12 at its segment and element,
    the message rejected, CONTRL UCM 4 with UCS <position> and UCD 12 <where>."""
    message, end = outcomes(replaced(good, bad, D01B_BASE))
    (issue,) = message.issues
    parts = [int(p) for p in where.split(":")]
    assert (issue.code, issue.severity, issue.data_element, issue.segment_position,
            issue.element_position, issue.component_position, issue.bad_value) == (
        "12", "error", element, position, parts[0], parts[1] if len(parts) > 1 else None,
        bad.split("+")[1].split(":")[0])
    assert message.action == "4"
    contrl = build_contrl(end)
    assert contrl is not None
    assert f"+ORDERS:D:01B:UN+4'UCS+{position}'UCD+12+{where}'UNT".encode() in contrl


def test_a_code_d01b_deleted_is_still_accepted_in_d96a() -> None:
    message, _end = outcomes(replaced("BGM+220+", "BGM+492+"))
    assert message.issues == [] and message.action == "7"


def test_lists_are_per_directory() -> None:
    """D.96A's 1001 is closed with its own codes; the shared names stay on the codes the
    mappers use; a list only the shared source has (2379) restricts nothing."""
    d96a = load_directory("D96A").codes
    assert d96a["1001"].closed and "220" in d96a["1001"].codes
    assert d96a["1001"].codes["220"] == "Order"
    assert "SRV" not in d96a["7143"].codes
    assert not d96a["2379"].closed
    d01b = load_directory("D01B").codes
    assert d01b["7143"].closed and "SRV" in d01b["7143"].codes
    assert "492" in d96a["1001"].codes and "492" not in d01b["1001"].codes
    assert {"XA", "XC", "XP"} <= set(d01b["1153"].codes)


D96A_PARTIES = sorted(load_directory("D96A").codes["3035"].codes)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(D96A_PARTIES))
def test_any_party_code_of_the_list_is_accepted(code: str) -> None:
    message, _end = outcomes(replaced("NAD+BY+", f"NAD+{code}+"))
    assert message.issues == []


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=3)
       .filter(lambda code: code not in D96A_PARTIES))
def test_any_other_party_code_is_12(code: str) -> None:
    message, _end = outcomes(replaced("NAD+BY+", f"NAD+{code}+"))
    assert [(i.code, i.data_element, i.segment_position, i.bad_value)
            for i in message.issues] == [("12", "3035", 5, code)]
