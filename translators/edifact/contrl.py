"""CONTRL syntax and service reports from pipeline outcomes (ISO 9735 syntax versions 3, 4).

Responsible for projecting located issues onto CONTRL segments -- UCI for the interchange
(UNA/UNB/UNZ), UCF for a group (UNG/UNE), UCM for a message (UNH/UNT), UCS for a segment
and UCD for a data element, each with its 0083 action and 0085 syntax error code -- and
for wrapping the message in an interchange addressed back to the sender (UNB sender and
recipient swapped). Syntax version 3 writes CONTRL:D:3:UN, version 4 writes CONTRL:4:1:UN
(the UCI/UCF/UCM/UCS/UCD layouts agree in the elements written here; version 4 adds the
repetition number to S011 as 0136). A CONTRL is never written for an interchange that holds
only CONTRL messages.
It must not validate anything: it trusts the outcomes it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal

from translators.edifact.envelope import ACTION_RECEIVED, ACTION_REJECTED
from translators.edifact.pipeline import (
    EDIFACTGroupOutcome,
    EDIFACTInterchangeOutcome,
    MessageSummary,
)
from translators.edifact.segment import LEVEL_A, LEVEL_B, Delimiters
from translators.edifact.writer import ElementValue, write_interchange
from translators.errors import Issue

__all__ = ["CONTRLOptions", "build_contrl", "contrl_segments"]

# CONTRL limits (UNSM CONTRL, both syntax versions): UCD per UCS group, UCS groups per UCM.
_MAX_UCD = 99
_MAX_UCS = 999
_ENVELOPE_TAGS = frozenset(["UNA", "UNB", "UNZ", "UNG", "UNE", "UNH", "UNT"])

Segment = tuple[str, list[ElementValue]]


@dataclass(frozen=True, slots=True)
class CONTRLOptions:
    """How to acknowledge.

    ``report``: ``"all"`` acknowledges every group and message (a UCF/UCM each);
    ``"errors"`` writes UCF/UCM only for those with errors, so an error-free interchange
    gets a UCI alone (action 7: every lower level acknowledged); ``"receipt"`` writes a UCI
    with action 8 (interchange received) and nothing else.
    ``control_reference`` is UNB/UNZ 0020 and ``message_reference`` UNH/UNT 0062 of the
    CONTRL (the caller keeps the counters). ``sender`` overrides the UNB sender (default:
    the recipient of the received interchange); ``delimiters`` default to the received ones.
    """

    report: Literal["all", "errors", "receipt"] = "all"
    control_reference: str = "1"
    message_reference: str = "1"
    now: datetime | None = None
    delimiters: Delimiters | None = None
    sender: tuple[str, str] | None = None  # (0004, 0007)
    syntax_version: str | None = None  # default: the received one (1 and 2 are written as 3)


def _clean(value: str, d: Delimiters, limit: int) -> str:
    """Received text that can be echoed: delimiters and control characters dropped, cut."""
    bad = {d.component, d.element, d.segment, d.release or "", d.repetition or ""}
    return "".join(c for c in value if c not in bad and c.isprintable())[:limit]


def _first_error(issues: Sequence[Issue], levels: tuple[str, ...]) -> Issue | None:
    for issue in issues:
        if issue.severity == "error" and issue.level in levels:
            return issue
    return None


def _error_elements(issue: Issue | None, version4: bool) -> list[ElementValue]:
    """0085, 0013, S011 of a UCI/UCF/UCM for its first error (empty when there is none)."""
    if issue is None:
        return []
    out: list[ElementValue] = [[[issue.code]]]
    tag = issue.segment_tag or ""
    if tag in _ENVELOPE_TAGS:
        out.append([[tag]])
        if issue.element_position is not None:
            s011 = [str(issue.element_position)]
            if issue.component_position is not None:
                s011.append(str(issue.component_position))
            out.append([s011])
    return out


def _s011(issue: Issue, version4: bool) -> list[str]:
    parts = [str(issue.element_position or 1)]
    component = str(issue.component_position) if issue.component_position else ""
    repetition = str(issue.repetition) if version4 and issue.repetition else ""
    if component or repetition:
        parts.append(component)
    if repetition:
        parts.append(repetition)
    return parts


def _segment_groups(summary: MessageSummary, version4: bool) -> list[Segment]:
    """UCS/UCD for the segment- and element-level errors of one message."""
    by_position: dict[int, list[Issue]] = {}
    for issue in summary.issues:
        if issue.severity != "error" or issue.level not in ("segment", "element"):
            continue
        by_position.setdefault(issue.segment_position or 1, []).append(issue)
    out: list[Segment] = []
    for position in sorted(by_position)[:_MAX_UCS]:
        issues = by_position[position]
        seg_issue = next((i for i in issues if i.level == "segment"), None)
        ucs: list[ElementValue] = [[[str(position)]]]
        if seg_issue is not None:
            ucs.append([[seg_issue.code]])
        out.append(("UCS", ucs))
        notes = [i for i in issues if i.level == "element"]
        for issue in notes[:_MAX_UCD]:
            out.append(("UCD", [[[issue.code]], [_s011(issue, version4)]]))
    return out


def _ucm(summary: MessageSummary, d: Delimiters, version4: bool, detail: bool) -> list[Segment]:
    s009 = [_clean(summary.type, d, 6), _clean(summary.version, d, 3),
            _clean(summary.release, d, 3), _clean(summary.agency, d, 3 if version4 else 2)]
    if summary.association_code:
        s009.append(_clean(summary.association_code, d, 6))
    elements: list[ElementValue] = [[[_clean(summary.reference, d, 14)]], [s009],
                                    [[summary.action]]]
    elements += _error_elements(_first_error(summary.issues, ("transaction",)), version4)
    out: list[Segment] = [("UCM", elements)]
    if detail and summary.action == ACTION_REJECTED:
        out += _segment_groups(summary, version4)
    return out


def _wanted(summary: MessageSummary, report: str) -> bool:
    return report == "all" or summary.action == ACTION_REJECTED


def contrl_segments(
    outcome: EDIFACTInterchangeOutcome, options: CONTRLOptions = CONTRLOptions()
) -> list[Segment]:
    """The CONTRL message body (UCI..., between UNH and UNT) for ``outcome``."""
    unb = outcome.header
    d = options.delimiters or unb.delimiters
    version4 = _syntax_version(outcome, options) == "4"
    uci: list[ElementValue] = [
        [[_clean(unb.control_reference, d, 14)]],
        [_party(unb.sender.id, unb.sender.qualifier, d)],
        [_party(unb.recipient.id, unb.recipient.qualifier, d)],
    ]
    if options.report == "receipt":
        return [("UCI", [*uci, [[ACTION_RECEIVED]]])]
    uci.append([[outcome.action]])
    uci += _error_elements(_first_error(outcome.issues, ("interchange",)), version4)
    body: list[Segment] = [("UCI", uci)]
    if outcome.action == ACTION_REJECTED:
        return body  # the whole interchange is rejected: lower levels are not reported
    for summary in outcome.documents:
        if _wanted(summary, options.report):
            body += _ucm(summary, d, version4, True)
    for group in outcome.groups:
        body += _ucf(group, d, version4, options.report)
    return body


def _ucf(group: EDIFACTGroupOutcome, d: Delimiters, version4: bool, report: str) -> list[Segment]:
    rejected = [m for m in group.documents if m.action == ACTION_REJECTED]
    if report == "errors" and group.action != ACTION_REJECTED and not rejected:
        return []
    ung = group.header
    ucf: list[ElementValue] = [
        [[_clean(ung.control_reference, d, 14)]],
        [_party(ung.sender.id, ung.sender.qualifier, d)],
        [_party(ung.recipient.id, ung.recipient.qualifier, d)],
        [[group.action]],
    ]
    ucf += _error_elements(_first_error(group.issues, ("group",)), version4)
    out: list[Segment] = [("UCF", ucf)]
    if group.action == ACTION_REJECTED:
        return out
    for summary in group.documents:
        if _wanted(summary, report):
            out += _ucm(summary, d, version4, True)
    return out


def _party(ident: str, qualifier: str, d: Delimiters) -> list[str]:
    parts = [_clean(ident, d, 35) or "UNKNOWN"]
    if qualifier:
        parts.append(_clean(qualifier, d, 4))
    return parts


def _syntax_version(outcome: EDIFACTInterchangeOutcome, options: CONTRLOptions) -> str:
    version = options.syntax_version or outcome.header.syntax_version
    return "4" if version == "4" else "3"


def build_contrl(
    outcome: EDIFACTInterchangeOutcome, options: CONTRLOptions = CONTRLOptions()
) -> bytes | None:
    """The CONTRL interchange answering ``outcome``, or ``None`` when none is written
    (the interchange held only CONTRL messages)."""
    messages = outcome.all_documents()
    if messages and all(m.type == "CONTRL" for m in messages):
        return None
    unb = outcome.header
    d = options.delimiters or unb.delimiters
    version = _syntax_version(outcome, options)
    now = (options.now or datetime.now(UTC)).astimezone(UTC)
    syntax_id = unb.syntax_id if unb.syntax_id[:3] in ("UNO", "UNY") else "UNOA"
    sender_id, sender_q = options.sender or (unb.recipient.id, unb.recipient.qualifier)
    body = contrl_segments(outcome, options)
    reference = _clean(options.message_reference, d, 14) or "1"
    identifier = ["CONTRL", "4", "1", "UN"] if version == "4" else ["CONTRL", "D", "3", "UN"]
    segments: list[Segment] = [
        ("UNB", [
            [[syntax_id, version]],
            [_party(sender_id, sender_q, d)],
            [_party(unb.sender.id, unb.sender.qualifier, d)],
            [[now.strftime("%Y%m%d" if version == "4" else "%y%m%d"), now.strftime("%H%M")]],
            [[_clean(options.control_reference, d, 14) or "1"]],
        ]),
        ("UNH", [[[reference]], [identifier]]),
        *body,
        ("UNT", [[[str(len(body) + 2)]], [[reference]]]),
        ("UNZ", [[["1"]], [[_clean(options.control_reference, d, 14) or "1"]]]),
    ]
    if unb.test:
        segments[0][1].extend([[[""]]] * 5 + [[["1"]]])
    # The level A and B defaults (any repetition separator: version 4 defaults one) are
    # recognised without a UNA.
    una = d.una or replace(d, repetition=None) not in (LEVEL_A, LEVEL_B)
    codec = unb.charset.codec if unb.charset is not None and unb.charset.supported else "latin-1"
    return write_interchange(segments, d, una=una, codec=codec)

