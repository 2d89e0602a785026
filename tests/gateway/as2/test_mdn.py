"""gateway.as2.mdn: building and strictly judging MDNs."""

from __future__ import annotations

import pytest

from gateway.as2 import MIC, AS2Failure, MDNParseError, build_mdn, build_reply_mdn, parse_mdn

GOOD_MIC = MIC("ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=", "sha-256")


def _mdn(parties, *, signer=None, disposition="processed", mic=GOOD_MIC, micalg="sha-256"):
    return build_mdn(
        original_message_id="<orig-1@edigate>",
        as2_from="ACME",
        as2_to="EDIGATE",
        disposition=disposition,
        description="Received.\nThank you.",
        mic=mic,
        sign_with=signer,
        micalg=micalg,
    )


def _parse(parties, mdn, **kw):
    options = {
        "partner_certificates": (parties.partner.certificate,),
        "expected_message_id": "orig-1@edigate",
        "expected_mic": GOOD_MIC,
    }
    options.update(kw)
    return parse_mdn(mdn.headers, mdn.body, **options)


@pytest.mark.parametrize("signed", [False, True])
def test_round_trip(parties, signed):
    """An MDN we build parses back as a clean receipt with its MIC and description."""
    mdn = _mdn(parties, signer=parties.partner.identity if signed else None)
    result = _parse(parties, mdn)
    assert result.ok, result.problems
    assert result.signed is signed
    assert result.signature_valid is (True if signed else None)
    assert result.mic_matches is True
    assert result.original_message_id == "orig-1@edigate"
    assert result.disposition == "automatic-action/MDN-sent-automatically; processed"
    assert result.description == "Received.\r\nThank you."
    if signed:
        assert result.signer_fingerprint is not None
        assert "micalg=sha-256" in mdn.headers["Content-Type"]


def test_mic_spelling_does_not_matter(parties):
    """sha256 and sha-256 name the same MIC algorithm when comparing."""
    mdn = _mdn(parties, mic=MIC(GOOD_MIC.value, "sha256"))
    assert _parse(parties, mdn).mic_matches is True


def test_wrong_mic_is_a_failure(parties):
    """A Received-Content-MIC that differs from the expected one makes the result not ok."""
    mdn = _mdn(parties, mic=MIC("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "sha-256"))
    result = _parse(parties, mdn)
    assert not result.ok and result.mic_matches is False


def test_missing_mic_is_a_failure_when_one_is_expected(parties):
    """A processed MDN without Received-Content-MIC is not ok when we expect a MIC."""
    result = _parse(parties, _mdn(parties, mic=None))
    assert not result.ok and result.mic_matches is False


def test_tampered_signed_mdn_is_a_failure(parties):
    """A changed byte in a signed MDN's report is an invalid signature, reported, not raised."""
    mdn = _mdn(parties, signer=parties.partner.identity)
    body = mdn.body.replace(b"Received.", b"Rejected.", 1)
    result = parse_mdn(
        mdn.headers,
        body,
        partner_certificates=(parties.partner.certificate,),
        expected_message_id="orig-1@edigate",
        expected_mic=GOOD_MIC,
    )
    assert result.signature_valid is False and not result.ok


def test_mdn_signed_by_unknown_certificate_is_a_failure(parties):
    """A signed MDN from a certificate not in the partner's list is not ok."""
    result = _parse(parties, _mdn(parties, signer=parties.stranger.identity))
    assert result.signature_valid is False
    assert any("not one of" in problem for problem in result.problems)


def test_unsigned_mdn_when_signed_required(parties):
    """An unsigned MDN is not ok when a signed one was requested."""
    result = _parse(parties, _mdn(parties), require_signed=True)
    assert not result.ok


def test_other_original_message_id(parties):
    """An MDN answering another message is not ok."""
    result = _parse(parties, _mdn(parties), expected_message_id="<other@edigate>")
    assert not result.ok


def test_error_disposition_is_parsed(parties):
    """An error MDN yields its type and modifier and is not ok."""
    result = _parse(parties, _mdn(parties, disposition="decryption-failed", mic=None))
    assert result.disposition_type == "processed"
    assert result.modifier == "error: decryption-failed"
    assert not result.ok
    assert result.mic_matches is None


def test_warning_disposition_is_ok(parties):
    """A processed/warning MDN is a receipt (RFC 4130 §7.4.3) and stays ok."""
    result = _parse(parties, _mdn(parties, disposition="warning: duplicate-document"))
    assert result.modifier == "warning: duplicate-document"
    assert result.ok


def test_reply_to_failure_uses_its_modifier(parties):
    """build_reply_mdn turns an AS2Failure into processed/error with its description."""
    headers = {
        "Message-ID": "<m1@acme>",
        "AS2-From": "ACME",
        "AS2-To": "EDIGATE",
        "Disposition-Notification-To": "x",
        "Disposition-Notification-Options": "signed-receipt-protocol=optional, pkcs7-signature; "
        "signed-receipt-micalg=optional, sha1",
    }
    failure = AS2Failure("authentication-failed", "signed by a stranger", message_id="m1@acme")
    mdn = build_reply_mdn(headers, ours=parties.us.identity, outcome=failure)
    assert mdn is not None and "micalg=sha1" in mdn.headers["Content-Type"]
    result = parse_mdn(
        mdn.headers,
        mdn.body,
        partner_certificates=(parties.us.certificate,),
        expected_message_id="m1@acme",
        expected_mic=None,
    )
    assert result.modifier == "error: authentication-failed"
    assert "signed by a stranger" in result.description
    assert result.signature_valid is True
    assert build_reply_mdn({"Message-ID": "<x>"}, ours=parties.us.identity, outcome=failure) is None


def test_failure_kind_disposition(parties):
    """'failure: ...' is written as failed/failure (RFC 4130 §7.5.3)."""
    mdn = _mdn(parties, disposition="failure: unsupported MIC-algorithms", mic=None)
    result = _parse(parties, mdn)
    assert result.disposition_type == "failed"
    assert result.modifier == "failure: unsupported MIC-algorithms"


def test_unknown_disposition_is_refused_when_building(parties):
    """build_mdn refuses a disposition it cannot express."""
    with pytest.raises(ValueError, match="disposition"):
        _mdn(parties, disposition="fine")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b"hello"),
        ("multipart/report; report-type=disposition-notification; boundary=b", b"--b\r\n"),
        ("multipart/report; report-type=delivery-status; boundary=b", b"--b\r\n\r\nx\r\n--b--"),
        (
            "multipart/report; report-type=disposition-notification; boundary=b",
            b"--b\r\n\r\nx\r\n--b--",
        ),
    ],
)
def test_not_an_mdn_raises_parse_error(parties, content_type, body):
    """Bodies that are not disposition-notification reports raise MDNParseError."""
    with pytest.raises(MDNParseError):
        parse_mdn(
            {"Content-Type": content_type},
            body,
            partner_certificates=(),
            expected_message_id=None,
            expected_mic=None,
        )
