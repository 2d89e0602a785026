"""Trading-partner profiles as reviewed data, and the registry that validates and looks them up.

One TOML file per partner in the partners directory (keys documented in partners/README.md):
identities (X12 ISA qualifier and id, EDIFACT UNB id, AS2 name), acknowledgment preferences,
AS2 algorithms and public certificate files, allowed transactions. ``PartnerRegistry.load``
validates every file and reports every problem at once in a ``PartnerConfigError``.

Data and lookups only: no secrets live here, and this package never imports the translators
or the gateway (the gateway turns profiles into transport and acknowledgment options).
"""

from partners.errors import ConfigProblem, PartnerConfigError
from partners.profile import (
    AS2Profile,
    DeliveryHints,
    EDIFACTProfile,
    EncryptionAlgorithm,
    MDNOptions,
    PartnerProfile,
    SigningAlgorithm,
    X12Identity,
    X12Profile,
)
from partners.registry import PartnerRegistry, load_profile

__all__ = [
    "AS2Profile",
    "ConfigProblem",
    "DeliveryHints",
    "EDIFACTProfile",
    "EncryptionAlgorithm",
    "MDNOptions",
    "PartnerConfigError",
    "PartnerProfile",
    "PartnerRegistry",
    "SigningAlgorithm",
    "X12Identity",
    "X12Profile",
    "load_profile",
]
