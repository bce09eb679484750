"""Credentials for GitHub: a GitHub App (JWT, installations, tokens) or a plain token.

A credential answers one question for the tracker: which ``Authorization``
header to send for a call on ``owner/repo``. A GitHub App resolves the repo's
installation once (``GET /repos/{owner}/{repo}/installation``, signed with the
App JWT) and keeps one installation token per installation until five minutes
before it expires. Both caches are shared by every thread; a per-key lock makes
concurrent callers wait for one fetch instead of each fetching their own.

The HTTP calls themselves are injected (``AppApi``), so this module imports
neither httpx nor githubkit; PyJWT and cryptography load on first use.
Neither the private key nor any token ever appears in a log record or an
exception message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, Protocol

from msgspec import Struct

from bridge.ports import TrackerError, TrackerNotConfiguredError

log = logging.getLogger(__name__)

Clock = Callable[[], float]
"""Returns the current time in epoch seconds (``time.time`` outside tests)."""

JWT_BACKDATE_SECONDS = 60  # GitHub allows for clock drift: iat 60 s in the past
JWT_LIFETIME_SECONDS = 540  # exp 9 min ahead (GitHub's maximum is 10 min)
JWT_REUSE_MARGIN_SECONDS = 60  # sign a new JWT once the current one has <1 min left
TOKEN_REFRESH_MARGIN_SECONDS = 300  # refresh installation tokens 5 min before expiry
TOKEN_ASSUMED_LIFETIME_SECONDS = 3600  # when GitHub's expires_at cannot be read


class AppApi(Protocol):
    """One GitHub call made on behalf of the credentials; returns the decoded JSON.

    Raises TrackerError (with a message safe to log) when GitHub says no.
    ``repo`` is the repository the caller is working on, for error messages.
    """

    def __call__(self, method: str, path: str, *, authorization: str, repo: str) -> Any:
        """Send ``method path`` with this Authorization header."""


class Credentials(Protocol):
    """What the tracker needs from a credential."""

    description: str

    def check(self) -> None:
        """Raise TrackerNotConfiguredError when the credential cannot work (no network)."""

    def authorization(self, repo: str) -> str:
        """The Authorization header for a call on ``owner/repo`` (may call GitHub)."""

    def pacing_key(self, repo: str) -> str:
        """Which content-creation budget a write to ``repo`` spends."""

    def token_rejected(self, repo: str, authorization: str) -> None:
        """GitHub answered 401 to this header: stop using it."""

    def repo_not_found(self, repo: str) -> None:
        """GitHub answered 404 for the repo: resolve its installation again next time."""


def split_repo(repo: str) -> tuple[str, str]:
    """``"owner/name"`` as ``(owner, name)``; TrackerError when it is not that shape."""
    owner, sep, name = repo.partition("/")
    if not sep or not owner or not name or "/" in name or not _is_slug(owner + name):
        raise TrackerError(f"invalid repository {repo!r}: expected owner/name")
    return owner, name


def _is_slug(text: str) -> bool:
    return all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in text)


# --------------------------------------------------------------------------- token


class TokenCredentials:
    """A personal access token or ``GITHUB_TOKEN``: one header for every repo."""

    def __init__(self, token: str) -> None:
        self._empty = not token.strip()
        self._header = f"Bearer {token.strip()}"
        self.description = "GITHUB_TOKEN"

    def __repr__(self) -> str:
        return "TokenCredentials(token=***)"

    def check(self) -> None:
        """A token is usable as far as we can tell without calling GitHub."""
        if self._empty:
            raise TrackerNotConfiguredError("GITHUB_TOKEN is empty")

    def authorization(self, repo: str) -> str:
        """The token, whatever the repo."""
        return self._header

    def pacing_key(self, repo: str) -> str:
        """Every write made with one token spends the same budget."""
        return "token"

    def token_rejected(self, repo: str, authorization: str) -> None:
        """Nothing to refresh: the token itself is wrong or revoked."""

    def repo_not_found(self, repo: str) -> None:
        """Nothing is cached per repo."""


# --------------------------------------------------------------------------- app


class InstallationToken(Struct, frozen=True):
    """An installation token as an Authorization header, and when it expires."""

    header: str
    expires_at: float

    @property
    def refresh_at(self) -> float:
        """When the cache stops handing this token out."""
        return self.expires_at - TOKEN_REFRESH_MARGIN_SECONDS


def make_app_jwt(app_id: str | int, private_key: Any, *, now: float) -> str:
    """Sign a GitHub App JWT: RS256, ``iat`` 60 s back, ``exp`` 9 min ahead, ``iss`` = id.

    ``private_key`` is PEM text or a loaded cryptography RSA key.
    """
    import jwt

    issued = int(now)
    claims = {
        "iat": issued - JWT_BACKDATE_SECONDS,
        "exp": issued + JWT_LIFETIME_SECONDS,
        "iss": str(app_id),
    }
    return jwt.encode(claims, private_key, algorithm="RS256")


def load_private_key(pem: str) -> Any:
    """Parse a PEM RSA private key; TrackerNotConfiguredError (without key text) if bad.

    Accepts keys whose newlines were flattened to literal ``\\n`` in an env file.
    """
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import (
        load_pem_private_key,
    )

    text = pem.strip()
    if "\\n" in text and "\n" not in text:
        text = text.replace("\\n", "\n")
    try:
        key = load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, RSAPrivateKey):
        # `from None`: the parser's exception must not travel with key material.
        raise TrackerNotConfiguredError(
            "GITHUB_APP_PRIVATE_KEY is not a PEM RSA private key without a password "
            "(download a new one from the App's settings page)"
        ) from None
    return key


def _parse_expiry(value: object, now: float) -> float:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return now + TOKEN_ASSUMED_LIFETIME_SECONDS


class _KeyedLocks:
    """One lock per key, so a fetch for one installation does not block the others."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, threading.Lock] = {}

    def __call__(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


class AppCredentials:
    """A GitHub App: JWT, installation per repo, installation tokens, all cached."""

    def __init__(
        self,
        app_id: str | int,
        private_key_pem: str,
        *,
        api: AppApi,
        clock: Clock = time.time,
    ) -> None:
        self.app_id = str(app_id).strip()
        self.description = f"GitHub App {self.app_id}"
        self._pem = private_key_pem
        self._api = api
        self._clock = clock
        self._key: Any = None
        self._jwt: tuple[str, float] | None = None  # (jwt, reuse until)
        self._installations: dict[str, int] = {}  # "owner/name" (lowercase) -> id
        self._tokens: dict[int, InstallationToken] = {}  # installation id -> token
        self._locks = _KeyedLocks()

    def __repr__(self) -> str:
        return f"AppCredentials(app_id={self.app_id!r}, private_key=***)"

    # ------------------------------------------------------------------ public

    def check(self) -> None:
        """Raise TrackerNotConfiguredError when the id or key cannot work."""
        if not self.app_id.isdigit():
            raise TrackerNotConfiguredError("GITHUB_APP_ID must be the App's numeric id")
        self._private_key()

    def authorization(self, repo: str) -> str:
        """An installation token header for the repo's installation."""
        return self.installation_token(self.installation_id(repo), repo=repo).header

    def pacing_key(self, repo: str) -> str:
        """The installation owner: the repo's owner."""
        return split_repo(repo)[0].lower()

    def token_rejected(self, repo: str, authorization: str) -> None:
        """Drop the rejected installation token (unless another thread replaced it)."""
        installation = self._installations.get(_repo_key(repo))
        if installation is None:
            return
        with self._locks(("token", installation)):
            cached = self._tokens.get(installation)
            if cached is not None and cached.header == authorization:
                del self._tokens[installation]
                log.info("dropped rejected token of installation %s", installation)

    def repo_not_found(self, repo: str) -> None:
        """Forget the repo's installation and its token: it may have moved."""
        installation = self._installations.pop(_repo_key(repo), None)
        if installation is not None:
            self._tokens.pop(installation, None)

    def app_jwt(self) -> str:
        """The App's JWT, signed again once it has less than a minute left."""
        now = self._clock()
        cached = self._jwt
        if cached is not None and now < cached[1]:
            return cached[0]
        token = make_app_jwt(self.app_id, self._private_key(), now=now)
        self._jwt = (token, now + JWT_LIFETIME_SECONDS - JWT_REUSE_MARGIN_SECONDS)
        return token

    def installation_id(self, repo: str) -> int:
        """The App installation that covers ``owner/name``, looked up once."""
        owner, name = split_repo(repo)
        key = _repo_key(repo)
        found = self._installations.get(key)
        if found is not None:
            return found
        with self._locks(("installation", key)):
            found = self._installations.get(key)
            if found is None:
                data = self._api(
                    "GET",
                    f"/repos/{owner}/{name}/installation",
                    authorization=f"Bearer {self.app_jwt()}",
                    repo=repo,
                )
                found = _installation_id_of(data, repo)
                self._installations[key] = found
                log.debug("repo %s is covered by installation %s", repo, found)
        return found

    def installation_token(self, installation: int, *, repo: str = "") -> InstallationToken:
        """A token of the installation with at least five minutes left."""
        cached = self._tokens.get(installation)
        if cached is not None and self._clock() < cached.refresh_at:
            return cached
        with self._locks(("token", installation)):
            cached = self._tokens.get(installation)
            now = self._clock()
            if cached is not None and now < cached.refresh_at:
                return cached  # another thread fetched it while we waited
            data = self._api(
                "POST",
                f"/app/installations/{installation}/access_tokens",
                authorization=f"Bearer {self.app_jwt()}",
                repo=repo,
            )
            value = data.get("token") if isinstance(data, dict) else None
            if not isinstance(value, str) or not value:
                raise TrackerError(f"GitHub returned no token for installation {installation}")
            fresh = InstallationToken(f"Bearer {value}", _parse_expiry(data.get("expires_at"), now))
            self._tokens[installation] = fresh
            log.debug("fetched a token for installation %s", installation)
            return fresh

    # ------------------------------------------------------------------ private

    def _private_key(self) -> Any:
        if self._key is None:
            self._key = load_private_key(self._pem)
        return self._key


def _repo_key(repo: str) -> str:
    return repo.strip().lower()


def _installation_id_of(data: object, repo: str) -> int:
    installation = data.get("id") if isinstance(data, dict) else None
    if not isinstance(installation, int) or isinstance(installation, bool):
        raise TrackerError(f"GitHub returned no installation id for {repo}")
    return installation
