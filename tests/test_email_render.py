"""Email texts from templates, against golden files; the MIME message they travel in."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

from bridge.notify.email.render import confirm_email, mime, status_email
from tests.golden_files import assert_golden

GOLDEN = Path(__file__).parent / "golden" / "email"
UNSUBSCRIBE = "https://feedback.example.com/v1/unsubscribe?token=" + "a" * 32 + "." + "b" * 43
NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def shipped(title: str = "Dark mode", *, roadmap: bool = True) -> email.message.EmailMessage:
    rendered = status_email(
        app_name="Acme Mobile",
        title=title,
        status="completed",
        previous="in_progress",
        link="https://github.com/acme/mobile/issues/12",
        roadmap="https://feedback.example.com/apps/mobile/roadmap" if roadmap else None,
        unsubscribe=UNSUBSCRIBE,
    )
    raw = mime(
        rendered,
        sender="Acme Feedback <feedback@acme.example>",
        to="ada@example.com",
        unsubscribe=UNSUBSCRIBE,
        now=NOW,
    )
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email.message.EmailMessage)
    return parsed


def body(message: Message, kind: str) -> str:
    for part in message.walk():
        if part.get_content_type() == kind:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode("utf-8")
    raise AssertionError(f"no {kind} part")


def test_status_email_golden() -> None:
    message = shipped()
    assert message["Subject"] == "Dark mode: completed"
    assert_golden(GOLDEN / "status.txt", body(message, "text/plain"))
    assert_golden(GOLDEN / "status.html", body(message, "text/html"))


def test_confirm_email_golden() -> None:
    rendered = confirm_email(
        app_name="Acme Mobile",
        title="Dark mode",
        confirm="https://feedback.example.com/v1/confirm?token=" + "c" * 32 + "." + "d" * 43,
        unsubscribe=UNSUBSCRIBE,
    )
    assert rendered.subject == "Confirm emails from Acme Mobile"
    assert_golden(GOLDEN / "confirm.txt", rendered.text)
    assert_golden(GOLDEN / "confirm.html", rendered.html)


def test_one_message_with_both_parts_and_the_one_click_headers() -> None:
    message = shipped()
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert message["From"] == "Acme Feedback <feedback@acme.example>"
    assert message["To"] == "ada@example.com"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].endswith("@acme.example>")
    assert message["Date"] == "Thu, 03 Dec 2026 09:30:00 +0000"


def test_a_title_is_escaped_in_html_and_kept_to_one_line_in_the_subject() -> None:
    message = shipped("<script>alert(1)</script>\nSecond line " + "x" * 200, roadmap=False)
    html = body(message, "text/html")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    subject = message["Subject"]
    assert "\n" not in subject
    assert len(subject) < 150
    assert "roadmap" not in body(message, "text/plain")
    assert "<script>alert(1)</script>" in body(message, "text/plain")
