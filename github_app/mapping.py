"""GitHub's REST JSON as the port's records, and small readers for its answers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bridge.ports import TrackerError
from bridge.tracker_values import TrackedIssue

if TYPE_CHECKING:
    import httpx


class PayloadError(ValueError):
    """GitHub's JSON lacks something the bridge needs."""


def issue_from_payload(repo: str, data: Any) -> TrackedIssue:
    """The issue object of a webhook payload; PayloadError when it is partial."""
    try:
        return tracked_issue(repo, data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PayloadError(f"issue object lacks or mangles a field: {error}") from error


def tracked_issue(repo: str, data: Any) -> TrackedIssue:
    """An issue as GitHub's REST API or a webhook sends it, as the port's TrackedIssue.

    The 👍 count is None when the JSON has no reactions rollup (older servers,
    some webhook payloads), so that callers keep the count they know.
    """
    reactions = data.get("reactions")
    return TrackedIssue(
        repo=repo,
        number=as_int(data["number"]),
        url=str(data["html_url"]),
        title=str(data["title"]),
        state=str(data["state"]),
        state_reason=data.get("state_reason"),
        labels=tuple(
            str(label["name"] if isinstance(label, dict) else label)
            for label in data.get("labels") or ()
        ),
        created_at=timestamp(data["created_at"]),
        updated_at=timestamp(data["updated_at"]),
        closed_at=timestamp(data["closed_at"]) if data.get("closed_at") else None,
        thumbs_up=as_int(reactions.get("+1", 0)) if isinstance(reactions, dict) else None,
        body=str(data.get("body") or ""),
        node_id=str(data.get("node_id") or ""),
    )


def timestamp(value: Any) -> datetime:
    """GitHub's ISO 8601 time (``2024-05-01T12:00:00Z``) as an aware datetime."""
    return aware(datetime.fromisoformat(str(value).replace("Z", "+00:00")))


def aware(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def as_int(value: Any) -> int:
    """An int from JSON; TypeError for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Labels in order, without repeats or empty names."""
    return list(dict.fromkeys(label for label in labels if label))


def json_or_none(response: httpx.Response) -> Any:
    """The decoded body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None


def json_or_fail(response: httpx.Response, action: str) -> Any:
    """The decoded body; TrackerError when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        raise TrackerError(f"GitHub's answer to {action} is not JSON") from None


# Who may mark an issue a duplicate with a comment: people with write access.
WRITE_ACCESS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})


def written_by(item: Any, login: str) -> bool:
    """Whether the issue or comment ``item`` (REST JSON) was written by ``login``."""
    user = item.get("user") if isinstance(item, dict) else None
    author = user.get("login") if isinstance(user, dict) else None
    return isinstance(author, str) and author.lower() == login.lower()


def has_write_access(item: Any) -> bool:
    """Whether GitHub says the comment's author may write to the repository."""
    return isinstance(item, dict) and item.get("author_association") in WRITE_ACCESS
