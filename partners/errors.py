"""The one error the partners package raises: a partner configuration that cannot be used.

A ``PartnerConfigError`` carries every problem found (file, key path, message), not just the
first, so that one run of ``edigate partners`` shows an operator everything to fix. This module
knows nothing about TOML or pydantic; it only holds and renders problems.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ConfigProblem", "PartnerConfigError"]


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with one partner file: ``partners/acme.toml: x12.ack: must be ...``.

    ``source`` is the file as the registry was told to read it (or ``<memory>`` for profiles
    built in code); ``key`` is the dotted key path inside it, empty for the file as a whole.
    """

    source: str
    key: str
    message: str

    def __str__(self) -> str:
        if self.key:
            return f"{self.source}: {self.key}: {self.message}"
        return f"{self.source}: {self.message}"


class PartnerConfigError(Exception):
    """Partner profiles that failed validation; ``problems`` lists all of them, in file order."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        count = len(self.problems)
        heading = f"{count} problem{'s' if count != 1 else ''} in partner profiles:"
        super().__init__("\n".join([heading, *(f"  {p}" for p in self.problems)]))
