"""Envelope checks: control numbers, counts, trailers and ISA values, each with its code."""

from __future__ import annotations

from translators.x12.envelope import (
    GroupEnd,
    InterchangeEnd,
    InterchangeHeader,
    InterchangeSegment,
    TransactionSet,
    walk,
)
from translators.x12.reader import X12Reader

ISA = (
    "ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*EDIGATE        "
    "*261125*1200*U*00401*000000101*1*P*>~"
)


def doc(*segments: str, isa: str = ISA) -> bytes:
    return (isa + "".join(s + "~" for s in segments)).encode()


def good_body(control: str = "0001") -> list[str]:
    return [
        f"ST*850*{control}",
        "BEG*00*SA*PO1**20261125",
        "PO1*1*2*EA*3.5",
        "CTT*1",
        f"SE*5*{control}",
    ]


def events(data: bytes) -> list[object]:
    return list(walk(X12Reader(data)))


def codes(data: bytes) -> dict[str, list[str]]:
    """Issue codes by level over the whole stream (errors and warnings alike)."""
    out: dict[str, list[str]] = {"interchange": [], "group": [], "transaction": []}
    for ev in events(data):
        if isinstance(ev, TransactionSet):
            out["transaction"] += [i.code for i in ev.issues]
        elif isinstance(ev, GroupEnd):
            out["group"] += [i.code for i in ev.issues]
        elif isinstance(ev, InterchangeEnd):
            out["interchange"] += [i.code for i in ev.issues + ev.interchange.issues]
    return out


def test_clean_interchange_has_no_issues() -> None:
    """A well-formed interchange yields header, group, transaction, trailers and no issues."""
    data = doc(
        "GS*PO*BUYERCO*EDIGATE*20261125*1200*7*X*004010", *good_body(), "GE*1*7", "IEA*1*000000101"
    )
    evs = events(data)
    kinds = [type(e).__name__ for e in evs]
    assert kinds == [
        "InterchangeHeader",
        "GroupHeader",
        "TransactionSet",
        "GroupEnd",
        "InterchangeEnd",
    ]
    assert codes(data) == {"interchange": [], "group": [], "transaction": []}
    header = evs[0]
    assert isinstance(header, InterchangeHeader)
    assert header.sender_id == "BUYERCO" and header.control_number == "000000101"
    assert header.ack_requested is True


def test_trailer_mismatches_get_their_codes() -> None:
    """SE01/SE02, GE01/GE02 and IEA01/IEA02 mismatches map to 718-4/3, 716-5/4, TA1 021/001."""
    body = good_body()
    body[-1] = "SE*9*0002"
    data = doc("GS*PO*BUYERCO*EDIGATE*20261125*1200*7*X*004010", *body, "GE*2*8", "IEA*3*000000999")
    found = codes(data)
    assert sorted(found["transaction"]) == ["3", "4"]
    assert sorted(found["group"]) == ["4", "5"]
    assert sorted(found["interchange"]) == ["001", "021"]


def test_zero_padding_difference_is_only_a_warning() -> None:
    """IEA02 '101' against ISA13 '000000101' is noted as a warning, not an error."""
    data = doc(
        "GS*PO*BUYERCO*EDIGATE*20261125*1200*7*X*004010", *good_body(), "GE*1*7", "IEA*1*101"
    )
    end = next(e for e in events(data) if isinstance(e, InterchangeEnd))
    assert [(i.code, i.severity) for i in end.issues] == [("001", "warning")]


def test_missing_trailers_are_reported_and_later_transactions_survive() -> None:
    """A transaction without SE is flagged 718-2 and the next transaction is still read."""
    first = good_body("0001")[:-1]
    data = doc(
        "GS*PO*BUYERCO*EDIGATE*20261125*1200*7*X*004010",
        *first,
        *good_body("0002"),
        "GE*2*7",
        "IEA*1*000000101",
    )
    txs = [e for e in events(data) if isinstance(e, TransactionSet)]
    assert [t.control_number for t in txs] == ["0001", "0002"]
    assert [i.code for i in txs[0].issues] == ["2"] and not txs[0].complete
    assert txs[1].issues == [] and txs[1].complete


