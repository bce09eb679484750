"""GitHub webhooks: verify the signature, parse the event, route it to a handler.

Handlers register per ``(event, action)`` with :meth:`Router.on`, the way
Probot's ``app.on("issues.opened")`` does; the HTTP view stays thin.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from msgspec import Struct

SIGNATURE_PREFIX = "sha256="

Context = TypeVar("Context")
Result = TypeVar("Result")


def verify_signature(body: bytes, header: str | None, secrets: Sequence[str]) -> bool:
    """Whether ``X-Hub-Signature-256`` is the HMAC-SHA256 of the body under any secret.

    Every secret is checked (in constant time) so that timing does not tell
    which one matched; two are given while a secret is being rotated.
    """
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    given = header[len(SIGNATURE_PREFIX) :].strip().lower().encode()
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
        matched |= hmac.compare_digest(expected, given)
    return matched


def sign(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value GitHub would send for ``body``."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookEvent(Struct, frozen=True):
    """One delivery: the event name, its action, GitHub's delivery id and the payload."""

    name: str
    delivery_id: str
    payload: Mapping[str, Any]

    @property
    def action(self) -> str | None:
        """The payload's ``action``, when the event has one."""
        action = self.payload.get("action")
        return action if isinstance(action, str) else None

    @property
    def sender_login(self) -> str | None:
        """Who caused the event."""
        sender = self.payload.get("sender")
        login = sender.get("login") if isinstance(sender, Mapping) else None
        return login if isinstance(login, str) else None

    @property
    def repo(self) -> str | None:
        """``owner/name`` of the repository the event is about, if any."""
        repository = self.payload.get("repository")
        name = repository.get("full_name") if isinstance(repository, Mapping) else None
        return name if isinstance(name, str) else None


Handler = Callable[[Context, WebhookEvent], Result]


class Router(Generic[Context, Result]):
    """Handlers by event name and action; ``"*"`` matches any action."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler[Context, Result]] = {}

    def on(
        self, event: str, *actions: str
    ) -> Callable[[Handler[Context, Result]], Handler[Context, Result]]:
        """Register the decorated function for ``event`` with each of ``actions``."""

        def register(handler: Handler[Context, Result]) -> Handler[Context, Result]:
            for action in actions or ("*",):
                key = (event, action)
                if key in self._handlers:
                    raise ValueError(f"{event}.{action} already has a handler")
                self._handlers[key] = handler
            return handler

        return register

    def handler_for(self, event: WebhookEvent) -> Handler[Context, Result] | None:
        """The handler for this event's name and action, if any."""
        return self._handlers.get((event.name, event.action or "*")) or self._handlers.get(
            (event.name, "*")
        )

    def routes(self) -> frozenset[tuple[str, str]]:
        """Every registered ``(event, action)``."""
        return frozenset(self._handlers)
