"""997, 999 and TA1 built from pipeline outcomes, read back and checked by pyx12."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from translators.x12.ack import AckOptions, ack_kind_for, acknowledge, build_acknowledgment
from translators.x12.pipeline import X12InterchangeOutcome, translate_x12
from translators.x12.reader import X12Reader

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def isa(version: str = "00401", ack: str = "0", rep: str = "U") -> str:
    return (
        f"ISA*00*          *00*          *ZZ*BUYERCO        *ZZ*EDIGATE        "
        f"*261125*1200*{rep}*{version}*000000101*{ack}*P*>~"
    )


def po(control: str, beg01: str = "00", extra: str = "") -> list[str]:
    body = [
        f"ST*850*{control}",
        f"BEG*{beg01}*SA*PO-{control}**20261125",
        "REF*DP*042",
        "N1*ST*ACME STORE 42*92*0042",
        "PO1*1*12*EA*3.50**UP*012345678905",
        "PID*F****WIDGET, BLUE",
        "CTT*1",
    ]
    if extra:
        body.insert(2, extra)
    return [*body, f"SE*{len(body) + 1}*{control}"]


def interchange(*groups: list[str], version: str = "004010", ack: str = "0") -> bytes:
    isa_version = "00501" if version.startswith("005") else "00401"
    segments = [isa(isa_version, ack, "^" if isa_version == "00501" else "U")]
    for n, body in enumerate(groups, start=1):
        count = sum(1 for s in body if s.startswith("ST*"))
        segments += [
            f"GS*PO*BUYERCO*EDIGATE*20261125*1200*{n}*X*{version}",
            *body,
            f"GE*{count}*{n}",
        ]
    segments.append(f"IEA*{len(groups)}*000000101")
    return "~".join(s.rstrip("~") for s in segments).encode() + b"~"


def outcome_of(data: bytes) -> X12InterchangeOutcome:
    found = [o for o in translate_x12(data) if isinstance(o, X12InterchangeOutcome)]
    assert len(found) == 1
    return found[0]


def ack_segments(data: bytes, **options: object) -> list[list[str]]:
    ack = build_acknowledgment(outcome_of(data), AckOptions(now=NOW, **options))  # type: ignore[arg-type]
    assert ack is not None
    return [seg.fields for seg in X12Reader(ack)]


def tagged(segments: list[list[str]], *tags: str) -> list[list[str]]:
    return [s for s in segments if s[0] in tags]


def test_accepted_group_gets_ak9_a() -> None:
    """A clean 850 group is acknowledged AK5*A and AK9*A*1*1*1 in a 997."""
    segs = ack_segments(interchange(po("0001")))
    assert tagged(segs, "ST")[0][1] == "997"
    assert tagged(segs, "AK1") == [["AK1", "PO", "1"]]
    assert tagged(segs, "AK2", "AK5") == [["AK2", "850", "0001"], ["AK5", "A"]]
    assert tagged(segs, "AK9") == [["AK9", "A", "1", "1", "1"]]
    assert not tagged(segs, "TA1")


def test_element_error_is_located_in_ak3_ak4() -> None:
    """A bad BEG01 code gives AK3*BEG*2**8 and AK4*1*353*7*99, and the set is rejected."""
    segs = ack_segments(interchange(po("0001", beg01="99")))
    assert tagged(segs, "AK3") == [["AK3", "BEG", "2", "", "8"]]
    assert tagged(segs, "AK4") == [["AK4", "1", "353", "7", "99"]]
    assert tagged(segs, "AK5") == [["AK5", "R", "5"]]
    assert tagged(segs, "AK9") == [["AK9", "R", "1", "1", "0"]]


def test_partially_accepted_group() -> None:
    """One good and one bad transaction make AK9*P with 2 received and 1 accepted."""
    segs = ack_segments(interchange(po("0001") + po("0002", beg01="99")))
    assert [s[1] for s in tagged(segs, "AK5")] == ["A", "R"]
    assert tagged(segs, "AK9") == [["AK9", "P", "2", "2", "1"]]


def test_segment_error_codes() -> None:
    """An unknown segment is reported with AK304 code 1 at its position in the set."""
    segs = ack_segments(interchange(po("0001", extra="ZZZ*1")))
    assert ["AK3", "ZZZ", "3", "", "1"] in tagged(segs, "AK3")


def test_group_trailer_mismatch_is_noted_in_ak9() -> None:
    """A GE01 count that disagrees with the group is AK9*E with code 5."""
    data = interchange(po("0001")).replace(b"GE*1*1", b"GE*3*1")
    segs = ack_segments(data)
    assert tagged(segs, "AK9") == [["AK9", "E", "3", "1", "1", "5"]]


def test_envelope_error_in_transaction_goes_to_ak5() -> None:
    """A wrong SE01 count rejects the set with AK5 code 4 and no AK3."""
    body = po("0001")
    body[-1] = "SE*99*0001"
    segs = ack_segments(interchange(body))
    assert tagged(segs, "AK5") == [["AK5", "R", "4"]]
    assert not tagged(segs, "AK3")


def test_999_for_005010_groups() -> None:
    """A 005010 group is answered with a 999 carrying IK3/IK4/IK5 and ST03 005010X231A1."""
    segs = ack_segments(interchange(po("0001", beg01="99"), version="005010"))
    st = tagged(segs, "ST")[0]
    assert st[1] == "999" and st[3] == "005010X231A1"
    assert tagged(segs, "AK1") == [["AK1", "PO", "1", "005010"]]
    assert tagged(segs, "IK3") == [["IK3", "BEG", "2", "", "8"]]
    assert tagged(segs, "IK4") == [["IK4", "1", "353", "7", "99"]]
    assert tagged(segs, "IK5") == [["IK5", "R", "I5"]]


def test_kind_preference_overrides_version() -> None:
    """A partner that wants 997s gets a 997 for a 005010 group."""
    assert ack_kind_for("005010", "997") == "997"
    assert ack_kind_for("UNKNOWN") == "997"
    segs = ack_segments(interchange(po("0001"), version="005010"), kind="997")
    assert tagged(segs, "ST")[0][1] == "997"


def test_ta1_when_requested_and_when_envelope_is_broken() -> None:
    """ISA14=1 yields TA1 ...*A*000; a bad IEA01 yields TA1 ...*E*021."""
    segs = ack_segments(interchange(po("0001"), ack="1"))
    assert tagged(segs, "TA1") == [["TA1", "000000101", "261125", "1200", "A", "000"]]
    broken = interchange(po("0001")).replace(b"IEA*1*", b"IEA*4*")
    assert tagged(ack_segments(broken), "TA1") == [
        ["TA1", "000000101", "261125", "1200", "E", "021"]
    ]


def test_ack_interchange_is_addressed_back_to_the_sender() -> None:
    """The acknowledgment's ISA and GS swap sender and receiver of the original."""
    segs = ack_segments(interchange(po("0001")), control_number="77")
    isa_fields = segs[0]
    assert isa_fields[6].strip() == "EDIGATE" and isa_fields[8].strip() == "BUYERCO"
    assert isa_fields[13] == "000000077"
    gs = tagged(segs, "GS")[0]
    assert gs[1] == "FA" and gs[2] == "EDIGATE" and gs[3] == "BUYERCO"


