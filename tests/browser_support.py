"""Headless Chromium against ``featurebridge serve``, for the browser tests.

The service runs as a process on one loopback origin; host pages served from a
second loopback origin embed the widget, so its calls are cross-origin and go
through the app's CORS. Requests are seeded straight into the SQLite index
before the service starts (submissions without GitHub credentials stay queued
and are not listed). Playwright only drives Debian's Chromium: it never
downloads a browser. Import this module after skipping when Chromium is absent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright import sync_api

from bridge.domain import Request
from bridge.stores.sqlite import SQLiteStore
from tests.processes import free_port, start_serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Host:
    """A second origin: host pages that embed the widget from the service."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.pages: dict[str, str] = {}

    def page(self, path: str, *, head: str = "", app: str = "mobile", **attributes: str) -> str:
        """A host page at ``path`` with the widget's script tag (``data_x`` attributes as given)."""
        attrs = " ".join(f"{name}='{value}'" for name, value in attributes.items())
        self.pages[path] = (
            f"<!doctype html><html lang=en><head><title>Host app</title>{head}</head><body>"
            "<main><h1>Acme Mobile</h1><div id=feedback></div></main>"
            f'<script src="{self.service}/widget.js" data-app="{app}" {attrs} async></script>'
            "</body></html>"
        )
        return self.origin + path

    def serve(self) -> ThreadingHTTPServer:
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def one_app_config(*, server: str = "", app: str = "") -> str:
    """A config of one public app, ``mobile``, embedded on the host's origin.

    ``server`` adds tables under ``[server]`` and ``app`` adds keys to the app;
    moderation is off (it has tests of its own). ``{base}`` and ``{host}`` stay
    for ``bridge_and_host`` to fill in.
    """
    return (
        f'[server]\npublic_url = "{{base}}"\n{server}\n'
        '[[apps]]\nid = "mobile"\nname = "Acme Mobile"\nrepo = "acme/mobile"\n'
        'labels = ["feature-request", "app:mobile"]\nallowed_origins = ["{host}"]\n'
        f'public = true\nmoderation = "none"\n{app}'
    )


@contextmanager
def bridge_and_host(
    tmp_path: Path, config: str, seeded: Iterable[Request], **env: str
) -> Iterator[tuple[str, Host]]:
    """``featurebridge serve`` with ``config`` (``{base}`` and ``{host}`` filled in) and a host."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    host = Host(base)
    config_path = tmp_path / "featurebridge.toml"
    config_path.write_text(config.format(base=base, host=host.origin), encoding="utf-8")
    db = tmp_path / "index.db"
    store = SQLiteStore(db)
    for request in seeded:
        store.upsert_request(request)
    process = start_serve(
        tmp_path,
        port,
        FEATUREBRIDGE_CONFIG=str(config_path),
        FEATUREBRIDGE_STORE=f"sqlite:///{db}",
        **env,
    )
    server = host.serve()
    try:
        yield base, host
    finally:
        server.shutdown()
        server.server_close()
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@contextmanager
def watched_page(browser: Any, **context_options: Any) -> Iterator[Any]:
    """A fresh context (its own localStorage) and tab that records what went wrong.

    ``tab.problems`` lists page errors, console errors and responses of 400 and up;
    a dialog (an ``alert`` from injected markup) fails the test.
    """
    context = browser.new_context(**context_options)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(str(error)))
    # Chromium logs each failed response; those are checked by status below instead.
    tab.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    tab.on(
        "response",
        lambda response: (
            problems.append(f"{response.status} {response.url}")
            if response.status >= 400 and not response.url.endswith("/favicon.ico")
            else None
        ),
    )
    dialogs: list[str] = []
    tab.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    tab.problems = problems
    tab.dialogs = dialogs
    yield tab
    context.close()
    assert dialogs == []


def shadow(page: Any, expression: str) -> Any:
    """Evaluate ``expression`` with ``root`` bound to the widget's shadow root."""
    return page.evaluate(
        "expression => { const root = document.querySelector('[data-featurebridge]').shadowRoot;"
        " return eval(expression); }",
        expression,
    )
