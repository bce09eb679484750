"""Who is told of a request's changes: subscribers, what they follow, and the pure rules.

A subscriber is one address of one app (unique by the two). It follows
topics: a request by number (a vote), or a submission by id until its issue
exists and after (the submitter). An address from a voter token is trusted;
one typed by someone without a token is confirmed by its owner first.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Protocol

from msgspec import Struct

# Email deliveries' targets: ``email:<subscriber id>`` (never the address).
EMAIL_TARGET_PREFIX = "email:"
EMAIL_DESTINATION = "email"
CONFIRM_EVENT = "subscription.confirm"


class Subscriber(Struct, frozen=True):
    """One address of one app that may be emailed; ``id`` is what its links name."""

    id: str
    app: str
    address: str  # normalised (bridge.privacy.forget.normalised)
    confirmed: bool
    created_at: datetime
    unsubscribed: bool = False

    @property
    def active(self) -> bool:
        """Confirmed and not unsubscribed: it gets emails."""
        return self.confirmed and not self.unsubscribed

    @property
    def target(self) -> str:
        """The delivery target naming this subscriber."""
        return EMAIL_TARGET_PREFIX + self.id


def new_subscriber_id() -> str:
    """A random id: 32 hex characters."""
    return secrets.token_hex(16)


def address_key(address: str) -> str:
    """What an address is found by in the index (its SHA-256); the address is never a key."""
    return hashlib.sha256(address.encode()).hexdigest()


def request_topic(number: int) -> str:
    """The topic of a request's voters."""
    return f"request:{number}"


def submission_topic(submission_id: str) -> str:
    """The topic of a submission's submitter."""
    return f"submission:{submission_id}"


def subscriber_of_target(target: str) -> str | None:
    """The subscriber id an email delivery's target names; None for other targets."""
    if not target.startswith(EMAIL_TARGET_PREFIX):
        return None
    return target[len(EMAIL_TARGET_PREFIX) :]


class MailSender(Protocol):
    """Sends one raw MIME message (Amazon SES v2 in production)."""

    def send(self, *, to: str, raw: bytes) -> str:
        """Send; returns the message id. Raises DeliveryError (AddressRefusedError when
        this address must never be tried again)."""
        ...
