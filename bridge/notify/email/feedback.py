"""SES's bounce and complaint feedback: the addresses that must never be emailed again.

SES publishes them (the configuration set's event destination, or an
identity's feedback notifications) to an SNS topic, which delivers them raw to
the worker's queue (``lambda/template.yaml``). A permanent bounce (including an
address on the account's suppression list) and a complaint suppress the
address in every app; a transient bounce changes nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bridge.ports import Job
from bridge.runtime import Runtime

log = logging.getLogger(__name__)

EMAIL_FEEDBACK = "email_feedback"
_MARKERS = ('"eventType"', '"notificationType"', '"Notification"')


def feedback_addresses(message: dict[str, Any]) -> tuple[str, list[str]] | None:
    """``(reason, addresses)`` an SES event or notification asks to suppress; None when it
    is no SES feedback, an empty list when it suppresses nobody (a transient bounce)."""
    kind = message.get("eventType", message.get("notificationType"))
    if kind == "Bounce":
        bounce = message.get("bounce")
        if not isinstance(bounce, dict):
            return None
        if bounce.get("bounceType") != "Permanent":
            return "bounce", []
        return "bounce", _recipients(bounce.get("bouncedRecipients"))
    if kind == "Complaint":
        complaint = message.get("complaint")
        if not isinstance(complaint, dict):
            return None
        return "complaint", _recipients(complaint.get("complainedRecipients"))
    return None


def _recipients(entries: object) -> list[str]:
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries:
        address = entry.get("emailAddress") if isinstance(entry, dict) else None
        if isinstance(address, str) and "@" in address:
            found.append(address.strip().casefold())
    return found


def feedback_job(body: str) -> Job | None:
    """The job of a queue message that is SES feedback (SNS raw delivery); None otherwise."""
    if not any(marker in body for marker in _MARKERS):
        return None
    try:
        message = json.loads(body)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    if isinstance(message.get("Message"), str) and message.get("Type") == "Notification":
        # An SNS envelope (a subscription without raw delivery): the message inside.
        return feedback_job(message["Message"])
    found = feedback_addresses(message)
    if found is None:
        return None
    reason, addresses = found
    return Job(EMAIL_FEEDBACK, {"reason": reason, "addresses": addresses})


def record_feedback(runtime: Runtime, payload: dict[str, Any]) -> None:
    """The ``email_feedback`` job: suppress each address it names."""
    reason = str(payload.get("reason", "bounce"))
    addresses = [a for a in payload.get("addresses", []) if isinstance(a, str)]
    now = runtime.clock()
    for address in addresses:
        runtime.store.suppress_address(address, reason=reason, now=now)
    log.info(
        "SES %s: %d address(es) suppressed",
        reason,
        len(addresses),
        extra={"event": "email_feedback"},
    )
