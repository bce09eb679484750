"""``featurebridge notifications``: recent deliveries of outgoing events, one line each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from bridge.notify.model import NotificationDelivery
from bridge.settings import Settings
from bridge.timeutil import to_iso


def report_lines(found: Sequence[NotificationDelivery]) -> list[str]:
    """One line per delivery, newest first: when, state, app, event, where, attempts, error."""
    if not found:
        return ["no deliveries"]
    lines = []
    for item in found:
        line = (
            f"{to_iso(item.created_at)}  {item.state:<9}  {item.app}  {item.event:<22}"
            f"  {item.destination}  attempts={item.attempts}  {item.event_id}"
        )
        if item.state == "pending":
            line += f"  next={to_iso(item.next_attempt_at)}"
        if item.last_error:
            line += f"  error: {item.last_error}"
        lines.append(line)
    return lines


def run_notifications(settings: Settings, *, state: str | None, limit: int, out: TextIO) -> int:
    """Print the latest deliveries (only failed ones with ``state="failed"``)."""
    from bridge.stores import open_store

    found = open_store(settings.store_url).recent_notifications(limit=limit, state=state)
    for line in report_lines(found):
        print(line, file=out)
    return 0
