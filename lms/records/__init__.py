"""The training record: append-only entries per agent, result bands, and the audit log."""
