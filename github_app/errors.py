"""GitHub's failures as TrackerErrors: when to try again, and a message safe to log.

Pure mapping from what came back (a status, headers and a JSON body, or a
transport exception) to the port's exceptions. Messages name the action and
GitHub's own words, never a header value or a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bridge.ports import OutcomeUnknownError, TrackerError

SECONDARY_LIMIT_WAIT_SECONDS = 60.0  # GitHub: without retry-after, wait at least a minute
MIN_WAIT_SECONDS = 1.0
MAX_MESSAGE_CHARS = 300


def error_for_response(
    status: int,
    headers: Mapping[str, str],
    body: Any,
    *,
    action: str,
    now: float,
    not_found: str,
) -> TrackerError:
    """The TrackerError for an HTTP error answer to ``action``.

    ``headers`` must look names up case-insensitively (httpx.Headers does);
    ``not_found`` is what a 404 means for this call, in words for an operator.
    """
    said = _github_message(body)
    if status >= 500:
        return TrackerError(f"GitHub failed to {action} ({status}){said}")
    if status in (403, 429):
        wait = _rate_limit_wait(status, headers, said, now)
        if wait is not None:
            return TrackerError(
                f"GitHub rate-limited the request to {action} ({status}); "
                f"retry after {wait:.0f} s{said}",
                retry_after=wait,
            )
        return TrackerError(f"GitHub refused to {action} ({status}){said}")
    if status == 401:
        return TrackerError(f"GitHub rejected the credentials to {action} (401){said}")
    if status == 404:
        return TrackerError(f"GitHub could not {action} (404): {not_found}")
    return TrackerError(f"GitHub refused to {action} ({status}){said}")


def _rate_limit_wait(
    status: int, headers: Mapping[str, str], said: str, now: float
) -> float | None:
    retry_after = _number(headers.get("retry-after"))
    if retry_after is not None:
        return max(retry_after, MIN_WAIT_SECONDS)
    reset = _number(headers.get("x-ratelimit-reset"))
    if headers.get("x-ratelimit-remaining") == "0" and reset is not None:
        return max(reset - now, MIN_WAIT_SECONDS)
    if "secondary rate limit" in said.lower() or status == 429:
        return SECONDARY_LIMIT_WAIT_SECONDS
    return None


def error_for_transport(exc: Exception, *, action: str, write: bool) -> TrackerError:
    """The TrackerError for a call that got no answer.

    A write whose request may have reached GitHub (a read timeout, a dropped or
    reset connection) raises OutcomeUnknownError: the caller must look before
    writing again. A request that never left (no connection, pool exhausted)
    is a plain TrackerError.
    """
    import httpx

    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "lost the connection"
    if write and not never_sent:
        return OutcomeUnknownError(
            f"GitHub {kind} while asked to {action}; it may or may not have done it"
        )
    return TrackerError(f"GitHub {kind} while asked to {action} ({type(exc).__name__})")


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def _github_message(body: Any) -> str:
    """``": <GitHub's message> (<field errors>)"`` or ``""``; printable and short."""
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    message = body.get("message")
    if isinstance(message, str) and message:
        parts.append(message)
    details = [_detail(item) for item in body.get("errors") or () if _detail(item)]
    if details:
        parts.append("(" + "; ".join(details[:5]) + ")")
    text = " ".join(parts)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    return f": {text}" if text else ""


def _detail(item: object) -> str:
    if isinstance(item, str):
        return item
    if not isinstance(item, dict):
        return ""
    if isinstance(item.get("message"), str):
        return str(item["message"])
    fields = [str(item[k]) for k in ("resource", "field", "code") if item.get(k)]
    return " ".join(fields)
