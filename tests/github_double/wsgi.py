"""The double's WSGI application: one request's trip through the double.

match the operation → validate against the description → authenticate → fault →
route → record. Every request lands in ``double.calls``; every mismatch with the
API description lands in ``double.violations``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from werkzeug.wrappers import Request

from tests.github_double import (  # noqa: F401 - registers
    graphql_api,
    routes_app,
    routes_issues,
    routes_manifest,
)
from tests.github_double.auth import AuthError, Principal
from tests.github_double.faults import DroppedConnectionError, Fault, fault_response
from tests.github_double.openapi import Operation, description
from tests.github_double.rest import ROUTES, ApiError, Context, Reply, Route
from tests.github_double.shapes import error_json

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from tests.github_double.double import GitHubDouble

GRAPHQL = "/graphql"
_BROKEN_JSON = "body is not valid JSON"
_GRAPHQL_ROUTE = Route(lambda ctx: Reply(200, None), "token")  # auth rule only


@dataclass(slots=True)
class Call:
    """One request the double received and what it answered."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    json: Any
    auth: str | None
    timestamp: float
    template: str | None = None
    response: Any = None
    response_headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    request_id: str = ""
    api_version: str = "2022-11-28"


def _segments(environ: WSGIEnvironment) -> list[str]:
    # Route on the raw target, decoding each segment on its own, so that an encoded
    # "/" inside a label name stays inside its segment (PATH_INFO is already decoded).
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    raw_path = raw.split("?", 1)[0] if raw else environ.get("PATH_INFO", "/")
    if "://" in raw_path:  # absolute-form request target
        raw_path = "/" + raw_path.split("://", 1)[1].partition("/")[2]
    return [unquote(part) for part in raw_path.strip("/").split("/")]


def _parse_body(raw: bytes) -> tuple[Any, str | None]:
    if not raw.strip():
        return None, None
    try:
        return json.loads(raw), None
    except ValueError:
        return None, _BROKEN_JSON


class DoubleApp:
    """The WSGI callable serving one ``GitHubDouble``."""

    def __init__(self, double: GitHubDouble) -> None:
        self.double = double

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request."""
        started = time.monotonic()
        request = Request(environ)
        method = request.method.upper()
        segments = _segments(environ)
        path = "/" + "/".join(segments)
        query = request.args.to_dict()
        body, parse_problem = _parse_body(request.get_data())
        call = Call(method, path, query, 0, body, None, started)
        call.request_id = uuid.uuid4().hex[:20].upper()
        call.api_version = request.headers.get("X-GitHub-Api-Version", call.api_version)
        problems = [parse_problem] if parse_problem else []
        try:
            reply = self._serve(request, segments, call, problems)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body)
        if problems:
            self.double.record_violations(f"{method} {path}: {p}" for p in problems)
        call.status, call.response = reply.status, reply.body
        call.response_headers = self._headers(reply, call)
        self.double.record_call(call)
        if call.fault == "drop_after_create":
            raise DroppedConnectionError(f"{method} {path}: answer dropped by fault")
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        start_response(
            f"{reply.status} {_REASONS.get(reply.status, 'Unknown')}",
            [*call.response_headers.items(), ("content-length", str(len(payload)))],
        )
        return [payload]

    def _serve(
        self, request: Request, segments: list[str], call: Call, problems: list[str]
    ) -> Reply:
        op: Operation | None = None
        route: Route | None
        if call.path == GRAPHQL and call.method == "POST":
            call.template, route = GRAPHQL, _GRAPHQL_ROUTE
        else:
            op = description().match(call.method, segments)
            if op is None:
                problems.append("no such operation in GitHub's REST description")
                raise ApiError(404, "Not Found")
            call.template = op.template
            problems.extend(description().query_errors(op, call.query))
            route = ROUTES.get((call.method, op.template))
        principal = self._authenticate(request, route, call)
        if problems and problems[0] == _BROKEN_JSON:
            raise ApiError(400, "Problems parsing JSON")  # GitHub's answer to a broken body
        if op is not None:
            self._check_body(op, call, problems)
        fault = self.double.faults.take(call.method, call.template or call.path)
        if fault is not None:
            call.fault = fault.kind
            early = self._apply_fault(fault, call)
            if early is not None:
                return early
        if route is None:
            # Documented but not emulated: a 404 the caller can tell apart by header.
            return Reply(404, error_json(404, "Not Found"), {"x-github-double": "not-implemented"})
        if call.template == GRAPHQL:
            with self.double.world.lock:
                body, found = graphql_api.handle(call.json, self.double, principal)
            problems.extend(found)
            return Reply(200, body)
        ctx = Context(
            self.double,
            principal,
            _path_params(call.template or "", segments),
            call.query,
            call.json,
            request.host_url.rstrip("/") + call.path,
        )
        with self.double.world.lock:
            return route.handler(ctx)

    def _authenticate(self, request: Request, route: Route | None, call: Call) -> Principal | None:
        try:
            principal = self.double.credentials.authenticate(request.headers.get("Authorization"))
        except AuthError as exc:
            raise ApiError(401, exc.message) from exc
        call.auth = principal.kind if principal else None
        if route is None or route.auth == "none":
            return principal
        if principal is None:
            raise ApiError(401, "Requires authentication")
        if route.auth == "jwt" and principal.kind != "jwt":
            raise ApiError(401, "A JSON web token could not be decoded")
        if route.auth == "token" and principal.kind == "jwt":
            raise ApiError(401, "Bad credentials")
        return principal

    def _check_body(self, op: Operation, call: Call, problems: list[str]) -> None:
        spec = description()
        found = spec.request_body_schema(op)
        if call.json is None:
            if found is not None and found[1]:
                problems.append("a JSON body is required")
                raise ApiError(400, "Problems parsing JSON")
            return
        if found is None:
            problems.append("this operation takes no JSON body")
            return
        errors = spec.body_errors(op, call.json)
        problems.extend(f"body {e}" for e in errors)
        problems.extend(
            f"body field {name!r} is not in the schema (GitHub ignores it)"
            for name in spec.unknown_body_fields(op, call.json)
        )
        if errors:
            raise ApiError(422, "Invalid request.\n\n" + "\n".join(errors))

    def _apply_fault(self, fault: Fault, call: Call) -> Reply | None:
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return None
        if fault.kind == "drop_after_create":
            return None
        status, body, headers = fault_response(fault, call.request_id, call.template == GRAPHQL)
        return Reply(status, body, headers)

    def _headers(self, reply: Reply, call: Call) -> dict[str, str]:
        headers = {
            "content-type": "application/json; charset=utf-8",
            "x-github-request-id": call.request_id,
            "x-github-api-version-selected": call.api_version,
            "x-github-media-type": "github.v3; format=json",
        }
        if "x-ratelimit-remaining" not in reply.headers:
            headers.update(
                {
                    "x-ratelimit-limit": "5000",
                    "x-ratelimit-remaining": "4999",
                    "x-ratelimit-used": "1",
                    "x-ratelimit-reset": str(int(time.time()) + 3600),
                    "x-ratelimit-resource": "graphql" if call.template == GRAPHQL else "core",
                }
            )
        headers.update(reply.headers)
        return headers


def _path_params(template: str, segments: list[str]) -> dict[str, str]:
    params = {}
    for part, value in zip(template.strip("/").split("/"), segments, strict=False):
        if part.startswith("{") and part.endswith("}") and part.count("{") == 1:
            params[part[1:-1]] = value
    return params


_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    410: "Gone",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
