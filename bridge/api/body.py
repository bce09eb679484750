"""Reading request bodies: size limit, content type, JSON or urlencoded, into a dict."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import request

from bridge.api.errors import ApiError
from bridge.untrusted import loads

API_BODY_LIMIT = 256 * 1024
# Flask's limit is one byte more than ours: a streamed body over the limit is cut
# at the limit by werkzeug without an error, so reading limit + 1 bytes is how
# an oversize body without Content-Length shows itself.
FLASK_BODY_LIMIT = API_BODY_LIMIT + 1
_MAX_FORM_FIELDS = 100
# How HTML forms send a checkbox (``on``) and how scripts spell a boolean.
FORM_BOOLEANS = {"true": True, "on": True, "false": False, "off": False}
# Fields read as booleans from a form body; any other spelling stays text (and fails).
BOOLEAN_FIELDS = frozenset({"notify"})


def read_body(*, allow_form: bool = True) -> dict[str, Any]:
    """The request body as a dict, or an ApiError that says what is wrong."""
    length = request.content_length
    if length is not None and length > API_BODY_LIMIT:
        raise ApiError("payload_too_large", f"request body exceeds {API_BODY_LIMIT} bytes")
    mimetype = request.mimetype
    if mimetype == "application/json":
        return _parse_json(read_raw(API_BODY_LIMIT))
    if allow_form and mimetype == "application/x-www-form-urlencoded":
        return _parse_form(read_raw(API_BODY_LIMIT))
    accepted = "application/json" + (" or application/x-www-form-urlencoded" if allow_form else "")
    raise ApiError(
        "unsupported_media_type",
        f"Content-Type {mimetype or '(none)'} is not supported; send {accepted}",
    )


def read_raw(limit: int) -> bytes:
    """The raw body, or 413 when it is longer than ``limit`` (Flask's limit must be limit + 1)."""
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise ApiError("payload_too_large", f"request body exceeds {limit} bytes")
    return raw


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        value = loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ApiError("bad_request", "request body is not UTF-8") from error
    except ValueError as error:
        raise ApiError("bad_request", f"request body is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise ApiError("bad_request", "request body must be a JSON object")
    return value


def _parse_form(raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, max_num_fields=_MAX_FORM_FIELDS
        )
    except UnicodeDecodeError as error:
        raise ApiError("bad_request", "form body is not UTF-8") from error
    except ValueError as error:
        raise ApiError("bad_request", f"form body has too many fields: {error}") from error
    body: dict[str, Any] = {}
    metadata: dict[str, str] = {}
    for key, value in pairs:
        # Forms send metadata as metadata[key]=value, the convention of HTML form libraries.
        if key.startswith("metadata[") and key.endswith("]"):
            metadata[key[len("metadata[") : -1]] = value
        elif key in body:
            raise ApiError("validation_failed", "field given twice", fields={key: "given twice"})
        elif key in BOOLEAN_FIELDS and value in FORM_BOOLEANS:
            body[key] = FORM_BOOLEANS[value]
        elif value != "":
            body[key] = value
    if metadata:
        body["metadata"] = metadata
    return body
