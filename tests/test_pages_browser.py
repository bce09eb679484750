"""The widget and the hosted pages in headless Chromium, against ``featurebridge serve``.

The service runs as a process on one loopback origin; a host page on a second
loopback origin embeds the widget (``tests.browser_support`` says more).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from bridge.domain import Status
from tests.fakes import indexed

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

from tests.browser_support import Host, bridge_and_host, chromium, watched_page  # noqa: E402

XSS = "<img src=x onerror=alert(1)>"
VOTER_SECRET = "mobile-voter-secret-for-browser-tests"


SEEDED = (
    indexed(1, "Dark mode", Status.OPEN, 5),
    indexed(2, XSS, Status.PLANNED, 3),
    indexed(3, "Offline sync", Status.IN_PROGRESS, 9),
    indexed(4, "Home screen widgets", Status.COMPLETED, 1),
    indexed(1, "Tray icon", Status.PLANNED, 2, app="desktop"),
)


CONFIG = """
[server]
public_url = "{base}"

[[apps]]
id = "mobile"
name = "Acme <Mobile>"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
allowed_origins = ["{host}"]
public = true
anonymous_votes = true
voter_secret_env = "MOBILE_VOTER_SECRET"
# Moderation has an app of its own below; these test the rest.
moderation = "none"

[[apps]]
id = "desktop"
name = "Acme Desktop"
repo = "acme/desktop"
labels = ["feature-request", "app:desktop"]
public = true
moderation = "none"

[[apps]]
id = "guarded"
name = "Guarded"
repo = "acme/guarded"
labels = ["feature-request", "app:guarded"]
allowed_origins = ["{host}"]
public = true

