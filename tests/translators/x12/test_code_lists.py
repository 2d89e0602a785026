"""The key X12 code lists (BEG02 92, BIG07 640, N101 98, PO103 355, DTM01 374, REF01 128)
are closed per version family: a code outside its version's list is AK403/IK403 7 at its
element, located by AK3/IK3, unless the partner relaxes the element (then a warning)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from schemas.x12.source.standard_codes import BY_VERSION
from translators.x12.ack import AckOptions, build_acknowledgment
from translators.x12.pipeline import TransactionOutcome, X12InterchangeOutcome, translate_x12
from translators.x12.reader import X12Reader

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# Each case: set id, functional id, segments (ST..SE filled in), the segment to spoil
# (its 1-based position in the set), element position, data element, bad value.
PO_BODY = [
    "BEG*00*SA*PO-1**20261125",
    "REF*DP*042",
    "DTM*002*20261201",
    "N1*ST*ACME STORE 42*92*0042",
    "PO1*1*12*EA*3.50**UP*012345678905",
    "CTT*1",
]
INVOICE_BODY = [
    "BIG*20261125*INV-1**PO-1***DI",
    "N1*ST*ACME STORE 42*92*0042",
    "IT1*1*12*EA*3.50**UP*012345678905",
    "TDS*4200",
    "CTT*1",
]
CASES = {
    # name: (set id, group id, body, index in body, element position, element, bad value)
    "BEG02": ("850", "PO", PO_BODY, 0, 2, "92", "QQ"),
    "REF01": ("850", "PO", PO_BODY, 1, 1, "128", "ZZZ"),
    "DTM01": ("850", "PO", PO_BODY, 2, 1, "374", "000"),
    "N101": ("850", "PO", PO_BODY, 3, 1, "98", "Q0"),
    "PO103": ("850", "PO", PO_BODY, 4, 3, "355", "QQ"),
    "BIG07": ("810", "IN", INVOICE_BODY, 0, 7, "640", "Q0"),
}

# AK303/IK303: the loop the segment opens, as edigate writes it (AN 1/4, cut from N1_LOOP).
LOOP_ID = {"N1": "N1_L", "PO1": "PO1_"}


def spoil(body: list[str], index: int, position: int, value: str) -> list[str]:
    fields = body[index].split("*")
    fields[position] = value
    return [*body[:index], "*".join(fields), *body[index + 1 :]]


def interchange(set_id: str, group: str, body: list[str], version: str) -> bytes:
    icvn, rep = ("00501", "^") if version.startswith("005") else ("00401", "U")
    segments = [
        "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*EDIGATE        "
        f"*261125*1200*{rep}*{icvn}*000000101*0*P*>",
        f"GS*{group}*BUYERCO*EDIGATE*20261125*1200*1*X*{version}",
        f"ST*{set_id}*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*1",
        "IEA*1*000000101",
    ]
    return ("~".join(segments) + "~").encode()


def outcomes(data: bytes, relax: tuple[str, ...] = ()) -> tuple[X12InterchangeOutcome,
                                                                 TransactionOutcome]:
    found = list(translate_x12(data, relax_code_lists=relax))
    interchange_ = next(o for o in found if isinstance(o, X12InterchangeOutcome))
    transaction = next(o for o in found if isinstance(o, TransactionOutcome))
    return interchange_, transaction


def ack(data: bytes) -> bytes:
    built = build_acknowledgment(outcomes(data)[0], AckOptions(now=NOW))
    assert built is not None
    return built


def tagged(data: bytes, *tags: str) -> list[list[str]]:
    return [seg.fields for seg in X12Reader(data) if seg.fields[0] in tags]


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_the_clean_documents_are_accepted(version: str) -> None:
    """The unspoiled 850 and 810 carry only codes of both lists: no issue, status A."""
    for set_id, group, body in (("850", "PO", PO_BODY), ("810", "IN", INVOICE_BODY)):
        _, transaction = outcomes(interchange(set_id, group, body, version))
        assert transaction.issues == [] and transaction.status == "A", set_id


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_code_outside_the_list_is_ak4_7_in_a_997(name: str) -> None:
    """The 004010 group's 997 locates the bad code: AK3 at the segment's position in the
    set (with its loop, if it opens one) and AK304 8, AK4 with the element position, data
    element, 7 and the bad value."""
    set_id, group, body, index, position, element, bad = CASES[name]
    assert bad not in BY_VERSION["004010"][element].split()
    data = interchange(set_id, group, spoil(body, index, position, bad), "004010")
    segs = ack(data)
    tag = body[index].split("*")[0]
    assert tagged(segs, "AK3") == [["AK3", tag, str(index + 2), LOOP_ID.get(tag, ""), "8"]]
    assert tagged(segs, "AK4") == [["AK4", str(position), element, "7", bad]]
    assert tagged(segs, "AK5") == [["AK5", "R", "5"]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_code_outside_the_list_is_ik4_7_in_a_999(name: str) -> None:
    """The same document in a 005010 group is answered with IK3/IK4 code 7 and IK5 R."""
    set_id, group, body, index, position, element, bad = CASES[name]
    assert bad not in BY_VERSION["005010"][element].split()
    data = interchange(set_id, group, spoil(body, index, position, bad), "005010")
    segs = ack(data)
    tag = body[index].split("*")[0]
    assert tagged(segs, "ST")[0][1] == "999"
    assert tagged(segs, "IK3") == [["IK3", tag, str(index + 2), LOOP_ID.get(tag, ""), "8"]]
    assert tagged(segs, "IK4") == [["IK4", str(position), element, "7", bad]]
    assert tagged(segs, "IK5") == [["IK5", "R", "I5"]]


def test_a_code_added_in_005010_is_valid_there_and_not_in_004010() -> None:
    """BEG02 CB entered the 92 list after 004010: a 005010 order with it is accepted, a
    004010 one rejected with AK4 2/92/7."""
    assert "CB" in BY_VERSION["005010"]["92"].split()
    assert "CB" not in BY_VERSION["004010"]["92"].split()
    body = spoil(PO_BODY, 0, 2, "CB")
    _, newer = outcomes(interchange("850", "PO", body, "005010"))
    assert newer.issues == [] and newer.status == "A"
    _, older = outcomes(interchange("850", "PO", body, "004010"))
    assert [(i.code, i.segment_tag, i.element_position, i.bad_value) for i in older.issues] == [
        ("7", "BEG", 2, "CB")]
    assert older.status == "R"


def test_a_code_dropped_after_004010_is_still_accepted_in_005010() -> None:
    """N103 14 (UCC/EAN location code prefix) left the 66 list in 005010 but partners
    still send it: the 005010 list keeps the 004010 codes, so the order is accepted."""
    body = spoil(PO_BODY, 3, 3, "14")
    for version in ("004010", "005010"):
        _, transaction = outcomes(interchange("850", "PO", body, version))
        assert transaction.issues == [], version


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_a_relaxed_partner_gets_a_warning_and_the_set_is_accepted(version: str) -> None:
    """With N101 in the partner's relax_code_lists the bad entity code is a warning and
    the transaction set is accepted with errors noted (E) instead of rejected."""
    data = interchange("850", "PO", spoil(PO_BODY, 3, 1, "Q0"), version)
    _, strict = outcomes(data)
    assert strict.status == "R"
    _, relaxed = outcomes(data, relax=("N101",))
    assert [(i.code, i.severity, i.segment_tag, i.element_position) for i in relaxed.issues] == [
        ("7", "warning", "N1", 1)]
    assert relaxed.status == "E"


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_pyx12_accepts_the_acknowledgments_of_code_list_errors(
    version: str, pyx12_errors: Callable[[bytes], list[str]]
) -> None:
    """pyx12, with edigate's maps, finds no error in the 997/999 for a bad REF01."""
    set_id, group, body, index, position, _element, bad = CASES["REF01"]
    data = interchange(set_id, group, spoil(body, index, position, bad), version)
    assert pyx12_errors(ack(data)) == []


@pytest.mark.parametrize("version", ["004010", "005010"])
def test_pyx12_reads_the_external_code_lists_of_the_maps(
    version: str, pyx12_errors: Callable[[bytes], list[str]]
) -> None:
    """pyx12 resolves the maps' valid_codes external=x12_NN_version from codes.xml: a clean
    850 passes, and a bad BEG02 is one of its findings."""
    assert pyx12_errors(interchange("850", "PO", PO_BODY, version)) == []
    bad = interchange("850", "PO", spoil(PO_BODY, 0, 2, "QQ"), version)
    assert any("QQ" in finding for finding in pyx12_errors(bad))
