"""The partner registry: the demo profiles load, every kind of bad profile is reported with its
file and key (all problems at once), and lookups by X12, EDIFACT and AS2 identity."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

import partners
from partners import (
    EncryptionAlgorithm,
    PartnerConfigError,
    PartnerProfile,
    PartnerRegistry,
    SigningAlgorithm,
    load_profile,
)

DEMO = Path(__file__).resolve().parents[2] / "partners"
CERT = Path(__file__).resolve().parent / "data" / "example-partner.pem"

X12_PARTNER = """
    id = "{id}"
    name = "Partner {id}"

    [x12]
    qualifier = "ZZ"
    id = "{x12_id}"
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def x12_partner(directory: Path, name: str, partner_id: str, x12_id: str, extra: str = "") -> Path:
    return write(directory, name, X12_PARTNER.format(id=partner_id, x12_id=x12_id) + extra)


def problems_of(directory: Path) -> list[str]:
    """The problems ``PartnerRegistry.load`` reports for ``directory``, as strings."""
    with pytest.raises(PartnerConfigError) as caught:
        PartnerRegistry.load(directory)
    return [str(problem) for problem in caught.value.problems]


# -- the demo partners ------------------------------------------------------------------------


def test_demo_directory_loads() -> None:
    """The three reviewed demo profiles load with the identities and preferences they document."""
    registry = PartnerRegistry.load(DEMO)
    assert [p.id for p in registry.all()] == ["acme-retail", "globex-distribution", "initech-eu"]

    acme = registry.get("acme-retail")
    assert acme is not None and acme.x12 is not None
    assert (acme.x12.qualifier, acme.x12.id, acme.x12.ack, acme.x12.version) == (
        "ZZ", "ACMERETAIL", "997", "004010")
    assert acme.transactions == ("850", "860")

    globex = registry.get("globex-distribution")
    assert globex is not None and globex.x12 is not None
    assert (globex.x12.qualifier, globex.x12.id, globex.x12.ack) == ("01", "123456789", "999")
    assert globex.x12.version == "005010"
    assert set(globex.transactions) == {"856", "810"}

    initech = registry.get("initech-eu")
    assert initech is not None and initech.edifact is not None and initech.x12 is None
    assert (initech.edifact.qualifier, initech.edifact.id) == ("14", "5412345000013")
    assert initech.edifact.contrl == "errors"
    assert set(initech.transactions) == {"ORDERS", "INVOIC", "DESADV"}
    assert all(p.as2 is not None for p in registry.all())


def test_demo_lookups() -> None:
    """Each demo partner is found by its X12 pair (ISA-padded), EDIFACT id and AS2 name."""
    registry = PartnerRegistry.load(DEMO)
    found = registry.by_x12("ZZ", "ACMERETAIL     ")
    assert found is not None and found.id == "acme-retail"
    found = registry.by_x12("01", "123456789      ")
    assert found is not None and found.id == "globex-distribution"
    found = registry.by_edifact("5412345000013", "14")
    assert found is not None and found.id == "initech-eu"
    found = registry.by_as2("GLOBEX-DIST")
    assert found is not None and found.id == "globex-distribution"