def test_missing_ge_and_iea_at_end_of_input() -> None:
    """Input that ends inside a group reports 716-3 for the group and TA1 023 at the end."""
    data = doc("GS*PO*BUYERCO*EDIGATE*20261125*1200*7*X*004010", *good_body())
    found = codes(data)
    assert found["group"] == ["3"]
    assert found["interchange"] == ["023"]


def test_st01_must_match_gs01() -> None:
    """An 850 inside an IN (invoice) group is flagged with 718 code 6 at ST01."""
    data = doc(
        "GS*IN*BUYERCO*EDIGATE*20261125*1200*7*X*004010", *good_body(), "GE*1*7", "IEA*1*000000101"
    )
    tx = next(e for e in events(data) if isinstance(e, TransactionSet))
    assert [(i.code, i.element_position) for i in tx.issues] == [("6", 1)]


def test_duplicate_control_numbers() -> None:
    """Repeated ST02 in a group (718-23) and repeated GS06 in an interchange (716-19)."""
    data = doc(
        "GS*PO*BUYERCO*EDIGATE*20261125*1200*7*X*004010",
        *good_body(),
        *good_body(),
        "GE*2*7",
        "GS*PO*BUYERCO*EDIGATE*20261125*1200*7*X*004010",
        *good_body(),
        "GE*1*7",
        "IEA*2*000000101",
    )
    found = codes(data)
    assert found["transaction"] == ["23"]
    assert found["group"] == ["19"]


def test_bad_isa_values_get_ta1_codes() -> None:
    """A bad ISA date, test indicator and qualifier map to TA1 codes 014, 020 and 005."""
    bad = ISA.replace("*ZZ*BUYERCO", "*XX*BUYERCO").replace("*261125*", "*261399*")
    bad = bad.replace("*1*P*>", "*1*Q*>")
    data = doc("IEA*0*000000101", isa=bad)
    header = next(e for e in events(data) if isinstance(e, InterchangeHeader))
    assert sorted(i.code for i in header.issues if i.severity == "error") == ["005", "014", "020"]


def test_short_isa_fields_are_warnings_with_location() -> None:
    """An ISA06 padded to 14 characters is a located warning (TA1 006), not a rejection."""
    short = ISA.replace("BUYERCO        ", "BUYERCO       ")
    header = next(
        e for e in events(doc("IEA*0*000000101", isa=short)) if isinstance(e, InterchangeHeader)
    )
    assert [(i.code, i.severity, i.element_position) for i in header.issues] == [
        ("006", "warning", 6)
    ]


def test_ta1_between_isa_and_gs_is_an_interchange_segment() -> None:
    """A TA1 received before any group is passed on, not flagged as misplaced."""
    data = doc("TA1*000000050*261125*1200*A*000", "IEA*0*000000101")
    evs = events(data)
    assert any(isinstance(e, InterchangeSegment) and e.segment.tag == "TA1" for e in evs)
    assert codes(data)["interchange"] == []


def test_segments_outside_transactions_are_flagged_not_lost() -> None:
    """A stray segment between GS and ST is an interchange issue (024); the set still reads."""
    data = doc(
        "GS*PO*BUYERCO*EDIGATE*20261125*1200*7*X*004010",
        "N1*ST*X",
        *good_body(),
        "GE*1*7",
        "IEA*1*000000101",
    )
    assert codes(data)["interchange"] == ["024"]
    assert len([e for e in events(data) if isinstance(e, TransactionSet)]) == 1


def test_two_interchanges_keep_their_own_counts() -> None:
    """Counts and control numbers are checked per interchange in a multi-interchange file."""
    one = doc(
        "GS*PO*BUYERCO*EDIGATE*20261125*1200*7*X*004010", *good_body(), "GE*1*7", "IEA*1*000000101"
    )
    two = one.replace(b"000000101", b"000000102")
    assert codes(one + b"\r\n" + two) == {"interchange": [], "group": [], "transaction": []}
    assert codes(one + one)["interchange"] == ["025"]
