"""The pages of emails' links in headless Chromium, against ``featurebridge serve``."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bridge.notify.email import tokens
from bridge.notify.email.model import Subscriber, request_topic
from bridge.stores.sqlite import SQLiteStore
from tests.processes import free_port, start_serve
from tests.test_pages_browser import browser, expect, page  # noqa: F401

SIGNING_SECRET = "signing-secret-for-browser-tests"
TYPED = Subscriber(
    id="1" * 32,
    app="mobile",
    address="ada@example.com",
    confirmed=False,
    created_at=datetime(2026, 12, 3, tzinfo=UTC),
)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SQLiteStore]]:
    tmp_path = tmp_path_factory.mktemp("email-pages")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (tmp_path / "featurebridge.toml").write_text(
        f"""
[server]
public_url = "{base}"

[[apps]]
id = "mobile"
name = "Acme <Mobile>"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
""",
        encoding="utf-8",
    )
    db = tmp_path / "index.db"
    store = SQLiteStore(db)
    store.subscribe(TYPED, topic=request_topic(1), voter="anon:browser")
    process = start_serve(
        tmp_path,
        port,
        FEATUREBRIDGE_CONFIG=str(tmp_path / "featurebridge.toml"),
        FEATUREBRIDGE_STORE=f"sqlite:///{db}",
        FEATUREBRIDGE_SIGNING_SECRET=SIGNING_SECRET,
    )
    try:
        yield base, store
    finally:
        process.terminate()
        process.wait(timeout=10)


def link(base: str, path: str, purpose: str) -> str:
    return f"{base}{path}?token={tokens.sign(SIGNING_SECRET.encode(), purpose, TYPED.id)}"


def test_confirming_then_unsubscribing_by_the_pages_buttons(
    service: tuple[str, SQLiteStore],
    page: Any,  # noqa: F811
) -> None:
    base, store = service
    page.goto(link(base, "/v1/confirm", tokens.CONFIRM))
    expect(page.locator("h1")).to_have_text("Get emails from Acme <Mobile>?")
    page.get_by_role("button", name="Yes, email me").click()
    expect(page.locator("h1")).to_have_text("Thank you")
    assert [s.id for s in store.followers("mobile", [request_topic(1)])] == [TYPED.id]
    confirmed = store.get_subscriber(TYPED.id)
    assert confirmed is not None
    assert confirmed.active

    page.goto(link(base, "/v1/unsubscribe", tokens.UNSUBSCRIBE))
    expect(page.locator("h1")).to_have_text("Stop emails from Acme <Mobile>?")
    # Loading the page changed nothing: only the button unsubscribes.
    still = store.get_subscriber(TYPED.id)
    assert still is not None
    assert still.active
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    after = store.get_subscriber(TYPED.id)
    assert after is not None
    assert after.unsubscribed
    assert store.followers("mobile", [request_topic(1)]) == []


def test_a_forged_link_shows_a_page_saying_so(
    service: tuple[str, SQLiteStore],
    page: Any,  # noqa: F811
) -> None:
    base, store = service
    forged = link(base, "/v1/unsubscribe", tokens.CONFIRM)
    answer = page.goto(forged)
    assert answer.status == 400
    expect(page.locator("h1")).to_have_text("This link is not valid")
    assert page.get_by_role("button").count() == 0
    assert store.get_subscriber(TYPED.id) is not None
    page.problems.clear()


def test_the_pages_run_no_inline_script(service: tuple[str, SQLiteStore]) -> None:
    base, _ = service
    with urllib.request.urlopen(link(base, "/v1/unsubscribe", tokens.UNSUBSCRIBE)) as answer:
        policy = answer.headers["Content-Security-Policy"]
        html = answer.read().decode()
    assert "script-src 'self'" in policy
    assert "form-action 'self'" in policy
    assert "<script" not in html
    assert "Acme &lt;Mobile&gt;" in html
