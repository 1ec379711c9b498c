from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ContentError:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ContentInvalid(Exception):
    """Raised with every problem found, so one run reports them all and imports nothing."""

    def __init__(self, errors: list[ContentError]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = sorted(errors)
