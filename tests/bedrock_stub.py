"""A real bedrock-runtime client under botocore's Stubber, and Converse answers for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from bridge.analysis.prompt import TOOL_NAME

GOOD_INPUT: dict[str, Any] = {
    "summary": "Users want to export their reports as CSV.",
    "category": "feature",
    "sentiment": "positive",
    "priority": 6,
    "priority_reason": "Asked for often by paying teams.",
    "complexity": "M",
    "business_value": "high",
    "suggested_labels": [],
    "likely_duplicates": [],
}


def bedrock_client() -> Any:
    """A real client: the Stubber checks every request against the service model."""
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@contextmanager
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    """A client and its Stubber, checked to have used every queued answer."""
    client = bedrock_client()
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def tool_answer(tool_input: Any, *, name: str = TOOL_NAME, tokens: int = 300) -> dict[str, Any]:
    """A Converse response whose only content is a call of the tool."""
    return answer(
        [{"toolUse": {"toolUseId": "tooluse_1", "name": name, "input": tool_input}}],
        stop="tool_use",
        tokens=tokens,
    )


def text_answer(text: str, *, tokens: int = 200) -> dict[str, Any]:
    """A Converse response in free text, no tool call."""
    return answer([{"text": text}], stop="end_turn", tokens=tokens)


def answer(content: list[dict[str, Any]], *, stop: str, tokens: int) -> dict[str, Any]:
    """A Converse response in the service's shape."""
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": tokens - 100, "outputTokens": 100, "totalTokens": tokens},
        "metrics": {"latencyMs": 420},
    }


def expect_converse(stubber: Stubber, response: dict[str, Any], model_id: str) -> None:
    """Queue one Converse answer for a forced-tool request to ``model_id``."""
    stubber.add_response(
        "converse",
        response,
        {
            "modelId": model_id,
            "system": ANY,
            "messages": ANY,
            "toolConfig": ANY,
            "inferenceConfig": ANY,
        },
    )
