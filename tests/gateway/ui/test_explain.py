"""Errors explained for a non-EDI reader: beside each element error's codes, the element's
name from the schemas, what was expected there, what was found, and the allowed codes
when the list is short, for X12 and EDIFACT, on the helper and on the detail page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.runtime.demo import demo_interchange
from gateway.ui.explain import SHORT_CODE_LIST, explain_summary
from translators.edifact.pipeline import MessageOutcome, translate_edifact
from translators.x12.pipeline import TransactionOutcome, translate_x12

if TYPE_CHECKING:
    from tests.gateway.ui.conftest import UI

DEMO = Path(__file__).resolve().parents[3] / "gateway" / "runtime" / "demo_data"


def _x12_summary(body: bytes) -> dict[str, Any]:
    """The transactions of a summary as the processor stores them (only what explaining
    reads: set, controls, errors)."""
    return {"transactions": [
        {"set_id": o.document.set_id, "control_number": o.document.control_number,
         "group_control": o.document.group.control_number,
         "errors": [e.as_dict() for e in o.errors]}
        for o in translate_x12(body) if isinstance(o, TransactionOutcome)]}


def _edifact_summary(body: bytes) -> dict[str, Any]:
    return {"transactions": [
        {"set_id": o.document.type, "control_number": o.document.reference,
         "errors": [e.as_dict() for e in o.errors]}
        for o in translate_edifact(body) if isinstance(o, MessageOutcome)]}


def test_an_x12_code_error_names_the_element_and_its_short_code_list() -> None:
    """SAC01 'Z' of an 810 (005010) is the Allowance or Charge Indicator, a one-character
    required code; its few codes are listed. A bad BIG01 date says it wants CCYYMMDD and
    what it found; BEG01's long list is counted, not listed."""
    body = (DEMO / "globex-810.edi").read_bytes()
    body = body.replace(b"SAC*C*D240***1500~", b"SAC*Z*D240***1500~", 1)
    body = body.replace(b"BIG*20240318", b"BIG*2024031X")
    summary = _x12_summary(body)
    explained = explain_summary(summary, "x12", body)
    errors = summary["transactions"][0]["errors"]
    by_ref = {errors[e]["segment_tag"]: x for (_, e), x in explained.items()}
    sac = by_ref["SAC"]
    assert sac.element == "SAC01 Allowance or Charge Indicator"
    assert sac.expected == "a code, exactly 1 character, required"
    assert sac.found == "Z"
    assert [code for code, _ in sac.allowed] == ["A", "C", "N", "P", "Q", "R"]
    big = by_ref["BIG"]
    assert big.element.startswith("BIG01 ") and "Date" in big.element
    assert big.expected.startswith("a date (CCYYMMDD), exactly 8 characters")
    assert big.found == "2024031X"

    order = (DEMO / "acme-850.edi").read_bytes().replace(b"BEG*00", b"BEG*ZZZ")
    [(_, beg)] = explain_summary(_x12_summary(order), "x12", order).items()
    assert beg.element == "BEG01 Transaction Set Purpose Code"
    assert beg.allowed == () and beg.codes > SHORT_CODE_LIST


def test_an_edifact_error_names_the_component_and_the_codes_meanings() -> None:
    """UNS+X of an ORDERS (D96A) lists D and S with their meanings; a non-numeric QTY
    quantity says a number is expected."""
    body = (DEMO / "initech-orders.edi").read_bytes()
    body = body.replace(b"UNS+S'", b"UNS+X'").replace(b"QTY+21:12", b"QTY+21:1X")
    summary = _edifact_summary(body)
    explained = list(explain_summary(summary, "edifact", body).values())
    by_ref = {x.element.split()[0]: x for x in explained}
    uns = by_ref["UNS01"]
    assert uns.element == "UNS01 Section identification" and uns.found == "X"
    assert [code for code, _ in uns.allowed] == ["D", "S"]
    assert all(meaning.startswith("Separates") for _, meaning in uns.allowed)
    assert by_ref["QTY01-2"].expected.startswith("a number, ")


def test_nothing_is_explained_without_an_element_or_a_readable_payload() -> None:
    """An error about a whole transaction, or a payload that does not read, leaves the
    codes alone rather than failing the page."""
    summary = {"transactions": [{"set_id": "850", "control_number": "0001",
                                 "group_control": "1", "errors": [
                                     {"level": "transaction", "code": "2", "message": "x"},
                                     {"level": "element", "code": "7", "message": "y",
                                      "segment_tag": "BEG", "element_position": 1}]}]}
    assert explain_summary(summary, "x12", b"not edi at all") == {}
    assert explain_summary(None, "x12", b"") == {}


def test_the_detail_page_shows_the_explanation_beside_the_codes(ui: UI) -> None:
    """A rejected 810's page says, under the error code, which element it is, what was
    expected and what was found."""
    body = demo_interchange("globex-810.edi", "01", "123456789", "00501",
                            ui.state.settings, 1201)
    body = body.replace(b"SAC*C*D240***1500~", b"SAC*Z*D240***1500~", 1)
    message_id = ui.post_edi(body, key="globex")
    html = ui.login("vic").get(f"/ui/messages/{message_id}").text
    explain = re.search(r'<div class="explain">(.*?)</div>', html, re.S)
    assert explain is not None
    text = re.sub(r"<[^>]+>", "", explain.group(1))
    assert "SAC01 Allowance or Charge Indicator" in text
    assert "expected a code, exactly 1 character, required" in text
    assert "found “Z”" in text
    assert re.search(r"Allowed: A, C, N, P, Q, R", " ".join(text.split()))
