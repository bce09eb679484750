"""Loading the Lambda entries and their events, for the ``test_lambda_*`` modules.

The entries live in ``lambda/`` (the deployment package's root), which is not
a package: the ``entries`` fixture puts it on ``sys.path`` for one test,
imports the modules as Lambda does (``http_entry``, ``worker_entry``,
``schedule_entry``) and forgets their per-process caches afterwards. A test
module uses it with::

    from tests.lambda_support import entries  # noqa: F401
"""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAMBDA_DIR = ROOT / "lambda"
APIGW_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "apigw"
LAMBDA_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lambda"
ENTRY_MODULES = ("entry_common", "http_entry", "worker_entry", "schedule_entry")


@dataclass
class Entries:
    """The entry modules, as Lambda imports them."""

    common: ModuleType
    http: ModuleType
    worker: ModuleType
    schedule: ModuleType


@pytest.fixture
def entries(monkeypatch: pytest.MonkeyPatch) -> Iterator[Entries]:
    """The Lambda entry modules with fresh per-process caches."""
    monkeypatch.syspath_prepend(str(LAMBDA_DIR))
    modules = [importlib.import_module(name) for name in ENTRY_MODULES]
    loaded = Entries(*modules)
    loaded.common.use_runtime(None)
    loaded.http._adapter = None
    # The GC pause and freeze are for a real process's first build; the test
    # process builds many adapters and keeps its collector as it is
    # (tests/test_lambda_coldstart.py checks the pause in a fresh interpreter).
    monkeypatch.setattr(loaded.http, "_first_build", False)
    yield loaded
    loaded.common.use_runtime(None)
    loaded.http._adapter = None


class FakeContext:
    """A Lambda context whose remaining time is whatever the test says."""

    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    function_name = "featurebridge-test"
    memory_limit_in_mb = 512

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def apigw_event(name: str, **changes: Any) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event from ``fixtures/apigw``, with changes.

    ``body=`` replaces the body and keeps ``content-length`` true to it (bytes
    are sent base64-encoded, as API Gateway does for binary bodies);
    ``headers=`` adds or replaces headers; ``source_ip=`` sets the caller;
    ``path=`` the request path.
    """
    event: dict[str, Any] = json.loads((APIGW_FIXTURES / f"{name}.json").read_text("utf-8"))
    if "body" in changes:
        body = changes.pop("body")
        raw = body if isinstance(body, bytes) else body.encode()
        event["body"] = base64.b64encode(raw).decode() if isinstance(body, bytes) else body
        event["isBase64Encoded"] = isinstance(body, bytes)
        event["headers"]["content-length"] = str(len(raw))
    event["headers"].update(changes.pop("headers", {}))
    if "source_ip" in changes:
        ip = changes.pop("source_ip")
        event["requestContext"]["http"]["sourceIp"] = ip
        event["headers"]["x-forwarded-for"] = ip
    if "path" in changes:
        event["rawPath"] = event["requestContext"]["http"]["path"] = changes.pop("path")
    if changes:
        raise TypeError(f"unknown changes: {sorted(changes)}")
    return event


def raw_body(event: dict[str, Any]) -> bytes:
    """The bytes an event's body stands for."""
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def sqs_event(*bodies: str, receive_count: int = 1) -> dict[str, Any]:
    """An SQS event (as the event source mapping sends it) with one record per body."""
    template = json.loads((LAMBDA_FIXTURES / "sqs_batch.json").read_text("utf-8"))["Records"][0]
    records = []
    for index, body in enumerate(bodies):
        record = copy.deepcopy(template)
        record["messageId"] = f"00000000-0000-4000-8000-{index:012d}"
        record["body"] = body
        record["md5OfBody"] = hashlib.md5(body.encode()).hexdigest()  # SQS checksum
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(record)
    return {"Records": records}


def scheduled_event() -> dict[str, Any]:
    """An EventBridge "Scheduled Event", as the schedule rule sends it."""
    event: dict[str, Any] = json.loads(
        (LAMBDA_FIXTURES / "scheduled_event.json").read_text("utf-8")
    )
    return event


def response_json(response: dict[str, Any]) -> Any:
    """The JSON body of an HTTP API response from the entry."""
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body)
