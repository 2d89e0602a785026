"""The HTTP API under /v1: intake, message log, records feed, ledger, health."""
