"""The browser side: the embeddable widget script, the hosted form and the public roadmap.

The files live in ``forms/`` (SPEC §2): ``widget.js`` and the Jinja templates of
the pages. Nothing of them is read at import: the script is read on its first
request and the templates load when a page is first rendered, so a cold start
answering ``/healthz`` or the API never touches them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template, request
from msgspec import Struct

from bridge.api.access import is_operator, limit_reads, runtime
from bridge.api.cors import refuse_foreign_origin
from bridge.api.errors import ApiError, error_response
from bridge.domain import Request, SortOrder, Status, accepts_votes
from bridge.ports import ListQuery, SimilarMatch
from bridge.settings import AppConfig

FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
WIDGET_PATH = FORMS_DIR / "widget.js"
# The widget's strings in languages other than English (built in), fetched by data-lang.
WIDGET_LANG_DIR = FORMS_DIR / "lang"

blueprint = Blueprint("pages", __name__, template_folder=str(FORMS_DIR / "templates"))

# Browsers and CDNs revalidate after five minutes (the ETag makes that a 304).
WIDGET_CACHE_CONTROL = "public, max-age=300"
PAGE_CACHE_CONTROL = "no-cache"
ROADMAP_GROUP_LIMIT = 100
LANG_CODE = re.compile(r"^[a-z]{2,3}$")
STATUS_NAMES: dict[Status, str] = {
    Status.IN_PROGRESS: "In progress",
    Status.PLANNED: "Planned",
    Status.OPEN: "Under consideration",
    Status.COMPLETED: "Completed",
    Status.DECLINED: "Declined",
    Status.DUPLICATE: "Duplicate",
}
# The roadmap's sections, in order; declined and duplicate requests are not shown.
ROADMAP_GROUPS: tuple[tuple[Status, str], ...] = tuple(
    (status, STATUS_NAMES[status])
    for status in (Status.IN_PROGRESS, Status.PLANNED, Status.OPEN, Status.COMPLETED)
)
# What the hosted form says once a submission is in, by its delivery.
FORM_OUTCOMES = {
    "queued": "Thanks — it's queued",
    "held": "Thanks — your request awaits review before it is published.",
}
SIMILAR_ON_THE_FORM = 3


class WidgetScript(Struct, frozen=True):
    """The widget's bytes and their strong validator."""

    body: bytes
    etag: str


@cache
def widget_script() -> WidgetScript:
    """``forms/widget.js`` without its comments and indentation, made once per process."""
    body = compact_script(WIDGET_PATH.read_text("utf-8")).encode()
    return WidgetScript(body=body, etag=hashlib.sha256(body).hexdigest()[:32])


def compact_script(source: str) -> str:
    """The script with whole-line comments and leading indentation dropped.

    Line breaks stay (nothing relies on them being removed, and automatic
    semicolons keep their meaning); the widget has no multi-line strings, so
    dropping indentation never changes a value.
    """
    kept: list[str] = []
    in_comment = False
    for line in source.splitlines():
        text = line.strip()
        if in_comment or text.startswith("/*"):
            in_comment = "*/" not in text
        elif text and not text.startswith("//"):
            kept.append(text)
    return "\n".join(kept) + "\n"


@cache
def widget_strings(lang: str) -> WidgetScript | None:
    """One language's widget strings (``forms/lang/<lang>.json``), or None without one."""
    path = WIDGET_LANG_DIR / f"{lang}.json"
    if not path.is_file():
        return None
    body = path.read_bytes()
    return WidgetScript(body=body, etag=hashlib.sha256(body).hexdigest()[:32])


def content_security_policy(nonce: str) -> str:
    """The pages' policy: scripts from this origin only, styles only with the page's nonce."""
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            f"style-src 'nonce-{nonce}'",
            "connect-src 'self'",
            "img-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )


@blueprint.get("/widget.js")
def widget() -> Response:
    """The embeddable widget: cacheable, revalidated by ETag."""
    script = widget_script()
    response = Response(script.body, content_type="application/javascript; charset=utf-8")
    response.set_etag(script.etag)
    response.headers["Cache-Control"] = WIDGET_CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Host apps on other origins embed it (also under Cross-Origin-Embedder-Policy).
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    # Answers 304 in place when the browser's If-None-Match still matches.
    response.make_conditional(request)
    return response


@blueprint.get("/widget/<lang>.json")
def widget_language(lang: str) -> Response:
    """The widget's strings in one more language: public, cacheable, readable from any origin."""
    strings = widget_strings(lang) if LANG_CODE.match(lang) else None
    if strings is None:
        # Readable cross-origin too, so the widget sees the 404 and stays in English.
        response = error_response(ApiError("not_found", "no widget strings for that language"))
    else:
        response = Response(strings.body, content_type="application/json; charset=utf-8")
        response.set_etag(strings.etag)
        response.headers["Cache-Control"] = WIDGET_CACHE_CONTROL
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.make_conditional(request)
    return response


