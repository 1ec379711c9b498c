"""Survey templates and the answers to them, kept apart from who answered (anonymity)."""
from __future__ import annotations
