"""Embedding requests as jobs and fusing vectors into /similar, on real parts: a SQLite
index with its vectors, a stubbed bedrock-runtime client, the webhook view."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from bridge.analysis.budget import tokens_key
from bridge.app import build_runtime, create_app
from bridge.domain import Request, Source, Status
from bridge.embeddings.bedrock import BedrockEmbedder
from bridge.embeddings.job import MAX_ATTEMPTS, embed_request
from bridge.embeddings.queueing import EMBED_REQUEST, embed_job
from bridge.embeddings.sqlite import SQLiteVectors
from bridge.jobs import run_job
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.similar.search import find_similar
from bridge.stores.sqlite import SQLiteStore
from github_app.webhooks import sign
from tests.bedrock_stub import bedrock_client
from tests.conftest import CONFIG
from tests.embedding_stub import expect_embedding, unit
from tests.fakes import FakeClock, FakeTracker, RecordingQueue, submit
from tests.webhook_payloads import issue_payload

EMBEDDED_CONFIG = (
    '[analysis]\nembedding_model_id = "amazon.titan-embed-text-v2:0"\n'
    "embedding_dimensions = 3\ndaily_token_budget = 1000\n" + CONFIG
)
SECRET = "webhook-secret"


class Parts:
    def __init__(self, runtime: Runtime, stubber: Stubber, vectors: SQLiteVectors) -> None:
        self.runtime = runtime
        self.stubber = stubber
        self.vectors = vectors

    @property
    def queue(self) -> RecordingQueue:
        queue = self.runtime.queue
        assert isinstance(queue, RecordingQueue)
        return queue

    def seed(self, number: int, title: str, description: str = "") -> None:
        now = self.runtime.clock()
        self.runtime.store.upsert_request(
            Request(
                app="mobile",
                number=number,
                title=title,
                status=Status.OPEN,
                url=f"https://github.com/acme/mobile/issues/{number}",
                labels=("feature-request", "app:mobile"),
                source=Source.GITHUB,
                created_at=now,
                updated_at=now,
                description=description,
            )
        )

    def tokens(self) -> int:
        return self.runtime.store.read_counter(tokens_key(self.runtime.clock()))


@pytest.fixture
def parts(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker, clock: FakeClock
) -> Iterator[Parts]:
    settings = make_settings(EMBEDDED_CONFIG, GITHUB_WEBHOOK_SECRET=SECRET)
    client = bedrock_client()
    path = tmp_path / "index.db"
    embedder = BedrockEmbedder(settings.analysis, client_factory=lambda _s: client)
    vectors = SQLiteVectors(str(path), key=embedder.key, dimensions=3)
    with Stubber(client) as stubber:
        runtime = build_runtime(
            settings,
            store=SQLiteStore(path),
            tracker=tracker,
            queue=RecordingQueue(),
            clock=clock,
            embedder=embedder,
            vectors=vectors,
        )
        yield Parts(runtime, stubber, vectors)
        stubber.assert_no_pending_responses()


def test_a_request_is_embedded_with_its_description_and_costed(parts: Parts) -> None:
    seen: list[dict[str, Any]] = []
    parts.runtime.embedder.client.meta.events.register(  # type: ignore[union-attr]
        "provide-client-params.bedrock-runtime.InvokeModel", lambda params, **_: seen.append(params)
    )
    parts.seed(1, "Dark mode", "Easier on the eyes at night")
    expect_embedding(parts.stubber, unit(1, 0, 0), tokens=9)
    run_job(parts.runtime, embed_job("mobile", 1))
    assert json.loads(seen[0]["body"])["inputText"] == "Dark mode\n\nEasier on the eyes at night"
    [nearest] = parts.vectors.nearest("mobile", [1, 0, 0], limit=5)
    assert (nearest.number, round(nearest.similarity, 4)) == (1, 1.0)
    assert parts.tokens() == 9  # the reservation was settled to what it cost


def test_over_budget_it_waits_for_the_next_day(parts: Parts) -> None:
    parts.seed(1, "Dark mode", "x" * 2000)
    parts.runtime.store.add_to_counter(
        tokens_key(parts.runtime.clock()), 900, limit=None, expires_at=parts.runtime.clock()
    )
    assert embed_request(parts.runtime, "mobile", 1) == "waiting"
    [job] = parts.queue.jobs
    assert job == embed_job("mobile", 1)
    assert 0 < parts.queue.delays[0] <= 86_401
    assert parts.tokens() == 900


def test_transient_errors_back_off_then_fail(parts: Parts) -> None:
    parts.seed(1, "Dark mode")
    parts.stubber.add_client_error("invoke_model", "ThrottlingException", http_status_code=429)
    assert embed_request(parts.runtime, "mobile", 1) == "retrying"
    [job] = parts.queue.jobs
    assert (job.kind, job.payload["attempts"]) == (EMBED_REQUEST, 1)
    assert parts.queue.delays[0] > 0
    assert parts.tokens() == 0  # nothing spent, the reservation given back
    parts.stubber.add_client_error("invoke_model", "ThrottlingException", http_status_code=429)
    assert embed_request(parts.runtime, "mobile", 1, attempts=MAX_ATTEMPTS - 1) == "failed"
    assert len(parts.queue.jobs) == 1


def test_a_refusal_fails_at_once_and_a_missing_request_is_skipped(parts: Parts) -> None:
    parts.seed(1, "Dark mode")
    parts.stubber.add_client_error("invoke_model", "AccessDeniedException", http_status_code=403)
    assert embed_request(parts.runtime, "mobile", 1) == "failed"
    assert embed_request(parts.runtime, "mobile", 2) == "missing"
    assert embed_request(parts.runtime, "nope", 1) == "off"
    assert parts.queue.jobs == []


def test_delivery_queues_the_embedding_after_the_issue_exists(parts: Parts) -> None:
    from bridge.delivery import deliver

    delivered = deliver(parts.runtime, submit(parts.runtime, "Widgets on the lock screen"))
    assert delivered is not None
    assert delivered.number is not None
    assert embed_job("mobile", delivered.number) in parts.queue.jobs


def _webhook(parts: Parts, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    answer = (
        create_app(parts.runtime.settings, parts.runtime)
        .test_client()
        .post(
            "/github/webhooks",
            data=body,
            content_type="application/json",
            headers={
                "X-GitHub-Event": "issues",
                "X-GitHub-Delivery": str(uuid.uuid4()),
                "X-Hub-Signature-256": sign(body, SECRET),
            },
        )
    )
    assert answer.status_code in (200, 202), answer.get_json()


def test_issues_opened_or_retitled_on_github_are_embedded(parts: Parts) -> None:
    _webhook(parts, issue_payload("opened", number=5))
    assert parts.queue.jobs == [embed_job("mobile", 5)]
    edited = issue_payload("edited", number=5, title="Night mode")
    edited["changes"] = {"title": {"from": "Dark mode"}}
    _webhook(parts, edited)
    relabelled = issue_payload("edited", number=5, title="Night mode")
    relabelled["changes"] = {}
    _webhook(parts, relabelled)  # nothing embedded changed
    assert parts.queue.jobs == [embed_job("mobile", 5), embed_job("mobile", 5)]
    _webhook(parts, issue_payload("opened", number=6, labels=("question",)))  # in no app
    assert len(parts.queue.jobs) == 2


def test_similar_fuses_a_paraphrase_the_words_miss(parts: Parts) -> None:
    parts.seed(1, "Dark mode", "A dark theme for the whole app")
    parts.seed(2, "Export to PDF")
    parts.seed(3, "Night mode for reading")
    for number, vector in ((1, unit(1, 0.1, 0)), (2, unit(0, 0, 1)), (3, unit(0.9, 0.2, 0))):
        parts.vectors.put("mobile", number, vector)
    expect_embedding(parts.stubber, unit(1, 0, 0), tokens=4)
    client = create_app(parts.runtime.settings, parts.runtime).test_client()
    answer = client.get("/v1/apps/mobile/similar", query_string={"title": "dark theme"})
    assert answer.status_code == 200
    items = answer.get_json()["items"]
    # Lexically only #1 matches; its vector neighbour #3 comes second, #2 last.
    assert [item["number"] for item in items] == [1, 3, 2]
    assert items[0]["score"] == 1.0
    assert all(0 < item["score"] <= 1 for item in items)
    assert parts.tokens() == 4


def test_the_analysis_is_given_the_fused_candidates(parts: Parts) -> None:
    from bridge.analysis.job import similar_candidates

    parts.seed(1, "Dark mode", "A dark theme for the whole app")
    parts.seed(2, "Export to PDF")
    parts.seed(4, "Black background")
    for number, vector in ((1, unit(1, 0.1, 0)), (2, unit(0, 0, 1)), (4, unit(1, 0, 0))):
        parts.vectors.put("mobile", number, vector)
    request = parts.runtime.store.get_request("mobile", 4)
    assert request is not None
    lexical = parts.runtime.store.similar("mobile", request.title, limit=5)
    assert [m.request.number for m in lexical] == [4]  # no word in common with #1 or #2
    expect_embedding(parts.stubber, unit(1, 0, 0), tokens=3)
    # The request's own neighbour by meaning reaches the model; itself is left out.
    assert list(similar_candidates(parts.runtime, request, "")) == [1, 2]
    assert parts.tokens() == 3


def test_healthz_says_similar_requests_use_embeddings_and_what_they_spent(
    parts: Parts,
) -> None:
    parts.seed(1, "Dark mode")
    expect_embedding(parts.stubber, unit(1, 0, 0), tokens=9)
    embed_request(parts.runtime, "mobile", 1)
    client = create_app(parts.runtime.settings, parts.runtime).test_client()
    assert client.get("/healthz").get_json()["similar"] == "fts+embeddings"
    analysis = client.get(
        "/healthz", headers={"Authorization": "Bearer operator-secret"}
    ).get_json()["analysis"]
    assert analysis["enabled"] is False  # no Converse model: no analysis
    assert analysis["embedding_model_id"] == "amazon.titan-embed-text-v2:0"
    assert analysis["tokens_used_today"] == 9
    assert analysis["daily_token_budget"] == 1000


def test_similar_stays_lexical_when_bedrock_cannot_answer(parts: Parts) -> None:
    parts.seed(1, "Dark mode")
    parts.seed(3, "Night mode for reading")
    parts.vectors.put("mobile", 3, unit(1, 0, 0))
    parts.stubber.add_client_error("invoke_model", "ThrottlingException", http_status_code=429)
    lexical = list(parts.runtime.store.similar("mobile", "dark theme", "", limit=5))
    assert find_similar(parts.runtime, "mobile", "dark theme", limit=5) == lexical
    assert [m.request.number for m in lexical] == [1]


def test_without_embeddings_similar_is_the_stores_own(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker, clock: FakeClock
) -> None:
    runtime = build_runtime(
        make_settings(),
        store=SQLiteStore(tmp_path / "off.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )
    assert runtime.embedder is None
    assert runtime.vectors is None
    client = create_app(runtime.settings, runtime).test_client()
    assert client.get("/healthz").get_json()["similar"] == "fts"
    runtime.store.upsert_request(
        Request(
            app="mobile",
            number=1,
            title="Dark mode",
            status=Status.OPEN,
            url="https://github.com/acme/mobile/issues/1",
            labels=("feature-request", "app:mobile"),
            source=Source.GITHUB,
            created_at=clock(),
            updated_at=clock(),
        )
    )
    assert find_similar(runtime, "mobile", "dark", limit=3) == list(
        runtime.store.similar("mobile", "dark", limit=3)
    )


def test_a_neighbour_closed_as_duplicate_shows_its_original_and_few_requests_are_read(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    from msgspec.structs import replace

    for number in range(1, 31):
        parts.seed(number, f"Unrelated request {number}")
        parts.vectors.put("mobile", number, unit(number / 30, 1, 0))
    parts.seed(31, "Dark mode")
    duplicate = parts.runtime.store.get_request("mobile", 31)
    assert duplicate is not None
    parts.runtime.store.upsert_request(replace(duplicate, status=Status.DUPLICATE, duplicate_of=2))
    parts.vectors.put("mobile", 31, unit(1, 0, 0))
    reads: list[int] = []
    get = parts.runtime.store.get_request

    def counted(app: str, number: int) -> Request | None:
        reads.append(number)
        return get(app, number)

    monkeypatch.setattr(parts.runtime.store, "get_request", counted)
    expect_embedding(parts.stubber, unit(1, 0, 0))
    found = find_similar(parts.runtime, "mobile", "night theme", limit=3)
    assert found[0].request.number == 2  # #31 is a duplicate of #2
    assert 31 not in [m.request.number for m in found]
    assert len(found) == 3
    assert len(reads) <= 3 + 5 + 1  # the fused head and one original, not all 20 neighbours
