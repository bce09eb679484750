"""Email tests' helpers: moto's SES v2 over HTTP, and the messages it kept whole."""

from __future__ import annotations

import contextlib
import email
import json
import re
import urllib.request
from email.message import Message
from typing import Any

import botocore.session

SENDER = "Acme Feedback <feedback@acme.example>"
EMAIL_CONFIG = f"""
[notify.email]
sender = "{SENDER}"
region = "us-east-1"
"""


def sesv2(endpoint: str) -> Any:
    """A botocore SES v2 client of the moto server."""
    return botocore.session.get_session().create_client(
        "sesv2", endpoint_url=endpoint, region_name="us-east-1"
    )


def verify_sender(endpoint: str) -> None:
    """SES sends only from a verified identity: the sender's domain."""
    client = sesv2(endpoint)
    with contextlib.suppress(client.exceptions.AlreadyExistsException):
        client.create_email_identity(EmailIdentity="acme.example")


def sent_to(endpoint: str, address: str) -> list[Message]:
    """Every raw message moto's SES took for ``address``, oldest first, parsed."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as answer:
        data = json.load(answer)
    return [
        email.message_from_string(raw["raw_data"])
        for raw in data["ses"]["RawMessage"]
        if address in raw["destinations"]
    ]


def parts(message: Message) -> dict[str, str]:
    """The message's bodies by content type (text/plain, text/html)."""
    found: dict[str, str] = {}
    for part in message.walk():
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


def link(text: str, path: str) -> str:
    """The first link to ``path`` in a text, as a path with its query (for a test client)."""
    found = re.search(rf"https://feedback\.example\.com({re.escape(path)}\?token=[\w.-]+)", text)
    assert found is not None, f"no {path} link"
    return found.group(1)
