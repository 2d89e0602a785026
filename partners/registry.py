"""The partner registry: every profile of a partners directory, validated together, and lookups.

``PartnerRegistry.load`` reads each ``*.toml`` file, validates it as a ``PartnerProfile``,
checks the listed certificate files, then checks the profiles against each other (no two
share an id, an X12 interchange identity, an EDIFACT id, an AS2 id or an ``[sftp_inbox]``
login). It reports every
problem of every file in one ``PartnerConfigError`` and never hands out a half-valid registry.
Lookups answer the gateway's questions ("whose ISA05/ISA06 is this?"). This module does not
authenticate anyone nor hold secrets: certificates here are public.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from pydantic import ValidationError

from partners.errors import ConfigProblem, PartnerConfigError
from partners.files import read_table
from partners.guides import ImplementationGuide, read_guide
from partners.profile import PartnerProfile, describe_validation_error

__all__ = ["PartnerRegistry", "load_profile"]

_MEMORY = "<memory>"


def load_profile(path: Path) -> PartnerProfile:
    """Read and validate one partner file (certificates unchecked: that needs the registry).

    Raises ``PartnerConfigError`` with every problem of the file.
    """
    profile, problems = _read_profile(path)
    if profile is None:
        raise PartnerConfigError(problems)
    return profile


def _read_profile(path: Path) -> tuple[PartnerProfile | None, list[ConfigProblem]]:
    data, problems = read_table(path)
    if data is None:
        return None, problems
    try:
        return PartnerProfile.model_validate(data), []
    except ValidationError as exc:
        found = describe_validation_error(exc)
        return None, [ConfigProblem(str(path), key, message) for key, message in found]


@dataclass
class _Index:
    """The profiles and the identities they claim, each mapped to the claiming entry."""

    by_id: dict[str, PartnerProfile] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    x12: dict[tuple[str, str], PartnerProfile] = field(default_factory=dict)
    edifact: dict[str, PartnerProfile] = field(default_factory=dict)
    as2: dict[str, PartnerProfile] = field(default_factory=dict)
    # AS2 names are compared exactly, but two partners differing only in case is a mistake.
    as2_folded: dict[str, PartnerProfile] = field(default_factory=dict)
    # Logins to edigate's SFTP server (``[sftp_inbox]``), compared exactly.
    sftp_logins: dict[str, PartnerProfile] = field(default_factory=dict)
    certificates: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    guides: dict[tuple[str, str], ImplementationGuide] = field(default_factory=dict)


def _claimed(owner: PartnerProfile, index: _Index) -> str:
    return f"already claimed by {index.sources[owner.id]} (partner {owner.id!r})"


def _build_index(
    entries: Sequence[tuple[str, PartnerProfile]],
    directory: Path | None,
    problems: list[ConfigProblem],
) -> _Index:
    """Index ``entries`` (source, profile); add every conflict to ``problems``."""
    index = _Index()
    for source, profile in entries:
        if profile.id in index.by_id:
            problems.append(ConfigProblem(
                source, "id", f"{profile.id!r} is already the id of {index.sources[profile.id]}"))
            continue
        index.by_id[profile.id] = profile
        index.sources[profile.id] = source
        if profile.x12 is not None:
            for position, identity in enumerate(profile.x12.identities):
                key = "x12.id" if position == 0 else f"x12.accept_ids[{position - 1}]"
                pair = (identity.qualifier, identity.id)
                owner = index.x12.setdefault(pair, profile)
                if owner is not profile:
                    problems.append(ConfigProblem(
                        source, key, f"X12 identity {identity} is {_claimed(owner, index)}"))
        if profile.edifact is not None:
            owner = index.edifact.setdefault(profile.edifact.id, profile)
            if owner is not profile:
                problems.append(ConfigProblem(
                    source, "edifact.id",
                    f"EDIFACT id {profile.edifact.id} is {_claimed(owner, index)}"))
        if profile.as2 is not None:
            as2_id = profile.as2.as2_id
            owner = index.as2_folded.setdefault(as2_id.casefold(), profile)
            if owner is not profile:
                problems.append(ConfigProblem(
                    source, "as2.as2_id", f"AS2 id {as2_id!r} is {_claimed(owner, index)}"
                    + ("" if owner.as2 is None or owner.as2.as2_id == as2_id
                       else f" as {owner.as2.as2_id!r} (AS2 ids differing only in case)")))
            else:
                index.as2[as2_id] = profile
            if directory is not None:
                index.certificates[profile.id] = _check_certificates(
                    source, profile.as2.certificates, directory, problems)
        login = profile.sftp_login
        if login is not None:
            owner = index.sftp_logins.setdefault(login, profile)
            if owner is not profile:
                problems.append(ConfigProblem(
                    source, "sftp_inbox.user",
                    f"SFTP login {login!r} is {_claimed(owner, index)}"
                    + ("" if profile.sftp_inbox is None or profile.sftp_inbox.user
                       else " (the login defaults to the partner id)")))
        if directory is not None:
            for document_type, name in sorted(profile.guides.items()):
                guide = _load_guide(source, document_type, name, directory, problems)
                if guide is not None:
                    index.guides[(profile.id, document_type)] = guide
    return index


def _load_guide(source: str, document_type: str, name: str, directory: Path,
                problems: list[ConfigProblem]) -> ImplementationGuide | None:
    """The guide file ``name`` the profile in ``source`` names for ``document_type``."""
    path = directory / name
    resolved = path.resolve()
    key = f"guides.{document_type}"
    if not resolved.is_relative_to(directory.resolve()):
        problems.append(ConfigProblem(source, key, f"leads outside the partners directory "
                                                   f"(got {name!r})"))
        return None
    if not resolved.is_file():
        problems.append(ConfigProblem(source, key, f"no such file: {path}"))
        return None
    guide, found = read_guide(path, document_type)
    problems += found
    return guide


def _check_certificates(
    source: str, names: Sequence[str], directory: Path, problems: list[ConfigProblem]
) -> tuple[Path, ...]:
    """The certificate files ``names``, each checked to be a public X.509 certificate."""
    root = directory.resolve()
    paths: list[Path] = []
    for position, name in enumerate(names):
        key = f"as2.certificates[{position}]"
        path = directory / name
        problem = _certificate_problem(path, root)
        if problem:
            problems.append(ConfigProblem(source, key, f"{problem} (got {name!r})"))
        paths.append(path)
    return tuple(paths)


def _certificate_problem(path: Path, root: Path) -> str | None:
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        return "leads outside the partners directory"
    if not resolved.is_file():
        return f"no such file: {path}"
    try:
        data = resolved.read_bytes()
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if b"PRIVATE KEY" in data:
        return "holds a private key: only public certificates belong with partner profiles"
    try:
        if b"-----BEGIN" in data:
            x509.load_pem_x509_certificates(data)
        else:
            x509.load_der_x509_certificate(data)
    except ValueError:
        return "is not an X.509 certificate (PEM or DER)"
    return None


class PartnerRegistry:
    """Validated partner profiles and lookups by id and by interchange identity.

    Identity lookups (``by_x12``, ``by_edifact``, ``by_as2``) answer "who is sending?" and
    skip inactive partners unless ``include_inactive=True``; ``get`` returns any profile.
    """

    def __init__(
        self, profiles: Iterable[PartnerProfile] = (), *, directory: Path | None = None
    ) -> None:
        """A registry of ``profiles`` built in code; conflicts raise ``PartnerConfigError``."""
        problems: list[ConfigProblem] = []
        index = _build_index([(_MEMORY, p) for p in profiles], directory, problems)
        if problems:
            raise PartnerConfigError(problems)
        self._index = index
        self._directory = directory

    @classmethod
    def load(cls, directory: Path) -> PartnerRegistry:
        """Every ``*.toml`` file of ``directory`` (hidden files skipped), validated together.

        Raises ``PartnerConfigError`` listing every problem of every file.
        """
        if not directory.is_dir():
            raise PartnerConfigError(
                [ConfigProblem(str(directory), "", "is not a directory of partner profiles")])
        problems: list[ConfigProblem] = []
        entries: list[tuple[str, PartnerProfile]] = []
        for path in sorted(directory.glob("*.toml")):
            if path.name.startswith("."):
                continue
            profile, found = _read_profile(path)
            problems += found
            if profile is not None:
                entries.append((str(path), profile))
        index = _build_index(entries, directory, problems)
        if problems:
            raise PartnerConfigError(problems)
        registry = cls.__new__(cls)
        registry._index = index
        registry._directory = directory
        return registry

    @property
    def directory(self) -> Path | None:
        """The directory the profiles came from (``None`` for a registry built in code)."""
        return self._directory

    def get(self, partner_id: str) -> PartnerProfile | None:
        """The profile with ``id`` ``partner_id``, active or not, or ``None``."""
        return self._index.by_id.get(partner_id)

    def guide(self, partner_id: str, document_type: str) -> ImplementationGuide | None:
        """The partner's implementation guide for ``document_type`` (ST01 or UNH 0065)."""
        return self._index.guides.get((partner_id, document_type))

    def guides(self, partner_id: str) -> dict[str, ImplementationGuide]:
        """Every guide of the partner, by document type."""
        return {document_type: guide for (owner, document_type), guide
                in self._index.guides.items() if owner == partner_id}

    def all(self) -> tuple[PartnerProfile, ...]:
        """Every profile, active or not, ordered by id."""
        return tuple(self._index.by_id[key] for key in sorted(self._index.by_id))

    def by_x12(
        self, qualifier: str, sender_id: str, *, include_inactive: bool = False
    ) -> PartnerProfile | None:
        """The partner whose ``[x12]`` qualifier and id, or one of its ``accept_ids``, is
        ISA05/ISA06, after stripping the padding spaces."""
        found = self._index.x12.get((qualifier.strip(), sender_id.strip()))
        return self._visible(found, include_inactive)

    def by_edifact(
        self, sender_id: str, qualifier: str | None = None, *, include_inactive: bool = False
    ) -> PartnerProfile | None:
        """The partner whose ``[edifact] id`` is UNB S002.0004 ``sender_id``.

        When ``qualifier`` (S002.0007) is given and the profile names a qualifier, they must
        be equal; ``None`` leaves the qualifier unchecked.
        """
        found = self._index.edifact.get(sender_id.strip())
        if (
            found is not None
            and qualifier is not None
            and found.edifact is not None
            and found.edifact.qualifier is not None
            and found.edifact.qualifier != qualifier.strip()
        ):
            return None
        return self._visible(found, include_inactive)

    def by_as2(self, as2_id: str, *, include_inactive: bool = False) -> PartnerProfile | None:
        """The partner whose ``[as2] as2_id`` is exactly ``as2_id`` (an AS2-From header)."""
        return self._visible(self._index.as2.get(as2_id), include_inactive)

    def by_sftp_login(self, user: str, *, include_inactive: bool = False
                      ) -> PartnerProfile | None:
        """The partner whose ``[sftp_inbox]`` login (``user``, else its id) is exactly
        ``user``."""
        return self._visible(self._index.sftp_logins.get(user), include_inactive)

    def certificate_paths(self, partner_id: str) -> tuple[Path, ...]:
        """The partner's ``[as2] certificates`` as paths under ``directory``, checked at load.

        Empty for a partner without certificates and for a registry without a directory.
        """
        return self._index.certificates.get(partner_id, ())

    def __len__(self) -> int:
        return len(self._index.by_id)

    def __contains__(self, partner_id: object) -> bool:
        return partner_id in self._index.by_id

    def __iter__(self) -> Iterator[PartnerProfile]:
        return iter(self.all())

    def __repr__(self) -> str:
        where = f" from {str(self._directory)!r}" if self._directory is not None else ""
        return f"<PartnerRegistry{where}: {len(self)} partners>"

    @staticmethod
    def _visible(found: PartnerProfile | None, include_inactive: bool) -> PartnerProfile | None:
        if found is None or (not found.active and not include_inactive):
            return None
        return found
