"""Who is calling: App JWTs, installation tokens and plain tokens.

The App's RSA key is generated once per process (2048-bit keygen costs tens of
milliseconds, too much for every test). Expiry is judged on the wall clock, because
clients sign JWTs with the wall clock even when a test steers the double's ``now``.
"""

from __future__ import annotations

import functools
import secrets
import string
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.github_double.state import User

AuthKind = Literal["jwt", "installation", "token"]
JWT_MAX_LIFETIME = 600  # GitHub refuses App JWTs whose exp - iat exceeds 10 minutes
CLOCK_SKEW = 60  # GitHub tolerates an iat up to a minute in the future
TOKEN_LIFETIME = 3600  # installation tokens last one hour


class AuthError(Exception):
    """401: the credentials are missing, malformed, forged or expired."""

    def __init__(self, message: str = "Bad credentials") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller; ``repos`` (lower-case full names) bounds what it sees."""

    kind: AuthKind
    actor: User | None = None
    repos: frozenset[str] = frozenset()
    installation_id: int | None = None
    expires_at: float | None = None  # epoch seconds; None: never

    def can_see(self, full_name: str) -> bool:
        """Whether this caller may read and write the repository ``owner/name``."""
        return full_name.lower() in self.repos


@functools.cache
def app_private_key() -> rsa.RSAPrivateKey:
    """The process-wide RSA key of the double's GitHub App."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def app_private_key_pem() -> str:
    """That key as PKCS#8 PEM, as GitHub hands it out."""
    return (
        app_private_key()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def _new_token(prefix: str) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(36))


class Credentials:
    """Tokens the double accepts, and JWT checks for its App."""

    def __init__(self, app_id: int) -> None:
        self.app_id = app_id
        self._tokens: dict[str, Principal] = {}
        self._lock = threading.Lock()

    def add_token(self, token: str, actor: User, repos: Iterable[str]) -> None:
        """Accept ``token`` (``token X`` or ``Bearer X``) for ``repos``, acting as ``actor``."""
        with self._lock:
            self._tokens[token] = Principal("token", actor, frozenset(r.lower() for r in repos))

    def issue_installation_token(
        self, installation_id: int, bot: User, repos: Iterable[str]
    ) -> tuple[str, float]:
        """A fresh ``ghs_`` token for the installation's repos and its expiry (epoch s)."""
        token = _new_token("ghs_")
        expires = time.time() + TOKEN_LIFETIME
        with self._lock:
            self._tokens[token] = Principal(
                "installation", bot, frozenset(repos), installation_id, expires
            )
        return token, expires

    def expire(self, token: str | None = None) -> None:
        """Expire one token, or every installation token when ``token`` is None."""
        with self._lock:
            for value, principal in list(self._tokens.items()):
                if value == token or (token is None and principal.kind == "installation"):
                    self._tokens[value] = Principal(
                        principal.kind,
                        principal.actor,
                        principal.repos,
                        principal.installation_id,
                        time.time() - 1,
                    )

    def authenticate(self, header: str | None) -> Principal | None:
        """The caller named by an ``Authorization`` header; None when there is none."""
        if not header:
            return None
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        if scheme.lower() not in ("bearer", "token") or not value:
            raise AuthError()
        if scheme.lower() == "bearer" and value.count(".") == 2 and value.startswith("eyJ"):
            return self._verify_jwt(value)
        with self._lock:
            principal = self._tokens.get(value)
        if principal is None:
            raise AuthError()
        if principal.expires_at is not None and principal.expires_at <= time.time():
            raise AuthError()
        return principal

    def _verify_jwt(self, token: str) -> Principal:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                app_private_key().public_key(),
                algorithms=["RS256"],
                # Time claims are checked below with GitHub's own rules and messages.
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["iat", "exp", "iss"],
                },
            )
        except jwt.PyJWTError as exc:
            raise AuthError("A JSON web token could not be decoded") from exc
        iat, exp, iss = claims["iat"], claims["exp"], claims["iss"]
        if str(iss) != str(self.app_id):
            raise AuthError("A JSON web token could not be decoded")
        if not isinstance(iat, int | float) or iat > time.time() + CLOCK_SKEW:
            raise AuthError(
                "'Issued at' claim ('iat') must be an Integer representing the time that "
                "the assertion was issued"
            )
        if not isinstance(exp, int | float) or exp <= time.time():
            raise AuthError(
                "'Expiration time' claim ('exp') must be a numeric value representing the "
                "future time at which the assertion expires"
            )
        if exp - iat > JWT_MAX_LIFETIME:
            raise AuthError("'Expiration time' claim ('exp') is too far in the future")
        return Principal("jwt")
