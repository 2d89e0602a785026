"""Partner implementation guides as the translators check them.

Responsible for turning the guides a partner's profile names (``partners.guides``,
validated at start-up) into ``translators.guides.Guide`` checks: every finding an error
for documents edigate generates, and for documents the partner sends, the severity its
guide's ``inbound`` setting gives. Conversions are cached per registry and partner (a
registry is immutable).
It must not read files.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from partners import PartnerRegistry
from translators.guides import Guide, GuideCheck

__all__ = ["guides_for"]


@functools.lru_cache(maxsize=256)
def _converted(registry: PartnerRegistry, partner_id: str) -> dict[str, GuideCheck]:
    return {document_type: (Guide.from_data(document_type, guide.model_dump()), guide.inbound)
            for document_type, guide in registry.guides(partner_id).items()}


def guides_for(registry: PartnerRegistry, partner_id: str, *, outbound: bool
               ) -> Mapping[str, GuideCheck] | None:
    """The partner's guide checks by document type; None when it has no guide."""
    converted = _converted(registry, partner_id)
    if not converted:
        return None
    if outbound:
        return {document_type: (guide, "error") for document_type, (guide, _) in converted.items()}
    return converted
