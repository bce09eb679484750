"""The analysis jobs' kinds and payloads: light enough for delivery and the job table."""

from __future__ import annotations

from bridge.ports import Job

ANALYSE_REQUEST = "analyse_request"
POST_ANALYSIS = "post_analysis"


def analysis_job(app_id: str, number: int, *, attempts: int = 0) -> Job:
    """The job that analyses one request."""
    return Job(ANALYSE_REQUEST, {"app": app_id, "number": number, "attempts": attempts})


def post_job(app_id: str, number: int, *, attempts: int = 0) -> Job:
    """The job that posts a stored analysis whose comment could not be written."""
    return Job(POST_ANALYSIS, {"app": app_id, "number": number, "attempts": attempts})
