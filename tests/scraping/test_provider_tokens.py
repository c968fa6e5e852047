"""The callback token: HS256 with a purpose-derived key, 24 hours, our audience, nothing else."""

from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone

from scraping.provider.tokens import (
    AUDIENCE,
    CallbackTokenInvalid,
    callback_signing_key,
    callback_token_issue,
    callback_token_verify,
)


def claims(**overrides) -> dict:
    now = timezone.now()
    return {"aud": AUDIENCE, "iat": now, "exp": now + timedelta(hours=1)} | overrides


def our_key(settings) -> bytes:
    return callback_signing_key(settings.SECRET_KEY)


def assert_refused(token: str, reason: str | None = None) -> None:
    with pytest.raises(CallbackTokenInvalid, match=reason):
        callback_token_verify(token)


def test_a_token_it_issued_is_accepted_for_24_hours():
    verified = callback_token_verify(callback_token_issue())

    assert verified["aud"] == AUDIENCE
    assert verified["exp"] - verified["iat"] == 24 * 3600


def test_a_token_is_signed_with_hs256():
    assert jwt.get_unverified_header(callback_token_issue())["alg"] == "HS256"


def test_an_expired_token_is_refused():
    yesterday = timezone.now() - timedelta(hours=24, seconds=5)

    assert_refused(callback_token_issue(now=yesterday), "ExpiredSignature")


def test_a_token_signed_with_another_secret_is_refused():
    token = jwt.encode(claims(), callback_signing_key("another-deployments-secret"), "HS256")

    assert_refused(token, "signature")


def test_a_token_signed_with_the_bare_secret_key_is_refused(settings):
    # The key is derived for this purpose; SECRET_KEY itself signs other things.
    assert_refused(jwt.encode(claims(), settings.SECRET_KEY, "HS256"), "signature")


def test_an_unsigned_token_is_refused():
    assert_refused(jwt.encode(claims(), None, algorithm="none"), "alg")


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_an_hs512_token_with_the_right_key_is_refused(settings):
    assert_refused(jwt.encode(claims(), our_key(settings), algorithm="HS512"), "alg")


def test_an_rs256_token_is_refused():
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    assert_refused(jwt.encode(claims(), private_key, algorithm="RS256"), "alg")


def test_a_token_for_another_audience_is_refused(settings):
    token = jwt.encode(claims(aud="watchprice-password-reset"), our_key(settings), "HS256")

    assert_refused(token, "Audience")


@pytest.mark.parametrize("claim", ["exp", "iat", "aud"])
def test_a_token_without_a_required_claim_is_refused(settings, claim):
    token = jwt.encode(
        {k: v for k, v in claims().items() if k != claim}, our_key(settings), "HS256"
    )

    assert_refused(token, claim)


def test_a_tampered_token_is_refused():
    header, payload, signature = callback_token_issue().split(".")
    longer = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b'"exp":', b'"exp":9')
    ).decode()

    assert_refused(f"{header}.{longer}.{signature}", "signature")


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_garbage_is_refused(token):
    assert_refused(token)


def test_a_token_from_before_a_secret_key_rotation_is_still_accepted(settings):
    token = callback_token_issue()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50

    assert callback_token_verify(token)["aud"] == AUDIENCE


def test_a_token_signed_with_a_retired_secret_key_is_refused(settings):
    token = callback_token_issue()
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = []

    assert_refused(token, "signature")
