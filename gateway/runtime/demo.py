"""``edigate demo``: a gateway with demo partners, keys and a little traffic, and the
commands a newcomer pastes next.

Migrates the SQLite database under ./var, issues demo API keys and an ops UI login once
(kept in var/demo-keys.json so that reruns print the same ones), gives the gateway an AS2
identity (``EDIGATE`` unless EDIGATE_AS2_ID says otherwise; key and certificate created
under var/as2 once), starts the server, posts the demo partners' background traffic
(``samples/globex-*.x12``), then prints ``export`` lines for the keys and ``curl``
commands that post the other samples (an accepted X12 850, an 860 rejected on purpose, an
EDIFACT ORDERS) and read the records, the rejected messages and the ledger. The samples
have fixed control numbers, so a rerun is answered "duplicate" and stores nothing: it
does not pile up traffic. ``tests/gateway/test_first_hour.py`` runs what this prints.

``demo_interchange`` re-addresses the older demo data to a gateway with fresh control
numbers (the tests use it).
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from gateway.api.api_keys import issue_key
from gateway.as2.keys import generate_identity
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
# Posted by the demo itself (the ops UI's traffic); the other samples are the reader's.
BACKGROUND = ("globex-856.x12", "globex-810.x12")


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
    wanted: dict[str, dict[str, Any]] = {
        f"partner:{p}": {"kind": "partner", "partner_id": p}
        for p in ("acme-retail", "globex-distribution", "initech-eu")}
    wanted.update({"consumer:crm": {"kind": "consumer", "scope": "crm"},
                   "consumer:scm": {"kind": "consumer", "scope": "scm"},
                   "consumer:erp": {"kind": "consumer", "scope": "scm", "can_send": True},
                   "ops:operator": {"kind": "ops", "role": "operator"}})
    missing = {name: spec for name, spec in wanted.items() if name not in keys}
    if not missing and "ui:demo" in keys:
        return keys
    with state.db.transaction() as session:
        for name, spec in missing.items():
            kind = spec.pop("kind")
            keys[name] = issue_key(session, kind, label="demo", **spec)[0]
        if "ui:demo" not in keys:
            # An operator for the ops UI; its password is kept beside the demo keys.
            keys["ui:demo"] = secrets.token_urlsafe(12)
            create_user(session, "demo", "operator", keys["ui:demo"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(keys, indent=2))
    path.chmod(0o600)
    return keys


def _samples() -> Path | None:
    """The repository's ``samples/`` folder (a clone; an installed wheel has none)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "samples" / "README.md").is_file():
            return parent / "samples"
    return None


def _shown(path: Path) -> str:
    """``path`` as the reader types it: relative to the working directory when under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _as2_settings(settings: Settings) -> Settings:
    """The settings with an AS2 identity: the demo's ``EDIGATE`` unless one is set, its key
    and certificate generated once where the settings say (var/as2 by default)."""
    if not settings.as2_id:
        settings = settings.model_copy(update={"as2_id": "EDIGATE"})
    if not settings.as2_key.exists() and not settings.as2_cert.exists():
        settings.as2_key.parent.mkdir(parents=True, exist_ok=True)
        generate_identity(str(settings.as2_id), settings.as2_key, settings.as2_cert)
    return settings


def _post_background(base: str, keys: dict[str, str], samples: Path) -> None:
    """Globex's ship notice and invoice, so that the ops UI has traffic to show. Fixed
    control numbers: on a rerun both are duplicates and nothing new is stored."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for name in BACKGROUND:
            response = client.post(
                "/v1/messages", content=(samples / name).read_bytes(), params={"sync": "true"},
                headers={"Authorization": f"Bearer {keys['partner:globex-distribution']}"})
            answer = response.json()
            note = " (already stored by an earlier run)" if answer.get("duplicate") else ""
            print(f"posted {name:<16} as globex-distribution: HTTP {response.status_code} "
                  f"{answer.get('status')}{note}")


