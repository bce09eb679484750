"""Who may see what: app lookup, operator token, client identity, rate limits."""

from __future__ import annotations

import hmac
import ipaddress
import math
from datetime import datetime
from typing import Any, cast

from flask import current_app, request

from bridge.api.errors import ApiError
from bridge.inline import InlineDelivery
from bridge.runtime import Runtime
from bridge.settings import AppConfig
from bridge.untrusted import is_int64

RATE_WINDOW_SECONDS = 3600
READ_WINDOW_SECONDS = 60
# A subscriber is given a whole IPv6 /64 and may rotate through it at will.
IPV6_CLIENT_PREFIX = 64


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
    if not may_see(app):
        raise ApiError("not_found", f"no app {app_id!r}")
    return app


def may_see(app: AppConfig, voter_token: str | None = None) -> bool:
    """Whether this caller may read and vote in ``app``: it is public, the operator asks,
    or the X-Featurebridge-Voter header (or ``voter_token``, a vote's own) is a valid
    voter token of the app."""
    if app.public or is_operator():
        return True
    tokens = (request.headers.get("X-Featurebridge-Voter"), voter_token)
    return any(token and _is_voter_token_of(app, token) for token in tokens)


def _is_voter_token_of(app: AppConfig, token: str) -> bool:
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


def client_key() -> str:
    """The caller as rate limits count it: an IPv4 address, or an IPv6 address's /64."""
    address = client_ip()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return address


def enforce_rate_limit(
    kind: str,
    app: AppConfig,
    limit: int,
    *,
    window_seconds: int = RATE_WINDOW_SECONDS,
    scope: str = "",
) -> None:
    """Count this call against the caller's budget for ``kind`` in ``app`` (and ``scope``,
    e.g. one request), ``limit`` calls per window; 429 with Retry-After beyond it."""
    rt = runtime()
    now = rt.clock()
    count = rt.store.hit_rate_limit(
        rate_key(kind, app, scope), window_seconds=window_seconds, now=now
    )
    if count > limit:
        raise rate_limited(kind, window_seconds=window_seconds, now=now)


def rate_key(kind: str, app: AppConfig, scope: str = "") -> str:
    """The counter of the caller's budget for ``kind`` in ``app`` (and ``scope``)."""
    return f"{kind}:{app.id}:{scope}:{client_key()}"


def rate_limited(kind: str, *, window_seconds: int, now: datetime) -> ApiError:
    """The 429 of a spent budget, with Retry-After at the end of the window."""
    window_end = (now.timestamp() // window_seconds + 1) * window_seconds
    retry_after = max(1, math.ceil(window_end - now.timestamp()))
    return ApiError(
        "rate_limited",
        f"too many {kind} requests from this address; try again in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def limit_reads(app: AppConfig) -> None:
    """Public reads are rate-limited per client and app; the operator is not."""
    if not is_operator():
        per_minute = runtime().settings.server.rate_limits.reads_per_minute
        enforce_rate_limit("read", app, per_minute, window_seconds=READ_WINDOW_SECONDS)
