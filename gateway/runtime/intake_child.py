"""The intake writer's child process: ``python -m gateway.runtime.intake_child FD``.

Builds the child's part of the object graph (database, ledger, group-commit writer) and
runs ``gateway.intake.writer_process.serve`` on the channel whose file descriptor the web
process passed, until the web process closes it. See ``gateway.intake.writer_process`` for
the protocol and why the writer runs in a process of its own.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from multiprocessing.connection import Connection

from gateway.intake.group_commit import IntakeWriter
from gateway.intake.writer_process import serve
from gateway.runtime.logging_limits import install_repeat_limit
from gateway.runtime.settings import Settings
from gateway.runtime.state import build_ledger
from gateway.store.db import Database

log = logging.getLogger("edigate.intake")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Ctrl-C reaches the whole process group: the web process shuts down and closes the
    # channel; this process finishes its batch and exits then, not in the middle of it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    install_repeat_limit(settings.log_repeat_limit, settings.log_repeat_seconds)
    db = Database(settings.database_url)
    _signer, ledger = build_ledger(settings, db)
    batches: list[tuple[int, float]] = []
    writer = IntakeWriter(db, ledger,
                          on_batch=lambda size, seconds: batches.append((size, seconds)))
    started = time.monotonic()
    try:
        serve(Connection(int(args[0])), writer, batches)
    finally:
        writer._release()
        ledger.close(db)
        db.dispose()
    log.debug("intake writer process %d done after %.0f s", os.getpid(),
              time.monotonic() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
