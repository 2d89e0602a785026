"""translate_edifact over the hand-written samples: outcomes in order, issues, agreements,
nearest-directory warnings, unsupported types, summaries for CONTRL."""

from __future__ import annotations

from pathlib import Path

from translators.edifact.pipeline import (
    EDIFACTGroupOutcome,
    EDIFACTInterchangeOutcome,
    MessageOutcome,
    translate_edifact,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "edifact"


def outcomes(name: str, **kwargs: object) -> list[object]:
    return list(translate_edifact((DATA / name).read_bytes(), **kwargs))  # type: ignore[arg-type]


def test_messages_then_interchange() -> None:
    """Two valid ORDERS: two accepted MessageOutcomes, then the interchange outcome."""
    found = outcomes("orders-d96a-unoc3-two-messages.edi", translate=False)
    assert [type(o).__name__ for o in found] == [
        "MessageOutcome", "MessageOutcome", "EDIFACTInterchangeOutcome"]
    first = found[0]
    assert isinstance(first, MessageOutcome)
    assert first.issues == [] and first.action == "7" and first.schema == "ORDERS D96A"
    end = found[-1]
    assert isinstance(end, EDIFACTInterchangeOutcome)
    assert [m.reference for m in end.all_documents()] == ["1", "2"]


def test_group_outcome_collects_its_messages() -> None:
    """Messages inside UNG/UNE are summarised in their group, not at interchange level."""
    found = outcomes("invoic-d96a-unoa2-custom-una-group.edi", translate=False)
    group = next(o for o in found if isinstance(o, EDIFACTGroupOutcome))
    end = found[-1]
    assert isinstance(end, EDIFACTInterchangeOutcome)
    assert len(group.documents) == 2 and end.documents == [] and end.groups == [group]
    assert all(m.action == "4" for m in group.documents)  # DTM, UNS, MOA are missing


def test_unagreed_message_type_is_rejected_with_17() -> None:
    """``accepts`` refusing ORDERS rejects each message with code 17 (no agreement)."""
    found = outcomes("orders-d96a-unoc3-two-messages.edi", translate=False,
                     accepts=lambda t: t != "ORDERS")
    first = found[0]
    assert isinstance(first, MessageOutcome)
    assert [(i.code, i.level) for i in first.issues] == [("17", "transaction")]
    assert first.action == "4"


def test_other_release_is_validated_as_warnings() -> None:
    """INVOIC D.03B is checked against D.01B; findings are warnings beside a note."""
    found = outcomes("invoic-d03b-unow4-repetitions.edi", translate=False)
    message = next(o for o in found if isinstance(o, MessageOutcome))
    assert message.schema == "INVOIC D01B"
    assert message.issues[0].code == "14" and "D01B" in message.issues[0].message
    assert all(i.severity == "warning" for i in message.issues)
    assert message.action == "7"


def test_unsupported_message_type_is_a_warning() -> None:
    """A message type without definition is noted (14, warning) and not rejected."""
    data = (b"UNB+UNOA:3+S+R+240101:1200+1'UNH+1+PRICAT:D:96A:UN'BGM+9'UNT+3+1'UNZ+1+1'")
    message = next(o for o in translate_edifact(data) if isinstance(o, MessageOutcome))
    assert [(i.code, i.severity) for i in message.issues] == [("14", "warning")]
    assert message.schema is None and message.record is None


def test_validate_false_skips_the_validator() -> None:
    """``validate=False`` keeps envelope issues only."""
    found = outcomes("invoic-d96a-unoa2-custom-una-group.edi", validate=False, translate=False)
    assert all(o.issues == [] for o in found if isinstance(o, MessageOutcome))


def test_translate_yields_records_when_mappers_exist() -> None:
    """With translation on, each complete message gets the mappers' record (or None when
    the mappers package is not available); the source block names the envelope."""
    found = outcomes("orders-d96a-unoc3-two-messages.edi")
    first = found[0]
    assert isinstance(first, MessageOutcome)
    if first.record is not None:
        assert first.record.source.standard == "edifact"
        assert first.record.source.transaction_control == "1"
