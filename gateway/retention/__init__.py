"""Data retention: which messages are due, archiving them, purging them, restoring them."""
