"""GraphQL answers: data, GitHub's errors, and the rate limit GitHub reports as a 200."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from msgspec import Struct

from bridge.ports import TrackerError
from github_app.errors import SECONDARY_LIMIT_WAIT_SECONDS
from github_app.mapping import json_or_fail

if TYPE_CHECKING:
    import httpx


class GraphQLAnswer(Struct, frozen=True):
    """A GraphQL answer: ``data`` (possibly partial) and GitHub's errors."""

    data: Mapping[str, Any]
    errors: Sequence[Mapping[str, Any]] = ()

    def said(self) -> str:
        """GitHub's first error message, for a log line or an exception."""
        message = next((str(e.get("message")) for e in self.errors if e.get("message")), "")
        return f": {message[:300]}" if message else ""


class SendGraphQL(Protocol):
    """Send one GraphQL document as the installation of ``repo``."""

    def __call__(
        self,
        query: str,
        variables: Mapping[str, Any],
        *,
        repo: str,
        action: str,
        write: bool = False,
    ) -> GraphQLAnswer:
        """One POST /graphql; TrackerError when GitHub does not answer with data."""


def read_answer(response: httpx.Response, action: str, *, now: float) -> GraphQLAnswer:
    """The answer to a GraphQL request; over the rate limit (a 200!) a TrackerError."""
    body = json_or_fail(response, action)
    if not isinstance(body, dict):
        raise TrackerError(f"GitHub's answer to {action} is not a GraphQL answer")
    errors = [error for error in body.get("errors") or () if isinstance(error, dict)]
    if any(error.get("type") == "RATE_LIMITED" for error in errors):
        wait = SECONDARY_LIMIT_WAIT_SECONDS
        reset = response.headers.get("x-ratelimit-reset", "")
        if reset.strip().isdigit():
            wait = max(float(reset) - now, 1.0)
        raise TrackerError(
            f"GitHub's GraphQL rate limit stopped the request to {action};"
            f" retry after {wait:.0f} s",
            retry_after=wait,
        )
    data = body.get("data")
    return GraphQLAnswer(data if isinstance(data, dict) else {}, errors)