def _guide(base: str, keys: dict[str, str], samples: Path | None) -> list[str]:
    """What to paste next: export lines, then curl commands with what each answers."""
    bearer = 'curl -H "Authorization: Bearer ${}"'
    lines = [
        "# Paste into a shell (the keys stay the same on reruns):",
        f"export EDIGATE={base}",
        f"export PARTNER_KEY={keys['partner:acme-retail']}    # acme-retail (X12)",
        f"export INITECH_KEY={keys['partner:initech-eu']}    # initech-eu (EDIFACT)",
        f"export CRM_KEY={keys['consumer:crm']}    # consumer, scope crm",
        f"export SENDER_KEY={keys['consumer:erp']}    # consumer that may send documents",
        f"export OPS_KEY={keys['ops:operator']}    # ops, role operator",
    ]
    if samples is not None:
        post = '{} --data-binary @{} "$EDIGATE/v1/messages?sync=true"'
        lines += [
            "",
            "# An X12 850 purchase order: 200, status PROCESSED, the 997 and the record.",
            post.format(bearer.format("PARTNER_KEY"), _shown(samples / "acme-850.x12")),
            "# An 860 rejected on purpose (BCH01 'ZZZ' is not a purpose code): 200,",
            "# status REJECTED, and the 997 rejecting it names the element.",
            post.format(bearer.format("PARTNER_KEY"),
                        _shown(samples / "acme-860-rejected.x12")),
            "# An EDIFACT ORDERS: 200, status PROCESSED (no CONTRL: initech-eu wants one",
            "# only for errors). Posting a sample again answers 200 duplicate.",
            post.format(bearer.format("INITECH_KEY"), _shown(samples / "initech-orders.edifact")),
        ]
    if samples is not None:
        lines += [
            "",
            "# Send Acme an order acknowledgment from records (JSON): 202, GENERATED, the",
            "# X12 855's control numbers; GET $EDIGATE/v1/documents shows it awaiting its 997.",
            f'{bearer.format("SENDER_KEY")} -H "Content-Type: application/json" '
            f'--data-binary @{_shown(samples / "acme-855.json")} "$EDIGATE/v1/documents"',
            "# The order those two documents joined: its lines ordered and confirmed, its",
            "# documents in order, and its findings (the demo PO's delivery date is past).",
            f'{bearer.format("CRM_KEY")} "$EDIGATE/v1/orders/acme-retail/PO-4711"',
        ]
    lines += [
        "",
        "# The translated records (CRM: purchase orders, invoices, order responses):",
        f'{bearer.format("CRM_KEY")} "$EDIGATE/v1/records?after=0"',
        "# The rejected messages, and the audit ledger checked end to end:",
        f'{bearer.format("OPS_KEY")} "$EDIGATE/v1/messages?status=rejected"',
        f'{bearer.format("OPS_KEY")} "$EDIGATE/v1/ledger/verify"',
    ]
    if samples is not None:
        lines += [
            "# Send a document to acme-retail over AS2 (operator): 202, queued. The demo",
            "# profile has no certificate of Acme's and an .example URL: GET",
            "# $EDIGATE/v1/as2/{id} shows it pending, retried, last_error saying why.",
            f'{bearer.format("OPS_KEY")} --data-binary @{_shown(samples / "acme-850.x12")} '
            '"$EDIGATE/v1/partners/acme-retail/as2"',
        ]
    lines += ["",
              f"# OpenAPI: {base}/docs    ops UI: {base}/ui  (user demo, password "
              f"{keys['ui:demo']})"]
    return lines


def run_demo(*, host: str, port: int, serve: bool) -> int:
    settings = _as2_settings(Settings.from_env())
    upgrade(settings.database_url)
    state = GatewayState.build(settings)
    keys = _keys(state)
    app = create_app(settings, state=state)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    if not server.started:
        print(f"edigate demo: could not serve on {host}:{port} (in use? make run PORT=8001)",
              file=sys.stderr)
        return 3
    base = f"http://{host}:{port}"
    samples = _samples()
    if samples is not None:
        _post_background(base, keys, samples)
    print(f"\nedigate is running at {base}; demo keys are kept in "
          f"{settings.var_dir / 'demo-keys.json'}\n")
    print("\n".join(_guide(base, keys, samples)))
    sys.stdout.flush()
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
