"""The service half of the ``edigate`` command: serve, db, partners, keys, ledger, retention,
demo.

Kept apart from the translator commands so that ``edigate translate`` does not import the
web framework or the database driver. Every command reads ``Settings.from_env()``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from gateway.runtime import cli_keys

__all__ = ["dispatch", "register"]

SERVICE_COMMANDS = {"serve", "db", "partners", "consumers", "ops", "ledger", "demo", "worker",
                    "certs", "users", "keys", "generate", "orders", "retention"}


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the gateway (HTTP API and workers)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes (threads with EDIGATE_WORKER_MODE=thread); "
                        "default: EDIGATE_WORKERS")
    p = sub.add_parser("db", help="database administration")
    db_sub = p.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="run Alembic migrations to the latest revision")
    p = sub.add_parser("partners", help="trading partners")
    partners_sub = p.add_subparsers(dest="partners_command", required=True)
    partners_sub.add_parser("list", help="list the partner profiles")
    k = partners_sub.add_parser("issue-key", help="print a new API key for a partner, once")
    k.add_argument("partner_id")
    p = sub.add_parser("consumers", help="internal systems that read records")
    consumers_sub = p.add_subparsers(dest="consumers_command", required=True)
    k = consumers_sub.add_parser("issue-key", help="print a new consumer key, once")
    k.add_argument("--scope", choices=["crm", "scm", "all"], required=True)
    k.add_argument("--label", default=None)
    k.add_argument("--send", action="store_true",
                   help="the key may also submit documents to send (POST /v1/documents)")
    k = consumers_sub.add_parser("add-webhook",
                                 help="POST records of some kinds to a URL; prints the "
                                      "signing secret, once")
    k.add_argument("--url", required=True)
    k.add_argument("--kinds", required=True, help="comma list, e.g. purchase_order,invoice")
    p = sub.add_parser("generate", help="write records (JSON) as a partner's EDI: stored, "
                                        "ledgered and queued like POST /v1/documents")
    p.add_argument("file", help="JSON: an array of records, one record, or "
                                "{\"records\": [...]}; - for standard input")
    p.add_argument("--partner", required=True, help="the partner's id")
    p.add_argument("--output", default=None, metavar="FILE",
                   help="also write the EDI here (default: standard output)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the EDI without storing or sending it (no number is used up)")
    p = sub.add_parser("ops", help="operations staff")
    ops_sub = p.add_subparsers(dest="ops_command", required=True)
    k = ops_sub.add_parser("issue-key", help="print a new ops key, once")
    k.add_argument("--role", choices=["viewer", "operator", "admin"], required=True)
    k.add_argument("--label", default=None)
    cli_keys.register(sub)
    p = sub.add_parser("users", help="people who sign in to the ops UI (/ui)")
    users_sub = p.add_subparsers(dest="users_command", required=True)
    k = users_sub.add_parser("add", help="add a user; the password is prompted for")
    k.add_argument("name")
    k.add_argument("--role", choices=["viewer", "operator", "admin"], required=True)
    k.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of stdin")
    users_sub.add_parser("list", help="list the users")
    p = sub.add_parser("orders", help="orders: each PO with its documents")
    orders_sub = p.add_subparsers(dest="orders_command", required=True)
    k = orders_sub.add_parser("rebuild", help="join every stored order document to its order "
                                              "(after an upgrade; no events are sent)")
    k.add_argument("--partner", help="only this partner's documents")
    p = sub.add_parser("ledger", help="the audit ledger")
    ledger_sub = p.add_subparsers(dest="ledger_command", required=True)
    k = ledger_sub.add_parser("verify", help="recompute the chain and checkpoints; exit 1 if bad")
    k.add_argument("--anchor", default=None, metavar="FILE",
                   help="also check the ledger against this signed head (anchor file); "
                        "default: EDIGATE_VAR_DIR/ledger-anchor.json when it exists")
    p = sub.add_parser("retention", help="archive and purge what is due; legal holds")
    retention_sub = p.add_subparsers(dest="retention_command", required=True)
    retention_sub.add_parser("run", help="archive every message due (EDIGATE_RETENTION, "
                                         "partners' [retention]), then purge it")
    k = retention_sub.add_parser("restore", help="load an archive back (idempotent)")
    k.add_argument("archive", help="the .jsonl.gz file; its .sha256 manifest must be beside it")
    k = retention_sub.add_parser("hold", help="keep a message whatever its retention")
    k.add_argument("message_id")
    k.add_argument("--reason", default=None)
    k = retention_sub.add_parser("release", help="release a message's legal hold")
    k.add_argument("message_id")
    p = sub.add_parser("worker", help="process waiting messages and send due webhook "
                                      "deliveries until none is left (or, with --follow, "
                                      "until stopped)")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--follow", action="store_true",
                   help="keep processing until SIGTERM (what `edigate serve` runs)")
    p.add_argument("--threads", type=int, default=1, help="with --follow: worker threads")
    p = sub.add_parser("certs", help="the gateway's AS2 key and certificate")
    certs_sub = p.add_subparsers(dest="certs_command", required=True)
    g = certs_sub.add_parser("generate", help="create an RSA key (0600) and a self-signed "
                             "certificate for EDIGATE_AS2_ID at EDIGATE_AS2_KEY/_CERT")
    g.add_argument("--days", type=int, default=730, help="validity (default 730)")
    g.add_argument("--force", action="store_true", help="replace existing files")
    certs_sub.add_parser("list", help="the gateway's and partners' certificates with expiry")
    p = sub.add_parser("demo", help="migrate, load demo keys and post sample traffic")
    p.add_argument("--serve", action="store_true", help="then serve on --host/--port")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)


def _state() -> Any:
    from gateway.runtime.settings import Settings
    from gateway.runtime.state import GatewayState

    return GatewayState.build(Settings.from_env())


def _issue(kind: str, **values: Any) -> str:
    from gateway.api.api_keys import issue_key

    state = _state()
    try:
        if kind == "partner" and state.registry.get(values["partner_id"]) is None:
            raise SystemExit(f"edigate: error: no partner {values['partner_id']!r} in "
                             f"{state.settings.partners_dir}")
        with state.db.transaction() as session:
            token, row = issue_key(session, kind, **values)  # type: ignore[arg-type]
            state.ledger.append(session, event="KEY_ISSUED", actor="cli", details={
                "key_id": row.id, "kind": kind, **{k: v for k, v in values.items() if v}})
        return str(token)
    finally:
        state.close()


def _submitted_records(path: str) -> object:
    """The records of a ``generate`` input file; SystemExit for one that is not JSON."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SystemExit(f"edigate: error: {path}: {exc}") from exc
    if isinstance(data, dict) and "records" in data:
        return data["records"]
    return [data] if isinstance(data, dict) else data


