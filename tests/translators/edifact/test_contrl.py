"""CONTRL built from pipeline outcomes: actions, error located in UCS/UCD, addressed back,
syntax versions 3 and 4, report modes; our CONTRL re-reads and validates cleanly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from translators.edifact.contrl import CONTRLOptions, build_contrl
from translators.edifact.envelope import InterchangeHeader
from translators.edifact.pipeline import (
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)
from translators.edifact.reader import EDIFACTReader

DATA = Path(__file__).resolve().parents[2] / "data" / "edifact"
NOW = datetime(2024, 5, 6, 7, 8, tzinfo=UTC)
GOOD = ("UNA:+.? 'UNB+UNOC:3+SENDER:14+RECEIVER:ZZ+240101:1200+IC1'"
        "UNH+1+ORDERS:D:96A:UN:EAN008'BGM+220+PO1+9'DTM+137:20240101:102'UNS+S'UNT+5+1'"
        "UNH+2+ORDERS:D:96A:UN'BGM+220+PO2+9'QTY+21:1'DTM+137:20240101:102'UNS+S'UNT+6+2'"
        "UNZ+2+IC1'")


def interchange(data: bytes) -> EDIFACTInterchangeOutcome:
    return next(o for o in translate_edifact(data, translate=False)
                if isinstance(o, EDIFACTInterchangeOutcome))


def contrl_text(data: bytes, **options: object) -> str:
    built = build_contrl(interchange(data), CONTRLOptions(now=NOW, **options))  # type: ignore[arg-type]
    assert built is not None
    return built.decode("latin-1")


def test_contrl_reports_each_message_and_locates_errors() -> None:
    """UCI 7, UCM 7 for the good message, UCM 4 + UCS (segment 3, code 15) for the bad one;
    sender and recipient are swapped."""
    assert contrl_text(GOOD.encode()) == (
        "UNA:+.? 'UNB+UNOC:3+RECEIVER:ZZ+SENDER:14+240506:0708+1'UNH+1+CONTRL:D:3:UN'"
        "UCI+IC1+SENDER:14+RECEIVER:ZZ+7'UCM+1+ORDERS:D:96A:UN:EAN008+7'"
        "UCM+2+ORDERS:D:96A:UN+4'UCS+3+15'UNT+6+1'UNZ+1+1'"
    )


def test_errors_only_mode_omits_accepted_messages() -> None:
    """``report="errors"`` leaves out UCMs of accepted messages."""
    text = contrl_text(GOOD.encode(), report="errors")
    assert "UCM+1+" not in text and "UCM+2+ORDERS:D:96A:UN+4'UCS+3+15'" in text


def test_errors_only_mode_on_a_clean_interchange_is_a_uci() -> None:
    """Without errors, ``report="errors"`` writes a UCI alone with action 7."""
    clean = GOOD.split("UNH+2")[0] + "UNZ+1+IC1'"
    text = contrl_text(clean.encode(), report="errors")
    assert "UCI+IC1+SENDER:14+RECEIVER:ZZ+7'UNT+3+1'" in text and "UCM" not in text


def test_receipt_mode_is_action_8() -> None:
    """``report="receipt"``: interchange received, nothing else."""
    assert "UCI+IC1+SENDER:14+RECEIVER:ZZ+8'UNT+3+1'" in contrl_text(GOOD.encode(),
                                                                     report="receipt")


def test_rejected_interchange_reports_the_uci_error() -> None:
    """A UNZ count mismatch rejects the interchange: UCI 4 with code 29 and tag UNZ."""
    bad = GOOD.replace("UNZ+2+IC1", "UNZ+5+IC1")
    assert "UCI+IC1+SENDER:14+RECEIVER:ZZ+4+29+UNZ+1'UNT+3+1'" in contrl_text(bad.encode())


def test_element_errors_become_ucd() -> None:
    """QTY 6060 with letters: a UCS for the segment (no code of its own), then UCD 37 at
    element 1, component 2."""
    data = GOOD.replace("UNZ+2+IC1", "UNH+3+ORDERS:D:96A:UN'BGM+220+PO3+9'"
                        "DTM+137:20240101:102'LIN+1'QTY+21:1X'UNS+S'UNT+7+3'UNZ+3+IC1")
    assert "UCM+3+ORDERS:D:96A:UN+4'UCS+5'UCD+37+1:2'UNT" in contrl_text(data.encode())


def test_group_gets_ucf() -> None:
    """A message in a UNG group is answered inside a UCF (SG3/SG4)."""
    text = contrl_text((DATA / "invoic-d96a-unoa2-custom-una-group.edi").read_bytes())
    assert "UCF*G1*APPSEND=ZZ*APPRECV=ZZ*7~UCM*1*INVOIC=D=96A=UN*4~UCS*3*13~" in text


def test_syntax_version_4_writes_contrl_4_1() -> None:
    """A syntax version 4 interchange gets CONTRL:4:1 with an 8-digit UNB date."""
    data = GOOD.replace("UNOC:3", "UNOC:4")
    text = contrl_text(data.encode())
    assert "+20240506:0708+" in text and "UNH+1+CONTRL:4:1:UN'" in text


def test_test_indicator_is_echoed() -> None:
    """A test interchange (UNB 0035 = 1) is answered with a test CONTRL."""
    data = GOOD.replace("+IC1'UNH", "+IC1++++++1'UNH")
    assert "+1++++++1'UNH+1+CONTRL" in contrl_text(data.encode())


def test_no_contrl_for_contrl() -> None:
    """An interchange of CONTRL messages is not acknowledged by another CONTRL."""
    data = contrl_text(GOOD.encode()).encode("latin-1")
    assert build_contrl(interchange(data)) is None


@pytest.mark.parametrize("version", ["3", "4"])
@pytest.mark.parametrize("report", ["all", "errors", "receipt"])
def test_our_contrl_reads_back_and_validates(version: str, report: str) -> None:
    """Every CONTRL we write is read by our reader, passes the envelope checks and
    validates against the CONTRL definition of its syntax version."""
    sources = [GOOD.replace("UNOC:3", f"UNOC:{version}").encode()]
    sources += [p.read_bytes() for p in sorted(DATA.glob("*.edi"))]
    for data in sources:
        for outcome in translate_edifact(data, translate=False):
            if not isinstance(outcome, EDIFACTInterchangeOutcome):
                continue
            built = build_contrl(outcome, CONTRLOptions(now=NOW, report=report,  # type: ignore[arg-type]
                                                        syntax_version=version))
            assert built is not None
            results = list(translate_edifact(built, translate=False))
            messages = [o for o in results if isinstance(o, MessageOutcome)]
            assert len(messages) == 1
            assert messages[0].issues == [], (built, messages[0].issues)
            assert messages[0].schema == f"CONTRL {'4' if version == '4' else 'D96A'}"
            ends = [o for o in results if isinstance(o, EDIFACTInterchangeOutcome)]
            assert ends[0].issues == []


def test_contrl_uses_the_received_delimiters() -> None:
    """Level B (information separators) in, level B out, without UNA."""
    data = (DATA / "orders-level-b-unob4-information-separators.edi").read_bytes()
    built = build_contrl(interchange(data), CONTRLOptions(now=NOW))
    assert built is not None and built.startswith(b"UNB\x1dUNOB\x1f4")
    header = next(iter(EDIFACTReader(built)))
    assert header.tag == "UNB"
    assert isinstance(interchange(built).header, InterchangeHeader)
