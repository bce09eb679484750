"""Secrets from the environment, or indirectly from SSM or Secrets Manager.

Any secret ``X`` may be given as ``X`` itself, as ``X_SSM_PARAMETER`` (the name
of an SSM SecureString) or as ``X_SECRET_ARN`` (a Secrets Manager secret). The
indirect forms are resolved on first use and kept for the life of the process,
so a Lambda cold start pays for them once and a warm invocation never does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any

SSM_SUFFIX = "_SSM_PARAMETER"
SECRET_ARN_SUFFIX = "_SECRET_ARN"  # noqa: S105 -- a variable-name suffix, not a secret


class SecretError(Exception):
    """A secret named by an indirection could not be read."""


Fetcher = Callable[[str, str], str]


def _fetch_from_aws(kind: str, name: str) -> str:
    # botocore, imported here: most processes never need it, and boto3's import would
    # add s3transfer (~0.1 s) to a Lambda cold start for nothing.
    import botocore.session

    client: Any = botocore.session.get_session().create_client(kind)
    if kind == "ssm":
        answer = client.get_parameter(Name=name, WithDecryption=True)
        return str(answer["Parameter"]["Value"])
    answer = client.get_secret_value(SecretId=name)
    return str(answer["SecretString"])


class SecretResolver:
    """Reads secrets by name; thread-safe, resolving each indirection once."""

    def __init__(self, env: Mapping[str, str], fetch: Fetcher = _fetch_from_aws) -> None:
        self._env = env
        self._fetch = fetch
        self._cache: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def is_set(self, name: str) -> bool:
        """Whether the secret is given in any form, without resolving it."""
        return any(self._env.get(name + suffix) for suffix in ("", SSM_SUFFIX, SECRET_ARN_SUFFIX))

    def source(self, name: str) -> str | None:
        """Which variable provides the secret (for diagnostics; never its value)."""
        for suffix in ("", SSM_SUFFIX, SECRET_ARN_SUFFIX):
            if self._env.get(name + suffix):
                return name + suffix
        return None

    def get(self, name: str) -> str | None:
        """The secret's value, or None when it is not given at all."""
        with self._lock:
            if name in self._cache:
                return self._cache[name]
            value = self._resolve(name)
            self._cache[name] = value
            return value

    def _resolve(self, name: str) -> str | None:
        direct = self._env.get(name)
        if direct:
            return direct
        for suffix, kind in ((SSM_SUFFIX, "ssm"), (SECRET_ARN_SUFFIX, "secretsmanager")):
            reference = self._env.get(name + suffix)
            if reference:
                try:
                    return self._fetch(kind, reference)
                except Exception as error:  # any SDK failure: name the variable, not the value
                    raise SecretError(
                        f"could not read {name} from {kind} ({name}{suffix}={reference}): "
                        f"{type(error).__name__}"
                    ) from error
        return None


SIGNING_SECRET = "FEATUREBRIDGE_SIGNING_SECRET"  # noqa: S105 -- a variable name, not a secret
# Secrets a signing key may be derived from when FEATUREBRIDGE_SIGNING_SECRET is unset, in order.
SIGNING_FALLBACKS = ("FEATUREBRIDGE_ADMIN_TOKEN", "GITHUB_WEBHOOK_SECRET")


def signing_key(resolver: SecretResolver) -> bytes:
    """The key this deployment signs its own tokens with (form render times, unsubscribe links).

    ``FEATUREBRIDGE_SIGNING_SECRET`` when set. Else it is derived from the admin token or the
    webhook secret by HMAC, so every process and Lambda environment of one deployment agrees
    without another secret to manage, and the derived key reveals nothing of its source. With
    none of them set, a random key per process: tokens then hold only within that process.
    Callers derive a key per purpose from this one (see :func:`purpose_key`).
    """
    secret = resolver.get(SIGNING_SECRET)
    if secret:
        return secret.encode()
    for name in SIGNING_FALLBACKS:
        source = resolver.get(name)
        if source:
            return hmac.new(source.encode(), b"featurebridge signing key", hashlib.sha256).digest()
    return secrets.token_bytes(32)


def purpose_key(key: bytes, purpose: str) -> bytes:
    """A key for one purpose, so a token signed for one use never validates as another."""
    return hmac.new(key, purpose.encode(), hashlib.sha256).digest()
