"""The README's first screen, run as a newcomer would: ``edigate demo --serve`` (what
``make run`` runs) from the repository folder, then every ``export`` and ``curl`` line it
prints, pasted into a shell unchanged. The README shows the same commands: the test fails
when the two drift apart, and when a printed command does not answer what it says.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("curl") is None or shutil.which("bash") is None,
                       reason="needs curl and bash to run the printed commands"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Demo:
    env: dict[str, str]
    database: str
    output: list[str]
    curl_home: Path

    def exports(self) -> list[str]:
        return [line for line in self.output if line.startswith("export ")]

    def curls(self) -> list[str]:
        return [line for line in self.output if line.startswith("curl ")]

    def paste(self, command: str) -> tuple[int, Any]:
        """Run ``command`` after the printed exports in bash, in the repository folder;
        curl's status code comes from a .curlrc, so the command runs as printed."""
        script = "\n".join([*self.exports(), command])
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE")}
        env["CURL_HOME"] = str(self.curl_home)
        done = subprocess.run(["bash", "-c", script], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, (command, done.stderr)
        body, _, status = done.stdout.rstrip("\n").rpartition("\n")
        return int(status), json.loads(body)

    def messages(self) -> int:
        engine = create_engine(self.database)
        try:
            with engine.connect() as conn:
                return int(conn.execute(text("SELECT count(*) FROM messages")).scalar_one())
        finally:
            engine.dispose()


def _demo_env(tmp_path: Path) -> tuple[dict[str, str], str]:
    var = tmp_path / "var"
    database = f"sqlite:///{tmp_path / 'demo.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDIGATE_")}
    env.update({"EDIGATE_DATABASE_URL": database, "EDIGATE_VAR_DIR": str(var),
                "EDIGATE_LEDGER_KEY_PATH": str(var / "ledger.pem"),
                "EDIGATE_AS2_KEY": str(var / "as2" / "key.pem"),
                "EDIGATE_AS2_CERT": str(var / "as2" / "cert.pem"),
                "EDIGATE_READYZ_MIN_FREE_BYTES": "0"})
    return env, database


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    env, database = _demo_env(tmp_path)
    curl_home = tmp_path / "curl"
    curl_home.mkdir()
    (curl_home / ".curlrc").write_text('silent\nshow-error\nwrite-out = "\\n%{http_code}\\n"\n')
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-P", "-m", "gateway.runtime.cli", "demo", "--serve",
                             "--port", str(port)], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            if "ops UI:" in line:
                break
            assert time.monotonic() < deadline, "\n".join(output)
        assert any("ops UI:" in line for line in output), "\n".join(output)
        yield Demo(env, database, output, curl_home)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _readme_commands() -> tuple[list[str], list[str]]:
    """The curl lines and the exported names of the README's quick start (joined where
    a line ends with a backslash)."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Using the gateway")[0]
    joined = re.sub(r"\\\n\s*", "", section)
    curls = [line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")]
    names = re.findall(r"^export (\w+)=", joined, flags=re.MULTILINE)
    return curls, names


def test_what_the_demo_prints_works_as_printed(demo: Demo) -> None:
    """Each printed curl line, after the printed exports, answers what its comment says:
    850 and ORDERS processed, 860 rejected naming BCH01, a repost a duplicate, two purchase
    orders in the CRM feed, the 860 alone among rejected messages, the ledger verified,
    the AS2 send queued, records sent as an 855 and the order they make; the README's
    first-screen curl lines are among them."""
    curls = demo.curls()
    exported = [line.split("=", 1)[0].removeprefix("export ") for line in demo.exports()]
    assert exported == ["EDIGATE", "PARTNER_KEY", "INITECH_KEY", "CRM_KEY", "SENDER_KEY",
                        "OPS_KEY"]
    readme_curls, readme_names = _readme_commands()
    assert readme_curls and set(readme_curls) <= set(curls), (readme_curls, curls)
    assert set(readme_names) <= set(exported)

    def posting(sample: str) -> str:
        return next(c for c in curls if f"@samples/{sample} " in c and "/v1/messages" in c)

    status, answer = demo.paste(posting("acme-850.x12"))
    assert (status, answer["status"], answer["duplicate"]) == (200, "PROCESSED", False), answer
    status, rejected = demo.paste(posting("acme-860-rejected.x12"))
    assert (status, rejected["status"]) == (200, "REJECTED"), rejected
    assert "BCH01" in json.dumps(rejected), rejected
    status, answer = demo.paste(posting("initech-orders.edifact"))
    assert (status, answer["status"]) == (200, "PROCESSED"), answer
    status, again = demo.paste(posting("acme-850.x12"))
    assert (status, again["duplicate"]) == (200, True), again

    status, records = demo.paste(next(c for c in curls if "/v1/records" in c))
    assert status == 200
    kinds = [r["kind"] for r in records["items"]]
    assert kinds.count("purchase_order") == 2, kinds  # the 850 and the ORDERS
    status, listed = demo.paste(next(c for c in curls if "status=rejected" in c))
    assert status == 200
    assert [m["id"] for m in listed["items"]] == [rejected["message_id"]], listed
    status, verified = demo.paste(next(c for c in curls if "/v1/ledger/verify" in c))
    assert status == 200 and verified["ok"] is True, verified
    status, transfer = demo.paste(next(c for c in curls if "/as2" in c))
    assert status == 202 and transfer["partner_id"] == "acme-retail", transfer
    status, sent = demo.paste(next(c for c in curls if "/v1/documents" in c))
    assert status == 202 and sent["status"] == "GENERATED", sent
    assert [d["document_type"] for d in sent["documents"]] == ["855"], sent
    status, story = demo.paste(next(c for c in curls if "/v1/orders/" in c))
    assert status == 200 and story["status"] == "acknowledged", story
    assert [d["kind"] for d in story["documents"]] == ["purchase_order", "order_response"]


def test_rerunning_the_demo_stores_nothing_new(tmp_path: Path) -> None:
    """A second run posts the same samples: answered as duplicates, no new message rows,
    the same keys printed."""
    env, database = _demo_env(tmp_path)

    def run() -> list[str]:
        done = subprocess.run([sys.executable, "-P", "-m", "gateway.runtime.cli", "demo", "--port",
                               str(_free_port())], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.splitlines()

    first = run()
    count = Demo(env, database, first, tmp_path).messages()
    second = run()
    assert count == 2
    assert Demo(env, database, second, tmp_path).messages() == count
    posted = [line for line in second if line.startswith("posted ")]
    assert len(posted) == 2 and all("already stored" in line for line in posted), second
    def keys(lines: list[str]) -> list[str]:
        return [x for x in lines if x.startswith("export ") and "_KEY=" in x]

    assert len(keys(first)) == 5 and keys(first) == keys(second)


def test_make_run_takes_the_port() -> None:
    """``make run PORT=...`` serves the demo on that port (a dry run of make)."""
    if shutil.which("make") is None:
        pytest.skip("no make")
    done = subprocess.run(["make", "-n", "run", "PORT=8123"], cwd=REPO, capture_output=True,
                          text=True, timeout=30, check=True)
    assert "demo --serve --host 127.0.0.1 --port 8123" in done.stdout, done.stdout
