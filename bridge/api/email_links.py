"""The signed links in emails: unsubscribe (RFC 8058 one-click) and confirming an address.

``GET`` shows a page with one button, so a mail scanner following links
changes nothing; ``POST`` acts (the button, or a mail client's one-click
unsubscribe with ``List-Unsubscribe=One-Click`` in an urlencoded or multipart
body, which is not needed and not read). A token that is not genuine is 400
and changes nothing. Tokens never reach a log: the request log names the
route, never the query string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel

from bridge.api.access import runtime
from bridge.api.errors import ApiError
from bridge.api.pages import page
from bridge.notify.email import tokens

if TYPE_CHECKING:
    from bridge.notify.email.model import Subscriber

blueprint = Blueprint("email_links", __name__)

UNSUBSCRIBE = "/v1/unsubscribe"
CONFIRM = "/v1/confirm"
BAD_LINK = "This link is not valid"


def _subscriber_id(purpose: str) -> str | None:
    return tokens.verify(runtime().signing_key(), purpose, request.args.get("token"))


def _app_name(subscriber: Subscriber | None) -> str:
    app = runtime().settings.app(subscriber.app) if subscriber is not None else None
    return app.name if app is not None else "this service"


def _wants_page() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def _bad_link_page() -> Response:
    return page(
        "email_link.html",
        status=400,
        heading=BAD_LINK,
        message="Copy the whole link from the email, or use the link of a newer email.",
        action=None,
    )


def _refuse(field: str = "token") -> ApiError:
    return ApiError(
        "bad_request", "the link's token is not valid", fields={field: "not a genuine token"}
    )


@blueprint.get(UNSUBSCRIBE)
def unsubscribe_page() -> Response:
    """A page asking to confirm the unsubscribe (the POST does it)."""
    subscriber_id = _subscriber_id(tokens.UNSUBSCRIBE)
    if subscriber_id is None:
        return _bad_link_page()
    name = _app_name(runtime().store.get_subscriber(subscriber_id))
    return page(
        "email_link.html",
        heading=f"Stop emails from {name}?",
        message=f"You will get no more emails about feature requests from {name}.",
        action="Unsubscribe",
        target=request.full_path,
    )


@blueprint.post(UNSUBSCRIBE)
def unsubscribe() -> Response:
    """Unsubscribe the link's address from its app's emails (one click; a repeat is fine)."""
    return _act(tokens.UNSUBSCRIBE, runtime().store.unsubscribe, _unsubscribed)


@blueprint.get(CONFIRM)
def confirm_page() -> Response:
    """A page asking the address's owner to confirm (the POST does it)."""
    subscriber_id = _subscriber_id(tokens.CONFIRM)
    if subscriber_id is None:
        return _bad_link_page()
    name = _app_name(runtime().store.get_subscriber(subscriber_id))
    return page(
        "email_link.html",
        heading=f"Get emails from {name}?",
        message=f"{name} will email you when the feature requests you follow change status.",
        action="Yes, email me",
        target=request.full_path,
    )


@blueprint.post(CONFIRM)
def confirm() -> Response:
    """Confirm the link's address: it gets the emails it asked for from now on."""
    return _act(tokens.CONFIRM, runtime().store.confirm_subscriber, _confirmed)


def _act(
    purpose: str,
    change: Callable[[str], Subscriber | None],
    answer: Callable[[Subscriber | None], tuple[str, str, BaseModel]],
) -> Response:
    subscriber_id = _subscriber_id(purpose)
    if subscriber_id is None:
        if _wants_page():
            return _bad_link_page()
        raise _refuse()
    subscriber = change(subscriber_id)
    heading, message, body = answer(subscriber)
    if _wants_page():
        return page("email_link.html", heading=heading, message=message, action=None)
    return jsonify(body.model_dump())


def _unsubscribed(subscriber: Subscriber | None) -> tuple[str, str, BaseModel]:
    # The answers' models load with the first link followed, not at start (cold starts).
    from bridge.api.answer_models import UnsubscribedOut

    name = _app_name(subscriber)
    return (
        "You are unsubscribed",
        f"{name} will send this address no more emails.",
        UnsubscribedOut(unsubscribed=True),
    )


def _confirmed(subscriber: Subscriber | None) -> tuple[str, str, BaseModel]:
    # The answers' models load with the first link followed, not at start (cold starts).
    from bridge.api.answer_models import ConfirmedOut

    name = _app_name(subscriber)
    if subscriber is None or not subscriber.active:
        return (
            "Nothing to confirm",
            f"This address unsubscribed from {name}'s emails, or is no longer known.",
            ConfirmedOut(confirmed=False),
        )
    return (
        "Thank you",
        f"{name} will email you when the requests you follow change status.",
        ConfirmedOut(confirmed=True),
    )
