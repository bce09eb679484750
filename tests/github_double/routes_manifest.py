"""REST route for GitHub's App manifest flow: trading a one-time code for the App.

``double.add_manifest_code(code, manifest)`` stands for a user who posted
``manifest`` to GitHub's "new App" page and got redirected with ``code``. The
answer carries the double's own App id and key, so the credentials it hands out
work against the same double (its JWTs are accepted, its installations usable).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from tests.github_double import shapes
from tests.github_double.auth import app_private_key_pem
from tests.github_double.rest import Context, Reply, not_found, route


@route("POST", "/app-manifests/{code}/conversions", auth="none")
def create_from_manifest(ctx: Context) -> Reply:
    """The new App with its secrets; 404 for a code unknown or already used (one use)."""
    double = ctx.double
    code = ctx.params["code"]
    if code not in double.manifest_codes:
        raise not_found()
    manifest = double.manifest_codes.pop(code) or {}
    app = shapes.app_json(double.app)
    del app["installations_count"]  # only GET /app, asked by the App itself, carries it
    app.update(_from_manifest(manifest))
    hook = manifest.get("hook_attributes")
    has_hook = not manifest or (isinstance(hook, Mapping) and bool(hook.get("url")))
    app.update(
        {
            "client_secret": secrets.token_hex(20),
            "webhook_secret": secrets.token_hex(20) if has_hook else None,
            "pem": app_private_key_pem(),
        }
    )
    return Reply(201, app)


def _from_manifest(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What GitHub takes from the posted manifest into the new App."""
    taken: dict[str, Any] = {}
    if isinstance(manifest.get("name"), str):
        taken["name"] = manifest["name"]
    if "description" in manifest:
        taken["description"] = manifest["description"]
    if isinstance(manifest.get("url"), str):
        taken["external_url"] = manifest["url"]
    if isinstance(manifest.get("default_permissions"), Mapping):
        taken["permissions"] = dict(manifest["default_permissions"])
    if isinstance(manifest.get("default_events"), list):
        taken["events"] = list(manifest["default_events"])
    return taken
