"""``GET /v1/apps``: the apps this caller may read."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from bridge.api.access import may_see, runtime

blueprint = Blueprint("apps", __name__)


@blueprint.get("/v1/apps")
def list_apps() -> Response:
    """Public apps; with the operator token every app; with a voter token (sent as
    X-Featurebridge-Voter) also that token's app. Read from the configuration only."""
    from bridge.api.models import AppList, AppOut

    apps = sorted(runtime().settings.apps, key=lambda app: app.id)
    body = AppList(
        items=[
            AppOut(id=app.id, name=app.name, repo=app.repo, public=app.public)
            for app in apps
            if may_see(app)
        ]
    )
    return jsonify(body.model_dump(mode="json"))