@blueprint.get("/apps/<app_id>/form")
def form_page(app_id: str) -> Response:
    """The hosted submit form for people without the widget (any configured app)."""
    app = runtime().settings.app(app_id)
    if app is None:
        return _not_found()
    return _form(app)


def _form(app: AppConfig, **context: Any) -> Response:
    """The form page with a fresh idempotency key for its post."""
    context.setdefault("values", {"title": "", "description": "", "email": "", "notify": False})
    if "form_token" not in context:
        # The page's render time, signed: a submission much sooner came from a script.
        from bridge.moderation.form_token import issue

        rt = runtime()
        context["form_token"] = issue(rt.signing_key(), app.id, rt.clock())
    return _page("form.html", app=app, form_key=secrets.token_urlsafe(16), **context)


@blueprint.post("/apps/<app_id>/form")
def form_submit(app_id: str) -> Response:
    """The hosted form without JavaScript: similar requests on the first try, then the submission.

    A first post whose title matches requests of a public app shows them (with "Send
    anyway"); a confirmed post, or one with nothing similar, is submitted as the API's
    route submits it, with the key and render token the page carried.
    """
    from bridge.api.requests import submit, valid_idempotency_key

    rt = runtime()
    app = rt.settings.app(app_id)
    if app is None:
        return _not_found()
    refuse_foreign_origin(app)
    posted = request.form
    values = {name: posted.get(name, "") for name in ("title", "description", "email")}
    notify = posted.get("notify") == "true"
    key = posted.get("idempotency_key", "")
    form_token = posted.get("form_token") or None
    if not valid_idempotency_key(key):
        key = secrets.token_urlsafe(16)
    page: dict[str, Any] = {
        "app": app,
        "values": {**values, "notify": notify},
        "form_key": key,
        "form_token": form_token,
        "confirmed": bool(posted.get("confirmed")),
    }
    try:
        if app.public and not posted.get("confirmed") and values["title"].strip():
            similar = _similar(app, values["title"], values["description"])
            if similar:
                return _page("form.html", similar=similar, **page)
        body: dict[str, object] = {"title": values["title"], "description": values["description"]}
        if values["email"].strip():
            body["email"] = values["email"]
        if notify:
            body["notify"] = True
        for name in ("website", "form_token"):
            if posted.get(name):
                body[name] = posted[name]
        answer, _ = submit(app, body, key)
    except ApiError as error:
        errors = {name.split(".")[0]: text for name, text in (error.fields or {}).items()}
        return _page("form.html", status=error.status, problem=error.message, errors=errors, **page)
    submitted = answer.get_json()
    number = submitted.get("number")
    outcome = (
        f"Thanks — filed as #{number}"
        if number
        else FORM_OUTCOMES.get(submitted["delivery"], FORM_OUTCOMES["queued"])
    )
    fresh = {"title": "", "description": "", "email": "", "notify": False}
    return _form(app, values=fresh, outcome=outcome)


def _similar(app: AppConfig, title: str, description: str) -> list[SimilarMatch]:
    """What ``/similar`` would answer for the draft (counted as one read)."""
    from bridge.similar.search import find_similar

    limit_reads(app)
    return find_similar(
        runtime(), app.id, title[:256], description[:2000], limit=SIMILAR_ON_THE_FORM
    )


@blueprint.get("/apps/<app_id>/roadmap")
def roadmap_page(app_id: str) -> Response:
    """The app's requests grouped by status, with votes and links to the issues."""
    app = runtime().settings.app(app_id)
    if app is None or not (app.public or is_operator()):
        return _not_found()
    groups = [(status, heading, _requests_in(app, status)) for status, heading in ROADMAP_GROUPS]
    return _page("roadmap.html", app=app, groups=groups, accepts_votes=accepts_votes)


def _requests_in(app: AppConfig, status: Status) -> list[Request]:
    """Up to ``ROADMAP_GROUP_LIMIT`` of the app's requests in ``status``, most votes first."""
    store = runtime().store
    found: list[Request] = []
    cursor: str | None = None
    while len(found) < ROADMAP_GROUP_LIMIT:
        page = store.list_requests(
            ListQuery(
                app=app.id,
                sort=SortOrder.TOP,
                status=status,
                limit=ROADMAP_GROUP_LIMIT - len(found),
                cursor=cursor,
            )
        )
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    return found


def _not_found() -> Response:
    return _page("not_found.html", status=404)


def page(template: str, *, status: int = 200, **context: object) -> Response:
    """A server-rendered page of ``forms/templates`` with the pages' headers (strict CSP)."""
    return _page(template, status=status, **context)


def _page(template: str, *, status: int = 200, **context: object) -> Response:
    nonce = secrets.token_urlsafe(16)
    context.setdefault("errors", {})
    html = render_template(template, nonce=nonce, status_names=STATUS_NAMES, **context)
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = content_security_policy(nonce)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = PAGE_CACHE_CONTROL
    return response
