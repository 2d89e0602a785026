"""``[as2] receipt_urls``: the addresses an asynchronous MDN for a partner may go to.

Entries are checked when the profile loads (http/https, no user info, no fragment, ``*``
in the path only) and ``AS2Profile.allows_receipt_url`` matches a received
Receipt-Delivery-Option against them without letting a URL reach another host, port,
path segment or query.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from partners import AS2Profile, PartnerConfigError, PartnerRegistry

PROFILE = """
    id = "acme"
    name = "Acme"

    [x12]
    qualifier = "ZZ"
    id = "ACME"

    [as2]
    as2_id = "ACME"
    receipt_urls = {urls}
"""


def _load(directory: Path, urls: str) -> PartnerRegistry:
    (directory / "acme.toml").write_text(textwrap.dedent(PROFILE.format(urls=urls)),
                                         encoding="utf-8")
    return PartnerRegistry.load(directory)


def test_receipt_urls_load_and_default_to_none(tmp_path: Path) -> None:
    """Listed URLs load as given; a profile without the key allows no URL at all."""
    registry = _load(tmp_path, '["https://as2.acme.example/mdn", "https://as2.acme.example/r/*"]')
    acme = registry.get("acme")
    assert acme is not None and acme.as2 is not None
    assert acme.as2.receipt_urls == ("https://as2.acme.example/mdn",
                                     "https://as2.acme.example/r/*")
    bare = AS2Profile(as2_id="ACME")
    assert bare.receipt_urls == ()
    assert not bare.allows_receipt_url("https://as2.acme.example/mdn")


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://as2.acme.example/mdn", "must be an http:// or https:// URL"),
    ("https:///mdn", "must be an http:// or https:// URL"),
    ("mdn", "must be an http:// or https:// URL"),
    ("https://user:pw@as2.acme.example/mdn", "must not carry a user name or password"),
    ("https://as2.acme.example/mdn#x", "must not have a #fragment"),
    ("https://*.acme.example/mdn", "may have '*' in its path only"),
    ("https://as2.acme.example:*/mdn", "may have '*' in its path only"),
    ("https://as2.acme.example/mdn?to=*", "may have '*' in its path only"),
    ("https://as2.acme.example:99999/mdn", "has an invalid port"),
    ("https://as2.acme.example/m dn", "must be printable ASCII without spaces or backslashes"),
    ("https://as2.acme.example\\@evil/", "must be printable ASCII without spaces or backslashes"),
    ("https://as2.acme.example/mdn\u00e9", "must be printable ASCII without spaces or "
                                          "backslashes"),
    ("", "must be printable ASCII without spaces or backslashes"),
])
def test_bad_receipt_urls_are_reported_at_their_key(tmp_path: Path, url: str,
                                                    message: str) -> None:
    """Each malformed entry is a load error naming ``as2.receipt_urls[i]`` and the rule."""
    with pytest.raises(PartnerConfigError) as caught:
        _load(tmp_path, json.dumps(["https://as2.acme.example/ok", url]))
    [problem] = [str(p) for p in caught.value.problems]
    assert "as2.receipt_urls[1]: " + message in problem


def test_duplicates_are_refused() -> None:
    """The same URL twice is a mistake in a reviewed file."""
    with pytest.raises(ValidationError, match="more than once"):
        AS2Profile(as2_id="ACME", receipt_urls=("https://a.example/m", "https://a.example/m"))


EXACT = "https://as2.acme.example:8443/as2/mdn"
PATTERN = "https://as2.acme.example/mdn/*/receipt"


@pytest.mark.parametrize(("url", "allowed"), [
    (EXACT, True),
    ("HTTPS://AS2.Acme.Example:8443/as2/mdn", True),  # scheme and host ignore case
    ("https://as2.acme.example:8443/as2/MDN", False),  # the path does not
    ("https://as2.acme.example:8443/as2/mdn/", False),
    ("https://as2.acme.example/as2/mdn", False),  # another port
    ("https://as2.acme.example:8443/as2/mdn?x=1", False),
    ("https://as2.acme.example:8443/as2/mdn#x", False),
    ("http://as2.acme.example:8443/as2/mdn", False),
    ("https://as2.acme.example:8443@127.0.0.1/as2/mdn", False),
    ("https://as2.acme.example:8443/as2/mdn\x00", False),
    (" " + EXACT, False),
    ("https://as2.acme.example/mdn/order-1/receipt", True),
    ("https://as2.acme.example/mdn//receipt", False),  # "*" is at least one character
    ("https://as2.acme.example/mdn/a/b/receipt", False),  # ... within one segment
    ("https://as2.acme.example/mdn/a?b=/receipt", False),
    ("https://as2.acme.example/mdn/a#/receipt", False),
    ("https://as2.acme.example/mdn/a\\b/receipt", False),
    ("https://as2.acme.example.evil.example/mdn/a/receipt", False),
    ("https://as2.acme.example@evil.example/mdn/a/receipt", False),
    ("https://evil.example/https://as2.acme.example/mdn/a/receipt", False),
    ("", False),
])
def test_allows_receipt_url(url: str, allowed: bool) -> None:
    """Exact entries match only themselves (scheme and host ignoring case); a pattern's
    ``*`` stands for one or more characters inside one path segment, nothing else."""
    profile = AS2Profile(as2_id="ACME", receipt_urls=(EXACT, PATTERN))
    assert profile.allows_receipt_url(url) is allowed
