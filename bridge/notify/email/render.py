"""Emails from templates: one raw MIME message, plain text and HTML, with unsubscribe headers.

Pure: what to say in, bytes out. Texts live in ``templates/`` (Jinja; the HTML
is autoescaped, the plain text is not) and have golden files in
``tests/golden/email``.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).with_name("templates")
STATUS_LABELS = {
    "open": "Under consideration",
    "planned": "Planned",
    "in_progress": "In progress",
    "completed": "Completed",
    "declined": "Declined",
    "duplicate": "Closed as a duplicate",
}
# Lines up to RFC 5322's limit: a long List-Unsubscribe URL has no space to fold at, and a
# shorter limit would turn it into encoded words mail clients do not read as a URL.
POLICY = SMTP.clone(max_line_length=998)
# Subjects stay on one line and short, whatever a title holds.
SUBJECT_TITLE_LIMIT = 120


class Email(Struct, frozen=True):
    """A rendered email: its subject and both bodies."""

    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        # HTML is escaped; the plain text part is text, and never shown as markup.
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _render(name: str, subject: str, context: dict[str, Any]) -> Email:
    values = {**context, "subject": subject}
    text = _environment().get_template(f"{name}.txt").render(values)
    html = _environment().get_template(f"{name}.html").render(values)
    return Email(subject=subject, text=text, html=html)


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) > SUBJECT_TITLE_LIMIT:
        flat = flat[: SUBJECT_TITLE_LIMIT - 1].rstrip() + "…"
    return flat


def status_label(status: str) -> str:
    """How a status reads in an email."""
    return STATUS_LABELS.get(status, status)


def status_email(
    *,
    app_name: str,
    title: str,
    status: str,
    previous: str | None,
    link: str,
    roadmap: str | None,
    unsubscribe: str,
) -> Email:
    """The email of a request's new status."""
    subject = f"{_one_line(title)}: {status_label(status).lower()}"
    return _render(
        "status",
        subject,
        {
            "app_name": app_name,
            "title": title,
            "status_label": status_label(status),
            "previous_label": status_label(previous) if previous else None,
            "link": link,
            "roadmap": roadmap,
            "unsubscribe": unsubscribe,
        },
    )


def confirm_email(*, app_name: str, title: str, confirm: str, unsubscribe: str) -> Email:
    """The email that asks a typed address's owner to confirm it."""
    subject = f"Confirm emails from {_one_line(app_name)}"
    return _render(
        "confirm",
        subject,
        {"app_name": app_name, "title": title, "confirm": confirm, "unsubscribe": unsubscribe},
    )


def mime(
    email: Email,
    *,
    sender: str,
    to: str,
    unsubscribe: str,
    now: datetime,
    boundary: str | None = None,
) -> bytes:
    """One raw message: ``multipart/alternative`` of the text and the HTML, with
    ``List-Unsubscribe`` (the one-click URL) and ``List-Unsubscribe-Post`` (RFC 8058)."""
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now)
    domain = sender.rpartition("@")[2].rstrip(">").strip() or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    # Quoted-printable keeps the message 7-bit clean through any relay.
    message.set_content(email.text, cte="quoted-printable")
    message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    if boundary is not None:
        message.set_boundary(boundary)
    return message.as_bytes()
