"""app.yml subscribes to exactly the events the webhook router handles."""

from __future__ import annotations

from pathlib import Path

import yaml

from bridge.github_events import router

MANIFEST = Path(__file__).parent.parent / "app.yml"
ALWAYS_DELIVERED = {"installation", "installation_repositories"}


def test_manifest_shape() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert manifest["public"] is False
    assert manifest["hook_attributes"]["url"].endswith("/github/webhooks")
    assert manifest["default_permissions"] == {
        "issues": "write",
        "metadata": "read",
        "organization_projects": "write",
    }


def test_every_subscribed_event_has_a_handler_and_vice_versa() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    handled = {event for event, _ in router.routes()}
    subscribed = set(manifest["default_events"])
    assert subscribed <= handled
    assert handled - subscribed == ALWAYS_DELIVERED
