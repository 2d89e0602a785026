"""The output of ``edigate translate``: records and validation results, written as they come.

Responsible for turning the translators' outcomes into text on a stream without holding
more than one transaction at a time: records are written with ``record_json`` (the same
compact, canonical text the gateway stores) the moment the pipeline yields them. Two shapes:

* the document (default): one JSON object ``{"records": [...], "interchanges": [...]}``,
  one record per line, then the envelope tree (interchange, group, transaction entries with
  their status, issues and ``record_index``). The tree is built on a temporary file while
  the records stream, because the two lists interleave in the input; its entries are a
  few hundred bytes a transaction, not records.
* JSON Lines (``--jsonl``): one record, or one issue, per line. An issue line is
  ``{"issue": {...}, "source": {...}}`` where ``source`` locates it with the keys a
  record's ``source`` uses (standard, interchange/group/transaction control, type).

Nothing is written before the first outcome, so input that is not EDI at all leaves the
output empty. It must not translate, validate or decide exit statuses: ``gateway.runtime.cli`` does.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from translators.edifact.pipeline import (
    EDIFACTGroupOutcome,
    EDIFACTInterchangeOutcome,
    MessageOutcome,
)
from translators.errors import Issue
from translators.record_data import record_json
from translators.x12.pipeline import TransactionOutcome, X12GroupOutcome, X12InterchangeOutcome

__all__ = ["write_document", "write_jsonl"]


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _issues(issues: Sequence[Issue]) -> str:
    return _json([i.as_dict() for i in issues])


def _fields(fields: dict[str, object]) -> str:
    """``"k":v,...`` of an object whose other members are written around it."""
    return _json(fields)[1:-1]


def _x12_interchange(isa: Any) -> dict[str, object]:
    return {
        "control_number": isa.control_number,
        "version": isa.version,
        "sender": {"qualifier": isa.sender_qualifier, "id": isa.sender_id},
        "receiver": {"qualifier": isa.receiver_qualifier, "id": isa.receiver_id},
        "test": isa.test,
        "ack_requested": isa.ack_requested,
        "offset": isa.offset,
    }


def _x12_group(gs: Any) -> dict[str, object]:
    return {
        "functional_id": gs.functional_id,
        "control_number": gs.control_number,
        "version": gs.version,
        "sender": gs.sender,
        "receiver": gs.receiver,
    }


def _edifact_interchange(unb: Any) -> dict[str, object]:
    return {
        "standard": "edifact",
        "control_reference": unb.control_reference,
        "syntax": f"{unb.syntax_id}:{unb.syntax_version}",
        "sender": {"qualifier": unb.sender.qualifier, "id": unb.sender.id},
        "recipient": {"qualifier": unb.recipient.qualifier, "id": unb.recipient.id},
        "test": unb.test,
        "ack_requested": unb.ack_requested,
    }


class _Tree:
    """The envelope tree, written to ``spool`` as the outcomes arrive.

    An interchange or group is opened by its first transaction (or by its own outcome
    when it has none) and closed by its outcome, which carries the trailer's issues. EDIFACT
    messages outside groups go to a second spool and are written into the interchange's
    ``messages`` at its UNZ, after its ``groups``.
    """

    def __init__(self, spool: IO[str], loose: IO[str]) -> None:
        self.spool = spool
        self.loose = loose
        self.interchange: object | None = None
        self.group: object | None = None
        self.interchanges = 0
        self.groups = 0  # in the open interchange
        self.entries = 0  # in the open group
        self.loose_entries = 0

    def open_interchange(self, header: object, fields: dict[str, object]) -> None:
        if self.interchange is header:
            return
        self.spool.write(",\n" if self.interchanges else "\n")
        self.spool.write("{" + _fields(fields) + ',"groups":[')
        self.interchange = header
        self.interchanges += 1
        self.groups = 0

    def open_group(self, header: object, fields: dict[str, object], entries: str) -> None:
        if self.group is header:
            return
        self.spool.write(",\n" if self.groups else "\n")
        self.spool.write("{" + _fields(fields) + f',"{entries}":[')
        self.group = header
        self.groups += 1
        self.entries = 0

    def entry(self, text: str) -> None:
        self.spool.write(",\n" if self.entries else "\n")
        self.spool.write(text)
        self.entries += 1

    def loose_entry(self, text: str) -> None:
        self.loose.write(",\n" if self.loose_entries else "\n")
        self.loose.write(text)
        self.loose_entries += 1

    def close_group(self, tail: dict[str, object]) -> None:
        self.spool.write("]," + _fields(tail) + "}")
        self.group = None

    def close_interchange(self, tail: dict[str, object], loose: bool) -> None:
        self.spool.write("]")
        if loose:
            self.spool.write(',"messages":[')
            if self.loose_entries:
                self.loose.seek(0)
                shutil.copyfileobj(self.loose, self.spool)
                self.loose.seek(0)
                self.loose.truncate()
            self.spool.write("]")
        self.loose_entries = 0
        self.spool.write("," + _fields(tail) + "}")
        self.interchange = None
        self.group = None


def _record(outcome: TransactionOutcome | MessageOutcome) -> str | None:
    return record_json(outcome.data) if outcome.data is not None else None


def write_document(outcomes: Iterable[object], out: IO[str]) -> None:
    """Write ``{"records": [...], "interchanges": [...]}`` for ``outcomes`` to ``out``."""
    records = 0
    started = False
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as spool,
        tempfile.TemporaryFile("w+", encoding="utf-8") as loose,
    ):
        tree = _Tree(spool, loose)
        for outcome in outcomes:
            if not started:
                out.write('{"records":[')
                started = True
            if isinstance(outcome, (TransactionOutcome, MessageOutcome)):
                text = _record(outcome)
                index: int | None = None
                if text is not None:
                    out.write(",\n" if records else "\n")
                    out.write(text)
                    index = records
                    records += 1
                _tree_entry(tree, outcome, index)
            else:
                _tree_close(tree, outcome)
        if not started:
            return
        out.write('\n],"interchanges":[')
        spool.seek(0)
        shutil.copyfileobj(spool, out)
        out.write("\n]}\n")


def _tree_entry(
    tree: _Tree, outcome: TransactionOutcome | MessageOutcome, index: int | None
) -> None:
    if isinstance(outcome, TransactionOutcome):
        tx = outcome.document
        tree.open_interchange(tx.group.interchange, _x12_interchange(tx.group.interchange))
        tree.open_group(tx.group, _x12_group(tx.group), "transactions")
        tree.entry(
            _json({
                "set_id": tx.set_id,
                "control_number": tx.control_number,
                "status": outcome.status,
                "schema": outcome.schema,
                "segments": len(tx.segments),
                "offset": tx.offset,
                "issues": [i.as_dict() for i in outcome.issues],
                "record_index": index,
            })
        )
        return
    m = outcome.document
    tree.open_interchange(m.interchange, _edifact_interchange(m.interchange))
    text = _json({
        "type": m.type, "version": f"{m.version}{m.release}", "agency": m.agency,
        "reference": m.reference, "action": outcome.action,
        "definition": outcome.schema, "segments": len(m.segments),
        "offset": m.offset, "issues": [i.as_dict() for i in outcome.issues],
        "record_index": index,
    })
    if m.group is None:
        tree.loose_entry(text)
    else:
        tree.open_group(m.group, {"reference": m.group.control_reference}, "messages")
        tree.entry(text)


def _tree_close(tree: _Tree, outcome: object) -> None:
    if isinstance(outcome, X12GroupOutcome):
        gs = outcome.header
        tree.open_interchange(gs.interchange, _x12_interchange(gs.interchange))
        tree.open_group(gs, _x12_group(gs), "transactions")
        tree.close_group({"status": outcome.status,
                          "issues": [i.as_dict() for i in outcome.issues]})
    elif isinstance(outcome, EDIFACTGroupOutcome):
        ung = outcome.header
        tree.open_interchange(ung.interchange, _edifact_interchange(ung.interchange))
        tree.open_group(ung, {"reference": ung.control_reference}, "messages")
        tree.close_group({"action": outcome.action,
                          "issues": [i.as_dict() for i in outcome.issues]})
    elif isinstance(outcome, EDIFACTInterchangeOutcome):
        tree.open_interchange(outcome.header, _edifact_interchange(outcome.header))
        tree.close_interchange({"action": outcome.action,
                                "issues": [i.as_dict() for i in outcome.issues]}, loose=True)
    elif isinstance(outcome, X12InterchangeOutcome):
        tree.open_interchange(outcome.header, _x12_interchange(outcome.header))
        tree.close_interchange({"issues": [i.as_dict() for i in outcome.issues]}, loose=False)


def _where(outcome: object) -> dict[str, object]:
    """The ``source``-style location of an outcome's issues."""
    if isinstance(outcome, TransactionOutcome):
        tx = outcome.document
        return {"standard": "x12", "interchange_control": tx.group.interchange.control_number,
                "group_control": tx.group.control_number, "transaction_control":
                tx.control_number, "transaction_type": tx.set_id}
    if isinstance(outcome, X12GroupOutcome):
        gs = outcome.header
        return {"standard": "x12", "interchange_control": gs.interchange.control_number,
                "group_control": gs.control_number}
    if isinstance(outcome, X12InterchangeOutcome):
        return {"standard": "x12", "interchange_control": outcome.header.control_number}
    if isinstance(outcome, MessageOutcome):
        m = outcome.document
        return {"standard": "edifact", "interchange_control": m.interchange.control_reference,
                "group_control": m.group.control_reference if m.group is not None else None,
                "transaction_control": m.reference, "transaction_type": m.type}
    if isinstance(outcome, EDIFACTGroupOutcome):
        ung = outcome.header
        return {"standard": "edifact", "interchange_control": ung.interchange.control_reference,
                "group_control": ung.control_reference}
    assert isinstance(outcome, EDIFACTInterchangeOutcome)
    return {"standard": "edifact", "interchange_control": outcome.header.control_reference}


def write_jsonl(outcomes: Iterable[object], out: IO[str]) -> None:
    """Write one line per record and per issue of ``outcomes`` to ``out``, in input order."""
    for outcome in outcomes:
        issues: Sequence[Issue] = outcome.issues  # type: ignore[attr-defined]
        if issues:
            where = _fields({"source": _where(outcome)})
            for issue in issues:
                out.write('{"issue":' + _json(issue.as_dict()) + "," + where + "}\n")
        if isinstance(outcome, (TransactionOutcome, MessageOutcome)):
            text = _record(outcome)
            if text is not None:
                out.write(text)
                out.write("\n")
