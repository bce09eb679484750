"""The embedding job's kind and payload: light enough for delivery and webhooks."""

from __future__ import annotations

from bridge.ports import Job

EMBED_REQUEST = "embed_request"


def embed_job(app_id: str, number: int, *, attempts: int = 0) -> Job:
    """The job that embeds one request and keeps its vector."""
    return Job(EMBED_REQUEST, {"app": app_id, "number": number, "attempts": attempts})
