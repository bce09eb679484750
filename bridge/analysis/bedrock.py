"""The ``Analyzer`` port on Amazon Bedrock Runtime ``Converse`` with one forced tool.

boto3 is imported when the first analysis runs, never at start: the Lambda
HTTP entry must not pay for it, and a bridge without ``model_id`` never loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from bridge.analysis.model import Analysis, AnalysisInput, AnalysisOutcome, input_schema
from bridge.analysis.prompt import TOOL_NAME, new_tag, system_prompt, user_message
from bridge.bedrock_runtime import RETRYABLE, bedrock_runtime_client
from bridge.ports import AnalysisUnavailableError
from bridge.settings import AnalysisSettings

# The documented default (featurebridge.example.toml, the SAM template): Amazon
# Nova Micro does tool use through Converse at about $0.0002 an analysis
# (bench/cost.py). Analysis stays off until ``model_id`` is set.
DEFAULT_MODEL_ID = "amazon.nova-micro-v1:0"

# A malformed answer is asked for once more, then recorded as a failed analysis.
ATTEMPTS = 2


def default_client(settings: AnalysisSettings) -> Any:
    """A bedrock-runtime client for Converse (answers may take a while)."""
    return bedrock_runtime_client(settings.region, read_timeout=60)


class BedrockAnalyzer:
    """Triage through ``Converse``; the client is built on first use."""

    def __init__(
        self,
        settings: AnalysisSettings,
        client_factory: Callable[[AnalysisSettings], Any] = default_client,
    ) -> None:
        if not settings.model_id:
            raise ValueError("analysis needs [analysis] model_id")
        self._settings = settings
        self._model_id: str = settings.model_id
        self._factory = client_factory
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The bedrock-runtime client, built once."""
        if self._client is None:
            self._client = self._factory(self._settings)
        return self._client

    def analyse(self, request: AnalysisInput) -> AnalysisOutcome:
        """Ask the model, validate its tool input; one more try if it was malformed."""
        tokens = 0
        problem: str | None = None
        for _ in range(ATTEMPTS):
            try:
                response = self._converse(request, problem, spent=tokens)
            except _RefusedError as refused:
                # Access, validation or quota: trying again will not help.
                return AnalysisOutcome(None, str(refused), tokens, self._model_id)
            tokens += _tokens(response)
            result = _read(response, request)
            if isinstance(result, Analysis):
                return AnalysisOutcome(result, None, tokens, self._model_id)
            problem = result
        return AnalysisOutcome(None, problem, tokens, self._model_id)

    def check_access(self) -> str:
        """A one-token call: proves credentials, region and model access."""
        self._call(
            modelId=self._model_id,
            messages=[{"role": "user", "content": [{"text": "Reply with OK."}]}],
            inferenceConfig={"maxTokens": 1},
        )
        return self._model_id

    def _converse(self, request: AnalysisInput, problem: str | None, *, spent: int) -> Any:
        tag = new_tag()
        text = user_message(request, tag)
        if problem:
            text += (
                f"\n\nYour previous answer was rejected ({problem}). "
                f"Call {TOOL_NAME} once, keeping to the schema and the offered choices."
            )
        return self._call(
            spent=spent,
            modelId=self._model_id,
            system=[{"text": system_prompt(tag)}],
            messages=[{"role": "user", "content": [{"text": text}]}],
            toolConfig={
                "tools": [
                    {
                        "toolSpec": {
                            "name": TOOL_NAME,
                            "description": "Record the triage of the feature request.",
                            "inputSchema": {"json": input_schema(request)},
                        }
                    }
                ],
                "toolChoice": {"tool": {"name": TOOL_NAME}},
            },
            inferenceConfig={"maxTokens": self._settings.max_tokens, "temperature": 0.0},
        )

    def _call(self, *, spent: int = 0, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return self.client.converse(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in RETRYABLE:
                raise AnalysisUnavailableError(code, tokens=spent) from error
            raise _RefusedError(f"Bedrock refused the call: {code or 'unknown error'}") from error


class _RefusedError(Exception):
    """Bedrock answered with an error that trying again will not fix."""


def _tokens(response: Any) -> int:
    usage = response.get("usage") or {}
    return int(usage.get("inputTokens", 0)) + int(usage.get("outputTokens", 0))


def _read(response: Any, request: AnalysisInput) -> Analysis | str:
    """The validated ``Analysis`` from a Converse response, or what was wrong with it."""
    content = (response.get("output") or {}).get("message", {}).get("content", [])
    calls = [block["toolUse"] for block in content if "toolUse" in block]
    if not calls:
        return "the model answered in free text instead of calling the tool"
    if len(calls) > 1 or calls[0].get("name") != TOOL_NAME:
        return "the model did not call the tool exactly once"
    try:
        return Analysis.model_validate(calls[0].get("input"), context=request.context())
    except ValidationError as error:
        fields = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'input'}: {item['msg']}"
            for item in error.errors()
        )
        return f"the tool input did not validate ({fields})"
