"""The widget in Chromium: shadow DOM, similar requests, votes, keyboard, themes, languages.

Against ``featurebridge serve`` with the widget on a second origin
(``tests.browser_support``). One request per test where votes are counted, since
anonymous votes are limited per client and request across the module.
"""

from __future__ import annotations

import json
import re
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

from tests.browser_support import (  # noqa: E402
    Host,
    bridge_and_host,
    chromium,
    one_app_config,
    watched_page,
)
from tests.processes import http  # noqa: E402

VOTER_SECRET = "mobile-voter-secret-for-widget-tests"
# Two anonymous votes per client and request a day: the third is refused with 429.
CONFIG = one_app_config(
    server="[server.rate_limits]\nanonymous_votes_per_request_per_day = 2\n",
    app='anonymous_votes = true\nvoter_secret_env = "MOBILE_VOTER_SECRET"\n',
)
SEEDED = (
    indexed(1, "Dark mode for the whole app", Status.OPEN, 5),
    indexed(2, "Offline sync", Status.IN_PROGRESS, 9),
    indexed(3, "Export to spreadsheet", Status.PLANNED, 3),
    indexed(4, "Home screen widgets", Status.COMPLETED, 1),
    indexed(5, "Keyboard shortcuts everywhere", Status.OPEN, 2),
    indexed(6, "Calendar integration", Status.OPEN, 4),
    indexed(7, "Bigger fonts in settings", Status.OPEN, 1),
)
PANEL = ".fbw-panel"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Host]]:
    with bridge_and_host(
        tmp_path_factory.mktemp("widget"), CONFIG, SEEDED, MOBILE_VOTER_SECRET=VOTER_SECRET
    ) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with watched_page(browser) as tab:
        yield tab


def votes_of(base: str, number: int) -> int:
    status, shown = http("GET", f"{base}/v1/apps/mobile/requests/{number}")
    assert status == 200
    return int(shown["total_votes"])


def open_panel(page: Any, url: str) -> Any:
    page.goto(url)
    page.get_by_role("button", name="Feedback").click()
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    expect(panel.locator(".fbw-item")).to_have_count(len(SEEDED))
    return panel


def test_the_widget_renders_in_an_open_shadow_root(service: tuple[str, Host], page: Any) -> None:
    _, host = service
    open_panel(page, host.page("/shadow"))
    found = page.evaluate(
        """() => {
        const hosts = document.querySelectorAll('[data-featurebridge]');
        const root = hosts[0].shadowRoot;
        return {
            hosts: hosts.length,
            mode: root && root.mode,
            inside: root ? root.querySelectorAll('.fbw-item').length : 0,
            outside: document.querySelectorAll('.fbw-item, .fbw-panel, style').length,
        };
    }"""
    )
    # The widget's nodes and styles are all inside the shadow root: nothing leaks out.
    assert found == {"hosts": 1, "mode": "open", "inside": len(SEEDED), "outside": 0}
    assert page.problems == []


def test_similar_requests_show_while_typing_and_vote_instead(
    service: tuple[str, Host], page: Any
) -> None:
    base, host = service
    panel = open_panel(page, host.page("/similar"))
    page.evaluate(
        "() => { window.seen = []; FeatureBridge.on('voted', d => window.seen.push(d)); }"
    )
    page.get_by_label("Title").press_sequentially("dark mode please", delay=20)
    similar = panel.get_by_role("region", name="Similar requests")
    expect(similar).to_be_visible()
    first = similar.locator("li").first
    expect(first.locator(".fbw-title")).to_have_text("Dark mode for the whole app")
    expect(first.locator(".fbw-status")).to_have_text("▲ 5 · Under consideration")
    # The live region says how many were found.
    expect(panel.locator(".fbw-sr[role=status]")).to_have_text(
        f"{similar.locator('li').count()} similar requests"
    )
    instead = first.get_by_role("button", name="Vote for this instead")
    instead.click()
    expect(panel.locator("form .fbw-message")).to_have_text("Vote counted.")
    expect(first.get_by_role("button", name="Voted")).to_have_attribute("aria-pressed", "true")
    expect(first.locator(".fbw-status")).to_have_text("▲ 6 · Under consideration")
    # The list shows the same vote: one object per request.
    expect(panel.locator('.fbw-item[data-number="1"] .fbw-vote')).to_have_text("▲ 6")
    assert votes_of(base, 1) == 6
    assert page.evaluate("window.seen") == [{"number": 1, "voted": True, "total_votes": 6}]
    # A title too short to search hides the list again.
    page.get_by_label("Title").fill("da")
    expect(similar).to_be_hidden()
    assert page.problems == []


