"""The ``edigate`` command line: translate, validate and ack, in-process and as a real process.

These pin what a user at a shell sees: JSON with decimal strings, located validation
errors, acknowledgments that read back and that pyx12 accepts, and one clean error line
(exit status 2, no traceback) for anything that is not X12.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.runtime.cli import EXIT_INVALID, EXIT_OK, EXIT_UNREADABLE, main
from translators.x12.reader import X12Reader

REPO = Path(__file__).resolve().parents[2]
VALID = REPO / "tests" / "data" / "x12" / "valid"
PO_4010 = VALID / "850.4010.edi"
PO_5010 = VALID / "850.5010.edi"
INVOICE_4010 = VALID / "810.4010.edi"

EDIFACT = (
    b"UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER+240101:1200+1'"
    b"UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'UNT+3+1'UNZ+1+1'"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main`` in-process and return (exit status, stdout, stderr)."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def floats_in(node: object) -> list[object]:
    """Every float anywhere in a parsed JSON document."""
    if isinstance(node, float):
        return [node]
    if isinstance(node, dict):
        return [f for v in node.values() for f in floats_in(v)]
    if isinstance(node, list):
        return [f for v in node for f in floats_in(v)]
    return []


def with_bad_beg01(tmp_path: Path) -> Path:
    """The 004010 850 sample with BEG01 (353) set to a code that is not in the list."""
    data = PO_4010.read_bytes()
    assert b"BEG*00*SA*" in data
    path = tmp_path / "bad-beg01.edi"
    path.write_bytes(data.replace(b"BEG*00*SA*", b"BEG*XX*SA*", 1))
    return path


# -- translate -----------------------------------------------------------------------------


@pytest.mark.parametrize("sample", [PO_4010, INVOICE_4010], ids=lambda p: p.name)
def test_translate_prints_interchanges_and_records(
    capsys: pytest.CaptureFixture[str], sample: Path
) -> None:
    """``translate`` prints one JSON document with the envelope tree and the canonical records."""
    status, out, err = run(capsys, "translate", str(sample))
    assert (status, err) == (EXIT_OK, "")
    doc = json.loads(out)
    assert set(doc) == {"interchanges", "records"}
    [interchange] = doc["interchanges"]
    [group] = interchange["groups"]
    [tx] = group["transactions"]
    assert tx["status"] == "A" and tx["issues"] == [] and tx["record_index"] == 0
    assert len(doc["records"]) == 1


def test_translate_writes_decimals_as_strings(capsys: pytest.CaptureFixture[str]) -> None:
    """Quantities and prices come out as JSON strings exactly as sent, and no float appears."""
    _, out, _ = run(capsys, "translate", str(PO_4010))
    doc = json.loads(out)
    assert floats_in(doc) == []
    line = doc["records"][0]["lines"][0]
    assert line["quantity"] == "120"
    assert line["unit_price"] == "4.25"
    assert Decimal(line["unit_price"]) * Decimal(line["quantity"]) == Decimal("510.00")


def test_translate_invoice_totals_are_decimal_strings(capsys: pytest.CaptureFixture[str]) -> None:
    """An 810's TDS total (implied two decimals) prints as the string "2157.00", not a number."""
    _, out, _ = run(capsys, "translate", str(INVOICE_4010))
    doc = json.loads(out)
    assert floats_in(doc) == []
    assert doc["records"][0]["kind"] == "invoice"
    assert doc["records"][0]["totals"]["amount"] == "2157.00"


def test_translate_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``translate -`` reads the document from standard input."""
    stdin = io.TextIOWrapper(io.BufferedReader(io.BytesIO(PO_4010.read_bytes())))
    monkeypatch.setattr(sys, "stdin", stdin)
    status, out, err = run(capsys, "translate", "-")
    assert (status, err) == (EXIT_OK, "")
    assert json.loads(out)["records"][0]["po_number"] == "PO-4471200"


def test_translate_jsonl_writes_records_and_located_issues(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--jsonl`` writes each record as the gateway stores it (``record_json``) and each
    issue on its own line with the record-style ``source`` that locates it."""
    from translators import translate_x12
    from translators.record_data import record_json

    path = with_bad_beg01(tmp_path)
    status, out, err = run(capsys, "translate", "--jsonl", str(path))
    assert (status, err) == (EXIT_OK, "")
    lines = out.splitlines()
    expected = [record_json(o.data) for o in translate_x12(path.read_bytes())
                if getattr(o, "data", None) is not None]
    assert [line for line in lines if not line.startswith('{"issue":')] == expected
    issues = [json.loads(line) for line in lines if line.startswith('{"issue":')]
    assert issues and all(set(i) == {"issue", "source"} for i in issues)
    beg = next(i for i in issues if i["issue"].get("segment_tag") == "BEG")
    assert beg["issue"]["bad_value"] == "XX"
    assert beg["source"] == {"standard": "x12", "interchange_control": "000004711",
                             "group_control": "4711", "transaction_control": "0001",
                             "transaction_type": "850"}


