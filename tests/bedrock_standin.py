"""A stand-in for Amazon Bedrock Runtime's ``Converse`` and ``InvokeModel`` (embeddings),
over real HTTP.

moto has no ``converse``, so end-to-end tests point a real process at this
server with ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``. It answers in the service's
shapes: a ``toolUse`` whose input is built from the request's own
``inputSchema`` (the first choice of every enum, the lower bound of every
number, required fields only), or plain text when no tool is offered.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def instance_of(schema: dict[str, Any]) -> Any:
    """The simplest value ``schema`` accepts."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: instance_of(properties[name]) for name in schema.get("required", [])}
    if kind == "array":
        return [instance_of(schema["items"]) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return "A request the stand-in summarised."[: schema.get("maxLength", 200)]


# The stand-in's embedding space: words of one set share a dimension.
TOPICS = (
    frozenset({"dark", "night", "theme", "black", "eyes"}),
    frozenset({"export", "pdf", "save", "print", "download"}),
    frozenset({"offline", "subway", "connection", "sync"}),
)


class BedrockStandIn:
    """The server's state: every Converse request it answered."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.embedded: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """A Converse response for ``body``."""
        with self.lock:
            self.requests.append(body)
        tools = (body.get("toolConfig") or {}).get("tools") or []
        if tools:
            spec = tools[0]["toolSpec"]
            content: list[dict[str, Any]] = [
                {
                    "toolUse": {
                        "toolUseId": f"tooluse_{len(self.requests)}",
                        "name": spec["name"],
                        "input": instance_of(spec["inputSchema"]["json"]),
                    }
                }
            ]
            stop = "tool_use"
        else:
            content, stop = [{"text": "OK"}], "end_turn"
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop,
            "usage": {"inputTokens": 420, "outputTokens": 80, "totalTokens": 500},
            "metrics": {"latencyMs": 12},
        }

    def embed(self, body: dict[str, Any]) -> dict[str, Any]:
        """A Titan Text Embeddings V2 answer (``InvokeModel``): one dimension per topic of
        ``TOPICS``, the last for every other word, so synonyms land close together."""
        with self.lock:
            self.embedded.append(body)
        words = re.findall(r"\w+", str(body.get("inputText", "")).lower())
        dimensions = int(body.get("dimensions", 256))
        vector = [0.0] * dimensions
        for word in words:
            topic = next((i for i, t in enumerate(TOPICS) if word in t), dimensions - 1)
            vector[min(topic, dimensions - 1)] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return {"embedding": [x / norm for x in vector], "inputTextTokenCount": len(words)}

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        """Listen on a free local port; yields the endpoint URL."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.endswith("/invoke"):
                    self._send(200, standin.embed(body))
                    return
                if not self.path.endswith("/converse"):
                    self._send(404, {"message": f"no route {self.path}"})
                    return
                self._send(200, standin.answer(body))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
