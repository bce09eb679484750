"""Signed links in emails: a subscriber id and its HMAC under a key for one purpose.

``<subscriber id>.<signature>``, where the signature is the unpadded base64url
HMAC-SHA256 of the id under ``purpose_key(signing_key, purpose)``. Links never
expire; a token of one purpose (confirming an address) never validates as
another (unsubscribing), and a forged one names nobody.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from bridge.secrets import purpose_key

UNSUBSCRIBE = "email unsubscribe"
CONFIRM = "email confirm"
TOKEN_PATTERN = r"^[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$"  # noqa: S105 -- a shape, not a secret
_TOKEN = re.compile(TOKEN_PATTERN)


def _signature(key: bytes, purpose: str, subscriber_id: str) -> str:
    digest = hmac.new(purpose_key(key, purpose), subscriber_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, purpose: str, subscriber_id: str) -> str:
    """The token naming ``subscriber_id`` for ``purpose``."""
    return f"{subscriber_id}.{_signature(key, purpose, subscriber_id)}"


def verify(key: bytes, purpose: str, token: str | None) -> str | None:
    """The subscriber id a genuine token of ``purpose`` names; None for anything else."""
    if token is None or not _TOKEN.fullmatch(token):
        return None
    subscriber_id, _, signature = token.partition(".")
    expected = _signature(key, purpose, subscriber_id)
    return subscriber_id if hmac.compare_digest(signature, expected) else None
