"""Minting voter tokens the way a host app does."""

from __future__ import annotations

from typing import Any

import jwt

MOBILE_SECRET = "mobile-voter-secret-of-at-least-32-bytes"
WEB_SECRET = "web-voter-secret-of-at-least-32-bytes!!"


def mint(secret: str = MOBILE_SECRET, **claims: Any) -> str:
    """An HS256 voter token with the given claims."""
    return jwt.encode(claims, secret, algorithm="HS256")
