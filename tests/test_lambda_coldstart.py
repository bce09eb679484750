"""What a cold start of the HTTP entry loads (STYLE §12: cold starts are a feature).

Each test runs a fresh interpreter, as a new Lambda environment does: it imports
``http_entry``, answers one API Gateway event and reports which of the heavy
modules ended up in ``sys.modules``. Those load where they are first used (the
export view, ``/openapi.json``, a submission, a webhook, the GitHub client), so
a health check or a listing never pays for them. ``bench/coldstart.py`` measures
the time; this keeps an import at the top of a module from undoing it unnoticed.
The entry's first build also pauses the cyclic GC and freezes what it built.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.lambda_support import APIGW_FIXTURES, LAMBDA_DIR, ROOT
from tests.processes import clean_env

# Loaded by no route a cold start answers first.
HEAVY = (
    "bridge.api.export_models",  # the export's pydantic models
    "bridge.api.openapi",  # the OpenAPI builder, and with it every model
    "bridge.api.write_models",  # submission and vote models
    "bridge.export",
    "bridge.delivery",  # issue rendering, boards
    "bridge.jobs",
    "bridge.github_events",
    "github_app.render",
    "jwt",
    "cryptography",
    "githubkit",
    "httpx",
    "boto3",
    "s3transfer",
    "botocore",  # SQLite index, no queue: nothing of AWS is needed
    "numpy",  # vectors on SQLite: loaded with the first search or embedding
    "aws_xray_sdk",  # Lambda traces each invocation itself (Tracing: Active): no SDK
    "bridge.embeddings.job",
    "bridge.similar.search",
    "bridge.agents",  # featurebridge mcp, and with it the MCP SDK: never the service's
    "mcp",
    "mcp_types",
    "bridge.moderation.models",  # the review queue's models, and its rules
    "bridge.moderation.screening",
    "bridge.outbox.models",  # the pipeline's models and listing
    "bridge.outbox.listing",
)
# Embeddings configured (vectors in the SQLite index): a listing still loads none of them.
EMBEDDINGS = '[analysis]\nembedding_model_id = "amazon.titan-embed-text-v2:0"\n'

CHILD = """
import gc, json, sys
sys.path[:0] = [{lambda_dir!r}, {root!r}]
from http_entry import handler
event = json.loads({event!r})
answer = handler(event, None)
print(json.dumps({{
    "status": answer["statusCode"],
    "loaded": sorted(name for name in {heavy!r} if name in sys.modules),
    "models": "bridge.api.models" in sys.modules,
    "gc": [gc.isenabled(), gc.get_freeze_count() > 0],
}}))
"""


def cold_start(tmp_path: Path, event: dict[str, object], settings: str = "") -> dict[str, object]:
    config = tmp_path / "featurebridge.toml"
    config.write_text(
        settings + '[[apps]]\nid = "demo"\nname = "Demo"\nrepo = "acme/demo"\n'
        'labels = ["feature-request"]\npublic = true\n',
        encoding="utf-8",
    )
    env = clean_env(
        tmp_path,
        FEATUREBRIDGE_CONFIG=str(config),
        FEATUREBRIDGE_STORE=f"sqlite:///{tmp_path / 'index.db'}",
    )
    for name in ("GITHUB_TOKEN", "PYTHONPATH"):
        env.pop(name, None)
    code = CHILD.format(
        lambda_dir=str(LAMBDA_DIR), root=str(ROOT), event=json.dumps(event), heavy=HEAVY
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def event_for(path: str, query: str = "") -> dict[str, object]:
    event: dict[str, object] = json.loads((APIGW_FIXTURES / "healthz.json").read_text("utf-8"))
    event["rawPath"] = path
    event["rawQueryString"] = query
    context = event["requestContext"]
    assert isinstance(context, dict)
    context["http"]["path"] = path
    return event


@pytest.mark.parametrize(
    ("path", "query", "models", "settings"),
    [
        ("/healthz", "", False, ""),  # Health is defined with its view
        ("/v1/apps/demo/requests", "sort=top&limit=20", True, ""),  # the read models only
        ("/v1/apps", "", True, ""),
        ("/healthz", "", False, EMBEDDINGS),
        ("/v1/apps/demo/requests", "sort=top&limit=20", True, EMBEDDINGS),
    ],
)
def test_a_cold_start_loads_no_heavy_module(
    tmp_path: Path, path: str, query: str, models: bool, settings: str
) -> None:
    answer = cold_start(tmp_path, event_for(path, query), settings)
    assert answer["status"] == 200
    assert answer["loaded"] == []
    assert answer["models"] is models
    # Built with the collector paused, then frozen; collecting again afterwards.
    assert answer["gc"] == [True, True]
