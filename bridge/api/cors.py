"""CORS answered per app from its ``allowed_origins``, preflight included.

The service answers CORS itself (not API Gateway) because each app allows
its own origins.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from bridge.api.access import runtime
from bridge.api.errors import ApiError, error_response
from bridge.settings import AppConfig

ALLOWED_HEADERS = "Content-Type, Idempotency-Key, X-Featurebridge-Voter"
EXPOSED_HEADERS = "Retry-After, Location, Link"
PREFLIGHT_MAX_AGE = "600"


def _path_methods() -> str:
    """Exactly the methods the requested path has (HEAD and OPTIONS included)."""
    adapter = current_app.create_url_adapter(request)
    methods = adapter.allowed_methods() if adapter is not None else ["OPTIONS"]
    return ", ".join(sorted(methods))


def _origin_allowed(app_id: str | None, origin: str) -> bool:
    if app_id is None:
        return False
    app = runtime().settings.app(app_id)
    return app is not None and origin in app.allowed_origins


def service_origin() -> str:
    """The origin of ``[server] public_url``: the service's own pages, wherever a proxy
    or CDN puts the process itself."""
    public = urlsplit(runtime().settings.server.public_url)
    return f"{public.scheme}://{public.netloc}"


def refuse_foreign_origin(app: AppConfig) -> None:
    """403 for a browser write from a page that is neither the app's nor the service's.

    ``Origin: null`` (sandboxed frames, some redirects) is refused too; a request
    without ``Origin`` is no browser's cross-site write and passes.
    """
    origin = request.headers.get("Origin")
    if origin is None:
        return
    if origin not in app.allowed_origins and origin != service_origin():
        raise ApiError("forbidden", f"origin {origin} may not write to app {app.id!r}")


def install_cors(blueprint: Blueprint) -> None:
    """Answer preflights and add CORS headers on every route of ``blueprint``."""

    @blueprint.before_request
    def _preflight() -> Response | None:
        if request.method != "OPTIONS":
            return None
        origin = request.headers.get("Origin")
        app_id = (request.view_args or {}).get("app_id")
        if origin is None or not request.headers.get("Access-Control-Request-Method"):
            return Response(status=204, headers={"Allow": _path_methods()})
        if not _origin_allowed(app_id, origin):
            response = error_response(
                ApiError("forbidden", f"origin {origin} is not allowed for this app")
            )
            response.headers["Vary"] = "Origin"
            return response
        return Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Allow": _path_methods(),
                "Access-Control-Allow-Methods": _path_methods(),
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                "Vary": "Origin",
            },
        )

    @blueprint.after_request
    def _headers(response: Response) -> Response:
        origin = request.headers.get("Origin")
        response.vary.add("Origin")
        app_id = (request.view_args or {}).get("app_id")
        if origin and request.method != "OPTIONS" and _origin_allowed(app_id, origin):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response
