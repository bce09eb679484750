"""``POST /v1/apps/{app}/requests/{number}/analysis``: run the AI analysis again (operator)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bridge.api.access import require_operator, runtime
from bridge.api.errors import ApiError

blueprint = Blueprint("analysis", __name__)


@blueprint.post("/v1/apps/<app_id>/requests/<int:number>/analysis")
def analyse(app_id: str, number: int) -> tuple[Response, int]:
    """Queue a fresh analysis of one request: 202, the job does the rest."""
    # The analysis jobs' module and the answer's model load with the first call (cold starts).
    from bridge.analysis.queueing import analysis_job
    from bridge.api.answer_models import AnalysisQueuedOut

    require_operator()
    rt = runtime()
    app = rt.settings.app(app_id)
    if app is None:
        raise ApiError("not_found", f"no app {app_id!r}")
    if rt.analyzer is None:
        raise ApiError("conflict", "analysis is off: set [analysis] model_id to turn it on")
    if not app.analysis.enabled:
        raise ApiError("conflict", f"analysis is off for app {app_id!r} ([apps.analysis] enabled)")
    if rt.store.get_request(app.id, number) is None:
        raise ApiError("not_found", f"no request #{number} in app {app.id!r}")
    rt.queue.enqueue(analysis_job(app.id, number))
    return jsonify(AnalysisQueuedOut(queued=True, app=app.id, number=number).model_dump()), 202