def test_no_ack_for_acks() -> None:
    """A received 997 is never acknowledged, and without TA1 nothing is owed."""
    data = (
        isa() + "GS*FA*BUYERCO*EDIGATE*20261125*1200*5*X*004010~ST*997*0001~AK1*PO*1~"
        "AK9*A*1*1*1~SE*4*0001~GE*1*5~IEA*1*000000101~"
    ).encode()
    assert build_acknowledgment(outcome_of(data), AckOptions(now=NOW)) is None


def test_bad_values_with_delimiters_are_written_safely() -> None:
    """A bad value holding a delimiter is copied without it, so the ack still reads back."""
    segs = ack_segments(interchange(po("0001", beg01="9:9")))
    assert tagged(segs, "AK4") == [["AK4", "1", "353", "7", "99"]]


@pytest.mark.parametrize("version", ["004010", "005010"])
@pytest.mark.parametrize("case", ["clean", "element", "partial", "segment", "trailer"])
def test_pyx12_accepts_our_acknowledgments(
    case: str, version: str, pyx12_errors: Callable[[bytes], list[str]]
) -> None:
    """pyx12, with edigate's maps, finds zero errors in each kind of 997/999 edigate writes."""
    groups = {
        "clean": [po("0001")],
        "element": [po("0001", beg01="99")],
        "partial": [po("0001") + po("0002", beg01="99")],
        "segment": [po("0001", extra="ZZZ*1")],
        "trailer": [po("0001")],
    }[case]
    data = interchange(*groups, version=version, ack="1")
    if case == "trailer":
        data = data.replace(b"GE*1*1", b"GE*2*1")
    ack = build_acknowledgment(outcome_of(data), AckOptions(now=NOW))
    assert ack is not None
    assert pyx12_errors(ack) == []


