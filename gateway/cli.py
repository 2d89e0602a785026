"""The ``edigate`` command line.

Responsible for turning command-line arguments into calls of the translators (and, in
later issues, of the gateway service) and for printing results: JSON for ``translate``,
located errors for ``validate``, EDI for ``ack``. Bad input gives one line on stderr and a
non-zero exit status, never a traceback.
It must not contain translation logic of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

from translators import (
    AckOptions,
    CONTRLOptions,
    GroupOutcome,
    InterchangeOutcome,
    TransactionOutcome,
    TranslatorError,
    build_acknowledgment,
    build_contrl,
    translate_edifact,
    translate_x12,
)
from translators.edifact.pipeline import (
    EDIFACTGroupOutcome,
    EDIFACTInterchangeOutcome,
    MessageOutcome,
)
from translators.edifact.reader import looks_like_edifact

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a C tool


class _CLIError(Exception):
    pass


def _control_number(text: str) -> str:
    # X12.5 ISA13: up to nine digits; reject here rather than deep inside the writer.
    if not (text.isdigit() and len(text) <= 9):
        raise argparse.ArgumentTypeError(f"must be 1-9 digits, got {text!r}")
    return text


def _open(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise _CLIError(f"cannot read {path}: {exc.strerror}") from exc


def _is_edifact(stream: BinaryIO) -> bool:
    """Detected from the content: UNA/UNB (after a BOM or white space) is EDIFACT; anything
    else goes to the X12 reader, whose error names the byte offset."""
    peek = getattr(stream, "peek", None)
    head = peek(64)[:64] if peek is not None else b""
    return looks_like_edifact(head)


def _outcomes(path: str) -> Iterator[Any]:
    # Whether the bytes are EDI at all is the reader's call: it names the byte offset.
    stream = _open(path)
    found = False
    try:
        translate = translate_edifact if _is_edifact(stream) else translate_x12
        for outcome in translate(stream):
            found = True
            yield outcome
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if not found:
        raise _CLIError(f"{path}: empty input: no X12 or EDIFACT interchange found")


def _issues(issues: Sequence[Any]) -> list[dict[str, object]]:
    return [i.as_dict() for i in issues]


def _translate(path: str) -> dict[str, object]:
    interchanges: list[dict[str, object]] = []
    pending: list[dict[str, object]] = []
    groups: list[dict[str, object]] = []
    records: list[object] = []
    for outcome in _outcomes(path):
        if isinstance(outcome, MessageOutcome):
            m = outcome.message
            record = outcome.record.model_dump(mode="json") if outcome.record else None
            if record is not None:
                records.append(record)
            pending.append({
                "type": m.type, "version": f"{m.version}{m.release}", "agency": m.agency,
                "reference": m.reference, "action": outcome.action,
                "definition": outcome.definition, "segments": len(m.segments),
                "offset": m.offset, "issues": _issues(outcome.issues),
                "record_index": len(records) - 1 if record is not None else None,
            })
        elif isinstance(outcome, EDIFACTGroupOutcome):
            groups.append({"reference": outcome.header.control_reference,
                           "action": outcome.action, "issues": _issues(outcome.issues),
                           "messages": pending})
            pending = []
        elif isinstance(outcome, EDIFACTInterchangeOutcome):
            unb = outcome.header
            interchanges.append({
                "standard": "edifact", "control_reference": unb.control_reference,
                "syntax": f"{unb.syntax_id}:{unb.syntax_version}",
                "sender": {"qualifier": unb.sender.qualifier, "id": unb.sender.id},
                "recipient": {"qualifier": unb.recipient.qualifier, "id": unb.recipient.id},
                "test": unb.test, "ack_requested": unb.ack_requested,
                "action": outcome.action, "issues": _issues(outcome.issues),
                "groups": groups, "messages": pending,
            })
            groups, pending = [], []
        elif isinstance(outcome, TransactionOutcome):
            tx = outcome.transaction
            record = outcome.record.model_dump(mode="json") if outcome.record else None
            if record is not None:
                records.append(record)
            pending.append(
                {
                    "set_id": tx.set_id,
                    "control_number": tx.control_number,
                    "status": outcome.status,
                    "schema": outcome.schema,
                    "segments": len(tx.segments),
                    "offset": tx.offset,
                    "issues": _issues(outcome.issues),
                    "record_index": len(records) - 1 if record is not None else None,
                }
            )
        elif isinstance(outcome, GroupOutcome):
            gs = outcome.header
            groups.append(
                {
                    "functional_id": gs.functional_id,
                    "control_number": gs.control_number,
                    "version": gs.version,
                    "sender": gs.sender,
                    "receiver": gs.receiver,
                    "status": outcome.status,
                    "issues": _issues(outcome.issues),
                    "transactions": pending,
                }
            )
            pending = []
        else:
            isa = outcome.header
            interchanges.append(
                {
                    "control_number": isa.control_number,
                    "version": isa.version,
                    "sender": {"qualifier": isa.sender_qualifier, "id": isa.sender_id},
                    "receiver": {"qualifier": isa.receiver_qualifier, "id": isa.receiver_id},
                    "test": isa.test,
                    "ack_requested": isa.ack_requested,
                    "offset": isa.offset,
                    "issues": _issues(outcome.issues),
                    "groups": groups,
                }
            )
            groups = []
    return {"interchanges": interchanges, "records": records}


def _validate(path: str) -> int:
    errors = 0
    warnings = 0
    out = sys.stdout
    for outcome in _outcomes(path):
        if isinstance(outcome, MessageOutcome):
            m = outcome.message
            where = f"{path}: {m.type} {m.reference}"
            issues = outcome.issues
        elif isinstance(outcome, EDIFACTGroupOutcome):
            where = f"{path}: group {outcome.header.control_reference}"
            issues = outcome.issues
        elif isinstance(outcome, EDIFACTInterchangeOutcome):
            where = f"{path}: interchange {outcome.header.control_reference}"
            issues = outcome.issues
        elif isinstance(outcome, TransactionOutcome):
            tx = outcome.transaction
            where = f"{path}: {tx.set_id} {tx.control_number} (group {tx.group.control_number})"
            issues = outcome.issues
        elif isinstance(outcome, GroupOutcome):
            where = f"{path}: group {outcome.header.control_number}"
            issues = outcome.issues
        else:
            where = f"{path}: interchange {outcome.header.control_number}"
            issues = outcome.issues
        for issue in issues:
            if issue.severity == "error":
                errors += 1
            else:
                warnings += 1
            out.write(
                f"{where}: {issue.severity} {issue.level} {issue.code}: "
                f"{issue.location}: {issue.message}\n"
            )
    out.write(f"{path}: {errors} error(s), {warnings} warning(s)\n")
    return EXIT_INVALID if errors else EXIT_OK


def _ack(path: str, kind: str, ta1: str, control_number: str) -> int:
    options = AckOptions(kind=kind, ta1=ta1, control_number=control_number)  # type: ignore[arg-type]
    wrote = False
    for outcome in _outcomes(path):
        ack: bytes | None = None
        if isinstance(outcome, InterchangeOutcome):
            ack = build_acknowledgment(outcome, options)
        elif isinstance(outcome, EDIFACTInterchangeOutcome):
            # EDIFACT: a CONTRL reporting every group and message (UCI/UCF/UCM/UCS/UCD).
            ack = build_contrl(outcome, CONTRLOptions(report="all",
                                                      control_reference=control_number,
                                                      message_reference=control_number))
        if ack is not None:
            sys.stdout.buffer.write(ack)
            wrote = True
    sys.stdout.flush()
    if not wrote:
        sys.stderr.write(f"{path}: nothing to acknowledge\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edigate", description="EDI translator and gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "translate", help="print the canonical records and validation results as JSON"
    )
    p.add_argument("file", help="EDI file, or - for standard input")
    p = sub.add_parser("validate", help="print located errors; exit 1 when there are any")
    p.add_argument("file")
    p = sub.add_parser("ack", help="print the 997/999 (and TA1) acknowledging an X12 file, "
                                   "or the CONTRL acknowledging an EDIFACT file")
    p.add_argument("file")
    p.add_argument("--kind", choices=["auto", "997", "999", "none"], default="auto",
                   help="X12 only; none writes at most a TA1")
    p.add_argument("--ta1", choices=["auto", "always", "never"], default="auto")
    p.add_argument(
        "--control-number",
        type=_control_number,
        default="1",
        help="ISA13 (X12) or UNB 0020 / UNH 0062 (CONTRL) of the acknowledgment",
    )
    from gateway import cli_service

    cli_service.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from gateway import cli_service

    if args.command in cli_service.SERVICE_COMMANDS:
        try:
            return cli_service.dispatch(args)
        except KeyboardInterrupt:
            return 130
    try:
        if args.command == "translate":
            json.dump(_translate(args.file), sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
            return EXIT_OK
        if args.command == "validate":
            return _validate(args.file)
        if args.command == "ack":
            return _ack(args.file, args.kind, args.ta1, args.control_number)
    except _CLIError as exc:
        sys.stderr.write(f"edigate: error: {exc}\n")
        return EXIT_UNREADABLE
    except TranslatorError as exc:
        sys.stderr.write(f"edigate: error: {args.file}: {exc}\n")
        return EXIT_UNREADABLE
    except BrokenPipeError:
        # The reader of our output went away (``edigate translate f | head``). Point stdout
        # at devnull so the interpreter's final flush does not raise again at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return 130
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
