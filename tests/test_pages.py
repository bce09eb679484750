"""The widget script and the hosted pages over Flask's test client: headers, 404s, escaping."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.api.pages import WIDGET_LANG_DIR, WIDGET_PATH, compact_script
from bridge.app import build_runtime, create_app
from bridge.domain import Source, Status
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.fakes import FakeClock, FakeTracker, RecordingQueue, indexed

CONFIG = """
[server]
public_url = "https://feedback.example.com/bridge"

[[apps]]
id = "mobile"
name = "Acme <b>Mobile</b> & Co"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
allowed_origins = ["https://app.acme.example"]
public = true
anonymous_votes = true
# The form's posts carry no render token here: these test the pages, moderation has its own.
moderation = "none"

[[apps]]
id = "internal"
name = "Acme Internal"
repo = "acme/internal"
labels = ["feature-request", "app:internal"]
"""

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def pages_runtime(
    make_settings: Callable[..., Settings], tmp_path: Path, clock: FakeClock
) -> Runtime:
    store = SQLiteStore(tmp_path / "index.db")
    for seeded in (
        indexed(1, "Dark mode", Status.OPEN, 5),
        indexed(2, XSS, Status.PLANNED, 2),
        indexed(3, "Offline sync", Status.IN_PROGRESS, 7),
        indexed(4, "Widgets", Status.COMPLETED, 1),
        indexed(5, "Fax support", Status.DECLINED, 0),
    ):
        store.upsert_request(seeded)
    return build_runtime(
        make_settings(CONFIG),
        store=store,
        tracker=FakeTracker(clock),
        queue=RecordingQueue(),
        clock=clock,
    )


@pytest.fixture
def pages_app(pages_runtime: Runtime) -> Iterator[Flask]:
    flask_app = create_app(pages_runtime.settings, pages_runtime)
    yield flask_app
    flask_app.extensions["featurebridge.inline"].shutdown()


@pytest.fixture
def web(pages_app: Flask) -> FlaskClient:
    return pages_app.test_client()


def test_the_widget_script_is_served_cacheable_with_an_etag(web: FlaskClient) -> None:
    answer = web.get("/widget.js")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/javascript; charset=utf-8"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in answer.headers["Cache-Control"]
    assert answer.data == compact_script(WIDGET_PATH.read_text("utf-8")).encode()
    etag = answer.headers["ETag"]
    again = web.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_the_widget_is_at_most_7_kb_gzipped(web: FlaskClient) -> None:
    served = web.get("/widget.js").data
    assert len(gzip.compress(served, 9)) <= 7 * 1024
    # What is measured is the whole widget, not a stub.
    assert b"attachShadow" in served
    assert b"/similar?" in served


def test_the_script_is_served_without_comments_or_indentation() -> None:
    source = "\n".join(
        [
            "/*",
            " * a header",
            " */",
            "(function () {",
            "  // a note",
            '  var url = "https://example.com/x"; // kept: not a whole line',
            "  /* one line */",
            "",
            "  return url;",
            "})();",
        ]
    )
    assert compact_script(source) == (
        '(function () {\nvar url = "https://example.com/x"; // kept: not a whole line\n'
        "return url;\n})();\n"
    )


def test_the_widgets_german_strings_are_served_to_any_origin(web: FlaskClient) -> None:
    answer = web.get("/widget/de.json", headers={"Origin": "https://app.acme.example"})
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=" in answer.headers["Cache-Control"]
    strings = answer.get_json()
    assert strings["send"] == "Senden"
    again = web.get("/widget/de.json", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304


def test_every_language_names_every_english_string() -> None:
    script = WIDGET_PATH.read_text("utf-8")
    english = script.split("var T = {")[1].split("};")[0]
    names = set(re.findall(r"(\w+): \"", english))
    assert len(names) > 30
    for path in WIDGET_LANG_DIR.glob("*.json"):
        assert names - set(json.loads(path.read_text("utf-8"))) == set(), path.name


@pytest.mark.parametrize("lang", ["xx", "DE", "de.json", "e", "de-at"])
def test_a_language_without_strings_is_a_404_readable_anywhere(web: FlaskClient, lang: str) -> None:
    answer = web.get(f"/widget/{lang}.json")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "not_found"
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_the_widget_never_writes_html_from_data() -> None:
    script = WIDGET_PATH.read_text("utf-8")
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert "document.write" not in script


def test_the_form_page_embeds_the_widget_in_form_mode(web: FlaskClient) -> None:
    answer = web.get("/apps/mobile/form")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    html = answer.get_data(as_text=True)
    assert 'src="/widget.js"' in html
    assert 'data-app="mobile"' in html
    assert 'data-mode="form"' in html
    assert "Acme &lt;b&gt;Mobile&lt;/b&gt; &amp; Co" in html
    assert "<b>Mobile</b>" not in html


def test_pages_set_a_content_security_policy_without_inline_scripts(web: FlaskClient) -> None:
    for path in ("/apps/mobile/form", "/apps/mobile/roadmap", "/apps/nope/roadmap"):
        answer = web.get(path)
        policy = answer.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "default-src 'none'" in policy
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        html = answer.get_data(as_text=True)
        # Every <script> has a src: nothing inline.
        assert html.count("<script") == html.count("<script src=")
        # The nonce of the page's styles is fresh per response.
        nonce = policy.split("'nonce-")[1].split("'")[0]
        assert f'nonce="{nonce}"' in html
    first = web.get("/apps/mobile/roadmap").headers["Content-Security-Policy"]
    assert first != web.get("/apps/mobile/roadmap").headers["Content-Security-Policy"]


def test_the_roadmap_groups_requests_by_status(web: FlaskClient) -> None:
    answer = web.get("/apps/mobile/roadmap")
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    sections = {
        status: html.split(f'data-status="{status}"')[1].split("</section>")[0]
        for status in ("open", "planned", "in_progress", "completed")
    }
    assert "Dark mode" in sections["open"]
    assert "Under consideration" in sections["open"]
    assert "Offline sync" in sections["in_progress"]
    assert "Widgets" in sections["completed"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in sections["planned"]
    assert "5 votes" in sections["open"]
    assert "1 vote<" in sections["completed"]
    assert 'href="https://github.com/acme/mobile/issues/3"' in sections["in_progress"]
    assert "Fax support" not in html  # declined requests are not on the roadmap
    assert XSS not in html


@pytest.mark.parametrize(
    "path", ["/apps/internal/roadmap", "/apps/nope/roadmap", "/apps/nope/form"]
)
def test_unknown_and_private_apps_get_a_404_page(web: FlaskClient, path: str) -> None:
    answer = web.get(path)
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Not found" in answer.get_data(as_text=True)


def test_the_operator_sees_a_private_roadmap(web: FlaskClient) -> None:
    answer = web.get("/apps/internal/roadmap", headers={"Authorization": "Bearer operator-secret"})
    assert answer.status_code == 200
    assert "Acme Internal roadmap" in answer.get_data(as_text=True)


def test_a_submission_from_the_services_own_origin_is_a_form_submission(
    web: FlaskClient,
) -> None:
    answer = web.post(
        "/v1/apps/mobile/requests",
        json={"title": "From the hosted form"},
        headers={"Origin": "https://feedback.example.com"},
    )
    assert answer.status_code in (201, 202)
    submission = web.application.extensions["featurebridge"].store.get_submission(
        answer.get_json()["id"]
    )
    assert submission.source == Source.FORM


def form_post(web: FlaskClient, origin: str = "https://feedback.example.com", **fields: str) -> Any:
    return web.post("/apps/mobile/form", data=fields, headers={"Origin": origin})


def test_the_form_posts_without_javascript_once_per_key(
    web: FlaskClient, pages_runtime: Runtime
) -> None:
    fields = {"title": "Fax support again", "idempotency_key": "page-key-1", "confirmed": "1"}
    first = form_post(web, **fields)
    assert first.status_code == 200
    assert "Thanks — filed as #" in first.get_data(as_text=True)
    # The browser sends the page again (reload after a post): the same submission.
    again = form_post(web, **fields)
    assert again.get_data(as_text=True).count("Thanks — filed as #") == 1
    tracker = pages_runtime.tracker
    assert isinstance(tracker, FakeTracker)
    assert tracker.creates == 1
    # Every page has a key of its own for its next post.
    marker = 'name="idempotency_key" value="'
    pages = [web.get("/apps/mobile/form").get_data(as_text=True) for _ in range(2)]
    assert len({html.split(marker)[1].split('"')[0] for html in pages}) == 2


def test_a_form_post_shows_similar_requests_first(web: FlaskClient) -> None:
    answer = form_post(web, title="Dark mode please", idempotency_key="page-key-2")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert 'aria-labelledby="fb-similar"' in html
    assert ">Dark mode</a>" in html
    assert "Send anyway" in html
    assert 'name="confirmed" value="1"' in html
    assert 'value="Dark mode please"' in html


def test_a_private_apps_form_shows_no_similar_requests(web: FlaskClient) -> None:
    answer = web.post(
        "/apps/internal/form",
        data={"title": "Dark mode", "idempotency_key": "page-key-3"},
        headers={"Origin": "https://feedback.example.com"},
    )
    assert answer.status_code == 200
    assert "Similar requests" not in answer.get_data(as_text=True)


def test_a_form_post_from_another_site_is_refused(web: FlaskClient) -> None:
    answer = form_post(web, origin="https://evil.example", title="Spam", confirmed="1")
    assert answer.status_code == 403


def test_a_form_post_with_invalid_fields_keeps_them_and_says_what_is_wrong(
    web: FlaskClient,
) -> None:
    answer = form_post(web, title=XSS, email="nope", confirmed="1")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'id="fb-email-error"' in html
    assert 'value="nope" aria-invalid="true"' in html
    # Sent anyway once: fixing the fields does not bring the similar requests back.
    assert 'name="confirmed" value="1"' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert XSS not in html
