"""The Bedrock Runtime client and its error codes, shared by the analysis and the embeddings.

boto3 is imported when the first client is built, never at start.
"""

from __future__ import annotations

from typing import Any

# Bedrock errors that pass: the job backs off and tries again.
RETRYABLE = frozenset(
    {
        "ThrottlingException",
        "ServiceUnavailableException",
        "ModelNotReadyException",
        "ModelTimeoutException",
        "InternalServerException",
    }
)


def bedrock_runtime_client(region: str | None, *, read_timeout: int) -> Any:
    """A bedrock-runtime client; the endpoint follows ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``."""
    import boto3
    from botocore.config import Config

    # One attempt per call: the job owns the backoff, so botocore must not add its own.
    config = Config(retries={"total_max_attempts": 1}, read_timeout=read_timeout, connect_timeout=5)
    return boto3.client("bedrock-runtime", region_name=region, config=config)
