"""The submission outbox of the SQLite index."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from msgspec.structs import replace

from bridge.domain import Hold, Request, Submission
from bridge.ports import (
    HoldChange,
    IdempotencyClaim,
    IdempotencyConflictError,
    InvalidCursorError,
    OutboxStats,
    RateHit,
    RateLimitedError,
    RepeatCheck,
    SubmissionPage,
)
from bridge.stores.codec import (
    content_to_json,
    moderation_to_json,
    review_cursor,
    review_position,
    sendable_cursor,
    sendable_position,
)
from bridge.stores.sqlite_base import SQLiteBase
from bridge.stores.sqlite_rows import submission_of_row
from bridge.timeutil import parse_iso, to_sortable


class OutboxMixin(SQLiteBase):
    """Submissions from acceptance until their issue exists."""

    def create_submission(
        self,
        submission: Submission,
        *,
        idempotency: IdempotencyClaim | None,
        now: datetime,
        rate: RateHit | None = None,
        repeat: RepeatCheck | None = None,
        lease_until: datetime | None = None,
    ) -> tuple[Submission, bool]:
        """Store a submission, or return the one its live idempotency key made.

        One transaction whatever the options: the rate counter's hit, the
        repeat counter's, the key, the submission and its first lease. A
        refused hit is kept (as ``hit_rate_limit`` keeps every hit), nothing else.
        """
        with self._write() as db:
            if rate is not None and rate.limit < self._count_hit(
                db, rate.key, window_seconds=rate.window_seconds, now=now
            ):
                refused = rate
            else:
                if (
                    repeat is not None
                    and self._count_hit(
                        db, repeat.key, window_seconds=repeat.window_seconds, now=now
                    )
                    > 1
                ):
                    submission = replace(submission, hold=repeat.hold, signals=repeat.signals)
                return self._insert_submission(db, submission, idempotency, now, lease_until)
        raise RateLimitedError(refused)

    def _insert_submission(
        self,
        db: sqlite3.Connection,
        submission: Submission,
        idempotency: IdempotencyClaim | None,
        now: datetime,
        lease_until: datetime | None,
    ) -> tuple[Submission, bool]:
        if idempotency is not None:
            self._prune(db, "idempotency_keys", now)
            row = db.execute(
                "SELECT fingerprint, submission_id, expires_at FROM idempotency_keys"
                " WHERE app = ? AND key = ?",
                (submission.app, idempotency.key),
            ).fetchone()
            if row is not None and row["expires_at"] > now.timestamp():
                if row["fingerprint"] != idempotency.fingerprint:
                    raise IdempotencyConflictError(row["submission_id"])
                existing = self._submission_row(db, row["submission_id"])
                if existing is not None:
                    return existing, False
            db.execute(
                "INSERT OR REPLACE INTO idempotency_keys"
                " (app, key, fingerprint, submission_id, expires_at) VALUES (?, ?, ?, ?, ?)",
                (
                    submission.app,
                    idempotency.key,
                    idempotency.fingerprint,
                    submission.id,
                    idempotency.expires_at.timestamp(),
                ),
            )
        lease = lease_until if submission.may_be_sent else None  # a held one is not sent
        db.execute(
            "INSERT INTO submissions (id, app, source, content, created_at, next_attempt_at,"
            " voter, voter_weight, hold, moderation, lease_until, attempts, in_flight)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                submission.id,
                submission.app,
                submission.source.value,
                content_to_json(submission.content),
                to_sortable(submission.created_at),
                (submission.next_attempt_at or submission.created_at).timestamp(),
                submission.voter,
                submission.voter_weight,
                submission.hold.value if submission.hold else None,
                moderation_to_json(submission.signals, submission.decisions),
                lease.timestamp() if lease else None,
                int(lease is not None),
                int(lease is not None),
            ),
        )
        return (submission if lease is None else replace(submission, attempts=1)), True

    def get_submission(self, submission_id: str) -> Submission | None:
        """The submission with this id."""
        return self._submission_row(self._connection(), submission_id)

    def due_submissions(self, *, now: datetime, limit: int) -> Sequence[Submission]:
        """Undelivered submissions due for an attempt, oldest due first."""
        rows = self._read(
            "SELECT * FROM submissions WHERE delivered = 0 AND hold IS NULL"
            " AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)"
            " ORDER BY next_attempt_at LIMIT ?",
            (now.timestamp(), now.timestamp(), limit),
        )
        return [submission_of_row(row) for row in rows]

    def claim_submission(
        self, submission_id: str, *, now: datetime, lease_until: datetime
    ) -> Submission | None:
        """Lease an undelivered submission unless another worker holds it."""
        with self._write() as db:
            before = self._submission_row(db, submission_id)
            if before is None or not before.may_be_sent:
                return None
            claimed = db.execute(
                "UPDATE submissions SET lease_until = ?, attempts = attempts + 1, in_flight = 1"
                " WHERE id = ? AND delivered = 0 AND hold IS NULL"
                " AND (lease_until IS NULL OR lease_until <= ?)",
                (lease_until.timestamp(), submission_id, now.timestamp()),
            ).rowcount
            if not claimed:
                return None
            after = self._submission_row(db, submission_id)
            # The caller needs to know whether the *previous* attempt left things unknown.
            return replace(after, outcome_unknown=before.outcome_unknown) if after else None

    def record_failed_attempt(
        self,
        submission_id: str,
        *,
        error: str,
        next_attempt_at: datetime,
        outcome_unknown: bool = False,
    ) -> None:
        """Release the lease and schedule the next attempt."""
        with self._write() as db:
            db.execute(
                "UPDATE submissions SET lease_until = NULL, last_error = ?, next_attempt_at = ?,"
                " in_flight = ? WHERE id = ? AND delivered = 0",
                (error[:1000], next_attempt_at.timestamp(), int(outcome_unknown), submission_id),
            )

    def postpone(self, submission_id: str, *, until: datetime) -> None:
        """Move the next attempt without spending one."""
        with self._write() as db:
            db.execute(
                "UPDATE submissions SET next_attempt_at = ? WHERE id = ? AND delivered = 0",
                (until.timestamp(), submission_id),
            )

    def release_lease(self, submission_id: str, *, until: datetime) -> None:
        """Undo an unstarted attempt's lease; the next attempt is due at ``until``."""
        with self._write() as db:
            db.execute(
                "UPDATE submissions SET lease_until = NULL, in_flight = 0,"
                " attempts = max(attempts - 1, 0), next_attempt_at = ?"
                " WHERE id = ? AND delivered = 0",
                (until.timestamp(), submission_id),
            )

    def mark_delivered(self, submission_id: str, request: Request) -> None:
        """Record the issue and index the request in one transaction."""
        with self._write() as db:
            db.execute(
                "UPDATE submissions SET delivered = 1, lease_until = NULL, in_flight = 0,"
                " last_error = NULL, number = ?, url = ? WHERE id = ?",
                (request.number, request.url, submission_id),
            )
            self._upsert(db, request)
            submission = self._submission_row(db, submission_id)
            if submission is not None and submission.voter is not None:
                # The submitter's own vote, already counted in the request's bridge_votes.
                db.execute(
                    "INSERT OR IGNORE INTO votes (app, number, voter, weight, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        request.app,
                        request.number,
                        submission.voter,
                        submission.voter_weight,
                        request.created_at.timestamp(),
                    ),
                )

    def outbox_stats(self) -> OutboxStats:
        """How many submissions wait, and the oldest one's age."""
        row = self._read(
            "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM submissions"
            " WHERE delivered = 0 AND hold IS NULL"
        )[0]
        oldest = parse_iso(row["oldest"]) if row["oldest"] else None
        return OutboxStats(pending=row["pending"], oldest_created_at=oldest)

    def queue_is_full(self, app: str, cap: int) -> bool:
        """Whether ``app`` has ``cap`` sendable submissions waiting (counts at most ``cap``)."""
        row = self._read(
            "SELECT COUNT(*) FROM (SELECT 1 FROM submissions"
            " WHERE app = ? AND delivered = 0 AND hold IS NULL LIMIT ?)",
            (app, cap),
        )[0]
        return bool(row[0] >= cap)

    def change_hold(self, submission_id: str, change: HoldChange) -> Submission | None:
        """Apply ``change`` inside one write transaction (so nobody changes it meanwhile)."""
        with self._write() as db:
            current = self._submission_row(db, submission_id)
            if current is None:
                return None
            changed = change(current)
            if changed is None:
                return current
            db.execute(
                "UPDATE submissions SET hold = ?, moderation = ?, next_attempt_at = ?"
                " WHERE id = ? AND delivered = 0",
                (
                    changed.hold.value if changed.hold else None,
                    moderation_to_json(changed.signals, changed.decisions),
                    (changed.next_attempt_at or changed.created_at).timestamp(),
                    submission_id,
                ),
            )
            return self._submission_row(db, submission_id)

    def held_submissions(
        self, app: str, hold: Hold, *, limit: int, cursor: str | None
    ) -> SubmissionPage:
        """Oldest first through the ``submissions_held`` index."""
        after = review_position(cursor) if cursor else ("", "")
        rows = self._read(
            "SELECT * FROM submissions WHERE app = ? AND hold = ? AND (created_at, id) > (?, ?)"
            " ORDER BY created_at, id LIMIT ?",
            (app, hold.value, *after, limit + 1),
        )
        items = [submission_of_row(row) for row in rows[:limit]]
        more = len(rows) > limit
        last = rows[limit - 1] if more else None
        return SubmissionPage(
            items=items,
            next_cursor=review_cursor(last["created_at"], last["id"]) if last else None,
        )

    def sendable_submissions(
        self, *, retrying: bool, limit: int, cursor: str | None
    ) -> SubmissionPage:
        """By next attempt (the ``submissions_due`` index), then id."""
        after_time, after_id = -1.0, ""
        if cursor:
            key, after_id = sendable_position(cursor)
            try:
                after_time = float(key)
            except ValueError as error:
                raise InvalidCursorError("cursor is not a position of this listing") from error
        rows = self._read(
            "SELECT * FROM submissions WHERE delivered = 0 AND hold IS NULL"
            " AND (attempts > 0) = ? AND (next_attempt_at, id) > (?, ?)"
            " ORDER BY next_attempt_at, id LIMIT ?",
            (int(retrying), after_time, after_id, limit + 1),
        )
        items = [submission_of_row(row) for row in rows[:limit]]
        if len(rows) <= limit:
            return SubmissionPage(items=items, next_cursor=None)
        last = rows[limit - 1]
        return SubmissionPage(
            items=items, next_cursor=sendable_cursor(repr(last["next_attempt_at"]), last["id"])
        )

    def outbox_depths(self, apps: Sequence[str]) -> dict[str, int]:
        """One grouped count over the undelivered submissions."""
        depths = {"pending": 0, "retrying": 0} | {hold.value: 0 for hold in Hold}
        rows = self._read(
            "SELECT app, hold, attempts > 0 AS tried, COUNT(*) AS n FROM submissions"
            " WHERE delivered = 0 GROUP BY app, hold, tried"
        )
        for row in rows:
            if row["hold"] is None:
                depths["retrying" if row["tried"] else "pending"] += row["n"]
            elif row["app"] in apps:
                depths[row["hold"]] += row["n"]
        return depths