def _generate(path: str, partner_id: str, output: str | None, *, dry_run: bool) -> int:
    from gateway.processing.outbound import RecordsInvalid
    from gateway.store.models import MessageStatus
    from translators.generation import GenerationError

    records = _submitted_records(path)
    state = _state()
    try:
        partner = state.registry.get(partner_id)
        if partner is None:
            raise SystemExit(f"edigate: error: no partner {partner_id!r} in "
                             f"{state.settings.partners_dir}")
        try:
            if dry_run:
                edi = state.outbound.preview(partner, records)
            else:
                result = state.outbound.submit(partner, records, actor="cli")
                if result.status == MessageStatus.HELD:
                    for error in result.errors:
                        print(f"{path}: {error.location or error.pointer}: {error.message}",
                              file=sys.stderr)
                    print(f"edigate: held as message {result.message_id}: not sent",
                          file=sys.stderr)
                    return 1
                assert result.edi is not None
                edi = result.edi
                print(f"message {result.message_id} {result.status} ISA/UNB control "
                      f"{result.interchange_control}"
                      + (f", queued for {result.transport.upper()} as {result.transfer_id}"
                         if result.transfer_id else ", waiting for pickup"), file=sys.stderr)
        except RecordsInvalid as exc:
            for error in exc.errors:
                print(f"{path}: {error.pointer}: {error.message}", file=sys.stderr)
            return 1
        except GenerationError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return 1
    finally:
        state.close()
    if output:
        with open(output, "wb") as out:
            out.write(edi)
    else:
        sys.stdout.buffer.write(edi)
        sys.stdout.flush()
    return 0


