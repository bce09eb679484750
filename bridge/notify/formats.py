"""What a webhook receiver gets: the signed JSON event, or a Slack incoming-webhook message.

Pure functions: the event's JSON text in, the body and headers to send out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from bridge.notify.events import encode

TIMESTAMP_HEADER = "X-Featurebridge-Timestamp"
SIGNATURE_HEADER = "X-Featurebridge-Signature"
EVENT_HEADER = "X-Featurebridge-Event"
EVENT_ID_HEADER = "X-Featurebridge-Event-Id"
USER_AGENT = "featurebridge-webhooks"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``"<timestamp>.<body>"`` under the webhook's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def json_request(event_json: str, *, secret: str, timestamp: int) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a ``format = "json"`` delivery, signed at ``timestamp``."""
    body = event_json.encode()
    event = json.loads(event_json)
    return body, {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: str(event["type"]),
        EVENT_ID_HEADER: str(event["id"]),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def _escape(text: str) -> str:
    # Slack's mrkdwn: these three are control characters; everything else is text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_STATUS_WORDS = {
    "open": "open",
    "planned": "planned",
    "in_progress": "in progress",
    "completed": "completed",
    "declined": "declined",
    "duplicate": "a duplicate",
}


def slack_text(event: dict[str, Any]) -> str:
    """One readable line with a link to the issue."""
    request = event["request"]
    app = _escape(str(event["app"]["name"]))
    link = f"<{request['url']}|#{request['number']} {_escape(str(request['title']))}>"
    kind = event["type"]
    if kind == "request.created":
        return f"New feature request for *{app}*: {link}"
    if kind == "request.status_changed":
        now = _STATUS_WORDS.get(request["status"], request["status"])
        was = _STATUS_WORDS.get(event.get("previous_status", ""), event.get("previous_status"))
        return f"{link} ({app}) is now *{now}* (was {was})"
    votes = event.get("milestone", request["total_votes"])
    return f"{link} ({app}) passed *{votes} votes*"


def slack_request(event_json: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a ``format = "slack"`` delivery (an incoming-webhook message)."""
    event = json.loads(event_json)
    message = {"text": slack_text(event), "unfurl_links": False, "unfurl_media": False}
    return encode(message).encode(), {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
