"""One page of the pipeline in one state, across the configured apps."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bridge.domain import Hold, Submission
from bridge.outbox.states import OutboxState
from bridge.ports import IndexStore, InvalidCursorError, SubmissionPage
from bridge.untrusted import is_int64, loads


def _position(cursor: str, apps: Sequence[str]) -> tuple[int, str | None]:
    try:
        index, inner = loads(cursor)
    except (ValueError, TypeError) as error:
        raise InvalidCursorError("cursor is not a position of this listing") from error
    if not is_int64(index) or not 0 <= index < len(apps) or not isinstance(inner, str | None):
        raise InvalidCursorError("cursor is not a position of this listing")
    return index, inner


def outbox_page(
    store: IndexStore,
    state: OutboxState,
    *,
    apps: Sequence[str],
    limit: int,
    cursor: str | None,
) -> SubmissionPage:
    """Pending and retrying ones by next attempt; held-back ones app by app, oldest first."""
    if state in ("pending", "retrying"):
        return store.sendable_submissions(retrying=state == "retrying", limit=limit, cursor=cursor)
    hold = Hold(state)
    index, inner = _position(cursor, apps) if cursor else (0, None)
    items: list[Submission] = []
    while index < len(apps) and len(items) < limit:
        page = store.held_submissions(apps[index], hold, limit=limit - len(items), cursor=inner)
        items.extend(page.items)
        if page.next_cursor is not None:
            inner = page.next_cursor
            break
        index, inner = index + 1, None
    if index >= len(apps):
        return SubmissionPage(items=items, next_cursor=None)
    return SubmissionPage(items=items, next_cursor=json.dumps([index, inner]))
