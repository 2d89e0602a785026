"""CLI commands that load the partner profiles report a bad file as located errors (file,
key path or line, what is wrong) on stderr with exit status 2: no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gateway.runtime.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_partners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "partners"
    folder.mkdir()
    shutil.copy(REPO / "partners" / "acme-retail.toml", folder)
    shutil.copytree(REPO / "partners" / "guides", folder / "guides")
    (folder / "bad-syntax.toml").write_text('id = "bad"\nname = \n')
    (folder / "bad-value.toml").write_text(
        'id = "worse"\nname = "W"\ntransactions = ["850"]\n'
        '[x12]\nqualifier = "ZZ"\nid = "WORSE"\nack = "9999"\n')
    monkeypatch.setenv("EDIGATE_PARTNERS_DIR", str(folder))
    monkeypatch.setenv("EDIGATE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("EDIGATE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("EDIGATE_LEDGER_KEY_PATH", str(tmp_path / "var" / "ledger.pem"))
    return folder


@pytest.mark.parametrize("argv", [["partners", "list"], ["certs", "list"], ["worker"],
                                  ["ledger", "verify"]])
def test_bad_partner_files_are_located_errors(broken_partners: Path, argv: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("edigate: error: 2 problems in partner profiles:"), err
    assert f"{broken_partners / 'bad-syntax.toml'}: is not valid TOML: " in err
    assert "(at line 2, column 8)" in err
    assert f"{broken_partners / 'bad-value.toml'}: x12.ack: must be one of" in err
    assert "Traceback" not in err
