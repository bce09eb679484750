"""Opaque listing cursors, bound to the listing they page through."""

from __future__ import annotations

import base64
import binascii
import json

from bridge.api.errors import ApiError
from bridge.untrusted import loads

# Every cursor is base64url (unpadded) of ``{"p": ..., "b": ...}``, so it starts the same.
CURSOR_PATTERN = r"^eyJwIjoi[A-Za-z0-9_-]{0,992}$"


def encode_cursor(position: str, binding: str) -> str:
    """Wrap a store's position with the listing it belongs to."""
    raw = json.dumps({"p": position, "b": binding}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, binding: str) -> str:
    """The store position in a cursor, or a 400 naming the cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = loads(raw)
        position, bound = value["p"], value["b"]
    except (binascii.Error, ValueError, TypeError, KeyError) as error:
        raise _bad_cursor() from error
    if bound != binding or not isinstance(position, str):
        raise _bad_cursor()
    return position


def _bad_cursor() -> ApiError:
    return ApiError(
        "bad_request",
        "cursor is not valid for this listing",
        fields={"cursor": "use next_cursor from the previous page with the same filters"},
    )
