"""The SQLite index's share of email: subscribers, what they follow, suppressed addresses."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime

from bridge.notify.email.model import Subscriber, address_key
from bridge.stores.sqlite_base import SQLiteBase


def _subscriber(row: sqlite3.Row) -> Subscriber:
    return Subscriber(
        id=row["id"],
        app=row["app"],
        address=row["address"],
        confirmed=bool(row["confirmed"]),
        unsubscribed=bool(row["unsubscribed"]),
        created_at=datetime.fromtimestamp(row["created_at"], UTC),
    )


class EmailMixin(SQLiteBase):
    """Email subscriptions of :class:`bridge.stores.sqlite.SQLiteStore`."""

    def subscribe(
        self, subscriber: Subscriber, *, topic: str, voter: str
    ) -> tuple[Subscriber, bool]:
        """Keep the subscriber (or find its app's one of that address) and follow ``topic``."""
        key = address_key(subscriber.address)
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO email_subscribers (id, app, address, address_key,"
                " confirmed, unsubscribed, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
                (
                    subscriber.id,
                    subscriber.app,
                    subscriber.address,
                    key,
                    int(subscriber.confirmed),
                    subscriber.created_at.timestamp(),
                ),
            )
            created = cursor.rowcount == 1
            if not created and subscriber.confirmed:
                db.execute(
                    "UPDATE email_subscribers SET confirmed = 1, unsubscribed = 0"
                    " WHERE app = ? AND address_key = ?",
                    (subscriber.app, key),
                )
            row = db.execute(
                "SELECT * FROM email_subscribers WHERE app = ? AND address_key = ?",
                (subscriber.app, key),
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO email_follows (app, topic, voter, subscriber)"
                " VALUES (?, ?, ?, ?)",
                (subscriber.app, topic, voter, row["id"]),
            )
            return _subscriber(row), created

    def get_subscriber(self, subscriber_id: str) -> Subscriber | None:
        """The subscriber with this id."""
        rows = self._read("SELECT * FROM email_subscribers WHERE id = ?", (subscriber_id,))
        return _subscriber(rows[0]) if rows else None

    def confirm_subscriber(self, subscriber_id: str) -> Subscriber | None:
        """Mark the address confirmed by its owner (an unsubscribed one stays unsubscribed)."""
        return self._set_subscriber(
            subscriber_id, "UPDATE email_subscribers SET confirmed = 1 WHERE id = ?"
        )

    def unsubscribe(self, subscriber_id: str) -> Subscriber | None:
        """Stop every email to this subscriber."""
        return self._set_subscriber(
            subscriber_id, "UPDATE email_subscribers SET unsubscribed = 1 WHERE id = ?"
        )

    def _set_subscriber(self, subscriber_id: str, update: str) -> Subscriber | None:
        with self._write() as db:
            db.execute(update, (subscriber_id,))
            row = db.execute(
                "SELECT * FROM email_subscribers WHERE id = ?", (subscriber_id,)
            ).fetchone()
            return _subscriber(row) if row is not None else None

    def unfollow(self, app: str, topic: str, voter: str) -> None:
        """``voter`` no longer follows ``topic``."""
        with self._write() as db:
            db.execute(
                "DELETE FROM email_follows WHERE app = ? AND topic = ? AND voter = ?",
                (app, topic, voter),
            )

    def drop_ended_subscriptions(self, *, before: datetime) -> int:
        """One write transaction: the ended subscribers and their follows."""
        with self._write() as db:
            ended = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM email_subscribers WHERE unsubscribed = 1"
                    " OR (confirmed = 0 AND created_at < ?)",
                    (before.timestamp(),),
                )
            ]
            db.executemany("DELETE FROM email_follows WHERE subscriber = ?", [(x,) for x in ended])
            db.executemany("DELETE FROM email_subscribers WHERE id = ?", [(x,) for x in ended])
            return len(ended)

    def copy_follows(self, app: str, topics: Sequence[str], to: str) -> int:
        """Everyone following any of ``topics`` follows ``to`` too (existing follows kept)."""
        if not topics:
            return 0
        marks = ", ".join("?" for _ in topics)
        with self._write() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO email_follows (app, topic, voter, subscriber)"  # noqa: S608 -- placeholders only
                " SELECT app, ?, voter, MIN(subscriber) FROM email_follows"
                f" WHERE app = ? AND topic IN ({marks}) GROUP BY app, voter",
                (to, app, *topics),
            )
            return cursor.rowcount

    def followers(self, app: str, topics: Sequence[str]) -> Sequence[Subscriber]:
        """Active subscribers following any of ``topics``, each once, suppressed ones left out."""
        if not topics:
            return []
        marks = ", ".join("?" for _ in topics)
        sql = (
            "SELECT DISTINCT s.* FROM email_follows f"  # noqa: S608 -- placeholders only
            " JOIN email_subscribers s ON s.id = f.subscriber"
            f" WHERE f.app = ? AND f.topic IN ({marks})"
            " AND s.confirmed = 1 AND s.unsubscribed = 0"
            " AND s.address_key NOT IN (SELECT address_key FROM email_suppressions)"
            " ORDER BY s.id"
        )
        rows = self._read(sql, (app, *topics))
        return [_subscriber(row) for row in rows]

    def suppress_address(self, address: str, *, reason: str, now: datetime) -> None:
        """Never email this address again (a bounce, a complaint, SES's refusal)."""
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO email_suppressions (address_key, reason, created_at)"
                " VALUES (?, ?, ?)",
                (address_key(address), reason, now.timestamp()),
            )

    def is_suppressed(self, address: str) -> bool:
        """Whether the address may not be emailed."""
        rows = self._read(
            "SELECT 1 FROM email_suppressions WHERE address_key = ?", (address_key(address),)
        )
        return bool(rows)
