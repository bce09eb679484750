"""schemathesis, every check, against a running ``featurebridge serve`` and its own /openapi.json.

The service runs with the GitHub double and the Bedrock stand-in, and with requests already
delivered, so per-request operations answer 200s, not only 404s; tests/schemathesis_hooks.py
signs the signed routes. The run must end with no failure, and its report must show at least
one 2xx answer for every documented operation.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from tests import schemathesis_hooks as hooks
from tests.bedrock_standin import BedrockStandIn
from tests.github_double import GitHubDouble
from tests.processes import FEATUREBRIDGE, clean_env, free_port, http, start_serve, wait_for

SCHEMATHESIS = FEATUREBRIDGE.parent / "schemathesis"
RUN_CONFIG = Path(__file__).parent / "schemathesis.toml"
OPERATOR_TOKEN = "operator-secret-for-fuzzing"

CONFIG = f"""
[server]
inline_delivery_seconds = 2

[server.rate_limits]
submissions_per_hour = 100000
votes_per_hour = 100000
anonymous_votes_per_request_per_day = 100000
reads_per_minute = 100000

[analysis]
model_id = "us.amazon.nova-micro-v1:0"
region = "us-east-1"

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
public = true
anonymous_votes = true
allowed_origins = ["{hooks.ORIGIN}"]
form_secret_env = "MOBILE_FORM_SECRET"
typeform_secret_env = "MOBILE_TYPEFORM_SECRET"
feedbackfin_types = ["idea", "issue", "other"]

[apps.google_forms]
title = "{hooks.FORM_TITLE_QUESTION}"

[apps.typeform]
title = "{hooks.TYPEFORM_TITLE_REF}"
"""


def _template_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


def answered_2xx(har: dict[str, Any], operations: list[tuple[str, str]]) -> dict[str, set[int]]:
    """Each operation ("METHOD /path/{template}") → the statuses the run's HAR shows for it."""
    patterns = [(method, path, _template_pattern(path)) for method, path in operations]
    seen: dict[str, set[int]] = {f"{method.upper()} {path}": set() for method, path in operations}
    for entry in har["log"]["entries"]:
        url = re.sub(r"^https?://[^/]+", "", entry["request"]["url"]).split("?")[0]
        for method, path, pattern in patterns:
            if entry["request"]["method"].lower() == method and pattern.match(url):
                seen[f"{method.upper()} {path}"].add(entry["response"]["status"])
    return seen


def failures(output: str) -> str:
    """The run's failures section, each line cut short (a case's body can be 256 KiB)."""
    section = output.partition("= FAILURES =")[2] or output
    return "\n".join(line[:300] for line in section.splitlines())


def test_answered_2xx_maps_urls_to_operation_templates() -> None:
    har = {
        "log": {
            "entries": [
                {
                    "request": {"method": "GET", "url": "http://h:1/v1/apps/x/requests/7?q=1"},
                    "response": {"status": 200},
                },
                {
                    "request": {"method": "POST", "url": "http://h:1/v1/apps/x/requests"},
                    "response": {"status": 422},
                },
            ]
        }
    }
    operations = [
        ("get", "/v1/apps/{app}/requests"),
        ("get", "/v1/apps/{app}/requests/{number}"),
        ("post", "/v1/apps/{app}/requests"),
    ]
    assert answered_2xx(har, operations) == {
        "GET /v1/apps/{app}/requests": set(),
        "GET /v1/apps/{app}/requests/{number}": {200},
        "POST /v1/apps/{app}/requests": {422},
    }


def test_schemathesis_finds_nothing_and_reaches_every_operation(
    tmp_path: Path, github_double: GitHubDouble
) -> None:
    (tmp_path / "featurebridge.toml").write_text(CONFIG)
    github_double.add_token("ghp_fuzz", repos=["acme/mobile"])
    standin = BedrockStandIn()
    with github_double.serve() as github_url, standin.serve() as bedrock_url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = start_serve(
            tmp_path,
            port,
            GITHUB_API_URL=github_url,
            GITHUB_TOKEN="ghp_fuzz",
            GITHUB_WEBHOOK_SECRET=hooks.WEBHOOK_SECRET,
            FEATUREBRIDGE_SIGNING_SECRET=hooks.SIGNING_SECRET,
            FEATUREBRIDGE_ADMIN_TOKEN=OPERATOR_TOKEN,
            MOBILE_FORM_SECRET=hooks.FORM_SECRET,
            MOBILE_TYPEFORM_SECRET=hooks.TYPEFORM_SECRET,
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME=bedrock_url,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
        )
        try:
            # Requests 1-3 exist on GitHub and in the index before the run.
            delivered = []
            for title in ("Dark mode", "Offline sync", "Export to CSV"):
                status, answer = http("POST", f"{base}/v1/apps/mobile/requests", {"title": title})
                assert status in (201, 202)
                delivered.append(answer["id"])
            assert wait_for(
                lambda: len(http("GET", f"{base}/v1/apps/mobile/requests")[1]["items"]) == 3
            )
            # Submissions held for review (the honeypot of a widget's post): one for the
            # approve route's cases, one for the reject route's, one for the outbox's cancel.
            held = []
            for title in ("Held to approve", "Held to reject", "Held to cancel"):
                status, answer = http(
                    "POST",
                    f"{base}/v1/apps/mobile/requests",
                    {"title": title, "website": "filled by a bot"},
                    {"Origin": hooks.ORIGIN},
                )
                assert (status, answer["delivery"]) == (202, "held")
                held.append(answer["id"])
            status, document = http("GET", f"{base}/openapi.json")
            assert status == 200
            har_path = tmp_path / "report.har"
            run = subprocess.run(
                [
                    str(SCHEMATHESIS),
                    "--config-file",
                    str(RUN_CONFIG),
                    "run",
                    f"{base}/openapi.json",
                    "--url",
                    base,
                    "--checks",
                    "all",
                    "--header",
                    f"Authorization: Bearer {OPERATOR_TOKEN}",
                    "--report",
                    "har",
                    "--report-har-path",
                    str(har_path),
                    "--no-color",
                ],
                cwd=tmp_path,
                env=clean_env(
                    tmp_path,
                    SCHEMATHESIS_HOOKS="tests.schemathesis_hooks",
                    FUZZ_APPROVE_ID=held[0],
                    FUZZ_REJECT_ID=held[1],
                    FUZZ_CANCEL_ID=held[2],
                    FUZZ_RETRY_ID=delivered[0],
                    PYTHONPATH=str(Path(__file__).parent.parent),
                ),
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        finally:
            process.terminate()
            process.wait(timeout=15)
    (tmp_path / "schemathesis.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, failures(run.stdout) + run.stderr[-5000:]
    operations = [
        (method, path) for path, methods in document["paths"].items() for method in methods
    ]
    seen = answered_2xx(json.loads(har_path.read_text()), operations)
    without_2xx = {
        op: codes for op, codes in seen.items() if not any(200 <= c < 300 for c in codes)
    }
    assert not without_2xx, without_2xx
