"""GitHub's own webhook examples (pinned npm packages) and payloads derived from them.

The examples have no ``closed`` action and no ``state_reason``; closed,
reopened and status-label payloads are derived from the ``opened`` example
and validated against GitHub's webhook schemas before any test uses them.
"""

from __future__ import annotations

import copy
import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "node_modules/@octokit/webhooks-examples/api.github.com/index.json"
SCHEMAS = ROOT / "node_modules/@octokit/openapi-webhooks/generated/api.github.com.json"


@functools.cache
def examples() -> dict[str, list[dict[str, Any]]]:
    """Every example payload by event name."""
    catalogue = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return {entry["name"]: entry["examples"] for entry in catalogue}


@functools.cache
def _schemas() -> tuple[dict[str, Any], Registry]:
    document = json.loads(SCHEMAS.read_text(encoding="utf-8"))
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return document, Registry().with_resource("webhooks.json", resource)


def validate_payload(event: str, action: str, payload: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless GitHub's schema accepts the payload."""
    document, registry = _schemas()
    body = document["webhooks"][f"{event}-{action}"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    validator = jsonschema.Draft202012Validator({"$ref": "webhooks.json" + ref}, registry=registry)
    validator.validate(payload)


def example(event: str, action: str | None = None, index: int = 0) -> dict[str, Any]:
    """A deep copy of one example."""
    matching = [e for e in examples()[event] if action is None or e.get("action") == action]
    return copy.deepcopy(matching[index])


def issue_payload(
    action: str,
    *,
    repo: str = "acme/mobile",
    number: int = 1,
    labels: tuple[str, ...] = ("feature-request", "app:mobile"),
    state: str = "open",
    state_reason: str | None = None,
    thumbs_up: int | None = 0,
    title: str = "Dark mode",
    updated_at: str | None = None,
) -> dict[str, Any]:
    """An ``issues`` payload derived from GitHub's ``opened`` example, schema-checked.

    The issue's ``updated_at`` is now (whole seconds, as GitHub sends it) unless given:
    the index ignores a change strictly older than what it holds.
    """
    payload = example("issues", "opened")
    owner, name = repo.split("/")
    payload["action"] = action
    payload["repository"]["full_name"] = repo
    payload["repository"]["name"] = name
    payload["repository"]["owner"]["login"] = owner
    issue = payload["issue"]
    issue["number"] = number
    issue["title"] = title
    issue["html_url"] = f"https://github.com/{repo}/issues/{number}"
    template = issue["labels"][0] if issue.get("labels") else _label_template()
    issue["labels"] = [dict(template, name=label, id=1000 + i) for i, label in enumerate(labels)]
    issue["state"] = state
    issue["state_reason"] = state_reason
    issue["updated_at"] = updated_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if state == "closed":
        issue["closed_at"] = issue["updated_at"]
    if thumbs_up is None:
        issue.pop("reactions", None)
    else:
        issue.setdefault("reactions", _reactions(repo, number))["+1"] = thumbs_up
    if action == "edited":
        payload["changes"] = {"title": {"from": "Old title"}}
    if action in ("labeled", "unlabeled"):
        payload["label"] = dict(template, name=labels[-1] if labels else "feature-request")
    # A payload without reactions is off-schema on purpose: GitHub's older
    # servers send them and the bridge must cope; every other one is checked.
    if thumbs_up is not None:
        validate_payload("issues", action, payload)
    return payload


def _label_template() -> dict[str, Any]:
    return {
        "id": 1000,
        "node_id": "LA_kwDOA",
        "url": "https://api.github.com/repos/acme/mobile/labels/x",
        "name": "x",
        "color": "ededed",
        "default": False,
        "description": None,
    }


def _reactions(repo: str, number: int) -> dict[str, Any]:
    return {
        "url": f"https://api.github.com/repos/{repo}/issues/{number}/reactions",
        "total_count": 0,
        "+1": 0,
        "-1": 0,
        "laugh": 0,
        "hooray": 0,
        "confused": 0,
        "heart": 0,
        "rocket": 0,
        "eyes": 0,
    }
