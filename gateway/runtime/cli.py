"""The ``edigate`` command line.

Responsible for turning command-line arguments into calls of the translators (and, in
later issues, of the gateway service) and for printing results: JSON for ``translate``,
located errors for ``validate``, EDI for ``ack``. Bad input gives one line on stderr and a
non-zero exit status, never a traceback.
It must not contain translation logic of its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

from gateway.runtime import cli_translate
from partners import PartnerConfigError
from translators import (
    AckOptions,
    CONTRLOptions,
    TranslatorError,
    build_acknowledgment,
    build_contrl,
    translate_edifact,
    translate_x12,
)
from translators.detect import HEAD_BYTES, detect_standard
from translators.edifact.pipeline import (
    EDIFACTGroupOutcome,
    EDIFACTInterchangeOutcome,
    MessageOutcome,
)
from translators.x12.pipeline import TransactionOutcome, X12GroupOutcome, X12InterchangeOutcome
from translators.x12.reader import X12Reader

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
    """Detected from the content (``translators.detect``); anything that is not EDIFACT
    goes to the X12 reader, whose error names the byte offset."""
    peek = getattr(stream, "peek", None)
    head = peek(HEAD_BYTES)[:HEAD_BYTES] if peek is not None else b""
    return detect_standard(head) == "edifact"


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


def _validate(path: str) -> int:
    errors = 0
    warnings = 0
    out = sys.stdout
    for outcome in _outcomes(path):
        if isinstance(outcome, MessageOutcome):
            m = outcome.document
            where = f"{path}: {m.type} {m.reference}"
            issues = outcome.issues
        elif isinstance(outcome, EDIFACTGroupOutcome):
            where = f"{path}: group {outcome.header.control_reference}"
            issues = outcome.issues
        elif isinstance(outcome, EDIFACTInterchangeOutcome):
            where = f"{path}: interchange {outcome.header.control_reference}"
            issues = outcome.issues
        elif isinstance(outcome, TransactionOutcome):
            tx = outcome.document
            where = f"{path}: {tx.set_id} {tx.control_number} (group {tx.group.control_number})"
            issues = outcome.issues
        elif isinstance(outcome, X12GroupOutcome):
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


def _next_control(number: int, step: int) -> int:
    """``number`` advanced by ``step``, wrapping after 999999999 (ISA13 and UNB 0020 have
    nine digits at most; X12.5, ISO 9735) back to 1."""
    return (number - 1 + step) % 999_999_999 + 1


def _ack(path: str, kind: str, ta1: str, control_number: str) -> int:
    # One acknowledgment per interchange read. Each gets its own ISA13 (UNB 0020), and
    # group (GS06) and set (ST02, UNH 0062) numbers continue from the previous one's:
    # a receiver reading the whole output rejects duplicates (X12.5 ISA13 is unique per
    # sender; pyx12 reports error 025).
    interchange = int(control_number)
    group = 1
    transaction = 1
    wrote = False
    for outcome in _outcomes(path):
        ack: bytes | None = None
        if isinstance(outcome, X12InterchangeOutcome):
            options = AckOptions(kind=kind, ta1=ta1,  # type: ignore[arg-type]
                                 control_number=str(interchange), group_control=group,
                                 transaction_control=transaction)
            ack = build_acknowledgment(outcome, options)
            if ack is not None:
                tags = [s.tag for s in X12Reader(ack)]
                group = _next_control(group, tags.count("GS"))
                transaction = _next_control(transaction, tags.count("ST"))
        elif isinstance(outcome, EDIFACTInterchangeOutcome):
            # EDIFACT: a CONTRL reporting every group and message (UCI/UCF/UCM/UCS/UCD).
            ack = build_contrl(outcome, CONTRLOptions(report="all",
                                                      control_reference=str(interchange),
                                                      message_reference=str(interchange)))
        if ack is not None:
            sys.stdout.buffer.write(ack)
            wrote = True
            interchange = _next_control(interchange, 1)
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
    p.add_argument("--jsonl", action="store_true",
                   help="JSON Lines: one record or one issue per line, as they come")
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
    p = sub.add_parser("coverage", help="count, per transaction type, the values the records "
                                        "map and the values they carry as unmapped")
    p.add_argument("paths", nargs="+", metavar="PATH", help="EDI files or folders")
    p.add_argument("--json", action="store_true", help="the counts as JSON")
    from gateway.runtime import cli_service

    cli_service.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from gateway.runtime import cli_service

    if args.command in cli_service.SERVICE_COMMANDS:
        from gateway.delivery.brokers import BrokerConfigError

        try:
            return cli_service.dispatch(args)
        except (PartnerConfigError, BrokerConfigError) as exc:
            # Every problem, each located (file, key path; line for TOML syntax; the
            # broker setting's variable).
            sys.stderr.write(f"edigate: error: {exc}\n")
            return EXIT_UNREADABLE
        except KeyboardInterrupt:
            return 130
    try:
        if args.command == "translate":
            write = cli_translate.write_jsonl if args.jsonl else cli_translate.write_document
            write(_outcomes(args.file), sys.stdout)
            sys.stdout.flush()
            return EXIT_OK
        if args.command == "validate":
            return _validate(args.file)
        if args.command == "ack":
            return _ack(args.file, args.kind, args.ta1, args.control_number)
        if args.command == "coverage":
            from gateway.runtime import cli_coverage

            counted = cli_coverage.write_report(args.paths, sys.stdout, as_json=args.json)
            return EXIT_OK if counted else EXIT_UNREADABLE
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
