"""The token that authenticates the provider's callbacks: a JWT in the callback URL.

HS256 only, signed with a key derived from SECRET_KEY for this one purpose, so the token cannot
be confused with anything else SECRET_KEY signs (sessions, password resets). Valid for 24 hours:
the provider keeps results for at least that long, and calls back well within it. Tokens signed
with a key derived from a SECRET_KEY_FALLBACKS entry are still accepted while it is rotated out.
"""

from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.utils import timezone

AUDIENCE = "watchprice-provider-callback"
ALGORITHM = "HS256"
LIFETIME = timedelta(hours=24)
PURPOSE = b"watchprice/scraping.provider/callback-token/v1"


class CallbackTokenInvalid(Exception):
    """The callback token is missing, expired, forged or not one of ours. The message says why,
    for our logs only."""


def callback_signing_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(
        secret.encode()
    )


def callback_token_issue(*, now: datetime | None = None) -> str:
    issued = now or timezone.now()
    claims = {"aud": AUDIENCE, "iat": issued, "exp": issued + LIFETIME}
    return jwt.encode(claims, callback_signing_key(settings.SECRET_KEY), algorithm=ALGORITHM)


def callback_token_verify(token: str) -> dict:
    """The token's claims, or `CallbackTokenInvalid`."""
    if not token:
        raise CallbackTokenInvalid("no token")
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    for secret in secrets:
        try:
            return jwt.decode(
                token,
                callback_signing_key(secret),
                # The one algorithm we sign with: "none", RS256 (whose public key an attacker
                # could pass off as our HMAC secret) and every other HMAC are refused.
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["exp", "iat", "aud"]},
            )
        except jwt.InvalidSignatureError:
            continue
        except jwt.PyJWTError as exc:
            raise CallbackTokenInvalid(f"{type(exc).__name__}: {exc}") from None
    raise CallbackTokenInvalid("signature does not match")
