"""Exceptions raised by the translators and the located ``Issue`` they report.

Responsible for the one vocabulary of problems: an ``Issue`` carries the standard's error
code (X12 TA1 I18, AK5/IK5 718, AK3/IK3 720, AK4/IK4 723, AK9/IK9 716; EDIFACT 0085) and
where it happened, so that acknowledgments are a projection of the issues.
Exceptions are only for input that cannot be read at all; everything else is an ``Issue``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["EDISyntaxError", "Issue", "IssueLevel", "Severity", "TranslatorError"]

IssueLevel = Literal["interchange", "group", "transaction", "segment", "element"]
Severity = Literal["error", "warning"]


class TranslatorError(Exception):
    """Base class of everything the translators raise on bad input."""


class EDISyntaxError(TranslatorError):
    """The input cannot be tokenized from here on; ``offset`` is the byte offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at byte offset {offset})")
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Issue:
    """One located problem.

    ``code`` is the standard's code at ``level``: for X12 ``interchange`` it is a TA1
    note code (I18, e.g. ``"001"``), for ``group`` an AK905/IK9 code (716), for
    ``transaction`` an AK502/IK502 code (718), for ``segment`` an AK304/IK304 code (720),
    for ``element`` an AK403/IK403 code (723).
    ``segment_position`` counts from the ST segment (ST is 1), as AK302/IK302 require.
    ``element_position``, ``component_position`` and ``repetition`` are 1-based, or
    ``None`` when they do not apply.
    """

    level: IssueLevel
    code: str
    message: str
    severity: Severity = "error"
    offset: int | None = None
    segment_tag: str | None = None
    segment_position: int | None = None
    loop_id: str | None = None
    element_position: int | None = None
    component_position: int | None = None
    repetition: int | None = None
    data_element: str | None = None
    bad_value: str | None = None

    @property
    def location(self) -> str:
        """Human-readable location such as ``BEG03 (segment 2, byte 131)``."""
        parts: list[str] = []
        if self.segment_tag:
            ref = self.segment_tag
            if self.element_position is not None:
                ref += f"{self.element_position:02d}"
                if self.component_position is not None:
                    ref += f"-{self.component_position}"
                if self.repetition is not None and self.repetition > 1:
                    ref += f" repetition {self.repetition}"
            parts.append(ref)
        where: list[str] = []
        if self.segment_position is not None:
            where.append(f"segment {self.segment_position}")
        if self.offset is not None:
            where.append(f"byte {self.offset}")
        if where:
            parts.append(f"({', '.join(where)})")
        return " ".join(parts)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, omitting empty fields."""
        out: dict[str, object] = {
            "level": self.level,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
        }
        for name in (
            "offset",
            "segment_tag",
            "segment_position",
            "loop_id",
            "element_position",
            "component_position",
            "repetition",
            "data_element",
            "bad_value",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out
