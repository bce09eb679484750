"""axe-core audits in Chromium: the widget with its panel open, the hosted form, the roadmap.

axe-core comes bundled with the pinned axe-playwright-python, so the audits run
offline. No serious or critical violation is allowed, in the light and the dark
color scheme; an audit of the widget must have looked inside its shadow root.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
axe_playwright = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="audits need axe-playwright-python (dev group)"
)
expect = sync_api.expect

from tests.browser_support import (  # noqa: E402
    Host,
    bridge_and_host,
    chromium,
    one_app_config,
    watched_page,
)

CONFIG = one_app_config(app="anonymous_votes = true\n")
SEEDED = (
    indexed(1, "Dark mode", Status.OPEN, 5),
    indexed(2, "Offline sync", Status.IN_PROGRESS, 9),
    indexed(3, "Export to spreadsheet", Status.PLANNED, 1),
    indexed(4, "Home screen widgets", Status.COMPLETED, 2),
)
SCHEMES = ["light", "dark"]
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Host]]:
    with bridge_and_host(tmp_path_factory.mktemp("audit"), CONFIG, SEEDED) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def audit(page: Any) -> dict[str, Any]:
    """axe-core's violations and passes on the page as it is now."""
    results = axe_playwright.Axe().run(page, options={"resultTypes": ["violations", "passes"]})
    return dict(results.response)


def blocking(results: dict[str, Any]) -> list[str]:
    return [
        f"{rule['id']} ({rule['impact']}): {[node['target'] for node in rule['nodes']]}"
        for rule in results["violations"]
        if rule["impact"] in BLOCKING
    ]


def shadow_targets(results: dict[str, Any], outcome: str) -> list[Any]:
    """Targets of checked nodes inside a shadow root (axe names them by a selector path)."""
    return [
        node["target"]
        for rule in results[outcome]
        for node in rule["nodes"]
        if isinstance(node["target"][0], list)
    ]


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_widget_with_its_panel_open_passes_the_audit(
    service: tuple[str, Host], browser: Any, scheme: str
) -> None:
    _, host = service
    with watched_page(browser, color_scheme=scheme) as page:
        page.goto(host.page("/audit"))
        page.get_by_role("button", name="Feedback").click()
        expect(page.locator(".fbw-panel .fbw-item")).to_have_count(len(SEEDED))
        page.get_by_label("Title").fill("Dark theme")
        expect(page.get_by_role("region", name="Similar requests")).to_be_visible()
        top = audit(page)
        # axe checks the contrast of what is on screen: the end of the panel too.
        page.locator(".fbw-panel").evaluate("node => { node.scrollTop = node.scrollHeight; }")
        bottom = audit(page)
        assert blocking(top) + blocking(bottom) == []
        # The audits saw inside the shadow root: contrast, names and labels were checked.
        inside = shadow_targets(top, "passes") + shadow_targets(bottom, "passes")
        assert len(inside) > 20
        assert any(".fbw-submit" in target[0] for target in shadow_targets(bottom, "passes"))
        rules = {
            rule["id"]
            for results in (top, bottom)
            for rule in results["passes"]
            for node in rule["nodes"]
            if isinstance(node["target"][0], list)
        }
        assert {"color-contrast", "button-name", "label", "aria-dialog-name"} <= rules
        assert page.problems == []


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("path", ["/apps/mobile/form", "/apps/mobile/roadmap"])
def test_the_hosted_pages_pass_the_audit(
    service: tuple[str, Host], browser: Any, scheme: str, path: str
) -> None:
    base, _ = service
    # axe sets inline styles while it measures, which the pages' policy refuses (a console
    # error): the audit bypasses the policy. Other tests check the pages keep to it.
    with watched_page(browser, color_scheme=scheme, bypass_csp=True) as page:
        page.goto(base + path)
        expect(page.locator("h1")).to_be_visible()
        if path.endswith("/form"):
            expect(page.get_by_label("Title")).to_be_visible()
        else:
            expect(page.get_by_role("button", name="Vote").first).to_be_visible()
        results = audit(page)
        assert blocking(results) == []
        assert len(results["passes"]) > 10
        assert page.problems == []


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_form_without_javascript_passes_the_audit_with_similar_requests_and_errors(
    service: tuple[str, Host], browser: Any, scheme: str
) -> None:
    base, _ = service
    with watched_page(browser, java_script_enabled=False) as page:
        page.goto(f"{base}/apps/mobile/form")
        page.get_by_label("Title").fill("Dark mode at night")
        page.get_by_label("Email (optional, kept private)").fill("not an address")
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("region", name="Similar requests")).to_be_visible()
        documents = [page.content()]
        page.get_by_role("button", name="Send anyway").click()
        expect(page.get_by_role("alert")).to_be_visible()
        documents.append(page.content())
        assert page.problems == [f"422 {base}/apps/mobile/form"]
    # axe needs scripts to run: each document as a browser without them showed it,
    # audited where scripts run (without the widget's script tag).
    for html in documents:
        with watched_page(browser, color_scheme=scheme, bypass_csp=True) as page:
            page.set_content(re.sub(r"</?noscript>|<script [^>]*></script>", "", html))
            expect(page.get_by_label("Title")).to_be_visible()
            results = audit(page)
            assert blocking(results) == []
            checked = {rule["id"] for rule in results["passes"]}
            assert {"color-contrast", "label", "aria-hidden-focus"} <= checked
            assert page.problems == []