def _add_webhook(url: str, kinds: str) -> int:
    from gateway.delivery.egress import EgressPolicy
    from gateway.delivery.webhooks import WebhookError, create_webhook

    state = _state()
    try:
        with state.db.transaction() as session:
            row = create_webhook(session, state.ledger, url=url, kinds=kinds, actor="cli",
                                 policy=EgressPolicy.from_settings(state.settings))
    except WebhookError as exc:
        print(f"edigate: error: {exc.detail}", file=sys.stderr)
        return 2
    finally:
        state.close()
    print(f"webhook {row.id}")
    print(f"url     {row.url}")
    print(f"kinds   {row.kinds}")
    print(f"secret  {row.secret}")
    print("The secret is shown only now: verify X-Edigate-Signature with it.")
    return 0


def _certs(args: argparse.Namespace) -> int:
    from gateway.as2.keys import KeyFileError, certificate_info, generate_identity
    from gateway.runtime.settings import Settings

    settings = Settings.from_env()
    if args.certs_command == "generate":
        if not settings.as2_id:
            print("set EDIGATE_AS2_ID to the gateway's AS2 name first", file=sys.stderr)
            return 2
        try:
            identity = generate_identity(settings.as2_id, settings.as2_key, settings.as2_cert,
                                         days=args.days, overwrite=args.force)
        except KeyFileError as exc:
            print(f"not generated: {exc}", file=sys.stderr)
            return 1
        info = certificate_info(identity.certificate)
        print(f"AS2 id       {settings.as2_id}")
        print(f"key          {settings.as2_key} (mode 0600; never share it)")
        print(f"certificate  {settings.as2_cert} (send this file to your partners)")
        print(f"sha256       {info.sha256}")
        print(f"valid until  {info.not_after.isoformat()}")
        return 0
    state = _state()
    try:
        certificates = state.as2.partners.certificates() if state.as2 is not None else {}
    finally:
        state.close()
    for owner, infos in certificates.items():
        for info in infos:
            print(f"{owner:<24} {info.sha256[:16]}  until {info.not_after.date()}  "
                  f"({info.days_left():.0f} days)  {info.subject}")
    return 0


