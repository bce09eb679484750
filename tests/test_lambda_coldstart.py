"""What a cold start of the HTTP entry loads (STYLE §12: cold starts are a feature).

Each test runs a fresh interpreter, as a new Lambda environment does: it imports
``http_entry``, answers one API Gateway event and reports which of the heavy
modules ended up in ``sys.modules``. Those load where they are first used (the
export view, ``/openapi.json``, a submission, a webhook, the GitHub client), so
a health check or a listing never pays for them. ``bench/coldstart.py`` measures
the time; this keeps an import at the top of a module from undoing it unnoticed.
Every module of the analysis, embeddings, moderation, notification, similar-requests
and outbox packages counts as heavy unless listed below with the reason it loads,
so a module added there later is covered without being named here. With a
feature configured, its adapter is built at start and may load; its AWS client
(botocore, boto3) still waits for first use. The routes whose code is deferred
are still registered. The entry's first build also pauses the cyclic GC and
freezes what it built, and defines no dataclass: each one compiles its methods
from source as it loads (the bridge's values are msgspec Structs).
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
    "bridge.tracker_values",  # issues and boards: with the GitHub client or delivery
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
    "bridge.bedrock_runtime",  # the Bedrock client's settings (analysis, embeddings)
    "bridge.queues_sqs",
    "bridge.agents",  # featurebridge mcp, and with it the MCP SDK: never the service's
    "mcp",
    "mcp_types",
    "bridge.api.detail_models",  # one request's and the similar search's models
    "bridge.api.answer_models",  # the operator routes', webhook's and email links' models
)
# The feature packages: each of their modules is heavy unless LOADED_AT_START names it.
FEATURE_PACKAGES = ("analysis", "embeddings", "moderation", "notify", "outbox", "similar")
LOADED_AT_START = {
    # Packages whose modules below load, and their docstrings.
    "bridge.moderation",
    "bridge.notify",
    "bridge.notify.email",
    "bridge.outbox",
    "bridge.similar",
    # Part of Settings: [[apps.notify.webhooks]] and [notify.email] are validated at start.
    "bridge.notify.config",
    "bridge.notify.email.config",
    # Blueprints registered by create_app; their views import the rest when first called.
    "bridge.moderation.api",
    "bridge.outbox.api",
    "bridge.notify.email.tokens",  # the email links' token format (hmac, no models)
    # What the SQLite index store returns and searches with (bridge.stores.sqlite_*).
    "bridge.notify.model",
    "bridge.notify.email.model",
    "bridge.similar.originals",
    "bridge.similar.terms",
}


def feature_modules() -> tuple[str, ...]:
    """Every module of the feature packages, by its dotted name."""
    found = []
    for package in FEATURE_PACKAGES:
        for path in sorted((ROOT / "bridge" / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return tuple(found)


# Each feature configured, with the modules of the adapter the wiring point builds for it.
EMBEDDINGS = (
    '[analysis]\nembedding_model_id = "amazon.titan-embed-text-v2:0"\n',
    "",
    {},
    {
        "bridge.embeddings",
        "bridge.embeddings.bedrock",
        "bridge.embeddings.sqlite",
        "bridge.embeddings.values",
        "bridge.bedrock_runtime",
    },
)
ANALYSIS = (
    '[analysis]\nmodel_id = "amazon.nova-micro-v1:0"\n',
    "",
    {},
    {
        "bridge.analysis",
        "bridge.analysis.bedrock",
        "bridge.analysis.model",
        "bridge.analysis.prompt",
        "bridge.bedrock_runtime",
    },
)
NOTIFY = (
    '[notify.email]\nsender = "Acme <feedback@acme.example>"\n',
    '[[apps.notify.webhooks]]\nurl = "https://hooks.example.com/x"\nformat = "slack"\n',
    {"FEATUREBRIDGE_EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:events"},
    {
        "bridge.notify.email.render",
        "bridge.notify.email.sending",
        "bridge.notify.email.ses",
        "bridge.notify.events",
        "bridge.notify.formats",
        "bridge.notify.service",
        "bridge.notify.sns",
        "bridge.notify.ssrf",
        "bridge.notify.webhooks",
    },
)
NOTHING: tuple[str, str, dict[str, str], set[str]] = ("", "", {}, set())
# Routes whose views import their modules when first called: registered all the same.
DEFERRED_ROUTES = {
    "/v1/apps/<app_id>/requests/<int:number>/analysis",
    "/v1/notifications",
    "/v1/unsubscribe",
    "/v1/confirm",
    "/v1/apps/<app_id>/moderation",
    "/v1/apps/<app_id>/similar",
    "/v1/outbox",
    "/github/webhooks",
}

CHILD = """
import gc, json, sys
sys.path[:0] = [{lambda_dir!r}, {root!r}]
from http_entry import handler
event = json.loads({event!r})
answer = handler(event, None)
loaded = sorted(name for name in {heavy!r} if name in sys.modules)
models = "bridge.api.models" in sys.modules
frozen = [gc.isenabled(), gc.get_freeze_count() > 0]
# A dataclass compiles its methods from source as its module loads; the values are Structs.
dataclasses = sorted(
    f"{{name}}.{{value.__qualname__}}"
    for name, module in list(sys.modules.items())
    if name.split(".")[0] in ("bridge", "github_app", "http_entry", "entry_common")
    for value in vars(module).values()
    if isinstance(value, type) and value.__module__ == name
    and "__dataclass_fields__" in vars(value)
)
# The routes of the app the entry built, from the wiring point again (it loads nothing more).
import entry_common
from bridge.app import create_app
app = create_app(entry_common.runtime().settings, entry_common.runtime())
print(json.dumps({{
    "status": answer["statusCode"],
    "loaded": loaded,
    "models": models,
    "routes": sorted({{rule.rule for rule in app.url_map.iter_rules()}}),
    "gc": frozen,
    "dataclasses": dataclasses,
}}))
"""


def cold_start(
    tmp_path: Path,
    event: dict[str, object],
    feature: tuple[str, str, dict[str, str], set[str]] = NOTHING,
) -> dict[str, object]:
    settings, app_settings, feature_env, adapters = feature
    config = tmp_path / "featurebridge.toml"
    config.write_text(
        settings + '[[apps]]\nid = "demo"\nname = "Demo"\nrepo = "acme/demo"\n'
        'labels = ["feature-request"]\npublic = true\n' + app_settings,
        encoding="utf-8",
    )
    env = clean_env(
        tmp_path,
        FEATUREBRIDGE_CONFIG=str(config),
        FEATUREBRIDGE_STORE=f"sqlite:///{tmp_path / 'index.db'}",
        **feature_env,
    )
    for name in ("GITHUB_TOKEN", "PYTHONPATH"):
        env.pop(name, None)
    allowed = LOADED_AT_START | adapters
    heavy = tuple(name for name in HEAVY + feature_modules() if name not in allowed)
    code = CHILD.format(
        lambda_dir=str(LAMBDA_DIR), root=str(ROOT), event=json.dumps(event), heavy=heavy
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
    ("path", "query", "models", "feature"),
    [
        ("/healthz", "", False, NOTHING),  # Health is defined with its view
        ("/v1/apps/demo/requests", "sort=top&limit=20", True, NOTHING),  # the listing's models
        ("/v1/apps", "", True, NOTHING),
        ("/healthz", "", False, EMBEDDINGS),
        ("/v1/apps/demo/requests", "sort=top&limit=20", True, EMBEDDINGS),
        ("/healthz", "", False, ANALYSIS),
        ("/v1/apps/demo/requests", "sort=top&limit=20", True, ANALYSIS),
        ("/healthz", "", False, NOTIFY),
        ("/v1/apps/demo/requests", "sort=top&limit=20", True, NOTIFY),
    ],
)
def test_a_cold_start_loads_no_heavy_module(
    tmp_path: Path,
    path: str,
    query: str,
    models: bool,
    feature: tuple[str, str, dict[str, str], set[str]],
) -> None:
    answer = cold_start(tmp_path, event_for(path, query), feature)
    assert answer["status"] == 200
    assert answer["loaded"] == []
    assert answer["models"] is models
    routes = answer["routes"]
    assert isinstance(routes, list)
    assert set(routes) >= DEFERRED_ROUTES
    # Built with the collector paused, then frozen; collecting again afterwards.
    assert answer["gc"] == [True, True]
    assert answer["dataclasses"] == []


def test_the_feature_packages_are_all_checked() -> None:
    """What loads at start is named module by module; a renamed module must be renamed here."""
    modules = set(feature_modules())
    assert "bridge.analysis.bedrock" in modules
    assert "bridge.notify.email.ses" in modules
    assert modules >= LOADED_AT_START
    for _, _, _, adapters in (EMBEDDINGS, ANALYSIS, NOTIFY):
        assert modules | set(HEAVY) >= adapters
