"""Accepting a submission: validated content in, a stored outbox entry out."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from bridge.domain import Hold, Source, Submission, SubmissionContent
from bridge.ports import IdempotencyClaim, RateHit, RepeatCheck
from bridge.runtime import Runtime
from bridge.settings import AppConfig
from bridge.voters import Voter

IDEMPOTENCY_TTL = timedelta(hours=24)


def fingerprint(body: dict[str, Any]) -> str:
    """Identity of a submission body, the same whatever its encoding or key order."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def new_submission_id() -> str:
    """A random id that goes into the issue's marker: 32 hex characters."""
    return uuid.uuid4().hex


def accept(
    runtime: Runtime,
    app: AppConfig,
    content: SubmissionContent,
    *,
    source: Source,
    voter: Voter | None = None,
    idempotency_key: str | None,
    body_fingerprint: str,
    hold: Hold | None = None,
    signals: tuple[str, ...] = (),
    rate: RateHit | None = None,
    repeat: RepeatCheck | None = None,
    lease_until: datetime | None = None,
) -> tuple[Submission, bool]:
    """Commit a submission to the index; return it and whether it is new.

    A live Idempotency-Key returns the submission it made (or raises
    IdempotencyConflictError for another body); nothing is sent to GitHub here.
    A ``hold`` keeps it from being sent (moderation); ``signals`` say why.
    ``rate``, ``repeat`` and ``lease_until`` go to the store's one write (see
    ``IndexStore.create_submission``).
    """
    now = runtime.clock()
    submission_id = new_submission_id()
    submission = Submission(
        id=submission_id,
        app=app.id,
        source=source,
        content=content,
        created_at=now,
        # A submitter with a voter token votes as that user; otherwise as the submission.
        voter=voter.key if voter else f"submission:{submission_id}",
        voter_weight=voter.weight if voter else 1,
        hold=hold,
        signals=signals,
    )
    claim = None
    if idempotency_key is not None:
        claim = IdempotencyClaim(
            key=idempotency_key, fingerprint=body_fingerprint, expires_at=now + IDEMPOTENCY_TTL
        )
    return runtime.store.create_submission(
        submission,
        idempotency=claim,
        now=now,
        rate=rate,
        repeat=repeat,
        lease_until=lease_until,
    )
