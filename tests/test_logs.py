"""Logs as JSON lines, with the context each line happened in."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge import logs
from bridge.jobs import run_job
from bridge.ports import Job
from bridge.runtime import Runtime
from tests.conftest import PRIVATE_IN_LOGS


def test_a_line_is_one_json_object_with_context_and_extras(
    log_lines: list[dict[str, Any]],
) -> None:
    log = logging.getLogger("featurebridge.test")
    with logs.context(app="mobile", submission_id="s1", absent=None):
        log.info("delivered %s", "s1", extra={"number": 7, "duration_ms": 12.5})
    log.info("outside")
    inside, outside = log_lines[-2:]
    assert inside["message"] == "delivered s1"
    assert inside["level"] == "INFO"
    assert inside["logger"] == "featurebridge.test"
    assert inside["time"].endswith("Z")
    assert (inside["app"], inside["submission_id"], inside["number"]) == ("mobile", "s1", 7)
    assert inside["duration_ms"] == 12.5
    assert "absent" not in inside
    assert "app" not in outside
    assert "submission_id" not in outside


def test_an_exception_is_in_the_same_line(log_lines: list[dict[str, Any]]) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("featurebridge.test").exception("failed")
    assert "ValueError: boom" in log_lines[-1]["error"]


def test_configure_writes_json_lines_and_reuses_a_runtimes_handler() -> None:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    stream = io.StringIO()
    root.handlers = [logging.StreamHandler(stream)]  # as the Lambda runtime leaves it
    try:
        logs.configure()
        logging.getLogger("featurebridge.test").info("hello")
        assert len(root.handlers) == 1
    finally:
        root.handlers, root.level = saved, level
    assert json.loads(stream.getvalue().splitlines()[-1])["message"] == "hello"


def test_each_http_request_has_an_id_and_one_line(
    client: FlaskClient, log_lines: list[dict[str, Any]]
) -> None:
    answer = client.get("/v1/apps/mobile/requests?q=secret-ish-query")
    request_id = answer.headers["X-Request-Id"]
    assert len(request_id) == 32
    [line] = [line for line in log_lines if line.get("event") == "http"]
    assert line["request_id"] == request_id
    assert line["route"] == "/v1/apps/<app_id>/requests"
    assert (line["method"], line["status"], line["app"]) == ("GET", 200, "mobile")
    assert line["duration_ms"] >= 0
    assert "secret-ish-query" not in json.dumps(log_lines)


def test_a_callers_request_id_is_kept_and_a_strange_one_replaced(client: FlaskClient) -> None:
    given = "lb-7f3a9c2e-0001"
    assert client.get("/healthz", headers={"X-Request-Id": given}).headers["X-Request-Id"] == given
    forged = 'x" {"level":"ERROR"}'
    strange = client.get("/healthz", headers={"X-Request-Id": forged})
    assert len(strange.headers["X-Request-Id"]) == 32


def test_a_jobs_lines_carry_its_ids_outcome_and_duration(
    runtime: Runtime, log_lines: list[dict[str, Any]]
) -> None:
    run_job(runtime, Job("deliver_submission", {"submission_id": "missing"}))
    [done] = [line for line in log_lines if line.get("event") == "job"]
    assert (done["job"], done["submission_id"], done["outcome"]) == (
        "deliver_submission",
        "missing",
        "ok",
    )
    assert done["duration_ms"] >= 0
    with pytest.raises(KeyError):
        run_job(runtime, Job("merge_duplicate", {}))
    failed = [line for line in log_lines if line.get("event") == "job"][-1]
    assert (failed["job"], failed["outcome"], failed["level"]) == (
        "merge_duplicate",
        "error",
        "WARNING",
    )


@pytest.mark.parametrize(
    ("line", "private"),
    [
        ('{"message": "sent to ada@example.com"}', True),
        ('{"message": "token ghs_16C7e42F292c6912E7710c838347Ae178B4a"}', True),
        ('{"message": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"}', True),
        ('{"message": "-----BEGIN RSA PRIVATE KEY-----"}', True),
        ('{"message": "secret operator-secret"}', True),
        ('{"message": "by Ada Lovelace"}', True),
        ('{"message": "parameter /featurebridge/github-webhook-secret"}', False),
        ('{"message": "GITHUB_APP_PRIVATE_KEY_SSM_PARAMETER is set"}', False),
        ('{"message": "POST /v1/apps/<app_id>/requests 201", "app": "mobile"}', False),
    ],
)
def test_the_suites_log_guard_knows_private_data(line: str, private: bool) -> None:
    # The autouse guard in conftest checks every test's log lines with this pattern.
    assert (PRIVATE_IN_LOGS.search(line) is not None) is private
