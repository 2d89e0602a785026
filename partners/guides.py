"""Implementation guides: the authoring format of a partner's rules for one document type.

Responsible for ``ImplementationGuide``, the validated shape of a guide file (TOML or
JSON beside the partner's profile, named by the profile's ``[guides]`` table) and for
reading one with every problem located (file, key path). What a guide means, and the
check of a document against it, is ``translators.guides``; partners/README.md documents
the format with a complete example.
It must not check documents and must not import translators (the dependency rule).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StrictStr, ValidationError

from partners.errors import ConfigProblem
from partners.files import read_table
from partners.profile import TransactionType, _Model, _pattern, describe_validation_error

__all__ = ["GuideElement", "GuideRequirement", "GuideSegment", "ImplementationGuide",
           "read_guide"]

SegmentTag = Annotated[StrictStr, _pattern(
    r"[A-Z][A-Z0-9]{1,2}", "must be a segment tag such as REF or TD1")]
# The same syntax as translators.guides.element_reference (which must not be imported).
ElementRef = Annotated[StrictStr, _pattern(
    r"[A-Z][A-Z0-9]{1,2}(0[1-9]|[1-9][0-9])(-(0[1-9]|[1-9][0-9]))?",
    "must be an element reference: segment tag, two-digit position and optionally a "
    "hyphen and component position (TD101, REF02, NAD03-01)")]
Usage = Literal["required", "not_used", "optional"]
Count = Annotated[int, Field(strict=True, ge=1)]


class GuideSegment(_Model):
    """``[segments.TAG]``: whether the segment must, may or may not occur, and how often."""

    usage: Usage = "optional"
    max_use: Count | None = None


class GuideElement(_Model):
    """``[elements.REF]``: what the element must hold wherever its segment occurs."""

    usage: Usage = "optional"
    codes: tuple[StrictStr, ...] | None = None
    min_length: Count | None = None
    max_length: Count | None = None
    value: StrictStr | None = None


class GuideRequirement(_Model):
    """``[[require]]``: an occurrence of ``segment`` whose elements hold ``where``'s values."""

    segment: SegmentTag
    where: dict[ElementRef, StrictStr] = Field(default_factory=dict)
    message: StrictStr | None = None


class ImplementationGuide(_Model):
    """One partner's rules for one transaction set or message, beyond the standard.

    ``inbound`` says how a finding on a document the partner sends counts: ``error``
    rejects it (negative acknowledgment), ``warning`` accepts it with the finding listed.
    Documents edigate generates for the partner are refused on any finding.
    """

    transaction: TransactionType
    inbound: Literal["error", "warning"] = "error"
    description: StrictStr | None = None
    segments: dict[SegmentTag, GuideSegment] = Field(default_factory=dict)
    elements: dict[ElementRef, GuideElement] = Field(default_factory=dict)
    require: tuple[GuideRequirement, ...] = ()


def read_guide(path: Path, transaction: str) -> tuple[ImplementationGuide | None,
                                                       list[ConfigProblem]]:
    """The guide in ``path`` (``.toml`` or ``.json``) for ``transaction``, or the located
    problems that keep it from being one."""
    source = str(path)
    data, problems = read_table(path)
    if data is None:
        return None, problems
    try:
        guide = ImplementationGuide.model_validate(data)
    except ValidationError as exc:
        return None, [ConfigProblem(source, key, message) for key, message
                      in describe_validation_error(exc, ImplementationGuide)]
    if guide.transaction != transaction:
        return None, [ConfigProblem(source, "transaction", f"is {guide.transaction!r} but the "
                                    f"profile names this file for {transaction!r}")]
    return guide, []