def test_a_vote_shows_at_once_and_rolls_back_with_the_wait_when_refused(
    service: tuple[str, Host], page: Any
) -> None:
    base, host = service
    panel = open_panel(page, host.page("/limits"))
    button = panel.locator('.fbw-item[data-number="6"] .fbw-vote')
    message = panel.locator(".fbw-list + .fbw-message")
    for _ in range(2):  # two votes (and their removals) are within the limit
        button.click()
        expect(message).to_have_text("Vote counted.")
        button.click()
        expect(message).to_have_text("Vote removed.")
    # The count moves in the click itself, before the bridge answers.
    with page.expect_response(lambda r: r.url.endswith("/requests/6/votes")) as answered:
        shown = button.evaluate("node => { node.click(); return node.textContent; }")
    assert shown == "▲ 5"
    refused = answered.value
    assert refused.status == 429
    wait = refused.headers["retry-after"]
    expect(button).to_have_text("▲ 4")
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(message).to_contain_text("Your vote was not saved.")
    expect(message).to_contain_text(f"{wait} s")
    expect(message).to_have_attribute("data-kind", "error")
    assert votes_of(base, 6) == 4
    assert page.problems == [f"429 {base}/v1/apps/mobile/requests/6/votes"]


def focused(page: Any) -> Any:
    """What has the keyboard focus inside the widget (its class and text), or None."""
    return page.evaluate(
        """() => {
        const host = document.querySelector('[data-featurebridge]');
        const node = document.activeElement === host ? host.shadowRoot.activeElement : null;
        return node && {
            tag: node.tagName.toLowerCase(), name: node.name || null,
            text: node.textContent, label: node.getAttribute('aria-label'),
            inPanel: !!node.closest('.fbw-panel'), tabindex: node.tabIndex,
        };
    }"""
    )


