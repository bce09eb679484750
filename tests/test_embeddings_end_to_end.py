"""``featurebridge serve`` with embeddings on: delivered requests are embedded by the worker,
their vectors kept in the SQLite index, and /similar finds a paraphrase no word matches."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from tests.bedrock_standin import BedrockStandIn
from tests.github_double import GitHubDouble
from tests.processes import free_port, http, start_serve, wait_for

CONFIG = """
[server]
inline_delivery_seconds = 2

[analysis]
embedding_model_id = "amazon.titan-embed-text-v2:0"
embedding_dimensions = 4
region = "us-east-1"

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
public = true
"""


def test_similar_finds_by_meaning_what_serve_embedded(
    tmp_path: Path, github_double: GitHubDouble
) -> None:
    (tmp_path / "featurebridge.toml").write_text(CONFIG)
    github_double.add_token("ghp_embed", repos=["acme/mobile"])
    standin = BedrockStandIn()
    with github_double.serve() as github_url, standin.serve() as bedrock_url:
        port = free_port()
        process = start_serve(
            tmp_path,
            port,
            GITHUB_API_URL=github_url,
            GITHUB_TOKEN="ghp_embed",
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=bedrock_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for title, description in (
                ("Black background", "Easier on the eyes"),
                ("Save as PDF", "To print it"),
            ):
                status, _ = http(
                    "POST",
                    f"{base}/v1/apps/mobile/requests",
                    {"title": title, "description": description},
                )
                assert status in (201, 202)
            assert wait_for(lambda: len(standin.embedded) >= 2)
            query = urllib.parse.urlencode({"title": "Night theme"})

            def found() -> list[str]:
                _, answer = http("GET", f"{base}/v1/apps/mobile/similar?{query}")
                return [item["title"] for item in answer["items"]]

            # No word in common with either request: only the vectors tell them apart.
            assert wait_for(lambda: found()[:1] == ["Black background"])
            _, health = http("GET", f"{base}/healthz")
        finally:
            process.terminate()
            process.wait(timeout=15)
    assert health["similar"] == "fts+embeddings"
    # The worker embeds the two in whatever order their jobs run.
    assert {
        "inputText": "Black background\n\nEasier on the eyes",
        "dimensions": 4,
        "normalize": True,
    } in standin.embedded
