"""The Bedrock embedder on a real bedrock-runtime client under botocore's Stubber."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bridge.bedrock_runtime import RETRYABLE
from bridge.embeddings.bedrock import BedrockEmbedder
from bridge.ports import EmbeddingRefusedError, EmbeddingUnavailableError
from bridge.settings import AnalysisSettings
from tests.bedrock_stub import stubbed
from tests.embedding_stub import EMBEDDING_MODEL, expect_embedding, titan_answer


def embedder(client: Any, dimensions: int = 4) -> BedrockEmbedder:
    settings = AnalysisSettings(embedding_model_id=EMBEDDING_MODEL, embedding_dimensions=dimensions)
    return BedrockEmbedder(settings, client_factory=lambda _s: client)


def test_a_text_is_embedded_at_the_configured_size_normalised() -> None:
    seen: list[dict[str, Any]] = []
    with stubbed() as (client, stubber):
        client.meta.events.register(
            "provide-client-params.bedrock-runtime.InvokeModel",
            lambda params, **_: seen.append(params),
        )
        expect_embedding(stubber, [0.5, 0.5, 0.5, 0.5], tokens=7)
        embedding = embedder(client).embed("Dark mode\n\nEasier on the eyes at night")
    assert embedding.vector == (0.5, 0.5, 0.5, 0.5)
    assert embedding.tokens == 7
    body = json.loads(seen[0]["body"])
    assert body == {
        "inputText": "Dark mode\n\nEasier on the eyes at night",
        "dimensions": 4,
        "normalize": True,
    }
    assert seen[0]["modelId"] == EMBEDDING_MODEL


def test_the_key_names_model_and_dimensions() -> None:
    assert embedder(None, 256).key == f"{EMBEDDING_MODEL}@256"


@pytest.mark.parametrize("code", sorted(RETRYABLE))
def test_transient_errors_are_unavailable(code: str) -> None:
    with stubbed() as (client, stubber):
        stubber.add_client_error("invoke_model", service_error_code=code, http_status_code=503)
        with pytest.raises(EmbeddingUnavailableError):
            embedder(client).embed("Dark mode")


@pytest.mark.parametrize("code", ["AccessDeniedException", "ValidationException"])
def test_refusals_are_not_retried(code: str) -> None:
    with stubbed() as (client, stubber):
        stubber.add_client_error("invoke_model", service_error_code=code, http_status_code=400)
        with pytest.raises(EmbeddingRefusedError, match=code):
            embedder(client).embed("Dark mode")


@pytest.mark.parametrize("vector", [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5, "x"], [True, 0.5, 0.5, 0.5]])
def test_an_answer_that_is_not_a_vector_of_the_size_is_refused(vector: list[Any]) -> None:
    with stubbed() as (client, stubber):
        stubber.add_response("invoke_model", titan_answer(vector))
        with pytest.raises(EmbeddingRefusedError, match="vector of 4 numbers"):
            embedder(client).embed("Dark mode")


def test_no_model_no_embedder() -> None:
    with pytest.raises(ValueError, match="embedding_model_id"):
        BedrockEmbedder(AnalysisSettings())
