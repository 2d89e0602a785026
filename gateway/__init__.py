"""edigate's service layer: the CLI today; the FastAPI app, transports, store, ledger and
delivery arrive with the gateway issue. Only this package may import everything else."""
