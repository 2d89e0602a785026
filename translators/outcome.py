"""The one shape of what both pipelines yield, whatever the standard.

Responsible for naming the outcomes' common fields, so that code reading them (the gateway,
the command line, acknowledgments, tests) handles X12 and EDIFACT alike:

- a ``DocumentOutcome`` per transaction set (X12 ``TransactionOutcome``) or message
  (EDIFACT ``MessageOutcome``): the ``document`` as read, its ``issues``, the canonical
  record as plain ``data``, the ``schema`` it was checked against, and ``summary()``, what
  the acknowledgment keeps of it;
- a ``GroupOutcome`` after each functional group (GE / UNE): its ``header``, its ``end``
  (the trailer and its issues) and the ``documents``' summaries;
- an ``InterchangeOutcome`` after each interchange (IEA / UNZ): ``header``, ``end``,
  ``groups`` and ``all_documents()``, the summaries of every document in it.

Each standard adds its own acknowledgment verdict (X12 ``status``, an AK5/IK5 code; EDIFACT
``action``, a 0083 code) and its own envelope types.
It must not hold behaviour: these are the names the pipelines promise, checked by mypy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from translators.errors import Issue
from translators.record_data import RecordData

if TYPE_CHECKING:
    from translators.edifact.pipeline import (
        EDIFACTGroupOutcome,
        EDIFACTInterchangeOutcome,
        MessageOutcome,
    )
    from translators.records import Record
    from translators.x12.pipeline import (
        TransactionOutcome,
        X12GroupOutcome,
        X12InterchangeOutcome,
    )

__all__ = ["DocumentOutcome", "GroupOutcome", "InterchangeOutcome"]


class DocumentOutcome(Protocol):
    """One transaction set or message, validated and (when a mapper exists) translated."""

    @property
    def document(self) -> Any:
        """The transaction set or message as read (its segments, control number, ...)."""

    @property
    def issues(self) -> list[Issue]: ...

    @property
    def data(self) -> RecordData | None:
        """The canonical record as plain data, what the gateway stores; None when the
        document has no mapper or could not be mapped."""

    @property
    def schema(self) -> str | None:
        """The map or message definition it was checked against; None when edigate has
        none for it."""

    @property
    def record(self) -> Record | None:
        """``data`` as a validated Pydantic model, built on first use."""

    @property
    def errors(self) -> list[Issue]: ...

    def summary(self) -> Any:
        """What the acknowledgment keeps of the document until the end of its group."""


class GroupOutcome(Protocol):
    """A functional group after its trailer."""

    @property
    def header(self) -> Any: ...

    @property
    def end(self) -> Any: ...

    @property
    def documents(self) -> Iterable[Any]:
        """The summaries of the group's documents, in order."""

    @property
    def issues(self) -> list[Issue]: ...


class InterchangeOutcome(Protocol):
    """An interchange after its trailer."""

    @property
    def header(self) -> Any: ...

    @property
    def end(self) -> Any: ...

    @property
    def groups(self) -> Sequence[GroupOutcome]: ...

    @property
    def issues(self) -> list[Issue]: ...

    @property
    def errors(self) -> list[Issue]: ...

    def all_documents(self) -> list[Any]:
        """The summaries of every document of the interchange, in order."""


if TYPE_CHECKING:
    # What makes the promise checked: mypy fails here when either pipeline's outcome
    # loses or renames a field of the shape above.
    def _conforms(x12: TransactionOutcome, edifact: MessageOutcome,
                  x12_group: X12GroupOutcome, edifact_group: EDIFACTGroupOutcome,
                  x12_end: X12InterchangeOutcome, edifact_end: EDIFACTInterchangeOutcome,
                  ) -> tuple[DocumentOutcome, DocumentOutcome, GroupOutcome, GroupOutcome,
                             InterchangeOutcome, InterchangeOutcome]:
        return x12, edifact, x12_group, edifact_group, x12_end, edifact_end
