"""A read-only client of a bridge's HTTP API, as an agent's tools use it."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from msgspec import Struct

from bridge.notify.events import scrub

ADMIN_TOKEN_ENV = "FEATUREBRIDGE_ADMIN_TOKEN"  # noqa: S105 -- a variable name, not a secret
VOTER_TOKEN_ENV = "FEATUREBRIDGE_VOTER_TOKEN"  # noqa: S105 -- a variable name, not a secret
TIMEOUT_SECONDS = 15.0

Params = Mapping[str, str | int | Sequence[str] | None]


class ApiCallError(Exception):
    """The bridge refused a call, or could not be reached: ``str()`` says why."""


class BridgeClient(Struct, frozen=True):
    """GET requests to one bridge, with the operator token or a voter token when given."""

    url: str
    admin_token: str | None = None
    voter_token: str | None = None
    timeout: float = TIMEOUT_SECONDS

    def __post_init__(self) -> None:
        scheme, _, rest = self.url.partition("://")
        if scheme.lower() not in ("http", "https") or not rest.strip("/"):
            raise ValueError(f"--url must be an http:// or https:// URL, not {self.url!r}")

    @classmethod
    def from_env(cls, url: str, env: Mapping[str, str]) -> BridgeClient:
        """The client of ``url``, with the tokens the environment holds."""
        return cls(
            url=url.rstrip("/"),
            admin_token=env.get(ADMIN_TOKEN_ENV) or None,
            voter_token=env.get(VOTER_TOKEN_ENV) or None,
        )

    def get(self, *segments: str | int, params: Params | None = None) -> Any:
        """The decoded JSON answer of ``GET /segment/segment?params``; path segments are
        quoted whole, so an argument can never reach another route."""
        path = "/".join(urllib.parse.quote(str(segment), safe="") for segment in segments)
        query = urllib.parse.urlencode(
            [
                (key, item)
                for key, value in (params or {}).items()
                if value is not None
                for item in ([value] if isinstance(value, str | int) else value)
            ]
        )
        target = f"{self.url}/{path}" + (f"?{query}" if query else "")
        # http(s) only: __post_init__ refuses other schemes (S310).
        request = urllib.request.Request(target, headers=self._headers(), method="GET")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ApiCallError(_refusal(error.code, error.read())) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiCallError(f"the bridge at {self.url} cannot be reached: {reason}") from None
        except ValueError as error:
            raise ApiCallError(f"the bridge at {self.url} answered no JSON: {error}") from None

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "featurebridge-mcp"}
        if self.admin_token:
            headers["Authorization"] = f"Bearer {self.admin_token}"
        if self.voter_token:
            headers["X-Featurebridge-Voter"] = self.voter_token
        return headers


def _refusal(status: int, body: bytes) -> str:
    """The API's own words for a refusal: ``code: message`` and the fields it names."""
    try:
        error = json.loads(body)["error"]
        text = f"{error['code']}: {error['message']}"
        fields = error.get("fields") or {}
    except (ValueError, KeyError, TypeError):
        return f"the bridge answered HTTP {status}"
    if fields:
        text += " (" + "; ".join(f"{name}: {why}" for name, why in fields.items()) + ")"
    return text


def without_addresses(value: Any) -> Any:
    """``value`` (decoded JSON) with anything shaped like an email address in its text
    replaced: the API never answers with a person's address, and this layer makes sure."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [without_addresses(item) for item in value]
    if isinstance(value, dict):
        return {key: without_addresses(item) for key, item in value.items()}
    return value
