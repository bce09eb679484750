"""Who is voting: signed voter tokens from a host app, or anonymous browser ids.

A voter token is an HS256 JWT signed with the app's voter secret (SPEC §3):
``sub`` required; ``exp`` or ``iat`` required and tokens older than
``voter_token_max_age`` refused (60 s leeway), a token with only ``exp`` being
refused when it expires further ahead than that; ``aud``, when present, must be
the app id; optional ``email``, ``name`` and ``tier`` or ``weight``, and
``notify: true`` (the user asked to be emailed about what they vote for).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from msgspec import Struct

from bridge.settings import AppConfig, Settings

LEEWAY_SECONDS = 60
ANONYMOUS_ID_PATTERN = r"^[A-Za-z0-9_-]{8,128}$"
_ANONYMOUS_ID = re.compile(ANONYMOUS_ID_PATTERN)


class VoterError(Exception):
    """A voter the request cannot be accepted from; ``code`` is the API error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


ANONYMOUS_PREFIX = "anon:"


class Voter(Struct, frozen=True):
    """A verified voter: the key votes are unique by, and what the token says."""

    key: str
    weight: int = 1
    email: str | None = None
    name: str | None = None
    # The token's ``notify: true`` claim: email this user about what they vote for.
    notify: bool = False

    @property
    def anonymous(self) -> bool:
        """Whether only a browser's self-made id stands behind the votes."""
        return self.key.startswith(ANONYMOUS_PREFIX)


def voter_from_token(token: str, app: AppConfig, settings: Settings, *, now: datetime) -> Voter:
    """Verify a voter token for ``app``; VoterError (401 or 403) says why not."""
    import jwt  # PyJWT loads cryptography (~45 ms): only requests with a token pay for it

    secret = settings.secrets.get(app.voter_secret_env) if app.voter_secret_env else None
    if not secret:
        raise VoterError("forbidden", f"app {app.id!r} does not accept voter tokens")
    try:
        claims = _decode(token, secret, now)
    except jwt.InvalidSignatureError as error:
        if _signed_for_another_app(token, app, settings, now):
            raise VoterError("forbidden", "this voter token belongs to another app") from error
        raise VoterError("unauthorized", "voter token signature is not valid") from error
    except jwt.ExpiredSignatureError as error:
        raise VoterError("unauthorized", "voter token has expired") from error
    except jwt.InvalidTokenError as error:
        raise VoterError("unauthorized", f"voter token is not valid: {error}") from error
    return _voter(claims, app, settings, now)


def anonymous_voter(anonymous_id: str, app: AppConfig) -> Voter:
    """An anonymous browser id, where the app allows anonymous votes."""
    if not app.anonymous_votes:
        raise VoterError("forbidden", f"app {app.id!r} does not accept anonymous votes")
    if not _ANONYMOUS_ID.match(anonymous_id):
        raise VoterError("unauthorized", "anonymous_id must be 8-128 of A-Z, a-z, 0-9, _ and -")
    return Voter(key=ANONYMOUS_PREFIX + anonymous_id)


def _decode(token: str, secret: str, now: datetime) -> dict[str, Any]:
    import jwt

    # Expiry is checked here against ``now`` (not the wall clock), so tests and the
    # service agree on time; PyJWT checks the signature and the claims' types.
    claims: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        options={"require": ["sub"], "verify_exp": False, "verify_iat": False, "verify_aud": False},
    )
    exp = claims.get("exp")
    if exp is not None and now.timestamp() > _number(exp, "exp") + LEEWAY_SECONDS:
        raise jwt.ExpiredSignatureError("expired")
    return claims


def _voter(claims: dict[str, Any], app: AppConfig, settings: Settings, now: datetime) -> Voter:
    if "exp" not in claims and "iat" not in claims:
        raise VoterError("unauthorized", "voter token needs exp or iat")
    max_age = settings.server.voter_token_max_age
    if "iat" in claims:
        age = now.timestamp() - _number(claims["iat"], "iat")
        if age > max_age + LEEWAY_SECONDS:
            raise VoterError("unauthorized", "voter token is too old; mint a fresh one")
        if age < -LEEWAY_SECONDS:
            raise VoterError("unauthorized", "voter token was issued in the future")
    elif _number(claims["exp"], "exp") - now.timestamp() > max_age + LEEWAY_SECONDS:
        # Without iat, a token living longer than the maximum age would never age out.
        raise VoterError(
            "unauthorized", "voter token expires beyond voter_token_max_age; mint a shorter one"
        )
    audience = claims.get("aud")
    if audience is not None:
        audiences = audience if isinstance(audience, list) else [audience]
        if app.id not in audiences:
            raise VoterError("forbidden", "this voter token is for another app (aud)")
    subject = claims["sub"]
    if not isinstance(subject, str) or not 1 <= len(subject) <= 200:
        raise VoterError("unauthorized", "voter token sub must be a string of 1-200 characters")
    return Voter(
        key=f"user:{subject}",
        weight=_weight(claims, app),
        email=_text(claims.get("email"), 254),
        name=_text(claims.get("name"), 100),
        notify=claims.get("notify") is True,
    )


def _weight(claims: dict[str, Any], app: AppConfig) -> int:
    if "weight" in claims:
        weight = claims["weight"]
        if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
            raise VoterError("unauthorized", "voter token weight must be an integer 1-100")
        return weight
    tier = claims.get("tier")
    return app.tier_weights.get(tier, 1) if isinstance(tier, str) else 1


def _number(value: object, claim: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VoterError("unauthorized", f"voter token {claim} must be a number")
    return float(value)


def _text(value: object, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


def _signed_for_another_app(token: str, app: AppConfig, settings: Settings, now: datetime) -> bool:
    import jwt

    for other in settings.apps:
        if other.id == app.id or not other.voter_secret_env:
            continue
        secret = settings.secrets.get(other.voter_secret_env)
        if not secret or secret == settings.secrets.get(app.voter_secret_env or ""):
            continue
        try:
            _decode(token, secret, now)
        except jwt.InvalidTokenError:
            continue
        return True
    return False
