"""The ``Embedder`` port on Bedrock Runtime ``InvokeModel`` (Amazon Titan Text Embeddings V2).

boto3 is imported when the first text is embedded, never at start.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bridge.bedrock_runtime import RETRYABLE, bedrock_runtime_client
from bridge.embeddings.values import Embedding
from bridge.ports import EmbeddingRefusedError, EmbeddingUnavailableError
from bridge.settings import AnalysisSettings

DEFAULT_EMBEDDING_MODEL_ID = "amazon.titan-embed-text-v2:0"


def default_client(settings: AnalysisSettings) -> Any:
    """A bedrock-runtime client with a short timeout: ``/similar`` waits for a draft's vector."""
    return bedrock_runtime_client(settings.region, read_timeout=5)


class BedrockEmbedder:
    """Embeds text with ``[analysis] embedding_model_id`` at ``embedding_dimensions``,
    normalised to unit length (so a dot product is the cosine)."""

    def __init__(
        self,
        settings: AnalysisSettings,
        client_factory: Callable[[AnalysisSettings], Any] = default_client,
    ) -> None:
        if not settings.embedding_model_id:
            raise ValueError("embeddings need [analysis] embedding_model_id")
        self._settings = settings
        self.model_id: str = settings.embedding_model_id
        self.dimensions = settings.embedding_dimensions
        self._factory = client_factory
        self._client: Any = None

    @property
    def key(self) -> str:
        """``model@dimensions``: vectors of another model or size are not comparable."""
        return f"{self.model_id}@{self.dimensions}"

    @property
    def client(self) -> Any:
        """The bedrock-runtime client, built once."""
        if self._client is None:
            self._client = self._factory(self._settings)
        return self._client

    def embed(self, text: str) -> Embedding:
        """One ``InvokeModel`` call; the answer is checked to be a vector of the right size."""
        from botocore.exceptions import BotoCoreError, ClientError

        body = {"inputText": text, "dimensions": self.dimensions, "normalize": True}
        try:
            response = self.client.invoke_model(
                modelId=self.model_id,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            answer = json.loads(response["body"].read())
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in RETRYABLE:
                raise EmbeddingUnavailableError(code) from error
            raise EmbeddingRefusedError(
                f"Bedrock refused the call: {code or 'unknown error'}"
            ) from error
        except BotoCoreError as error:  # timeouts, connection errors
            raise EmbeddingUnavailableError(type(error).__name__) from error
        except ValueError as error:
            raise EmbeddingUnavailableError("the model's answer was not JSON") from error
        return _read(answer, self.dimensions)


def _read(answer: Any, dimensions: int) -> Embedding:
    vector = answer.get("embedding") if isinstance(answer, dict) else None
    if (
        not isinstance(vector, list)
        or len(vector) != dimensions
        or not all(isinstance(x, int | float) and not isinstance(x, bool) for x in vector)
    ):
        raise EmbeddingRefusedError(
            f"the model did not answer with a vector of {dimensions} numbers"
            " (does embedding_dimensions suit embedding_model_id?)"
        )
    tokens = answer.get("inputTextTokenCount")
    return Embedding(tuple(float(x) for x in vector), tokens if isinstance(tokens, int) else 0)
