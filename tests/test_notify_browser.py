"""The "Tell me when this ships" opt-in in Chromium: the widget and the hosted form.

``featurebridge serve`` with email on (SES v2 on moto's server over HTTP): a
ticked box sends ``notify`` with the typed address, and its owner gets the
confirmation email that double opt-in sends first.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from bridge.domain import Status
from tests.email_support import EMAIL_CONFIG, sent_to, verify_sender
from tests.fakes import indexed
from tests.moto_server import AWS_TEST_ENV

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="browser tests need the playwright package (dev group)"
)
expect = sync_api.expect

from tests.browser_support import (  # noqa: E402
    Host,
    bridge_and_host,
    chromium,
    one_app_config,
    watched_page,
)
from tests.processes import wait_for  # noqa: E402

VOTER_SECRET = "mobile-voter-secret-for-notify-tests"
CONFIG = (
    one_app_config(app='anonymous_votes = true\nvoter_secret_env = "MOBILE_VOTER_SECRET"\n')
    + EMAIL_CONFIG
)
SEEDED = (
    indexed(1, "Dark mode", Status.OPEN, 5),
    indexed(2, "Offline sync", Status.IN_PROGRESS, 9),
)
PANEL = ".fbw-panel"
NOTIFY = "Tell me when this ships"
EMAIL = "Email (optional, kept private)"


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str
) -> Iterator[tuple[str, Host, Path]]:
    verify_sender(moto_endpoint)
    tmp_path = tmp_path_factory.mktemp("notify")
    with bridge_and_host(
        tmp_path,
        CONFIG,
        SEEDED,
        MOBILE_VOTER_SECRET=VOTER_SECRET,
        FEATUREBRIDGE_SIGNING_SECRET="notify-browser-signing-secret",
        AWS_ENDPOINT_URL_SESV2=moto_endpoint,
        **AWS_TEST_ENV,
    ) as (base, host):
        yield base, host, tmp_path / "index.db"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with watched_page(browser) as tab:
        yield tab


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


def confirmation_reaches(moto_endpoint: str, address: str) -> bool:
    """Whether the one confirmation email of a typed address went out (the worker sends it)."""
    return wait_for(lambda: len(sent_to(moto_endpoint, address)) == 1)


def test_the_widgets_box_sends_notify_with_the_typed_address(
    service: tuple[str, Host, Path], page: Any, moto_endpoint: str
) -> None:
    _, host, _ = service
    page.goto(host.page("/notify"))
    page.get_by_role("button", name="Feedback").click()
    panel = page.locator(PANEL)
    address = unique("widget")
    panel.get_by_label("Title").fill("Widgets on the lock screen")
    panel.get_by_label(NOTIFY).check()
    panel.get_by_label(EMAIL).fill(address)
    with page.expect_request(lambda r: r.method == "POST") as sent:
        panel.get_by_role("button", name="Send").click()
    body = json.loads(sent.value.post_data)
    assert body["notify"] is True
    assert body["email"] == address
    expect(panel.locator("form .fbw-message")).to_have_text("Thanks — it's queued")
    expect(panel.get_by_label(NOTIFY)).not_to_be_checked()  # cleared with the form
    assert confirmation_reaches(moto_endpoint, address)
    assert page.problems == []


def test_voting_instead_with_the_box_ticked_follows_that_request(
    service: tuple[str, Host, Path], page: Any, moto_endpoint: str
) -> None:
    _, host, _ = service
    page.goto(host.page("/instead"))
    page.get_by_role("button", name="Feedback").click()
    panel = page.locator(PANEL)
    address = unique("voter")
    panel.get_by_label(NOTIFY).check()
    panel.get_by_label(EMAIL).fill(address)
    panel.get_by_label("Title").fill("Offline sync on the train")
    similar = panel.get_by_role("region", name="Similar requests")
    offline = similar.locator('li[data-number="2"]')
    with page.expect_request(lambda r: r.url.endswith("/requests/2/votes")) as sent:
        offline.get_by_role("button", name="Vote for this instead").click()
    body = json.loads(sent.value.post_data)
    assert body["notify"] is True
    assert body["email"] == address
    assert "anonymous_id" in body
    expect(panel.locator("form .fbw-message")).to_have_text("Vote counted.")
    assert confirmation_reaches(moto_endpoint, address)
    assert page.problems == []


def test_a_voter_tokens_email_needs_no_field(
    service: tuple[str, Host, Path], page: Any, moto_endpoint: str
) -> None:
    _, host, _ = service
    address = unique("signed-in")
    token = jwt.encode(
        {"sub": "user-9", "iat": int(time.time()), "aud": "mobile", "email": address},
        VOTER_SECRET,
        algorithm="HS256",
    )
    page.goto(host.page("/token", **{"data-voter-token": token}))
    page.get_by_role("button", name="Feedback").click()
    panel = page.locator(PANEL)
    expect(panel.get_by_label(EMAIL)).to_be_hidden()
    panel.get_by_label("Title").fill("Shared shopping lists")
    panel.get_by_label(NOTIFY).check()
    with page.expect_request(lambda r: r.method == "POST") as sent:
        panel.get_by_role("button", name="Send").click()
    body = json.loads(sent.value.post_data)
    assert body["notify"] is True
    assert "email" not in body
    assert body["voter_token"] == token
    expect(panel.locator("form .fbw-message")).to_have_text("Thanks — it's queued")
    assert page.problems == []


@pytest.mark.parametrize("script", [True, False], ids=["widget", "no-script"])
def test_the_hosted_forms_box_sends_notify_with_the_typed_address(
    service: tuple[str, Host, Path], browser: Any, moto_endpoint: str, script: bool
) -> None:
    base, _, _ = service
    address = unique("form")
    with watched_page(browser, java_script_enabled=script) as page:
        page.goto(f"{base}/apps/mobile/form")
        page.get_by_label("Title").fill("Printable receipts")
        page.get_by_label(NOTIFY).check()
        page.get_by_label(EMAIL).fill(address)
        with page.expect_request(lambda r: r.method == "POST") as sent:
            page.get_by_role("button", name="Send").click()
        posted = sent.value.post_data
        assert ("notify=true" in posted) if not script else json.loads(posted)["notify"] is True
        outcome = ".fb-outcome" if not script else "form .fbw-message"
        expect(page.locator(outcome)).to_have_text("Thanks — it's queued")
        assert page.problems == []
    assert confirmation_reaches(moto_endpoint, address)
