"""The analysis job on real parts: a SQLite index, a stubbed bedrock-runtime client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from bridge.analysis.bedrock import RETRYABLE, BedrockAnalyzer
from bridge.analysis.budget import failures_key, tokens_key
from bridge.analysis.job import MAX_ATTEMPTS, analyse_request
from bridge.analysis.queueing import ANALYSE_REQUEST, POST_ANALYSIS
from bridge.app import build_runtime
from bridge.domain import Request, Source, Status
from bridge.export import analysis_fields
from bridge.jobs import run_job
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from github_app.comments import analysis_marker
from tests.bedrock_stub import GOOD_INPUT, bedrock_client, expect_converse, tool_answer
from tests.conftest import CONFIG
from tests.fakes import FakeClock, FakeTracker, RecordingQueue

MODEL = "amazon.nova-micro-v1:0"
ANALYSED_CONFIG = (
    '[analysis]\nmodel_id = "amazon.nova-micro-v1:0"\nmax_tokens = 400\n'
    "daily_token_budget = 100000\n"
    + CONFIG.replace(
        'form_secret_env = "MOBILE_FORM_SECRET"\n',
        'form_secret_env = "MOBILE_FORM_SECRET"\ncategories = ["feature", "ux"]\n'
        '[apps.analysis]\napply_labels = true\nallowed_labels = ["ux", "security-critical"]\n',
    )
)


class Parts:
    def __init__(self, runtime: Runtime, stubber: Stubber, tracker: FakeTracker) -> None:
        self.runtime = runtime
        self.stubber = stubber
        self.tracker = tracker

    @property
    def queue(self) -> RecordingQueue:
        queue = self.runtime.queue
        assert isinstance(queue, RecordingQueue)
        return queue

    def comments(self, number: int = 2) -> list[str]:
        return list(self.tracker.comments.get(("acme/mobile", number), {}).values())


def seed(
    runtime: Runtime, clock: FakeClock, number: int, title: str, labels: tuple[str, ...] = ()
) -> None:
    runtime.store.upsert_request(
        Request(
            app="mobile",
            number=number,
            title=title,
            status=Status.OPEN,
            url=f"https://github.com/acme/mobile/issues/{number}",
            labels=("feature-request", "app:mobile", *labels),
            source=Source.GITHUB,
            created_at=clock(),
            updated_at=clock(),
        )
    )


@pytest.fixture
def parts(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker, clock: FakeClock
) -> Iterator[Parts]:
    settings = make_settings(ANALYSED_CONFIG)
    client = bedrock_client()
    with Stubber(client) as stubber:
        runtime = build_runtime(
            settings,
            store=SQLiteStore(tmp_path / "index.db"),
            tracker=tracker,
            queue=RecordingQueue(),
            clock=clock,
            analyzer=BedrockAnalyzer(settings.analysis, client_factory=lambda _s: client),
        )
        # The repo has "ux" but no "security-critical".
        tracker.repo_labels = lambda repo: frozenset({"ux", "feature-request"})  # type: ignore[method-assign]
        seed(runtime, clock, 1, "Offline reports export", labels=("ux",))
        seed(runtime, clock, 2, "Export reports offline as CSV")
        yield Parts(runtime, stubber, tracker)
        stubber.assert_no_pending_responses()


def test_a_good_answer_is_stored_exported_and_posted_once(parts: Parts) -> None:
    answer = {
        **GOOD_INPUT,
        "category": "ux",
        "suggested_labels": ["ux"],
        "likely_duplicates": [{"number": 1, "reason": "Same export, offline."}],
    }
    expect_converse(parts.stubber, tool_answer(answer, tokens=700), MODEL)
    assert analyse_request(parts.runtime, "mobile", 2) == "analysed"
    request = parts.runtime.store.get_request("mobile", 2)
    assert request is not None
    assert request.analysis is not None
    assert analysis_fields(request) == ("ux", "6")
    [body] = parts.comments()
    assert body.endswith(analysis_marker("mobile"))
    assert "- #1 Offline reports export: Same export, offline." in body
    assert parts.tracker.added_labels == {("acme/mobile", 2): ["ux"]}
    # What was reserved came back: only what the model used is spent.
    assert parts.runtime.store.read_counter(tokens_key(parts.runtime.clock())) == 700


def test_re_analysis_edits_the_one_comment(parts: Parts) -> None:
    expect_converse(parts.stubber, tool_answer(GOOD_INPUT), MODEL)
    expect_converse(parts.stubber, tool_answer({**GOOD_INPUT, "priority": 9}), MODEL)
    analyse_request(parts.runtime, "mobile", 2)
    run_job(parts.runtime, _job(ANALYSE_REQUEST))
    [body] = parts.comments()
    assert "| Priority | 9 / 10:" in body
    assert parts.tracker.comment_writes == 2


def test_a_malformed_answer_twice_is_a_failed_analysis_and_no_comment(parts: Parts) -> None:
    bad = {**GOOD_INPUT, "priority": 42}
    expect_converse(parts.stubber, tool_answer(bad), MODEL)
    expect_converse(parts.stubber, tool_answer(bad), MODEL)
    assert analyse_request(parts.runtime, "mobile", 2) == "failed"
    request = parts.runtime.store.get_request("mobile", 2)
    assert request is not None
    assert request.analysis is not None
    assert request.analysis.failed
    assert analysis_fields(request) == (None, None)
    assert parts.comments() == []
    assert parts.runtime.store.read_counter(failures_key(parts.runtime.clock())) == 1


def test_an_obeyed_injection_gets_nothing_onto_github(parts: Parts) -> None:
    # A model that followed the request's instructions, within the schema's types.
    obeyed = {
        **GOOD_INPUT,
        "summary": "Ping @someone about #1 and acme/other#3, see https://evil.example.",
        "priority_reason": "As @security-team asked in GH-12.",
        "likely_duplicates": [{"number": 1, "reason": "cc @someone #1"}],
    }
    expect_converse(parts.stubber, tool_answer(obeyed), MODEL)
    assert analyse_request(parts.runtime, "mobile", 2) == "analysed"
    [body] = parts.comments()
    assert "@someone" not in body
    assert "@security-team" not in body
    assert "#1 " not in body.replace("- #1 Offline", "")  # only the bridge's own link
    assert "acme/other#3" not in body
    assert "GH-12" not in body
    assert "https://" not in body


def test_a_label_outside_the_repo_is_never_applied(parts: Parts) -> None:
    # "security-critical" is allowed by the config but does not exist in the repo.
    asked = {**GOOD_INPUT, "suggested_labels": ["security-critical"]}
    expect_converse(parts.stubber, tool_answer(asked), MODEL)
    expect_converse(parts.stubber, tool_answer(asked), MODEL)
    assert analyse_request(parts.runtime, "mobile", 2) == "failed"
    assert parts.tracker.added_labels == {}
    assert parts.comments() == []


@pytest.mark.parametrize("code", sorted(RETRYABLE))
def test_a_retryable_error_backs_off(parts: Parts, code: str) -> None:
    parts.stubber.add_client_error("converse", service_error_code=code, http_status_code=503)
    parts.stubber.add_client_error("converse", service_error_code=code, http_status_code=503)
    assert analyse_request(parts.runtime, "mobile", 2) == "retrying"
    assert analyse_request(parts.runtime, "mobile", 2, attempts=3) == "retrying"
    [(first, d1), (second, d2)] = zip(parts.queue.jobs, parts.queue.delays, strict=True)
    assert (first.kind, first.payload["attempts"]) == (ANALYSE_REQUEST, 1)
    assert second.payload["attempts"] == 4
    assert 1 <= d1 <= 2
    assert 8 <= d2 <= 16
    assert parts.comments() == []
    # Nothing was spent: the reservations came back.
    assert parts.runtime.store.read_counter(tokens_key(parts.runtime.clock())) == 0


def test_retryable_errors_end_as_a_failed_analysis(parts: Parts) -> None:
    parts.stubber.add_client_error("converse", service_error_code="ThrottlingException")
    assert analyse_request(parts.runtime, "mobile", 2, attempts=MAX_ATTEMPTS - 1) == "failed"
    assert parts.queue.jobs == []


def test_a_refused_call_is_a_failed_analysis(parts: Parts) -> None:
    parts.stubber.add_client_error("converse", service_error_code="AccessDeniedException")
    assert analyse_request(parts.runtime, "mobile", 2) == "failed"
    request = parts.runtime.store.get_request("mobile", 2)
    assert request is not None
    assert request.analysis is not None
    assert "AccessDeniedException" in (request.analysis.error or "")


def test_over_the_budget_it_waits_for_the_next_day(parts: Parts, clock: FakeClock) -> None:
    store = parts.runtime.store
    limit = parts.runtime.settings.analysis.daily_token_budget
    store.add_to_counter(tokens_key(clock()), limit - 100, limit=None, expires_at=clock())
    assert analyse_request(parts.runtime, "mobile", 2) == "waiting"
    [job] = parts.queue.jobs
    assert job.kind == ANALYSE_REQUEST
    midnight = (24 * 3600) - (clock().hour * 3600 + clock().minute * 60 + clock().second)
    assert abs(parts.queue.delays[0] - midnight) <= 2
    assert parts.comments() == []


def test_a_failed_comment_write_is_retried_without_a_second_analysis(parts: Parts) -> None:
    from bridge.ports import TrackerError

    real = parts.tracker.upsert_comment
    failures = [TrackerError("GitHub is down", retry_after=30)]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    parts.tracker.upsert_comment = flaky  # type: ignore[method-assign]
    expect_converse(parts.stubber, tool_answer(GOOD_INPUT), MODEL)
    assert analyse_request(parts.runtime, "mobile", 2) == "analysed"
    [job] = parts.queue.jobs
    assert job.kind == POST_ANALYSIS
    assert parts.queue.delays[0] >= 30
    run_job(parts.runtime, job)
    assert len(parts.comments()) == 1


def _job(kind: str) -> Any:
    from bridge.ports import Job

    return Job(kind, {"app": "mobile", "number": 2, "attempts": 0})


OPERATOR = {"Authorization": "Bearer operator-secret"}


def test_the_analysis_route_queues_a_fresh_analysis(parts: Parts) -> None:
    from bridge.app import create_app

    client = create_app(parts.runtime.settings, parts.runtime).test_client()
    assert client.post("/v1/apps/mobile/requests/2/analysis").status_code == 401
    answer = client.post("/v1/apps/mobile/requests/2/analysis", headers=OPERATOR)
    assert answer.status_code == 202
    assert answer.get_json() == {"queued": True, "app": "mobile", "number": 2}
    [job] = parts.queue.jobs
    assert (job.kind, job.payload["number"]) == (ANALYSE_REQUEST, 2)
    missing = client.post("/v1/apps/mobile/requests/99/analysis", headers=OPERATOR)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert client.post("/v1/apps/nope/requests/2/analysis", headers=OPERATOR).status_code == 404


def test_healthz_shows_the_budget_used_and_failures(parts: Parts) -> None:
    from bridge.app import create_app

    bad = {**GOOD_INPUT, "priority": 0}
    expect_converse(parts.stubber, tool_answer(bad, tokens=250), MODEL)
    expect_converse(parts.stubber, tool_answer(bad, tokens=250), MODEL)
    analyse_request(parts.runtime, "mobile", 2)
    client = create_app(parts.runtime.settings, parts.runtime).test_client()
    analysis = client.get("/healthz", headers=OPERATOR).get_json()["analysis"]
    assert analysis["enabled"] is True
    assert analysis["tokens_used_today"] == 500
    assert analysis["daily_token_budget"] == 100000
    assert analysis["failed_today"] == 1


def test_analysis_off_is_said_by_healthz_and_the_route(client: Any) -> None:
    assert client.get("/healthz").get_json()["analysis"]["enabled"] is False
    answer = client.post("/v1/apps/mobile/requests/1/analysis", headers=OPERATOR)
    assert answer.status_code == 409
    assert "model_id" in answer.get_json()["error"]["message"]


def test_delivery_queues_the_analysis_after_the_issue_exists(parts: Parts) -> None:
    from bridge.delivery import deliver
    from tests.fakes import submit

    submission_id = submit(parts.runtime, "Widgets on the lock screen")
    delivered = deliver(parts.runtime, submission_id)
    assert delivered is not None
    assert delivered.number is not None
    analyses = [job for job in parts.queue.jobs if job.kind == ANALYSE_REQUEST]
    assert [job.payload["number"] for job in analyses] == [delivered.number]
    assert parts.comments(delivered.number) == []  # nothing ran on the request path


def test_the_analyze_command_runs_retries_and_reports(parts: Parts) -> None:
    import io

    from msgspec.structs import replace

    from bridge.commands import CommandQueue, run_analyze

    runtime = replace(parts.runtime, queue=CommandQueue())
    parts.stubber.add_client_error("converse", service_error_code="ThrottlingException")
    expect_converse(parts.stubber, tool_answer(GOOD_INPUT), MODEL)
    expect_converse(parts.stubber, tool_answer({**GOOD_INPUT, "priority": 99}), MODEL)
    expect_converse(parts.stubber, tool_answer({**GOOD_INPUT, "priority": 99}), MODEL)
    out = io.StringIO()
    slept: list[float] = []
    code = run_analyze(
        runtime.settings,
        app_id="mobile",
        number=None,
        dry_run=False,
        out=out,
        sleep=slept.append,
        runtime=runtime,
    )
    text = out.getvalue()
    assert "#1: retrying" not in text
    assert "#1: analysed" in text
    assert "#2: failed" in text
    assert "mobile: 1 analysed, 1 failed" in text
    assert code == 1
    assert len(slept) == 1


def test_the_analyze_dry_run_calls_no_model(parts: Parts) -> None:
    import io

    from msgspec.structs import replace

    from bridge.commands import CommandQueue, run_analyze

    runtime = replace(parts.runtime, queue=CommandQueue())
    out = io.StringIO()
    code = run_analyze(
        runtime.settings, app_id="mobile", number=2, dry_run=True, out=out, runtime=runtime
    )
    assert code == 0
    assert "#2 Export reports offline as CSV: would analyse" in out.getvalue()
    assert parts.comments() == []


def test_doctor_checks_model_access_with_one_cheap_call(parts: Parts) -> None:
    from bridge.doctor import analysis_finding

    analyzer = parts.runtime.analyzer
    parts.stubber.add_response(
        "converse",
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "OK"}]}},
            "stopReason": "max_tokens",
            "usage": {"inputTokens": 5, "outputTokens": 1, "totalTokens": 6},
            "metrics": {"latencyMs": 80},
        },
        {"modelId": MODEL, "messages": ANY, "inferenceConfig": {"maxTokens": 1}},
    )
    finding = analysis_finding(parts.runtime.settings, analyzer)
    assert finding.ok
    assert MODEL in finding.detail
    parts.stubber.add_client_error("converse", service_error_code="AccessDeniedException")
    refused = analysis_finding(parts.runtime.settings, analyzer)
    assert not refused.ok
    assert "AccessDeniedException" in refused.detail
    assert analysis_finding(parts.runtime.settings, None).ok


def test_the_comment_waits_for_githubs_content_budget(parts: Parts) -> None:
    runtime, key = parts.runtime, parts.tracker.pacing_key("acme/mobile")
    while runtime.pacer.reserve(key) == 0:
        pass  # new issues and tallies spent this minute's budget
    expect_converse(parts.stubber, tool_answer(GOOD_INPUT), MODEL)
    assert analyse_request(runtime, "mobile", 2) == "analysed"
    assert parts.comments() == []
    queue = runtime.queue
    assert isinstance(queue, RecordingQueue)
    assert [job.kind for job in queue.jobs] == [POST_ANALYSIS]
    assert queue.delays[0] > 0
