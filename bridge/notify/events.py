"""Domain events and the pure rules that find them in a change of the index.

An event is found by whoever sees the change first (the delivery of a
submission, a GitHub webhook, a sync, a vote); its ``key`` names the change
itself, so two observers of one change find the same key, and the index
claims each key once (:mod:`bridge.notify.emit`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct

from bridge.domain import Request
from bridge.notify.config import EventType
from bridge.timeutil import to_iso, to_sortable

# A request that enters the index older than this is catching up (a first sync of
# a repository, an issue that comes back to its app): no request.created for it,
# and its votes so far cross no milestone.
NEW_REQUEST_WINDOW = timedelta(days=1)

# Titles come from people: anything shaped like an address is cut out of events.
_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"']+")
EMAIL_PLACEHOLDER = "[email]"


def milestones() -> Iterator[int]:
    """10, 25, 50, 100, 250, 500, 1000, 2500, ... without end."""
    scale = 10
    while True:
        yield from (scale, scale * 5 // 2, scale * 5)
        scale *= 10


def milestones_between(before: int, after: int) -> list[int]:
    """The vote milestones reached going from ``before`` votes to ``after``."""
    crossed: list[int] = []
    for milestone in milestones():
        if milestone > after:
            break
        if milestone > before:
            crossed.append(milestone)
    return crossed


class Event(Struct, frozen=True):
    """Something that happened to a request that other tools may want to hear of.

    Carries only what GitHub shows anyway (number, title, link, status, votes):
    never an email address or a person's name.
    """

    type: EventType
    key: str  # names the change; two observers of it find the same key
    app: str
    number: int
    title: str
    url: str
    status: str
    total_votes: int
    occurred_at: datetime
    previous_status: str | None = None
    milestone: int | None = None

    @property
    def id(self) -> str:
        """The event id receivers dedupe by: the same for every delivery of the event."""
        return "evt_" + hashlib.sha256(self.key.encode()).hexdigest()[:32]

    @property
    def once_ever(self) -> bool:
        """A request is created once and passes each milestone once, whatever follows."""
        return self.type != "request.status_changed"

    def body(self, app_name: str) -> dict[str, Any]:
        """The event as JSON receivers and SNS subscribers get it."""
        body: dict[str, Any] = {
            "id": self.id,
            "type": self.type,
            "occurred_at": to_iso(self.occurred_at),
            "app": {"id": self.app, "name": app_name},
            "request": {
                "number": self.number,
                "title": self.title,
                "url": self.url,
                "status": self.status,
                "total_votes": self.total_votes,
            },
        }
        if self.previous_status is not None:
            body["previous_status"] = self.previous_status
        if self.milestone is not None:
            body["milestone"] = self.milestone
        return body


def encode(body: dict[str, Any]) -> str:
    """The exact text sent (and signed): compact JSON, UTF-8."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def scrub(text: str) -> str:
    """``text`` without anything shaped like an email address."""
    return _EMAIL.sub(EMAIL_PLACEHOLDER, text)


def _event(kind: EventType, key: str, request: Request, now: datetime, **extra: Any) -> Event:
    return Event(
        type=kind,
        key=key,
        app=request.app,
        number=request.number,
        title=scrub(request.title),
        url=request.url,
        status=request.status.value,
        total_votes=request.total_votes,
        occurred_at=now,
        **extra,
    )


def created(request: Request, now: datetime) -> Event:
    """``request.created``: once per request."""
    return _event("request.created", f"created:{request.app}:{request.number}", request, now)


def milestone_events(request: Request, before: int, now: datetime) -> list[Event]:
    """``vote.milestone`` for each milestone passed since the request had ``before`` votes."""
    return [
        _event(
            "vote.milestone",
            f"milestone:{request.app}:{request.number}:{milestone}",
            request,
            now,
            milestone=milestone,
        )
        for milestone in milestones_between(before, request.total_votes)
    ]


def change_events(before: Request | None, after: Request, now: datetime) -> list[Event]:
    """The events of one request going from ``before`` (None: not indexed) to ``after``.

    A status change is named by the state it left (status and GitHub's
    ``updated_at`` as the index held them), so a webhook and a sync that both
    saw the same old state announce one change, while a later change back and
    forth is a new one.
    """
    if before is None:
        if now - after.created_at > NEW_REQUEST_WINDOW:
            return []
        return [created(after, now), *milestone_events(after, 0, now)]
    events: list[Event] = []
    if before.status is not after.status:
        key = ":".join(
            (
                "status",
                after.app,
                str(after.number),
                before.status.value,
                after.status.value,
                to_sortable(before.updated_at),
            )
        )
        events.append(
            _event("request.status_changed", key, after, now, previous_status=before.status.value)
        )
    return [*events, *milestone_events(after, before.total_votes, now)]