def _users(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from gateway.store.users import OpsUser
    from gateway.ui.auth import AuthError, create_user

    if args.users_command == "add":
        if args.password_stdin or not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            import getpass

            password = getpass.getpass(f"password for {args.name}: ")
            if getpass.getpass("again: ") != password:
                print("edigate: error: the passwords differ", file=sys.stderr)
                return 2
    state = _state()
    try:
        if args.users_command == "list":
            with state.db.read() as session:
                for user in session.scalars(select(OpsUser).order_by(OpsUser.username)):
                    print(f"{user.username:<32} {user.role:<9} "
                          f"{'disabled' if user.disabled_at else 'active'}")
            return 0
        try:
            with state.db.transaction() as session:
                user = create_user(session, args.name, args.role, password)
                state.ledger.append(session, event="UI_USER_ADDED", actor="cli",
                                    details={"username": user.username, "role": user.role})
        except AuthError as exc:
            print(f"edigate: error: {exc}", file=sys.stderr)
            return 2
        print(f"user {user.username} ({user.role}) added; sign in at /ui")
        return 0
    finally:
        state.close()


def _limit_log_repeats(settings: Any) -> None:
    """A long-running process logs each repeated message a few times per interval only
    (``gateway.runtime.logging_limits``): an outage must not fill the disk."""
    from gateway.runtime.logging_limits import install_repeat_limit

    install_repeat_limit(settings.log_repeat_limit, settings.log_repeat_seconds)


def _rebuild_orders(partner_id: str | None) -> int:
    from gateway.store.base import utcnow

    state = _state()
    try:
        if partner_id is not None and state.registry.get(partner_id) is None:
            print(f"edigate: error: no partner {partner_id!r}", file=sys.stderr)
            return 2
        count = state.pipeline.processor.orders.rebuild(
            state.db, state.ledger, utcnow(), "cli", partner_id=partner_id)
    finally:
        state.close()
    print(f"{count} order documents joined their orders")
    return 0


def _verify_ledger(anchor: str | None) -> int:
    """``ledger verify``: the chain, and the anchor file (``--anchor``, else the var
    directory's when it exists); prints the report as JSON, exit 1 when it fails."""
    from gateway.ledger.anchor import anchor_path, verify_with_anchor
    from gateway.ledger.chain import verify_ledger

    state = _state()
    try:
        path = anchor
        if path is None and anchor_path(state.settings.var_dir).exists():
            path = str(anchor_path(state.settings.var_dir))
            print(f"checking the ledger against its anchor file {path}", file=sys.stderr)
        if path is None:
            report = verify_ledger(state.db, state.signer)
        else:
            report = verify_with_anchor(state.db, state.signer, path)
    finally:
        state.close()
    json.dump(report.as_dict() | {"anchor_file": path}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if report.ok else 1


def _retention(args: argparse.Namespace) -> int:
    from gateway.errors import GatewayError
    from gateway.retention import purge
    from gateway.retention.policy import RetentionPolicy
    from gateway.store.base import utcnow

    state = _state()
    try:
        command = args.retention_command
        if command == "run":
            policy = RetentionPolicy.of(state.settings, state.registry)
            if not policy.configured:
                print("no retention configured (EDIGATE_RETENTION, partners' [retention]): "
                      "nothing is ever due", file=sys.stderr)
            report = purge.run(state.db, state.ledger, policy, state.settings.archive_dir,
                               now=utcnow(), actor="cli", batch=state.settings.retention_batch)
            json.dump(report.as_dict(), sys.stdout, indent=2)
            sys.stdout.write("\n")
            return 0
        if command == "restore":
            rows = purge.restore(state.db, state.ledger, Path(args.archive), actor="cli")
            json.dump({"restored": rows}, sys.stdout, indent=2)
            sys.stdout.write("\n")
            return 0
        if command == "hold":
            held = purge.hold(state.db, state.ledger, args.message_id, actor="cli",
                              reason=args.reason, now=utcnow())
            print(f"message {args.message_id} " + ("held" if held else "was held already"))
            return 0
        released = purge.release(state.db, state.ledger, args.message_id, actor="cli")
        print(f"message {args.message_id} " + ("released" if released else "had no hold"))
        return 0
    except GatewayError as exc:
        print(f"edigate: error: {exc.detail}", file=sys.stderr)
        return 2
    finally:
        state.close()


def dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command == "db":
        from gateway.runtime.settings import Settings
        from gateway.store.migrate import upgrade

        settings = Settings.from_env()
        upgrade(settings.database_url)
        print(f"database at {settings.database_url} is up to date")
        return 0
    if command == "serve":
        import uvicorn

        from gateway.runtime.app import create_app
        from gateway.runtime.settings import Settings

        overrides: dict[str, object] = {}
        if args.workers is not None:
            overrides["workers"] = args.workers
        if "EDIGATE_INTAKE_WRITER" not in os.environ:
            overrides["intake_writer"] = "process"
        settings = Settings.from_env(None, **overrides)
        app = create_app(settings)
        metrics_server = None
        if settings.metrics_bind:
            from gateway.runtime.metrics import MetricsServer

            metrics_server = MetricsServer(settings.metrics_bind,
                                           app.state.edigate.metrics.render)
            metrics_server.start()
        try:
            config = uvicorn.Config(app, host=args.host, port=args.port, log_level="info",
                                    access_log=False)
            # After uvicorn has set up its loggers, so that its error logger is limited too.
            _limit_log_repeats(settings)
            server = uvicorn.Server(config)
            server.run()
        finally:
            if metrics_server is not None:
                metrics_server.stop()
        return 0 if server.started else 3  # 3: what uvicorn.run exits with then
    if command == "partners":
        if args.partners_command == "list":
            from gateway.runtime.settings import Settings
            from partners import PartnerRegistry

            registry = PartnerRegistry.load(Settings.from_env().partners_dir)
            for partner in registry.all():
                ids = []
                if partner.x12 is not None:
                    ids.append(f"x12 {partner.x12.qualifier}:{partner.x12.id}")
                if partner.edifact is not None:
                    ids.append(f"edifact {partner.edifact.id}")
                print(f"{partner.id:<24} {partner.name:<32} {', '.join(ids)}")
            return 0
        print(_issue("partner", partner_id=args.partner_id))
        return 0
    if command == "consumers":
        if args.consumers_command == "add-webhook":
            return _add_webhook(args.url, args.kinds)
        print(_issue("consumer", scope=args.scope, label=args.label, can_send=args.send))
        return 0
    if command == "ops":
        print(_issue("ops", role=args.role, label=args.label))
        return 0
    if command == "ledger":
        return _verify_ledger(args.anchor)
    if command == "orders":
        return _rebuild_orders(args.partner)
    if command == "retention":
        return _retention(args)
    if command == "generate":
        return _generate(args.file, args.partner, args.output, dry_run=args.dry_run)
    if command == "worker" and args.follow:
        from gateway.runtime.workers import follow

        state = _state()
        _limit_log_repeats(state.settings)
        try:
            return follow(state, args.threads)
        finally:
            state.close()
    if command == "worker":
        state = _state()
        try:
            count = sum(1 for _ in state.pipeline.drain(f"cli:{state.settings.worker_id}",
                                                        args.limit))
            worker = f"cli-deliverer:{state.settings.worker_id}"
            with state.webhook_deliverer(worker=worker) as deliverer:
                tried = deliverer.run_once(limit=args.limit or 1000)
            # The AS2 rows of the outbox (documents and asynchronous MDNs), when AS2 is on.
            as2 = state.as2_deliverer(worker=f"cli-as2:{state.settings.worker_id}")
            sent = 0
            if as2 is not None:
                with as2:
                    sent = as2.run_once(limit=args.limit or 1000)
            with state.https_deliverer(
                    worker=f"cli-https:{state.settings.worker_id}") as https:
                posted = https.run_once(limit=args.limit or 1000)
            published = 0
            for broker in state.broker_deliverers():
                with broker:
                    published += broker.run_once(limit=args.limit or 1000)
            from gateway.processing.reconcile import mark_overdue
            from gateway.store.base import utcnow

            overdue = mark_overdue(state.db, state.ledger, utcnow(), "cli")
        finally:
            state.close()
        print(f"processed {count} message(s), made {tried} webhook delivery attempt(s)"
              + (f" and {sent} AS2 send attempt(s)" if as2 is not None else "")
              + (f" and {posted} HTTPS send attempt(s)" if posted else "")
              + (f" and {published} broker publish attempt(s)" if published else "")
              + (f"; {overdue} sent document(s) now overdue" if overdue else ""))
        return 0
    if command == "certs":
        return _certs(args)
    if command == "users":
        return _users(args)
    if command == "keys":
        return cli_keys.run(args)
    if command == "demo":
        from gateway.runtime.demo import run_demo

        return run_demo(host=args.host, port=args.port, serve=args.serve)
    raise SystemExit(f"unknown command {command}")
