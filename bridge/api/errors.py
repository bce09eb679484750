"""The error envelope: every failure answers ``{"error": {code, message, fields?}}``."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from flask import Flask, Response, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from bridge.domain import ActionRefusedError, UnknownSubmissionError
from bridge.ports import StoreError

log = logging.getLogger(__name__)

STATUS_OF_CODE: Mapping[str, int] = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "validation_failed": 422,
    "rate_limited": 429,
    "internal": 500,
    "unavailable": 503,
}
CODE_OF_STATUS = {status: code for code, status in STATUS_OF_CODE.items()}


class ApiError(Exception):
    """A client-facing failure with its code, message and per-field problems."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = STATUS_OF_CODE[code]
        self.message = message
        self.fields = dict(fields or {})
        self.headers = dict(headers or {})


def fields_of(error: ValidationError, *, prefix: str = "") -> dict[str, str]:
    """Flatten pydantic errors to ``{"field.path": "problem"}``."""
    fields: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        path = ".".join(str(part) for part in problem["loc"]) or "body"
        fields.setdefault(prefix + path, problem["msg"])
    return fields


@contextmanager
def refusals(not_found: str) -> Iterator[None]:
    """An operator's action refused by the domain, as the API says it: 404 or 409."""
    try:
        yield
    except UnknownSubmissionError as error:
        raise ApiError("not_found", not_found) from error
    except ActionRefusedError as error:
        raise ApiError("conflict", str(error)) from error


def error_response(error: ApiError) -> Response:
    """Render an ApiError as the envelope."""
    body: dict[str, object] = {"code": error.code, "message": error.message}
    if error.fields:
        body["fields"] = error.fields
    response = jsonify({"error": body})
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Route every failure, including Flask's own, through the envelope."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        code = CODE_OF_STATUS.get(status, "bad_request" if status < 500 else "internal")
        messages = {
            404: "no such resource",
            405: "method not allowed on this resource",
            413: "request body is too large",
        }
        api_error = ApiError(code, messages.get(status, error.description or code))
        response = error_response(api_error)
        if status == 405 and error.get_headers():
            response.headers.update({k: v for k, v in error.get_headers() if k == "Allow"})
        return response

    @app.errorhandler(StoreError)
    def _store_down(error: StoreError) -> Response:
        # The index failing is the service's trouble, not the client's: 503, retryable.
        log.error("index store failed: %s", error)
        return error_response(
            ApiError(
                "unavailable",
                "the index is unavailable; retry shortly",
                headers={"Retry-After": "5"},
            )
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(ApiError("internal", "internal error; it has been logged"))
