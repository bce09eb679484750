"""Secrets from the environment, or indirectly from SSM or Secrets Manager.

Any secret ``X`` may be given as ``X`` itself, as ``X_SSM_PARAMETER`` (the name
of an SSM SecureString) or as ``X_SECRET_ARN`` (a Secrets Manager secret). The
indirect forms are resolved on first use and kept for the life of the process,
so a Lambda cold start pays for them once and a warm invocation never does.
"""

from __future__ import annotations

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
