"""The one source of time. Tests freeze it with the `frozen_now` fixture."""
from __future__ import annotations

from datetime import datetime, timezone

_frozen: datetime | None = None


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def freeze(moment: datetime | None) -> None:
    """Pin utcnow() to `moment` (aware); None lets time run again."""
    if moment is not None and moment.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    global _frozen
    _frozen = moment