# -- validate ------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", sorted(VALID.glob("*.edi")), ids=lambda p: p.name)
def test_validate_valid_sample_exits_0(capsys: pytest.CaptureFixture[str], sample: Path) -> None:
    """``validate`` exits 0 and reports no errors for every valid sample."""
    status, out, err = run(capsys, "validate", str(sample))
    assert (status, err) == (EXIT_OK, "")
    assert out.endswith(": 0 error(s), 0 warning(s)\n")


def test_validate_reports_located_bad_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A bad BEG01 code exits 1 naming BEG01, its segment position in the set and byte offset."""
    path = with_bad_beg01(tmp_path)
    offset = path.read_bytes().index(b"BEG*XX")
    status, out, err = run(capsys, "validate", str(path))
    assert (status, err) == (EXIT_INVALID, "")
    [line] = [x for x in out.splitlines() if "BEG01" in x]
    assert f"BEG01 (segment 2, byte {offset})" in line
    assert "'XX'" in line and " 7: " in line  # AK403/IK403 code 7: invalid code value
    assert out.splitlines()[-1].endswith(": 1 error(s), 0 warning(s)")


# -- ack -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "set_id", "isa12"),
    [(PO_4010, "997", "00401"), (PO_5010, "999", "00501")],
    ids=["004010-997", "005010-999"],
)
def test_ack_prints_an_acknowledgment_that_reads_back(
    capsys: pytest.CaptureFixture[str],
    pyx12_errors: Callable[[bytes], list[str]],
    sample: Path,
    set_id: str,
    isa12: str,
) -> None:
    """``ack`` prints a 997 for 004010 and a 999 for 005010; X12Reader and pyx12 accept it."""
    status, out, err = run(capsys, "ack", str(sample))
    assert (status, err) == (EXIT_OK, "")
    ack = out.encode()
    segments = list(X12Reader(ack))
    assert segments[0].tag == "ISA" and segments[0][12] == isa12
    assert [s[1] for s in segments if s.tag == "ST"] == [set_id]
    assert [s.fields for s in segments if s.tag == "AK9"] == [["AK9", "A", "1", "1", "1"]]
    assert pyx12_errors(ack) == []


def test_ack_rejects_bad_code_with_ak4(
    capsys: pytest.CaptureFixture[str],
    pyx12_errors: Callable[[bytes], list[str]],
    tmp_path: Path,
) -> None:
    """``ack`` of a document with a bad BEG01 prints a 997 rejecting it with AK4*1*353*7."""
    status, out, _ = run(capsys, "ack", str(with_bad_beg01(tmp_path)))
    assert status == EXIT_OK
    segments = [s.fields for s in X12Reader(out.encode())]
    assert ["AK4", "1", "353", "7", "XX"] in segments
    assert ["AK9", "R", "1", "1", "0"] in segments
    assert pyx12_errors(out.encode()) == []


TWO_INTERCHANGES = REPO / "tests" / "data" / "x12" / "multi" / "850.4010.two-interchanges.edi"


def control_numbers(ack: bytes) -> dict[str, list[str]]:
    """ISA13, GS06, ST02 and TA101 of every interchange, group, set and TA1 in ``ack``."""
    spots = {"ISA": 13, "GS": 6, "ST": 2, "TA1": 1}
    found: dict[str, list[str]] = {tag: [] for tag in spots}
    for segment in X12Reader(ack):
        if segment.tag in spots:
            found[segment.tag].append(segment.fields[spots[segment.tag]])
    return found


def test_ack_of_two_interchanges_numbers_each_acknowledgment(
    capsys: pytest.CaptureFixture[str], pyx12_errors: Callable[[bytes], list[str]]
) -> None:
    """``ack`` of a file with two interchanges writes two acknowledgments whose ISA13, GS06
    and ST02 are all distinct, counting up from ``--control-number``, and pyx12 accepts them."""
    status, out, _ = run(capsys, "ack", "--control-number", "41", str(TWO_INTERCHANGES))
    assert status == EXIT_OK
    numbers = control_numbers(out.encode())
    assert numbers["ISA"] == ["000000041", "000000042"]
    assert numbers["GS"] == ["1", "2"]
    assert numbers["ST"] == ["0001", "0002"]
    segments = [s.fields for s in X12Reader(out.encode())]
    assert [f[2] for f in segments if f[0] == "AK1"] == ["101", "102"]
    assert pyx12_errors(out.encode()) == []


def test_ack_of_two_interchanges_gives_each_ta1_its_own_interchange_number(
    capsys: pytest.CaptureFixture[str], pyx12_errors: Callable[[bytes], list[str]]
) -> None:
    """With TA1s, each acknowledgment interchange has its own ISA13 and its TA1 names the
    interchange it answers; pyx12 finds no duplicate interchange control number (025).

    Only 025 is asserted on: pyx12 also reports "GS_LOOP missing" for any second
    interchange that starts with a TA1 before its GS, numbers distinct or not."""
    status, out, _ = run(capsys, "ack", "--ta1", "always", str(TWO_INTERCHANGES))
    assert status == EXIT_OK
    numbers = control_numbers(out.encode())
    assert numbers["ISA"] == ["000000001", "000000002"]
    assert numbers["TA1"] == ["000000101", "000000102"]
    assert len(set(numbers["GS"])) == 2 and len(set(numbers["ST"])) == 2
    assert [e for e in pyx12_errors(out.encode()) if '"025"' in e] == []
    status, out, _ = run(capsys, "ack", "--kind", "none", "--ta1", "always",
                         "--control-number", "999999999", str(TWO_INTERCHANGES))
    numbers = control_numbers(out.encode())
    assert numbers["ISA"] == ["999999999", "000000001"]
    assert numbers["GS"] == [] and numbers["TA1"] == ["000000101", "000000102"]


def test_contrl_of_two_interchanges_numbers_each_acknowledgment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``ack`` of two EDIFACT interchanges writes two CONTRLs with distinct UNB 0020 and
    UNH 0062 references."""
    path = tmp_path / "two.edi"
    path.write_bytes(EDIFACT + EDIFACT.replace(b"+1'UNH", b"+2'UNH").replace(b"UNZ+1+1'",
                                                                            b"UNZ+1+2'"))
    status, out, _ = run(capsys, "ack", "--control-number", "7", str(path))
    assert status == EXIT_OK
    assert out.count("UNB+") == 2
    assert "UNH+7+CONTRL" in out and "UNZ+1+7'" in out
    assert "UNH+8+CONTRL" in out and "UNZ+1+8'" in out