def test_kind_none_writes_only_the_ta1() -> None:
    """A partner that wants no 997/999 still gets the TA1 it asked for, and nothing else."""
    segs = ack_segments(interchange(po("0001"), ack="1"), kind="none")
    assert [s[0] for s in segs] == ["ISA", "TA1", "IEA"]
    data = interchange(po("0001"))
    assert build_acknowledgment(outcome_of(data), AckOptions(now=NOW, kind="none")) is None


@pytest.mark.parametrize(("data", "kind", "expected"), [
    (interchange(po("0001")), "auto", ("997",)),
    (interchange(po("0001"), version="005010"), "auto", ("999",)),
    (interchange(po("0001"), ack="1"), "auto", ("997", "TA1")),
    (interchange(po("0001"), ack="1"), "none", ("TA1",)),
    (interchange(po("0001"), version="005010", ack="1"), "997", ("997", "TA1")),
])
def test_an_acknowledgment_names_the_kinds_its_interchange_holds(
        data: bytes, kind: str, expected: tuple[str, ...]) -> None:
    """``kinds`` is what reading the interchange back finds: each ST01 and the TA1."""
    ack = acknowledge(outcome_of(data), AckOptions(now=NOW, kind=kind))  # type: ignore[arg-type]
    assert ack is not None
    read = {seg[1] if seg.tag == "ST" else seg.tag
            for seg in X12Reader(ack.interchange) if seg.tag in ("ST", "TA1")}
    assert ack.kinds == tuple(sorted(read)) == expected
    assert build_acknowledgment(outcome_of(data), AckOptions(now=NOW, kind=kind)  # type: ignore[arg-type]
                                ) == ack.interchange


@pytest.mark.parametrize("element", ["BEG*00*S\x00*PO-1**20261125",  # ID, a code list
                                     "BEG*00*SA*PO-\x001**20261125",  # AN
                                     "BEG*00*SA*PO-1**2026\x001125"])  # DT
def test_a_control_character_in_a_data_element_is_ak4_code_6(element: str) -> None:
    """A NUL in a data element of any type is AK4 code 6 (invalid character in data
    element, X12.6: no character set holds it), not a code or length error; the set and
    the group are rejected."""
    body = po("0001")
    body[1] = element
    segs = ack_segments(interchange(body))
    assert [ak4[3] for ak4 in tagged(segs, "AK4")] == ["6"]
    assert "\x00" not in "".join("".join(s) for s in segs)
    assert tagged(segs, "AK5")[0][:2] == ["AK5", "R"]
    assert tagged(segs, "AK9")[0][1] == "R"


def test_a_control_character_in_the_gs_rejects_its_transaction_sets() -> None:
    """A control character in GS02 (or any GS element): the sets of that group are
    rejected (AK5*R*5, located at GS02) and so the group (AK9*R); nothing accepted."""
    data = interchange(po("0001")).replace(b"GS*PO*BUYERCO*", b"GS*PO*BUYER\x01CO*")
    outcomes = list(translate_x12(data))
    [tx] = [o for o in outcomes if hasattr(o, "document")]
    assert tx.status == "R"  # type: ignore[union-attr]
    [issue] = tx.issues  # type: ignore[union-attr]
    assert (issue.code, issue.segment_tag, issue.element_position) == ("5", "GS", 2)
    segs = ack_segments(data)
    assert tagged(segs, "AK5") == [["AK5", "R", "5"]]
    assert tagged(segs, "AK9")[0][1] == "R"


def test_a_control_character_in_the_isa_is_a_rejecting_ta1() -> None:
    """A NUL in ISA06 is TA1 R with the ISA06 note code (006), and the sets of the
    interchange are not accepted either."""
    data = interchange(po("0001")).replace(b"*BUYERCO        *", b"*BUYER\x00O        *")
    segs = ack_segments(data)
    assert tagged(segs, "TA1")[0][4:] == ["R", "006"]
    assert tagged(segs, "AK5")[0][:2] == ["AK5", "R"]


def test_control_character_delimiters_are_not_invalid_characters() -> None:
    """IS1 (\\x1f) as the component separator and IS2 (\\x1e) as the repetition separator
    are delimiters (X12.5), not data: an interchange written with them is accepted."""
    data = interchange(po("0001"), version="005010").replace(b"*^*00501*", b"*\x1e*00501*")
    data = data.replace(b"*P*>~", b"*P*\x1f~", 1)
    segs = ack_segments(data)
    assert tagged(segs, "AK5") == [["AK5", "A"]] or tagged(segs, "IK5") == [["IK5", "A"]]
    assert not tagged(segs, "TA1")
