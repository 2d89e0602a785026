"""Processing: claiming received messages, translating them and finishing them (records,
acknowledgments, ledger entries) in batches. Never receives messages."""
