"""``edigate keys list`` and ``edigate keys revoke``: every API key, whatever its kind.

Keys are issued per kind (``partners|consumers|ops issue-key``, in ``gateway.runtime.cli_service``);
listing and revoking work across kinds. A listing never shows a key's hash. A revocation is
committed with a ``KEY_REVOKED`` ledger entry (actor ``cli``) and then announced to the
gateway processes of this host through the revocation stamp under ``EDIGATE_VAR_DIR``
(``gateway.api.api_keys``), so this command must see the same var directory as ``edigate serve``;
other hosts on the same PostgreSQL database learn of it by NOTIFY.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    p = sub.add_parser("keys", help="list and revoke API keys of every kind")
    keys_sub = p.add_subparsers(dest="keys_command", required=True)
    k = keys_sub.add_parser("list", help="the keys (never their hashes), oldest first")
    k.add_argument("--kind", choices=["partner", "consumer", "ops"], default=None)
    k.add_argument("--partner", default=None, help="only this partner's keys")
    state = k.add_mutually_exclusive_group()
    state.add_argument("--active", action="store_true", help="only keys not revoked")
    state.add_argument("--revoked", action="store_true", help="only revoked keys")
    k.add_argument("--json", action="store_true", help="one JSON document instead of a table")
    k = keys_sub.add_parser("revoke", help="revoke a key: it stops working at once")
    k.add_argument("key_id", help="the key's id, as `edigate keys list` shows it")


def _owner(view: dict[str, Any]) -> str:
    if view["kind"] == "partner":
        return str(view["partner_id"])
    if view["kind"] == "consumer":
        return f"scope={view['scope']}"
    return f"role={view['role']}"


def run(args: argparse.Namespace) -> int:
    from gateway.api.api_keys import announce_revocation, key_view, list_keys, revoke_key
    from gateway.runtime.settings import Settings
    from gateway.runtime.state import GatewayState

    state = GatewayState.build(Settings.from_env())
    try:
        if args.keys_command == "list":
            revoked = True if args.revoked else False if args.active else None
            with state.db.read() as session:
                views = [key_view(row) for row in list_keys(
                    session, kind=args.kind, partner_id=args.partner, revoked=revoked)]
            if args.json:
                json.dump({"items": views}, sys.stdout, indent=2)
                sys.stdout.write("\n")
                return 0
            print(f"{'id':<36}  {'kind':<8}  {'owner':<24}  {'prefix':<12}  "
                  f"{'created':<19}  {'revoked':<19}  label")
            for v in views:
                print(f"{v['id']:<36}  {v['kind']:<8}  {_owner(v):<24}  {v['prefix']:<12}  "
                      f"{v['created_at'][:19]:<19}  {(v['revoked_at'] or '-')[:19]:<19}  "
                      f"{v['label'] or ''}")
            return 0
        with state.db.transaction() as session:
            found = revoke_key(session, state.ledger, args.key_id, actor="cli")
        if found is None:
            print(f"edigate: error: no API key {args.key_id!r}", file=sys.stderr)
            return 2
        row, changed = found
        # Announced even when it already was revoked: see gateway.api.api_keys.revoke_key.
        problem = announce_revocation(state.settings.var_dir)
        when = row.revoked_at.isoformat() if row.revoked_at else ""
        print(f"key {row.id} ({row.kind}) {'revoked' if changed else 'was already revoked'} "
              f"at {when}")
        if problem is not None:
            print(f"edigate: warning: the gateway processes on this host could not be told "
                  f"({problem}); they may accept the key for up to 30 s more",
                  file=sys.stderr)
        return 0
    finally:
        state.close()