def test_ack_control_number_must_be_digits(capsys: pytest.CaptureFixture[str]) -> None:
    """A non-numeric ``--control-number`` is a usage error (exit 2), not a traceback."""
    with pytest.raises(SystemExit) as exc:
        main(["ack", "--control-number", "ABC", str(PO_4010)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--control-number" in err and "Traceback" not in err


# -- bad input -----------------------------------------------------------------------------


def assert_one_error_line(status: int, out: str, err: str) -> str:
    """Exit 2, nothing on stdout, exactly one ``edigate: error:`` line on stderr."""
    assert status == EXIT_UNREADABLE, (status, out, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and err.endswith("\n"), err
    assert lines[0].startswith("edigate: error: ")
    return lines[0]


GARBAGE = {
    "random": bytes(range(7, 250, 3)) * 3,
    "empty": b"",
    "blank": b"\r\n  \r\n",
    "isa-only-prefix": b"ISA*00*",
}


@pytest.mark.parametrize("command", ["translate", "validate", "ack"])
@pytest.mark.parametrize("name", list(GARBAGE))
def test_garbage_file_gives_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, name: str
) -> None:
    """Random bytes, empty or truncated input: one error line (with offset), exit 2."""
    path = tmp_path / f"{name}.edi"
    path.write_bytes(GARBAGE[name])
    line = assert_one_error_line(*run(capsys, command, str(path)))
    assert str(path) in line
    if GARBAGE[name].strip():
        assert "byte offset 0" in line
    else:
        assert "empty" in line


def test_garbage_after_a_valid_interchange_names_its_offset(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Junk after a complete interchange is an error at the junk's byte offset; ``translate``
    streams, so the record already read is on stdout, in a document left unterminated so
    that no JSON reader takes it for a complete result."""
    good = PO_4010.read_bytes()
    path = tmp_path / "trailing.edi"
    path.write_bytes(good + b"HELLO WORLD")
    status, out, err = run(capsys, "translate", str(path))
    line = assert_one_error_line(status, "", err)
    assert f"byte offset {len(good)}" in line
    assert '"po_number":"PO-4471200"' in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)
    line = assert_one_error_line(*run(capsys, "validate", str(path)))
    assert f"byte offset {len(good)}" in line


def test_missing_file_gives_one_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A file that does not exist is reported by name with exit 2."""
    missing = tmp_path / "nope.edi"
    line = assert_one_error_line(*run(capsys, "validate", str(missing)))
    assert str(missing) in line


def test_garbage_on_stdin_gives_one_error_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Garbage piped to ``translate -`` is one error line naming ``-`` and byte offset 0,
    while EDIFACT piped the same way is detected and translated."""
    garbage = GARBAGE["random"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(garbage))))
    line = assert_one_error_line(*run(capsys, "translate", "-"))
    assert "-: " in line and "byte offset 0" in line
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(EDIFACT))))
    status, out, _ = run(capsys, "translate", "-")
    assert status == 0 and json.loads(out)["interchanges"][0]["standard"] == "edifact"


# -- a real process ------------------------------------------------------------------------


def edigate(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m gateway.runtime.cli`` as a child process."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "gateway.runtime.cli", *argv],
        input=stdin,
        capture_output=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )


def test_subprocess_translate_and_garbage_on_stdin() -> None:
    """As a process, ``translate -`` prints JSON for X12 and one error line (exit 2) for garbage."""
    done = edigate("translate", "-", stdin=PO_5010.read_bytes())
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    assert json.loads(done.stdout)["records"][0]["lines"][0]["unit_price"] == "4.25"

    bad = edigate("translate", "-", stdin=b"\x00\xff\xfe garbage \x1b[31m")
    assert bad.returncode == 2
    assert bad.stdout == b""
    assert b"Traceback" not in bad.stderr
    assert bad.stderr.count(b"\n") == 1 and bad.stderr.startswith(b"edigate: error: -: ")


def test_subprocess_survives_a_closed_pipe() -> None:
    """A reader that stops early (``edigate translate f | head -1``) causes no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.runtime.cli", "translate", str(PO_4010)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the child writes: its first write hits a closed pipe
    err = proc.stderr.read()
    proc.stderr.close()
    status = proc.wait(timeout=60)
    assert b"Traceback" not in err, err.decode()
    assert status != 0


def test_edifact_is_detected_translated_validated_and_acknowledged(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The same three commands take EDIFACT, detected from the content: translate gives
    the purchase_order record, validate exits 1 on a bad UNT count, ack prints a CONTRL."""
    orders = REPO / "gateway" / "runtime" / "demo_data" / "initech-orders.edi"
    status, out, _ = run(capsys, "translate", str(orders))
    assert status == 0
    result = json.loads(out)
    assert result["interchanges"][0]["standard"] == "edifact"
    assert [r["kind"] for r in result["records"]] == ["purchase_order"]
    assert result["records"][0]["po_number"] == "PO-IE-1001"
    broken = tmp_path / "broken.edi"
    broken.write_bytes(orders.read_bytes().replace(b"UNT+22+1'", b"UNT+21+1'"))
    status, out, _ = run(capsys, "validate", str(broken))
    assert status == 1 and " error transaction 29: " in out
    status, out, _ = run(capsys, "ack", "--control-number", "42", str(broken))
    assert status == 0
    assert "UNH+42+CONTRL:D:3:UN'" in out and "UCM+1+ORDERS:D:96A:UN:EAN008+4" in out