[apps.spam]
min_seconds_to_submit = 1
blocked_words = ["casino"]
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Host]]:
    with bridge_and_host(
        tmp_path_factory.mktemp("browser"), CONFIG, SEEDED, MOBILE_VOTER_SECRET=VOTER_SECRET
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test (its own localStorage), failing on page errors."""
    with watched_page(browser) as tab:
        yield tab


def test_the_widget_lists_the_apps_top_requests(service: tuple[str, Host], page: Any) -> None:
    _, host = service
    page.goto(host.page("/embedded", **{"data-target": "#feedback"}))
    titles = page.locator("#feedback .fbw-item .fbw-title")
    expect(titles).to_have_text(["Offline sync", "Dark mode", XSS, "Home screen widgets"])
    expect(page.locator("#feedback .fbw-item .fbw-vote")).to_have_text(["▲ 9", "▲ 5", "▲ 3", "▲ 1"])
    # The title is text, not markup: no image element was made from it.
    assert page.locator("#feedback img").count() == 0
    expect(titles.nth(0)).to_have_attribute("href", "https://github.com/acme/mobile/issues/3")
    # Votes on a completed request are refused by the API: the button is disabled.
    expect(page.locator('[data-number="4"] .fbw-vote')).to_be_disabled()
    assert page.problems == []


def test_an_anonymous_vote_counts_and_toggles_back(service: tuple[str, Host], page: Any) -> None:
    _, host = service
    page.goto(host.page("/embedded", **{"data-target": "#feedback"}))
    button = page.locator('#feedback [data-number="1"] .fbw-vote')
    expect(button).to_have_text("▲ 5")
    button.click()
    expect(page.locator("#feedback .fbw-list + .fbw-message")).to_have_text("Vote counted.")
    expect(button).to_have_text("▲ 6")
    expect(button).to_have_attribute("aria-pressed", "true")
    # The anonymous voter is remembered across loads.
    page.reload()
    expect(button).to_have_text("▲ 6")
    expect(button).to_have_attribute("aria-pressed", "true")
    button.focus()
    page.keyboard.press("Enter")  # keyboard works as well as a click
    expect(button).to_have_text("▲ 5")
    expect(button).to_have_attribute("aria-pressed", "false")
    assert page.problems == []


def test_a_voter_token_gets_its_voted_flags_from_the_listing(
    service: tuple[str, Host], page: Any
) -> None:
    _, host = service
    token = jwt.encode(
        {"sub": "user-42", "iat": int(time.time()), "aud": "mobile"},
        VOTER_SECRET,
        algorithm="HS256",
    )
    url = host.page("/token", **{"data-target": "#feedback", "data-voter-token": token})
    page.goto(url)
    button = page.locator('#feedback [data-number="3"] .fbw-vote')
    expect(button).to_have_text("▲ 9")
    button.click()
    expect(page.locator("#feedback .fbw-list + .fbw-message")).to_have_text("Vote counted.")
    expect(button).to_have_text("▲ 10")
    page.reload()  # no localStorage for token voters: the flag comes from the API
    expect(button).to_have_attribute("aria-pressed", "true")
    button.click()
    expect(button).to_have_text("▲ 9")
    assert page.problems == []


def test_the_widget_submits_and_says_it_is_queued(service: tuple[str, Host], page: Any) -> None:
    _, host = service
    page.goto(host.page("/embedded", **{"data-target": "#feedback"}))
    page.get_by_label("Title").fill("Export to CSV")
    page.get_by_label("Description").fill("For the accountants")
    page.get_by_label("Email (optional, kept private)").fill("ann@example.com")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#feedback form .fbw-message")).to_have_text("Thanks — it's queued")
    expect(page.get_by_label("Title")).to_have_value("")
    assert page.problems == []


def test_the_widget_at_a_persons_pace_is_not_held(service: tuple[str, Host], page: Any) -> None:
    _, host = service
    page.goto(host.page("/guarded", app="guarded", **{"data-target": "#feedback"}))
    page.get_by_label("Title").fill("Keyboard shortcuts")
    page.wait_for_timeout(1200)  # longer than the app's min_seconds_to_submit
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#feedback form .fbw-message")).to_have_text("Thanks — it's queued")
    assert page.problems == []


def test_the_widget_says_a_held_request_awaits_review(service: tuple[str, Host], page: Any) -> None:
    _, host = service
    page.goto(host.page("/guarded", app="guarded", **{"data-target": "#feedback"}))
    page.get_by_label("Title").fill("Casino bonus codes")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#feedback form .fbw-message")).to_have_text(
        "Thanks — your request awaits review before it is published."
    )
    assert page.problems == []


def test_the_widget_shows_a_field_error_for_an_empty_title(
    service: tuple[str, Host], page: Any
) -> None:
    _, host = service
    page.goto(host.page("/embedded", **{"data-target": "#feedback"}))
    expect(page.locator("#feedback .fbw-item")).to_have_count(4)
    page.get_by_label("Title").fill("   ")
    page.get_by_role("button", name="Send").click()
    error = page.locator('#feedback [data-field="title"]')
    expect(error).not_to_be_empty()
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Title")).to_be_focused()
    expect(page.locator("#feedback form .fbw-message")).to_have_text(
        "the request has invalid fields"
    )
    assert page.problems == [f"422 {host.service}/v1/apps/mobile/requests"]


def test_the_floating_button_opens_the_panel(service: tuple[str, Host], page: Any) -> None:
    _, host = service
    page.goto(host.page("/floating"))
    launcher = page.get_by_role("button", name="Feedback")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    panel = page.get_by_role("dialog", name="Feature requests")
    expect(panel).to_be_visible()
    expect(panel.locator(".fbw-item")).to_have_count(4)
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(launcher).to_be_focused()
    assert page.problems == []


def test_the_hosted_form_page_submits(service: tuple[str, Host], page: Any) -> None:
    base, _ = service
    page.goto(f"{base}/apps/mobile/form")
    expect(page.locator("h1")).to_have_text("Suggest a feature for Acme <Mobile>")
    expect(page.locator(".fbw-item")).to_have_count(0)  # form only
    page.get_by_label("Title").fill("Bigger fonts")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("form .fbw-message")).to_have_text("Thanks — it's queued")
    # The widget's styles were admitted by the page's CSP nonce.
    color = page.locator(".fbw-submit").evaluate("node => getComputedStyle(node).color")
    assert color == "rgb(255, 255, 255)"
    assert page.problems == []


@pytest.fixture
def no_script(browser: Any) -> Iterator[Any]:
    """A tab with JavaScript off: the hosted form's own HTML form."""
    with watched_page(browser, java_script_enabled=False) as tab:
        yield tab


def test_without_javascript_the_form_shows_similar_requests_before_sending(
    service: tuple[str, Host], no_script: Any
) -> None:
    base, _ = service
    page = no_script
    page.goto(f"{base}/apps/mobile/form")
    expect(page.locator(".fbw-root")).to_have_count(0)  # no widget: the page's own form
    page.get_by_label("Title").fill("Offline sync for trains")
    page.get_by_label("Description").fill("No signal in tunnels")
    page.get_by_role("button", name="Send").click()
    similar = page.get_by_role("region", name="Similar requests")
    expect(similar.locator(".fb-title").first).to_have_text("Offline sync")
    expect(similar.locator(".fb-item").first).to_contain_text("9 votes · In progress")
    expect(similar.locator("a.fb-title").first).to_have_attribute(
        "href", "https://github.com/acme/mobile/issues/3"
    )
    # What was typed is still there; the second try sends it.
    expect(page.get_by_label("Title")).to_have_value("Offline sync for trains")
    expect(page.get_by_label("Description")).to_have_value("No signal in tunnels")
    page.get_by_role("button", name="Send anyway").click()
    expect(page.locator(".fb-outcome")).to_have_text("Thanks — it's queued")
    expect(page.get_by_label("Title")).to_have_value("")
    expect(page.get_by_role("region", name="Similar requests")).to_have_count(0)
    assert page.problems == []


def test_without_javascript_a_form_with_nothing_similar_is_sent_at_once(
    service: tuple[str, Host], no_script: Any
) -> None:
    base, _ = service
    page = no_script
    page.goto(f"{base}/apps/mobile/form")
    page.get_by_label("Title").fill("Quantum teleportation")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".fb-outcome")).to_have_text("Thanks — it's queued")
    assert page.problems == []


def test_without_javascript_field_errors_are_shown_by_their_fields(
    service: tuple[str, Host], no_script: Any
) -> None:
    base, _ = service
    page = no_script
    page.goto(f"{base}/apps/mobile/form")
    page.get_by_label("Title").fill("   ")
    page.get_by_label("Email (optional, kept private)").fill("not an address")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_have_text("the request has invalid fields")
    for name in ("Title", "Email (optional, kept private)"):
        expect(page.get_by_label(name)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#fb-title-error")).not_to_be_empty()
    expect(page.get_by_label("Email (optional, kept private)")).to_have_value("not an address")
    assert page.problems == [f"422 {base}/apps/mobile/form"]


def test_without_javascript_the_honeypot_is_out_of_reach(
    service: tuple[str, Host], no_script: Any
) -> None:
    base, _ = service
    page = no_script
    page.goto(f"{base}/apps/mobile/form")
    trap = page.locator("input[name=website]")
    expect(trap).to_have_attribute("tabindex", "-1")
    expect(trap).to_have_attribute("aria-hidden", "true")
    expect(page.get_by_role("textbox", name="Website")).to_have_count(0)
    page.get_by_label("Email (optional, kept private)").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Send"
    assert page.problems == []


def test_the_hosted_form_says_a_held_request_awaits_review(
    service: tuple[str, Host], page: Any
) -> None:
    base, _ = service
    page.goto(f"{base}/apps/guarded/form")
    page.get_by_label("Title").fill("Cheap casino chips")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("form .fbw-message")).to_have_text(
        "Thanks — your request awaits review before it is published."
    )
    assert page.problems == []


def test_without_javascript_the_form_says_a_held_request_awaits_review(
    service: tuple[str, Host], no_script: Any
) -> None:
    base, _ = service
    page = no_script
    page.goto(f"{base}/apps/guarded/form")
    page.get_by_label("Title").fill("Casino nights")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".fb-outcome")).to_have_text(
        "Thanks — your request awaits review before it is published."
    )
    assert page.problems == []


def test_the_hosted_form_at_a_persons_pace_is_not_held(
    service: tuple[str, Host], page: Any
) -> None:
    base, _ = service
    page.goto(f"{base}/apps/guarded/form")
    page.get_by_label("Title").fill("Printable invoices")
    page.wait_for_timeout(1200)  # the page's own render time, older than min_seconds_to_submit
    page.get_by_role("button", name="Send").click()
    expect(page.locator("form .fbw-message")).to_have_text("Thanks — it's queued")
    assert page.problems == []


def test_the_roadmap_groups_by_status_and_shows_titles_literally(
    service: tuple[str, Host], page: Any
) -> None:
    base, _ = service
    page.goto(f"{base}/apps/mobile/roadmap")
    expect(page.locator("h1")).to_have_text("Acme <Mobile> roadmap")
    groups = {
        status: page.locator(f'section[data-status="{status}"] .fb-title')
        for status in ("in_progress", "planned", "open", "completed")
    }
    expect(groups["in_progress"]).to_have_text(["Offline sync"])
    expect(groups["planned"]).to_have_text([XSS])
    expect(groups["open"]).to_have_text(["Dark mode"])
    expect(groups["completed"]).to_have_text(["Home screen widgets"])
    expect(page.locator('section[data-status="open"] h2')).to_contain_text("Under consideration")
    expect(page.locator('section[data-status="in_progress"] .fb-votes')).to_have_text("9 votes")
    link = page.locator('section[data-status="planned"] a')
    expect(link).to_have_attribute("href", "https://github.com/acme/mobile/issues/2")
    assert page.locator("img").count() == 0
    assert page.problems == []


def test_the_roadmap_votes_where_the_app_allows_anonymous_votes(
    service: tuple[str, Host], page: Any
) -> None:
    base, _ = service
    page.goto(f"{base}/apps/mobile/roadmap")
    card = page.locator('section[data-status="open"] .fb-item[data-number="1"]')
    vote = card.get_by_role("button", name="Vote")
    expect(vote).to_have_attribute("aria-pressed", "false")
    vote.click()
    expect(page.locator("#fb-live")).to_have_text("Vote counted.")
    expect(card.locator(".fb-votes")).to_have_text("6 votes")
    expect(vote).to_have_attribute("aria-pressed", "true")
    # Remembered in this browser, like the widget's anonymous votes.
    page.reload()
    expect(vote).to_have_attribute("aria-pressed", "true")
    vote.click()
    expect(page.locator("#fb-live")).to_have_text("Vote removed.")
    expect(card.locator(".fb-votes")).to_have_text("5 votes")
    # A completed request takes no votes: no button on its card.
    expect(page.locator('section[data-status="completed"] button')).to_have_count(0)
    assert page.problems == []


def test_the_roadmap_has_no_vote_buttons_without_anonymous_votes(
    service: tuple[str, Host], page: Any
) -> None:
    base, _ = service
    page.goto(f"{base}/apps/desktop/roadmap")
    expect(page.locator('section[data-status="planned"] .fb-title')).to_have_text(["Tray icon"])
    expect(page.locator("button")).to_have_count(0)
    assert page.locator("script").count() == 0
    assert page.problems == []


def section_boxes(page: Any) -> list[tuple[float, float]]:
    expect(page.locator("section.fb-group")).to_have_count(4)
    boxes = [section.bounding_box() for section in page.locator("section.fb-group").all()]
    return [(box["x"], box["y"]) for box in boxes if box is not None]


def test_the_roadmap_has_columns_on_wide_screens_and_stacks_on_narrow_ones(
    service: tuple[str, Host], page: Any
) -> None:
    base, _ = service
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{base}/apps/mobile/roadmap")
    wide = section_boxes(page)
    assert len({y for _, y in wide}) == 1  # side by side
    assert [x for x, _ in wide] == sorted({x for x, _ in wide})
    page.set_viewport_size({"width": 390, "height": 800})
    narrow = section_boxes(page)
    assert len({x for x, _ in narrow}) == 1  # one above the other
    assert [y for _, y in narrow] == sorted({y for _, y in narrow})
    assert page.problems == []


def test_the_roadmap_of_an_unknown_app_is_a_404_page(service: tuple[str, Host], page: Any) -> None:
    base, _ = service
    answer = page.goto(f"{base}/apps/nope/roadmap")
    assert answer is not None
    assert answer.status == 404
    expect(page.locator("h1")).to_have_text("Not found")
    assert page.problems == [f"404 {base}/apps/nope/roadmap"]


# What the Feedback Fin widget sends when its form is submitted (its `url` set to the
# bridge's route): JSON, so the browser sends a CORS preflight first.
FEEDBACK_FIN_PAGE = """<!doctype html><html><head><title>Feedback Fin</title></head><body>
<output id=result>pending</output>
<script>
const config = {{url: "{url}", user: {{email: "fin@example.com", name: "Fin"}}}};
fetch(config.url, {{
  method: "POST",
  headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({{...config.user, feedbackType: "idea",
    message: "Keyboard shortcuts\\nFor power users", timestamp: Date.now()}}),
}}).then(
  (response) => response.json().then((body) => {{
    document.getElementById("result").textContent = response.status + " " + body.delivery;
  }}),
  () => {{ document.getElementById("result").textContent = "blocked"; }},
);
</script></body></html>"""


def test_feedback_fin_from_an_allowed_origin_is_filed(service: tuple[str, Host], page: Any) -> None:
    base, host = service
    host.pages["/fin"] = FEEDBACK_FIN_PAGE.format(url=f"{base}/v1/apps/mobile/feedbackfin")
    page.goto(host.origin + "/fin")
    expect(page.locator("#result")).to_have_text("202 queued")
    assert page.problems == []


def test_feedback_fin_from_a_foreign_origin_is_refused(
    service: tuple[str, Host], page: Any
) -> None:
    base, _ = service
    foreign = Host(base)
    foreign.pages["/fin"] = FEEDBACK_FIN_PAGE.format(url=f"{base}/v1/apps/mobile/feedbackfin")
    server = foreign.serve()
    try:
        page.goto(foreign.origin + "/fin")
        expect(page.locator("#result")).to_have_text("blocked")
    finally:
        server.shutdown()
        server.server_close()
    # The preflight is refused, so the post itself is never sent.
    [problem] = page.problems
    assert "blocked by CORS policy: Response to preflight request" in problem


def test_chromium_is_the_systems(browser: Any) -> None:
    assert browser.version
    assert shutil.which("chromium") is not None or CHROMIUM.exists()
