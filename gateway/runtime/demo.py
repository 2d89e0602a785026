"""``edigate demo``: a gateway with demo partners, keys and a little traffic.

Migrates the SQLite database under ./var, issues demo API keys once (kept in
var/demo-keys.json so that reruns print the same ones), starts the server, posts sample
interchanges from the demo partners (addressed to this gateway, with fresh control
numbers), including one with an error and one duplicate, and prints what to open.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from gateway.api.api_keys import issue_key
from gateway.runtime.app import create_app
from gateway.runtime.settings import Settings
from gateway.runtime.state import GatewayState
from gateway.store.migrate import upgrade
from gateway.ui.auth import create_user
from translators.x12.reader import X12Reader
from translators.x12.segment import Delimiters
from translators.x12.writer import GroupSpec, InterchangeSpec, TransactionSpec, write_interchange

__all__ = ["demo_interchange", "run_demo"]

DATA = Path(__file__).resolve().parent / "demo_data"

# (file, partner id, ISA05, ISA06, X12 version of the interchange)
TRAFFIC = [
    ("acme-850.edi", "acme-retail", "ZZ", "ACMERETAIL", "00401"),
    ("acme-860.edi", "acme-retail", "ZZ", "ACMERETAIL", "00401"),
    ("globex-856.edi", "globex-distribution", "01", "123456789", "00501"),
    ("globex-810.edi", "globex-distribution", "01", "123456789", "00501"),
]


def demo_interchange(name: str, qualifier: str, sender: str, version: str,
                     settings: Settings, control: int, *, break_it: bool = False) -> bytes:
    """A sample re-addressed from ``sender`` to this gateway with control number ``control``."""
    segments = list(X12Reader((DATA / name).read_bytes()))
    gs = next(s for s in segments if s.tag == "GS")
    transactions: list[TransactionSpec] = []
    body: list[list[str]] = []
    st = None
    for seg in segments:
        if seg.tag == "ST":
            st, body = seg, []
        elif seg.tag == "SE" and st is not None:
            transactions.append(TransactionSpec(st[1], st[2], body, st[3] or None))
            st = None
        elif st is not None:
            fields = list(seg.fields)
            if break_it and fields[0] in ("BEG", "BSN", "BIG", "BCH"):
                fields[1] = "ZZZ"  # not a transaction set purpose code
            body.append(fields)
    now = datetime.now(UTC)
    header = InterchangeSpec(
        sender_id=sender, receiver_id=settings.x12_sender_id, sender_qualifier=qualifier,
        receiver_qualifier=settings.x12_qualifier, date=now.strftime("%y%m%d"),
        time=now.strftime("%H%M"), control_number=str(control), version=version, usage="T")
    group = GroupSpec(functional_id=gs[1], sender_code=sender, receiver_code=settings.x12_sender_id,
                      date=now.strftime("%Y%m%d"), time=now.strftime("%H%M"),
                      control_number=str(control % 1_000_000_000), version=gs[8],
                      transactions=transactions)
    rep = "^" if version >= "00402" else None
    return write_interchange(header, [group], Delimiters("*", ">", "~", rep), line_break=True)


def _keys(state: GatewayState) -> dict[str, str]:
    path = state.settings.var_dir / "demo-keys.json"
    keys: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted: dict[str, dict[str, str]] = {
        f"partner:{p}": {"kind": "partner", "partner_id": p}
        for p in ("acme-retail", "globex-distribution", "initech-eu")}
    wanted.update({"consumer:crm": {"kind": "consumer", "scope": "crm"},
                   "consumer:scm": {"kind": "consumer", "scope": "scm"},
                   "ops:operator": {"kind": "ops", "role": "operator"}})
    missing = {name: spec for name, spec in wanted.items() if name not in keys}
    if not missing and "ui:demo" in keys:
        return keys
    with state.db.transaction() as session:
        for name, spec in missing.items():
            kind = spec.pop("kind")
            keys[name] = issue_key(session, kind, label="demo", **spec)[0]  # type: ignore[arg-type]
        if "ui:demo" not in keys:
            # An operator for the ops UI; its password is kept beside the demo keys.
            keys["ui:demo"] = secrets.token_urlsafe(12)
            create_user(session, "demo", "operator", keys["ui:demo"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys, indent=2))
    path.chmod(0o600)
    return keys


def _post_traffic(base: str, keys: dict[str, str], settings: Settings) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    control = int(time.time()) % 900_000_000 + 1
    with httpx.Client(base_url=base, timeout=30) as client:
        sent: list[tuple[str, bytes]] = []
        for n, (name, partner, qualifier, sender, version) in enumerate(TRAFFIC):
            data = demo_interchange(name, qualifier, sender, version, settings, control + n,
                                    break_it=name == "acme-860.edi")
            sent.append((partner, data))
            response = client.post("/v1/messages", content=data, params={"sync": "true"},
                                   headers={"Authorization": f"Bearer {keys['partner:' + partner]}",
                                            "Content-Type": "application/edi-x12"})
            results.append({"file": name, "http": response.status_code, **response.json()})
        # An EDIFACT ORDERS from Initech takes the same path (CONTRL only on errors).
        orders = (DATA / "initech-orders.edi").read_bytes().replace(
            b"IO0001", f"IO{control}".encode())
        response = client.post("/v1/messages", content=orders, params={"sync": "true"},
                               headers={"Authorization": f"Bearer {keys['partner:initech-eu']}",
                                        "Content-Type": "application/edifact"})
        results.append({"file": "initech-orders.edi", "http": response.status_code,
                        **response.json()})
        partner, data = sent[0]
        response = client.post("/v1/messages", content=data,
                               headers={"Authorization": f"Bearer {keys['partner:' + partner]}"})
        results.append({"file": "acme-850.edi (again)", "http": response.status_code,
                        **response.json()})
    return results


def run_demo(*, host: str, port: int, serve: bool) -> int:
    settings = Settings.from_env()
    upgrade(settings.database_url)
    state = GatewayState.build(settings)
    keys = _keys(state)
    app = create_app(settings, state=state)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    base = f"http://{host}:{port}"
    for result in _post_traffic(base, keys, settings):
        note = f" (duplicate of {result['message_id']})" if result.get("duplicate") else ""
        print(f"posted {result['file']:<22} HTTP {result['http']} {result.get('status')}{note}")
    print(f"\nedigate is running at {base}  (OpenAPI: {base}/docs)")
    print(f"  message log:   curl -H 'Authorization: Bearer {keys['ops:operator']}' "
          f"{base}/v1/messages")
    print(f"  records (CRM): curl -H 'Authorization: Bearer {keys['consumer:crm']}' "
          f"{base}/v1/records")
    print(f"  records (SCM): curl -H 'Authorization: Bearer {keys['consumer:scm']}' "
          f"{base}/v1/records")
    print(f"  ledger:        curl -H 'Authorization: Bearer {keys['ops:operator']}' "
          f"{base}/v1/ledger/verify")
    print(f"  post EDI as acme-retail: curl -H 'Authorization: Bearer "
          f"{keys['partner:acme-retail']}' --data-binary @po.edi {base}/v1/messages")
    print(f"  ops UI:        {base}/ui  (user demo, password {keys['ui:demo']})")
    print(f"demo keys are kept in {settings.var_dir / 'demo-keys.json'}")
    if not serve:
        server.should_exit = True
        thread.join(timeout=30)
        return 0
    try:
        while thread.is_alive():
            thread.join(timeout=1)
    except KeyboardInterrupt:
        server.should_exit = True
        thread.join(timeout=30)
    return 0