def tab_to(page: Any, wanted: Any, *, limit: int = 40) -> list[Any]:
    """Press Tab until ``wanted(focused)`` holds; what got the focus on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        seen.append(now)
        if now and wanted(now):
            return seen
    raise AssertionError(f"Tab never reached the wanted element: {seen}")


def test_keyboard_only_from_the_launcher_to_a_submission_and_back(
    service: tuple[str, Host], page: Any
) -> None:
    base, host = service
    page.goto(host.page("/keyboard"))
    tab_to(page, lambda node: node["text"] == "Feedback")
    page.keyboard.press("Enter")
    expect(page.locator(PANEL)).to_be_visible()
    assert focused(page)["label"] == "Close"
    expect(page.locator(f"{PANEL} .fbw-item")).to_have_count(len(SEEDED))
    path = tab_to(page, lambda node: node["name"] == "title")
    page.keyboard.type("Keyboard shortcuts")
    expect(page.get_by_role("region", name="Similar requests")).to_be_visible()
    path += tab_to(page, lambda node: node["text"] == "Vote for this instead")
    page.keyboard.press("Enter")
    expect(page.locator(f"{PANEL} form .fbw-message")).to_have_text("Vote counted.")
    path += tab_to(page, lambda node: node["name"] == "description")
    page.keyboard.type("Ctrl+K to search")
    path += tab_to(page, lambda node: node["text"] == "Send")
    page.keyboard.press("Enter")
    expect(page.locator(f"{PANEL} form .fbw-message")).to_have_text("Thanks — it's queued")
    # Focus stayed in the panel all along and never reached the honeypot.
    assert all(node and node["inPanel"] for node in path)
    assert all(node["name"] != "website" for node in path)
    # The panel traps focus: Tab from the last control wraps to the first, Shift+Tab back.
    path = tab_to(page, lambda node: node["label"] == "Close")
    assert all(node and node["inPanel"] for node in path)
    page.keyboard.press("Shift+Tab")
    assert focused(page)["text"] == "Send"
    page.keyboard.press("Escape")
    expect(page.locator(PANEL)).to_be_hidden()
    assert focused(page)["text"] == "Feedback"
    assert votes_of(base, 5) == 3
    assert page.problems == []


def test_the_honeypot_is_hidden_from_keyboards_and_screen_readers(
    service: tuple[str, Host], page: Any
) -> None:
    _, host = service
    panel = open_panel(page, host.page("/honeypot"))
    trap = panel.locator("input[name=website]")
    expect(trap).to_have_attribute("tabindex", "-1")
    expect(trap).to_have_attribute("aria-hidden", "true")
    expect(trap).to_have_attribute("autocomplete", "off")
    # Drawn in a clipped box of one pixel: nobody sees it.
    box = trap.evaluate(
        "node => { const box = node.parentNode.getBoundingClientRect();"
        " return [box.width, box.height, getComputedStyle(node.parentNode).clip]; }"
    )
    assert box == [1, 1, "rect(0px, 0px, 0px, 0px)"]
    # Not in the accessibility tree: no textbox of that name is exposed.
    expect(panel.get_by_role("textbox", name="Website")).to_have_count(0)
    assert page.problems == []


def background_of(page: Any, selector: str) -> tuple[int, ...]:
    color = page.locator(selector).evaluate("node => getComputedStyle(node).backgroundColor")
    return tuple(int(part) for part in color[color.index("(") + 1 : -1].split(",")[:3])


def luminance(rgb: tuple[int, ...]) -> float:
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize(("scheme", "dark"), [("dark", True), ("light", False)])
def test_the_panel_follows_the_color_scheme(
    service: tuple[str, Host], browser: Any, scheme: str, dark: bool
) -> None:
    _, host = service
    with watched_page(browser, color_scheme=scheme) as page:
        open_panel(page, host.page("/theme"))
        panel = luminance(background_of(page, PANEL))
        assert (panel < 0.05) is dark
        assert (panel > 0.9) is not dark
        text = page.locator(f"{PANEL} h2").evaluate("node => getComputedStyle(node).color")
        assert (luminance(tuple(int(p) for p in text[4:-1].split(","))) > 0.5) is dark
        assert page.problems == []


@pytest.mark.parametrize(("motion", "animation"), [("reduce", "none"), ("no-preference", "fbw-in")])
def test_the_panel_moves_only_without_reduced_motion(
    service: tuple[str, Host], browser: Any, motion: str, animation: str
) -> None:
    _, host = service
    with watched_page(browser, reduced_motion=motion) as page:
        open_panel(page, host.page("/motion"))
        name = page.locator(PANEL).evaluate("node => getComputedStyle(node).animationName")
        assert name == animation
        assert page.problems == []


ENGLISH = (
    "Feature requests",
    "Top requests",
    "Suggest a feature",
    "Title",
    "Description",
    "Send",
    "Tell me when this ships",
    "Under consideration",
    "In progress",
)


def visible_text(page: Any) -> str:
    return str(page.locator(PANEL).inner_text())


def test_data_lang_shows_the_widget_in_that_language(service: tuple[str, Host], page: Any) -> None:
    base, host = service
    page.goto(host.page("/de", **{"data-lang": "de"}))
    page.get_by_role("button", name="Feedback").click()
    panel = page.get_by_role("dialog", name="Funktionswünsche")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_have_text("Beliebteste Wünsche")
    expect(panel.locator("h3")).to_have_text("Eine Funktion vorschlagen")
    expect(panel.get_by_role("button", name="Schließen")).to_be_visible()
    expect(panel.get_by_label("Titel")).to_be_visible()
    expect(panel.get_by_label("Beschreibung")).to_be_visible()
    expect(panel.get_by_role("button", name="Senden")).to_be_visible()
    expect(panel.locator('.fbw-item[data-number="2"] .fbw-status')).to_have_text("In Arbeit")
    expect(panel.locator('.fbw-item[data-number="3"] .fbw-vote')).to_have_attribute(
        "aria-label", "Für Export to spreadsheet stimmen (3 Stimmen)"
    )
    text = visible_text(page)
    assert [english for english in ENGLISH if re.search(rf"\b{english}\b", text)] == []
    assert page.locator(".fbw-root").get_attribute("lang") == "de"
    # A field error from the bridge is said in the widget's language too.
    panel.get_by_role("button", name="Senden").click()
    expect(panel.locator("form .fbw-message")).to_have_text(
        "Bitte prüfen Sie die markierten Felder."
    )
    expect(panel.locator('[data-field="title"]')).to_have_text("Ungültige Eingabe.")
    assert page.problems == [f"422 {base}/v1/apps/mobile/requests"]


def test_data_strings_replace_any_string(service: tuple[str, Host], page: Any) -> None:
    _, host = service
    strings = {"launcher": "Ideas", "send": "Submit idea", "top": "What people want"}
    page.goto(host.page("/strings", **{"data-strings": json.dumps(strings)}))
    page.get_by_role("button", name="Ideas").click()
    expect(page.locator(f"{PANEL} h2")).to_have_text("What people want")
    expect(page.get_by_role("button", name="Submit idea")).to_be_visible()
    assert page.problems == []


def test_an_unknown_language_falls_back_to_english(service: tuple[str, Host], page: Any) -> None:
    base, host = service
    page.goto(host.page("/xx", **{"data-lang": "xx"}))
    page.get_by_role("button", name="Feedback").click()
    expect(page.locator(f"{PANEL} h2")).to_have_text("Top requests")
    assert page.problems == [f"404 {base}/widget/xx.json"]


HOSTILE_CSS = """<style>
* { all: unset !important; }
html, body, div, main { display: block !important; font: 31px/3 Georgia, serif !important; }
div, button, input, textarea, ul, li, h2, h3, label, p, a, span {
  color: #f0f !important; background: #0f0 !important; letter-spacing: 4px !important;
  padding: 13px !important; margin: 7px !important; border: 5px dotted red !important;
  box-sizing: content-box !important; text-transform: uppercase !important;
  width: 50px !important; position: static !important; float: left !important;
}
[data-featurebridge] { display: none !important; transform: scale(0.5); }
button:focus { outline: 9px solid lime !important; }
</style>"""
# What "computed layout unchanged" compares, for every element of the shadow root.
LAYOUT = """() => {
    const root = document.querySelector('[data-featurebridge]').shadowRoot;
    // The root is where the page puts it; what it holds is fixed to the viewport.
    return [...root.querySelectorAll('.fbw-root *')].map(n => {
        const box = n.getBoundingClientRect(), s = getComputedStyle(n);
        return [n.tagName, n.className, Math.round(box.x), Math.round(box.y),
                Math.round(box.width), Math.round(box.height), s.fontSize, s.fontFamily,
                s.color, s.backgroundColor, s.padding, s.margin, s.letterSpacing,
                s.textTransform, s.display, s.position];
    });
}"""


def test_hostile_page_css_leaves_the_widgets_layout_unchanged(
    service: tuple[str, Host], page: Any
) -> None:
    _, host = service
    layouts = []
    for path, head in (("/plain", ""), ("/hostile", HOSTILE_CSS)):
        open_panel(page, host.page(path, head=head))
        page.get_by_label("Title").fill("Calendar")
        expect(page.get_by_role("region", name="Similar requests")).to_be_visible()
        layouts.append(page.evaluate(LAYOUT))
    plain, hostile = layouts
    assert len(plain) > 40
    assert hostile == plain
    assert page.problems == []


def test_the_window_api_opens_closes_identifies_and_tells_of_submissions(
    service: tuple[str, Host], page: Any
) -> None:
    base, host = service
    page.goto(host.page("/api"))
    page.evaluate(
        """() => {
        window.seen = [];
        FeatureBridge.on('submitted', d => window.seen.push(['on', d.delivery]));
        window.addEventListener(
            'featurebridge:submitted', e => window.seen.push(['event', e.detail.delivery]));
    }"""
    )
    page.evaluate("FeatureBridge.open()")
    expect(page.locator(PANEL)).to_be_visible()
    page.evaluate("FeatureBridge.close()")
    expect(page.locator(PANEL)).to_be_hidden()
    # A voter token given later: the list shows that user's votes from the bridge.
    token = jwt.encode(
        {"sub": "user-7", "iat": int(time.time()), "aud": "mobile", "email": "u7@example.com"},
        VOTER_SECRET,
        algorithm="HS256",
    )
    status, _ = http("POST", f"{base}/v1/apps/mobile/requests/7/votes", {"voter_token": token})
    assert status == 200
    page.evaluate("FeatureBridge.open()")
    vote = page.locator(f'{PANEL} .fbw-item[data-number="7"] .fbw-vote')
    expect(vote).to_have_attribute("aria-pressed", "false")
    page.evaluate("token => FeatureBridge.identify(token)", token)
    expect(vote).to_have_attribute("aria-pressed", "true")
    # The token carries an email: the widget asks for none.
    expect(page.locator(f"{PANEL} input[name=email]")).to_be_hidden()
    page.get_by_label("Title").fill("Widgets on the lock screen")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(f"{PANEL} form .fbw-message")).to_have_text("Thanks — it's queued")
    assert page.evaluate("window.seen") == [["on", "queued"], ["event", "queued"]]
    assert page.problems == []


def test_notify_without_an_email_asks_for_one(service: tuple[str, Host], page: Any) -> None:
    _, host = service
    panel = open_panel(page, host.page("/notify"))
    page.get_by_label("Title").fill("Tell me about this")
    panel.get_by_label("Tell me when this ships").check()
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.method + " " + request.url))
    panel.get_by_role("button", name="Send").click()
    expect(panel.locator('[data-field="email"]')).to_have_text("Give your email to be told.")
    expect(panel.get_by_label("Email (optional, kept private)")).to_be_focused()
    assert [line for line in sent if line.startswith("POST")] == []
    assert page.problems == []
