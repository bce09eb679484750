"""Who may see what: app lookup, operator token, client identity, rate limits."""

from __future__ import annotations

import hmac
import math
from typing import Any, cast

from flask import current_app, request

from bridge.api.errors import ApiError
from bridge.inline import InlineDelivery
from bridge.runtime import Runtime
from bridge.settings import AppConfig
from bridge.untrusted import is_int64

RATE_WINDOW_SECONDS = 3600


def numbers_fit_64_bits(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """404 for a number in the path beyond a signed 64-bit integer: no request has it."""
    for name, value in (values or {}).items():
        if isinstance(value, int) and not is_int64(value):
            raise ApiError("not_found", f"no such resource: {name} is out of range")


def runtime() -> Runtime:
    """The runtime the wiring point attached to this Flask app."""
    return cast(Runtime, current_app.extensions["featurebridge"])


def inline_delivery() -> InlineDelivery:
    """The pool that tries GitHub within a request."""
    return cast(InlineDelivery, current_app.extensions["featurebridge.inline"])


def app_or_404(app_id: str) -> AppConfig:
    """The configured app, or 404: unknown apps are indistinguishable from hidden ones."""
    app = runtime().settings.app(app_id)
    if app is None:
        raise ApiError("not_found", f"no app {app_id!r}")
    return app


def is_operator() -> bool:
    """Whether the request carries the operator token (constant-time comparison)."""
    expected = runtime().settings.secrets.get("FEATUREBRIDGE_ADMIN_TOKEN")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not expected or scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())


def visible_app(app_id: str) -> AppConfig:
    """An app whose listing this caller may read: public, the operator asks, or the
    X-Featurebridge-Voter header carries a valid voter token of the app."""
    app = app_or_404(app_id)
    if not app.public and not is_operator() and not _holds_voter_token(app):
        raise ApiError("not_found", f"no app {app_id!r}")
    return app


def _holds_voter_token(app: AppConfig) -> bool:
    token = request.headers.get("X-Featurebridge-Voter")
    if not token:
        return False
    from bridge.voters import VoterError, voter_from_token

    rt = runtime()
    try:
        voter_from_token(token, app, rt.settings, now=rt.clock())
    except VoterError:
        return False
    return True


def require_operator() -> None:
    """401 unless the operator token is presented."""
    if not is_operator():
        raise ApiError(
            "unauthorized",
            "operator endpoints need Authorization: Bearer <FEATUREBRIDGE_ADMIN_TOKEN>",
        )


def client_ip() -> str:
    """The caller's address (ProxyFix has applied trusted X-Forwarded-For)."""
    return request.remote_addr or "unknown"


def enforce_rate_limit(kind: str, app: AppConfig, per_hour: int) -> None:
    """Count this call against the caller's hourly budget for ``kind`` in ``app``."""
    rt = runtime()
    now = rt.clock()
    key = f"{kind}:{app.id}:{client_ip()}"
    count = rt.store.hit_rate_limit(key, window_seconds=RATE_WINDOW_SECONDS, now=now)
    if count > per_hour:
        window_end = (now.timestamp() // RATE_WINDOW_SECONDS + 1) * RATE_WINDOW_SECONDS
        retry_after = max(1, math.ceil(window_end - now.timestamp()))
        raise ApiError(
            "rate_limited",
            f"too many {kind} requests from this address; try again in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )
