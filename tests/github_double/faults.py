"""Scripted failures: GitHub's 5xx, both rate limits, slowness and lost answers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from tests.github_double.shapes import DOCS

FaultKind = Literal[
    "server_error", "secondary_rate_limit", "primary_rate_limit", "slow", "drop_after_create"
]
KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]

SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID {rid}."
)
SECONDARY_DOCS = (
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
PRIMARY_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
    "#about-the-primary-rate-limit"
)


class DroppedConnectionError(ConnectionError):
    """Raised by the app to lose the answer: the transport turns it into a dead socket."""


@dataclass(frozen=True, slots=True)
class Fault:
    """A failure for requests matching ``method`` + OpenAPI ``path`` template.

    ``"*"`` matches any method or path. ``times`` requests get it (None: all of them).
    ``status`` overrides the answer's status (e.g. 429 for a secondary rate limit, 503 for
    a server error). ``retry_after`` is the ``retry-after`` seconds of a secondary limit
    (default 60; ``send_retry_after=False`` leaves the header out, as GitHub sometimes
    does) or the seconds until ``x-ratelimit-reset`` of a primary one. ``delay`` is how
    long a ``slow`` request waits before it is served normally.
    """

    method: str
    path: str
    kind: FaultKind
    times: int | None = 1
    retry_after: int | None = None
    delay: float = 0.0
    status: int | None = None
    send_retry_after: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {KINDS}")

    def matches(self, method: str, template: str) -> bool:
        """Whether a request for ``method`` on the path template gets this fault."""
        return self.method in ("*", method.upper()) and self.path in ("*", template)


class FaultPlan:
    """The faults still to fire, consumed first-added first."""

    def __init__(self) -> None:
        self._pending: list[list[Any]] = []  # [fault, remaining or None]
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Schedule ``fault`` for the next ``fault.times`` matching requests."""
        with self._lock:
            self._pending.append([fault, fault.times])

    def clear(self) -> None:
        """Forget every scheduled fault."""
        with self._lock:
            self._pending.clear()

    @property
    def pending(self) -> list[Fault]:
        """Faults that have not fired as often as asked."""
        with self._lock:
            return [entry[0] for entry in self._pending]

    def take(self, method: str, template: str) -> Fault | None:
        """The fault this request gets, counting it as fired; None if none applies."""
        with self._lock:
            for entry in self._pending:
                fault, remaining = entry
                if fault.matches(method, template):
                    if remaining is not None:
                        entry[1] = remaining - 1
                        if entry[1] <= 0:
                            self._pending.remove(entry)
                    return fault  # type: ignore[no-any-return]
        return None


def fault_response(
    fault: Fault, request_id: str, graphql: bool = False
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status, JSON body and headers of a fault that answers instead of the route."""
    now = int(time.time())
    if fault.kind == "server_error":
        return fault.status or 502, {"message": "Server Error", "documentation_url": DOCS}, {}
    if fault.kind == "secondary_rate_limit":
        headers = {}
        if fault.send_retry_after:
            headers["retry-after"] = str(fault.retry_after if fault.retry_after is not None else 60)
        body = {
            "message": SECONDARY_MESSAGE.format(rid=request_id),
            "documentation_url": SECONDARY_DOCS,
        }
        return fault.status or 403, body, headers
    # primary_rate_limit
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-used": "5000",
        "x-ratelimit-reset": str(
            now + (fault.retry_after if fault.retry_after is not None else 60)
        ),
        "x-ratelimit-resource": "graphql" if graphql else "core",
    }
    message = "API rate limit exceeded for installation."
    if graphql:
        # GraphQL over its primary limit answers 200 with an error body (FIELD-NOTES).
        return (
            fault.status or 200,
            {"errors": [{"type": "RATE_LIMITED", "message": message}]},
            headers,
        )
    return fault.status or 403, {"message": message, "documentation_url": PRIMARY_DOCS}, headers
