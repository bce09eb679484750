"""The signed render time of the widget and the hosted form.

A token says "this app's form was shown at T", signed with a key derived from
the deployment's signing key, so no client can forge an earlier time. A
submission that arrives sooner than ``min_seconds_to_submit`` after its render
came from a script, not a person.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from bridge.secrets import purpose_key

PURPOSE = "form-token"
# A page left open over a weekend still submits; older tokens are not trusted.
MAX_AGE = timedelta(days=7)
_SHAPE = re.compile(r"^v1\.([0-9]{1,12})\.([0-9a-f]{32})$")

TOO_FAST = "too_fast"
BAD_RENDER_TIME = "bad_render_time"


def _signature(key: bytes, app: str, issued: int) -> str:
    message = f"{app}.{issued}".encode()
    return hmac.new(purpose_key(key, PURPOSE), message, hashlib.sha256).hexdigest()[:32]


def issue(key: bytes, app: str, now: datetime) -> str:
    """A token for ``app``'s form rendered at ``now``."""
    issued = int(now.timestamp())
    return f"v1.{issued}.{_signature(key, app, issued)}"


def signal(
    key: bytes, app: str, token: str | None, *, now: datetime, min_seconds: int
) -> str | None:
    """The spam signal a submission's token trips, or None for a person's pace.

    A forged token, one of another app, one from the future or one older than
    :data:`MAX_AGE` each say the submission did not come from a form this
    deployment rendered. No token at all is no signal: a host app's own page may
    call the API from its origin, and a script that leaves the token out could as
    well leave out the Origin (the honeypot and the content signals still apply).
    """
    if token is None:
        return None
    match = _SHAPE.match(token)
    if match is None:
        return BAD_RENDER_TIME
    issued = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _signature(key, app, issued)):
        return BAD_RENDER_TIME
    age = now.timestamp() - issued
    if age < -60 or age > MAX_AGE.total_seconds():  # a minute's leeway for clock skew
        return BAD_RENDER_TIME
    return TOO_FAST if age < min_seconds else None
