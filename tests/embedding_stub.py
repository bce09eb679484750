"""Real bedrock-runtime and s3vectors clients under botocore's Stubber, and their answers."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

EMBEDDING_MODEL = "amazon.titan-embed-text-v2:0"


def s3vectors_client() -> Any:
    """A real client: the Stubber checks every request against the service model."""
    return boto3.client(
        "s3vectors",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def titan_answer(vector: Sequence[float], *, tokens: int = 12) -> dict[str, Any]:
    """An InvokeModel response of Titan Text Embeddings V2."""
    data = json.dumps({"embedding": list(vector), "inputTextTokenCount": tokens}).encode()
    return {"body": StreamingBody(io.BytesIO(data), len(data)), "contentType": "application/json"}


def expect_embedding(
    stubber: Stubber, vector: Sequence[float], *, tokens: int = 12, model_id: str = EMBEDDING_MODEL
) -> None:
    """Queue one InvokeModel answer for ``model_id``."""
    stubber.add_response(
        "invoke_model",
        titan_answer(vector, tokens=tokens),
        {"modelId": model_id, "body": ANY, "contentType": ANY, "accept": ANY},
    )


def unit(*values: float) -> list[float]:
    """``values`` scaled to unit length."""
    norm = sum(v * v for v in values) ** 0.5
    return [v / norm for v in values]
