"""The tamper-evident audit ledger (``chain``: hash-chained entries, signed checkpoints,
verify) and its anchor file (``anchor``: the newest signed head kept outside the database)."""