def test_public_api_is_pinned() -> None:
    """``partners.__all__`` is exactly the reviewed list: changing it is an API change."""
    assert partners.__all__ == [
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
    assert all(getattr(partners, name) is not None for name in partners.__all__)


# -- validation errors name the file and the key ----------------------------------------------


def test_bad_slug(tmp_path: Path) -> None:
    """An id that is not a lowercase slug is reported at ``id`` in its file."""
    path = x12_partner(tmp_path, "acme.toml", "Acme_Retail", "ACME")
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{path}: id: must be a slug")
    assert "'Acme_Retail'" in problem


def test_bad_ack_value(tmp_path: Path) -> None:
    """An ``x12.ack`` outside the four choices names the file, the key path and the choices."""
    path = x12_partner(tmp_path, "acme.toml", "acme", "ACME", 'ack = "998"\n')
    assert problems_of(tmp_path) == [
        f"{path}: x12.ack: must be one of 997, 999, auto, none (got '998')"
    ]


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    """A misspelt key is an error at its key path, with the nearest allowed key suggested."""
    path = x12_partner(tmp_path, "acme.toml", "acme", "ACME", 'acks = "997"\n')
    assert problems_of(tmp_path) == [f"{path}: x12.acks: unknown key; did you mean 'ack'?"]


def test_unknown_top_level_key_lists_allowed_keys(tmp_path: Path) -> None:
    """An unknown key with no near match lists the keys allowed in that table."""
    path = write(tmp_path, "acme.toml", 'zzz = 1\n' + X12_PARTNER.format(id="acme", x12_id="A"))
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{path}: zzz: unknown key (allowed here: id, name, active,")


def test_missing_x12_and_edifact(tmp_path: Path) -> None:
    """A profile with neither an [x12] nor an [edifact] table is rejected, naming both keys."""
    path = write(tmp_path, "acme.toml", 'id = "acme"\nname = "Acme"\n')
    assert problems_of(tmp_path) == [
        f"{path}: x12/edifact: a profile needs an [x12] or an [edifact] table (or both)"
    ]


def test_missing_required_keys(tmp_path: Path) -> None:
    """Missing required keys are each reported as required, at their key path."""
    path = write(tmp_path, "acme.toml", '[x12]\nqualifier = "ZZ"\n')
    assert problems_of(tmp_path) == [
        f"{path}: id: is required",
        f"{path}: name: is required",
        f"{path}: x12.id: is required",
    ]


def test_3des_needs_allow_3des(tmp_path: Path) -> None:
    """``3des`` in ``as2.encrypt`` is refused unless ``allow_3des = true`` is set beside it."""
    as2 = '\n[as2]\nas2_id = "ACME"\nencrypt = ["3des"]\n'
    path = x12_partner(tmp_path, "acme.toml", "acme", "ACME", as2)
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{path}: as2.encrypt: 3des is only allowed with allow_3des = true")

    path.write_text(path.read_text(encoding="utf-8") + "allow_3des = true\n", encoding="utf-8")
    profile = PartnerRegistry.load(tmp_path).get("acme")
    assert profile is not None and profile.as2 is not None
    assert profile.as2.encrypt == (EncryptionAlgorithm.TRIPLE_DES,)


def test_weak_algorithms_are_not_defaults() -> None:
    """Without explicit lists, AS2 accepts neither SHA-1 nor triple DES."""
    profile = PartnerProfile.model_validate(
        {"id": "a", "name": "A", "x12": {"qualifier": "ZZ", "id": "A"}, "as2": {"as2_id": "A"}}
    )
    assert profile.as2 is not None
    assert SigningAlgorithm.SHA1 not in profile.as2.sign
    assert EncryptionAlgorithm.TRIPLE_DES not in profile.as2.encrypt


def test_unknown_algorithm(tmp_path: Path) -> None:
    """An algorithm outside the allow-list is reported at its list position with the choices."""
    as2 = '\n[as2]\nas2_id = "ACME"\nsign = ["sha256", "md5"]\n'
    path = x12_partner(tmp_path, "acme.toml", "acme", "ACME", as2)
    assert problems_of(tmp_path) == [
        f"{path}: as2.sign[1]: must be one of sha1, sha256, sha384, sha512 (got 'md5')"
    ]


def test_micalg_accepts_both_spellings(tmp_path: Path) -> None:
    """``sha-384`` (RFC 5751) and ``sha384`` name the same digest in the profile."""
    as2 = '\n[as2]\nas2_id = "ACME"\nsign = ["sha-384"]\n[as2.mdn]\nmicalg = "sha-384"\n'
    x12_partner(tmp_path, "acme.toml", "acme", "ACME", as2)
    profile = PartnerRegistry.load(tmp_path).get("acme")
    assert profile is not None and profile.as2 is not None
    assert profile.as2.sign == (SigningAlgorithm.SHA384,)
    assert profile.as2.mdn.micalg is SigningAlgorithm.SHA384


def test_micalg_must_be_an_allowed_digest(tmp_path: Path) -> None:
    """A signed-MDN micalg that ``as2.sign`` does not allow is reported at ``as2.mdn.micalg``."""
    as2 = '\n[as2]\nas2_id = "ACME"\nsign = ["sha512"]\n'
    path = x12_partner(tmp_path, "acme.toml", "acme", "ACME", as2)
    assert problems_of(tmp_path) == [
        f"{path}: as2.mdn.micalg: sha256 is not one of as2.sign (sha512)"
    ]


def test_ack_as_toml_integer_is_read_as_string(tmp_path: Path) -> None:
    """``ack = 999`` (unquoted) means the same as ``ack = "999"``."""
    x12_partner(tmp_path, "acme.toml", "acme", "ACME", "ack = 999\n")
    profile = PartnerRegistry.load(tmp_path).get("acme")
    assert profile is not None and profile.x12 is not None and profile.x12.ack == "999"


def test_version_must_be_a_quoted_string(tmp_path: Path) -> None:
    """An unquoted GS08 version (leading zeros lost) is refused rather than guessed."""
    path = x12_partner(tmp_path, "acme.toml", "acme", "ACME", "version = 4010\n")
    assert problems_of(tmp_path) == [f"{path}: x12.version: must be a string (got 4010)"]


def test_transaction_needs_its_standard(tmp_path: Path) -> None:
    """An EDIFACT message type in ``transactions`` of an X12-only partner is an error there."""
    text = 'transactions = ["850", "ORDERS"]\n' + X12_PARTNER.format(id="acme", x12_id="A")
    path = write(tmp_path, "acme.toml", text)
    assert problems_of(tmp_path) == [
        f"{path}: transactions[1]: ORDERS is an EDIFACT message but the profile has no "
        "[edifact] table"
    ]


def test_accepts_checks_transactions(tmp_path: Path) -> None:
    """``accepts`` allows listed transactions only, and anything when the list is empty."""
    x12_partner(tmp_path, "a.toml", "a", "A")
    text = 'transactions = ["850"]\n' + X12_PARTNER.format(id="b", x12_id="B")
    write(tmp_path, "b.toml", text)
    registry = PartnerRegistry.load(tmp_path)
    a, b = registry.get("a"), registry.get("b")
    assert a is not None and b is not None
    assert a.accepts("810") and b.accepts("850") and not b.accepts("810")


def test_x12_identity_padding_is_refused(tmp_path: Path) -> None:
    """An X12 id written with its ISA padding, or a qualifier outside I05, is refused."""
    path = write(tmp_path, "acme.toml", X12_PARTNER.format(id="acme", x12_id="ACME  ")
                 .replace('"ZZ"', '"XX"'))
    problems = problems_of(tmp_path)
    assert [p.split(": ")[1] for p in problems] == ["x12.qualifier", "x12.id"]
    assert all(p.startswith(f"{path}: ") for p in problems)


def test_invalid_toml(tmp_path: Path) -> None:
    """A file that is not TOML is reported with the parser's location."""
    path = write(tmp_path, "acme.toml", 'id = "acme\n')
    [problem] = problems_of(tmp_path)
    assert problem.startswith(f"{path}: is not valid TOML:")
    assert "line 1" in problem


def test_not_utf8(tmp_path: Path) -> None:
    """A file that is not UTF-8 is reported as such, not as a crash."""
    path = tmp_path / "acme.toml"
    path.write_bytes(b'name = "Acme \xff"\n')
    assert problems_of(tmp_path) == [f"{path}: is not UTF-8 text (byte 13)"]


def test_missing_directory(tmp_path: Path) -> None:
    """A partners directory that does not exist is a configuration error, not an empty registry."""
    assert problems_of(tmp_path / "nope") == [
        f"{tmp_path / 'nope'}: is not a directory of partner profiles"
    ]


def test_hidden_and_other_files_are_ignored(tmp_path: Path) -> None:
    """Only visible ``*.toml`` files are profiles: editor backups and other files are skipped."""
    x12_partner(tmp_path, "a.toml", "a", "A")
    write(tmp_path, ".a.toml", "broken = ")
    write(tmp_path, "notes.md", "# not a profile")
    assert [p.id for p in PartnerRegistry.load(tmp_path).all()] == ["a"]


def test_load_profile_reports_one_file(tmp_path: Path) -> None:
    """``load_profile`` validates a single file and raises with all of its problems."""
    path = x12_partner(tmp_path, "acme.toml", "acme", "ACME")
    assert load_profile(path).id == "acme"
    write(tmp_path, "bad.toml", 'id = "X"\n')
    with pytest.raises(PartnerConfigError) as caught:
        load_profile(tmp_path / "bad.toml")
    assert [p.key for p in caught.value.problems] == ["id", "name"]


# -- conflicts between files ---------------------------------------------------------------


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    """Two files with the same id: the later file is reported at ``id``, naming the earlier."""
    first = x12_partner(tmp_path, "a.toml", "acme", "ONE")
    second = x12_partner(tmp_path, "b.toml", "acme", "TWO")
    assert problems_of(tmp_path) == [f"{second}: id: 'acme' is already the id of {first}"]


def test_duplicate_x12_identity(tmp_path: Path) -> None:
    """Two partners claiming one ISA qualifier+id: reported at ``x12.id`` naming the owner."""
    first = x12_partner(tmp_path, "a.toml", "acme", "SAME")
    second = x12_partner(tmp_path, "b.toml", "other", "SAME")
    assert problems_of(tmp_path) == [
        f"{second}: x12.id: X12 identity ZZ:SAME is already claimed by {first} (partner 'acme')"
    ]


def test_accept_ids_clash_with_another_partner(tmp_path: Path) -> None:
    """An ``accept_ids`` pair that is another partner's main pair is reported at its position."""
    first = x12_partner(tmp_path, "a.toml", "acme", "ACME")
    extra = 'accept_ids = [{ qualifier = "01", id = "1" }, { qualifier = "ZZ", id = "ACME" }]\n'
    second = x12_partner(tmp_path, "b.toml", "other", "OTHER", extra)
    assert problems_of(tmp_path) == [
        f"{second}: x12.accept_ids[1]: X12 identity ZZ:ACME is already claimed by {first} "
        "(partner 'acme')"
    ]


def test_duplicate_edifact_and_as2_identities(tmp_path: Path) -> None:
    """EDIFACT ids clash whatever the qualifier, and AS2 names clash ignoring case."""
    first = write(tmp_path, "a.toml", """
        id = "a"
        name = "A"
        [edifact]
        qualifier = "14"
        id = "5412345000013"
        [as2]
        as2_id = "PartnerA"
    """)
    second = write(tmp_path, "b.toml", """
        id = "b"
        name = "B"
        [edifact]
        qualifier = "ZZZ"
        id = "5412345000013"
        [as2]
        as2_id = "PARTNERA"
    """)
    assert problems_of(tmp_path) == [
        f"{second}: edifact.id: EDIFACT id 5412345000013 is already claimed by {first} "
        "(partner 'a')",
        f"{second}: as2.as2_id: AS2 id 'PARTNERA' is already claimed by {first} (partner 'a') "
        "as 'PartnerA' (AS2 ids differing only in case)",
    ]


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    """Problems of several files and several keys arrive together, in file order."""
    a = x12_partner(tmp_path, "a.toml", "Bad Slug", "A", 'ack = "1000"\ncolour = "red"\n')
    b = write(tmp_path, "b.toml", 'id = "b"\nname = "B"\n')
    c = x12_partner(tmp_path, "c.toml", "c", "SAME")
    d = x12_partner(tmp_path, "d.toml", "c", "SAME")
    with pytest.raises(PartnerConfigError) as caught:
        PartnerRegistry.load(tmp_path)
    found = [(p.source, p.key) for p in caught.value.problems]
    assert found == [
        (str(a), "id"),
        (str(a), "x12.ack"),
        (str(a), "x12.colour"),
        (str(b), "x12/edifact"),
        (str(d), "id"),
    ]
    assert str(caught.value).startswith("5 problems in partner profiles:\n  ")
    assert c.exists()


def test_registry_built_in_code_checks_conflicts() -> None:
    """Profiles handed to the constructor are checked for conflicts like loaded files."""
    data = {"name": "A", "x12": {"qualifier": "ZZ", "id": "SAME"}}
    one = PartnerProfile.model_validate({"id": "one", **data})
    two = PartnerProfile.model_validate({"id": "two", **data})
    assert len(PartnerRegistry([one])) == 1
    with pytest.raises(PartnerConfigError, match=r"<memory>: x12.id: X12 identity ZZ:SAME"):
        PartnerRegistry([one, two])


# -- lookups ---------------------------------------------------------------------------------


def test_by_x12_matches_exactly_after_stripping(tmp_path: Path) -> None:
    """ISA padding is stripped, but qualifier and id must otherwise match exactly."""
    x12_partner(tmp_path, "acme.toml", "acme", "ACME")
    registry = PartnerRegistry.load(tmp_path)
    found = registry.by_x12(" ZZ", "ACME           ")
    assert found is not None and found.id == "acme"
    assert registry.by_x12("01", "ACME") is None
    assert registry.by_x12("ZZ", "acme") is None
    assert registry.by_x12("ZZ", "ACME2") is None


def test_by_x12_finds_accept_ids(tmp_path: Path) -> None:
    """Every ``accept_ids`` pair finds the partner, and outbound identity stays the main pair."""
    extra = (
        'accept_ids = [{ qualifier = "01", id = "004567891" },'
        ' { qualifier = "12", id = "5551234567" }]\n'
    )
    x12_partner(tmp_path, "acme.toml", "acme", "ACME", extra)
    registry = PartnerRegistry.load(tmp_path)
    for qualifier, sender in [("ZZ", "ACME"), ("01", "004567891"), ("12", "5551234567 ")]:
        found = registry.by_x12(qualifier, sender)
        assert found is not None and found.id == "acme", (qualifier, sender)
    assert registry.by_x12("ZZ", "004567891") is None
    found = registry.get("acme")
    assert found is not None and found.x12 is not None
    assert str(found.x12.primary) == "ZZ:ACME"
    assert [str(i) for i in found.x12.identities] == ["ZZ:ACME", "01:004567891", "12:5551234567"]


def test_accept_ids_may_not_repeat_the_main_pair(tmp_path: Path) -> None:
    """Listing the main pair again in ``accept_ids`` is reported at that position."""
    extra = 'accept_ids = [{ qualifier = "ZZ", id = "ACME" }]\n'
    path = x12_partner(tmp_path, "acme.toml", "acme", "ACME", extra)
    assert problems_of(tmp_path) == [
        f"{path}: x12.accept_ids[0]: ZZ:ACME is already the partner's qualifier and id"
    ]


def test_by_edifact_checks_a_pinned_qualifier(tmp_path: Path) -> None:
    """A profile naming a UNB qualifier matches only that qualifier; without one, any."""
    write(tmp_path, "a.toml", 'id = "a"\nname = "A"\n[edifact]\nqualifier = "14"\nid = "111"\n')
    write(tmp_path, "b.toml", 'id = "b"\nname = "B"\n[edifact]\nid = "222"\n')
    registry = PartnerRegistry.load(tmp_path)
    assert [registry.by_edifact("111", q) is not None for q in ("14", None, "ZZZ")] == [
        True, True, False]
    assert [registry.by_edifact("222", q) is not None for q in ("14", None, "ZZZ")] == [
        True, True, True]
    assert registry.by_edifact("333") is None


def test_by_as2_is_exact(tmp_path: Path) -> None:
    """AS2 names are looked up exactly as configured."""
    x12_partner(tmp_path, "acme.toml", "acme", "ACME", '\n[as2]\nas2_id = "Acme AS2"\n')
    registry = PartnerRegistry.load(tmp_path)
    found = registry.by_as2("Acme AS2")
    assert found is not None and found.id == "acme"
    assert registry.by_as2("ACME AS2") is None
    assert registry.by_as2("ACME") is None


def test_inactive_partner_is_hidden_from_identity_lookups(tmp_path: Path) -> None:
    """An inactive partner is not found by identity (its traffic is refused) but ``get`` sees it."""
    text = "active = false\n" + X12_PARTNER.format(id="acme", x12_id="ACME")
    write(tmp_path, "acme.toml", text + '\n[as2]\nas2_id = "ACME"\n')
    registry = PartnerRegistry.load(tmp_path)
    assert registry.by_x12("ZZ", "ACME") is None
    assert registry.by_as2("ACME") is None
    found = registry.by_x12("ZZ", "ACME", include_inactive=True)
    assert found is not None and not found.active
    assert registry.get("acme") is found
    assert "acme" in registry and len(registry) == 1


def test_profiles_are_immutable() -> None:
    """A loaded profile cannot be changed in place."""
    profile = PartnerRegistry.load(DEMO).get("acme-retail")
    assert profile is not None
    with pytest.raises(ValueError, match="frozen"):
        profile.active = False  # type: ignore[misc]
    assert isinstance(profile.transactions, tuple)


# -- certificates ----------------------------------------------------------------------------


def with_certificate(tmp_path: Path, certificates: str) -> Path:
    return x12_partner(
        tmp_path, "acme.toml", "acme", "ACME",
        f'\n[as2]\nas2_id = "ACME"\ncertificates = [{certificates}]\n')


def test_certificate_files_are_checked_and_resolved(tmp_path: Path) -> None:
    """A public certificate file beside the profiles loads, and its path is handed out."""
    (tmp_path / "certs").mkdir()
    shutil.copy(CERT, tmp_path / "certs" / "acme.pem")
    with_certificate(tmp_path, '"certs/acme.pem"')
    registry = PartnerRegistry.load(tmp_path)
    assert registry.certificate_paths("acme") == (tmp_path / "certs" / "acme.pem",)
    assert registry.certificate_paths("nobody") == ()


def test_certificate_problems(tmp_path: Path) -> None:
    """Missing, private-key, non-certificate and escaping files are each reported by position."""
    (tmp_path / "key.pem").write_text(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", encoding="utf-8")
    (tmp_path / "junk.pem").write_text("hello\n", encoding="utf-8")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.pem"
    shutil.copy(CERT, outside)
    (tmp_path / "link.pem").symlink_to(outside)
    path = with_certificate(tmp_path, '"missing.pem", "key.pem", "junk.pem", "link.pem"')
    problems = problems_of(tmp_path)
    outside.unlink()
    assert problems == [
        f"{path}: as2.certificates[0]: no such file: {tmp_path / 'missing.pem'} "
        "(got 'missing.pem')",
        f"{path}: as2.certificates[1]: holds a private key: only public certificates belong "
        "with partner profiles (got 'key.pem')",
        f"{path}: as2.certificates[2]: is not an X.509 certificate (PEM or DER) "
        "(got 'junk.pem')",
        f"{path}: as2.certificates[3]: leads outside the partners directory (got 'link.pem')",
    ]


def test_inline_pem_and_absolute_paths_are_refused(tmp_path: Path) -> None:
    """Certificates are files inside the partners directory: no inline PEM, '..' or absolute."""
    path = with_certificate(
        tmp_path, '"""-----BEGIN CERTIFICATE-----\nMIIB\n""", "../x.pem", "/etc/ssl/x.pem"')
    problems = problems_of(tmp_path)
    assert [p.split(": ")[1] for p in problems] == [
        "as2.certificates[0]", "as2.certificates[1]", "as2.certificates[2]"]
    assert "inline PEM is not allowed" in problems[0]
    assert all(p.startswith(f"{path}: ") for p in problems)
