"""A request id per HTTP request, and one log line per request with its outcome.

The id is the caller's ``X-Request-Id`` when it is a plain token (a proxy's or
a load balancer's), otherwise a new one; it is on every line logged while the
request runs and is sent back in ``X-Request-Id``. The line names the method,
the route (the URL rule, e.g. ``/v1/apps/<app_id>/requests``, never the query
string, which may carry a token), the app, the status and the duration.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

from bridge.logs import bind, unbind

log = logging.getLogger("featurebridge.http")

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+/-]{8,128}")


def install_request_log(app: Flask) -> None:
    """Bind a request id for each request of ``app`` and log each request once."""

    @app.before_request
    def _start() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        g.log_token = bind(request_id=g.request_id)

    @app.after_request
    def _finish(response: Response) -> Response:
        started = g.get("request_started")
        if started is None:  # refused before any hook ran (e.g. a routing error)
            return response
        response.headers[REQUEST_ID_HEADER] = g.request_id
        view_args = request.view_args or {}
        route = request.url_rule.rule if request.url_rule else None
        log.info(
            "%s %s %d",
            request.method,
            route or "(no route)",
            response.status_code,
            extra={
                "event": "http",
                "method": request.method,
                "route": route,
                "app": view_args.get("app_id"),
                "number": view_args.get("number"),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response

    @app.teardown_request
    def _unbind(_: BaseException | None) -> None:
        token = g.pop("log_token", None)
        if token is not None:
            unbind(token)
