"""The SQLite index's share of outgoing events: event claims and deliveries."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bridge.notify.model import NotificationDelivery
from bridge.stores.sqlite_base import SQLiteBase
from bridge.timeutil import to_sortable

# Deliveries are kept this long for operators, then pruned (ids sort by creation).
KEEP_DELIVERIES = timedelta(days=30)


def _moment(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _delivery(row: sqlite3.Row) -> NotificationDelivery:
    return NotificationDelivery(
        id=row["id"],
        event_id=row["event_id"],
        app=row["app"],
        event=row["event"],
        target=row["target"],
        destination=row["destination"],
        body=row["body"],
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
        next_attempt_at=datetime.fromtimestamp(row["next_attempt_at"], UTC),
        attempts=row["attempts"],
        state=row["state"],
        last_error=row["last_error"],
        last_attempt_at=_moment(row["last_attempt_at"]),
    )


class NotifyMixin(SQLiteBase):
    """``claim_event`` and the notification deliveries of :class:`SQLiteStore`."""

    def claim_event(self, key: str, *, now: datetime, expires_at: datetime) -> bool:
        """Claim an event's key unless a live claim holds it; whether this call claimed it."""
        with self._write() as db:
            db.execute("DELETE FROM event_claims WHERE expires_at <= ?", (now.timestamp(),))
            cursor = db.execute(
                "INSERT OR IGNORE INTO event_claims (key, expires_at) VALUES (?, ?)",
                (key, expires_at.timestamp()),
            )
            return cursor.rowcount == 1

    def add_notification(self, delivery: NotificationDelivery) -> bool:
        """Store a new delivery (pruning those past their keeping); False when it exists."""
        with self._write() as db:
            oldest = to_sortable(delivery.created_at - KEEP_DELIVERIES)
            db.execute("DELETE FROM notifications WHERE id < ?", (oldest,))
            cursor = db.execute(
                "INSERT OR IGNORE INTO notifications (id, event_id, app, event, target,"
                " destination, body, created_at, next_attempt_at, attempts, state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    delivery.id,
                    delivery.event_id,
                    delivery.app,
                    delivery.event,
                    delivery.target,
                    delivery.destination,
                    delivery.body,
                    delivery.created_at.timestamp(),
                    delivery.next_attempt_at.timestamp(),
                    delivery.attempts,
                    delivery.state,
                ),
            )
            return cursor.rowcount == 1

    def claim_notification(
        self, delivery_id: str, *, now: datetime, lease_until: datetime
    ) -> NotificationDelivery | None:
        """Lease a pending, due delivery for one attempt (its next attempt moves to the
        lease's end); None when it is not due, not pending or leased by another."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE notifications SET next_attempt_at = ?"
                " WHERE id = ? AND state = 'pending' AND next_attempt_at <= ?",
                (lease_until.timestamp(), delivery_id, now.timestamp()),
            )
            if cursor.rowcount != 1:
                return None
            row = db.execute("SELECT * FROM notifications WHERE id = ?", (delivery_id,)).fetchone()
            return _delivery(row)

    def save_notification(self, delivery: NotificationDelivery) -> None:
        """Record an attempt's outcome: state, attempts, error, next attempt."""
        with self._write() as db:
            db.execute(
                "UPDATE notifications SET state = ?, attempts = ?, last_error = ?,"
                " last_attempt_at = ?, next_attempt_at = ? WHERE id = ?",
                (
                    delivery.state,
                    delivery.attempts,
                    delivery.last_error,
                    delivery.last_attempt_at.timestamp() if delivery.last_attempt_at else None,
                    delivery.next_attempt_at.timestamp(),
                    delivery.id,
                ),
            )

    def due_notifications(self, *, now: datetime, limit: int) -> Sequence[str]:
        """Ids of pending deliveries whose next attempt is due, soonest first."""
        rows = self._read(
            "SELECT id FROM notifications WHERE state = 'pending' AND next_attempt_at <= ?"
            " ORDER BY next_attempt_at LIMIT ?",
            (now.timestamp(), limit),
        )
        return [row["id"] for row in rows]

    def recent_notifications(
        self, *, limit: int, state: str | None = None
    ) -> Sequence[NotificationDelivery]:
        """The latest deliveries, newest first (only those in ``state`` when given)."""
        if state is None:
            rows = self._read("SELECT * FROM notifications ORDER BY id DESC LIMIT ?", (limit,))
        else:
            rows = self._read(
                "SELECT * FROM notifications WHERE state = ? ORDER BY id DESC LIMIT ?",
                (state, limit),
            )
        return [_delivery(row) for row in rows]
