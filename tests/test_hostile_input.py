"""Hostile input is a 4xx, never a 500: deep JSON, huge integers, oversize bodies."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from bridge.api.cursor import encode_cursor
from bridge.app import build_runtime
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from tests.conftest import error_code
from tests.fakes import FakeClock, FakeTracker, RecordingQueue
from tests.processes import free_port, start_serve
from tests.voter_tokens import MOBILE_SECRET

OPERATOR = {"Authorization": "Bearer operator-secret"}
DEEP = b"[" * 120_000 + b"]" * 120_000  # within the body limit, far beyond any parser's stack
HUGE = "99999999999999999999"  # beyond 64 bits


@pytest.fixture
def runtime(
    make_settings: Callable[..., Settings], tmp_path: Path, tracker: FakeTracker, clock: FakeClock
) -> Runtime:
    return build_runtime(
        make_settings(MOBILE_VOTER_SECRET=MOBILE_SECRET),
        store=SQLiteStore(tmp_path / "index.db"),
        tracker=tracker,
        queue=RecordingQueue(),
        clock=clock,
    )


@pytest.mark.parametrize("path", ["/v1/apps/mobile/requests", "/v1/apps/mobile/requests/1/votes"])
def test_json_nested_thousands_deep_is_400(client: FlaskClient, path: str) -> None:
    response = client.post(path, data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert error_code(response) == "bad_request"


def test_voter_token_with_a_deeply_nested_header_is_401(client: FlaskClient) -> None:
    header = base64.urlsafe_b64encode(b'{"a":' * 20_000 + b"1" + b"}" * 20_000).rstrip(b"=")
    token = header.decode() + ".e30.c2ln"
    response = client.get("/v1/apps/mobile/requests", headers={"X-Featurebridge-Voter": token})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/apps/mobile/requests/{HUGE}"),
        ("POST", f"/v1/apps/mobile/requests/{HUGE}/votes"),
        ("DELETE", f"/v1/apps/mobile/requests/{HUGE}/votes"),
        ("POST", f"/v1/apps/mobile/requests/{HUGE}/analysis"),
    ],
)
def test_number_beyond_64_bits_in_a_path_is_404(
    client: FlaskClient, method: str, path: str
) -> None:
    response = client.open(path, method=method, json={"anonymous_id": "a"}, headers=OPERATOR)
    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_largest_64_bit_number_is_an_ordinary_404(client: FlaskClient) -> None:
    response = client.get(f"/v1/apps/mobile/requests/{2**63 - 1}")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "position", [f"[{HUGE}, 1]", f"[1, {HUGE}]", f"[1, -{HUGE}]", "[1e999, 1]", "[" * 50_000]
)
def test_forged_listing_cursor_beyond_64_bits_or_deep_is_400(
    client: FlaskClient, position: str
) -> None:
    cursor = encode_cursor(position, "mobile|top|")
    response = client.get("/v1/apps/mobile/requests", query_string={"cursor": cursor})
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.get_json()["error"]["fields"]["cursor"]


@pytest.mark.parametrize("position", [f'["export", "mobile", {HUGE}]', '["export", "mobile", 1.5]'])
def test_forged_export_cursor_beyond_64_bits_is_400(client: FlaskClient, position: str) -> None:
    cursor = encode_cursor(position, "mobile||")
    response = client.get("/v1/export", query_string={"cursor": cursor}, headers=OPERATOR)
    assert response.status_code == 400


def test_cursor_nested_thousands_deep_is_400(client: FlaskClient) -> None:
    cursor = base64.urlsafe_b64encode(b"[" * 100_000).decode()
    response = client.get("/v1/apps/mobile/requests", query_string={"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.get_json()["error"]["fields"]


def test_body_at_every_field_limit_in_four_byte_characters_is_accepted(
    client: FlaskClient,
) -> None:
    emoji = "\U0001f680"
    body = {
        "title": emoji * 256,
        "description": emoji * 60_000,
        "name": emoji * 100,
        "email": "someone@example.com",
        "metadata": {f"k{i:02}": emoji * 20 for i in range(20)},
    }
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert len(raw) > 64 * 1024
    response = client.post("/v1/apps/mobile/requests", data=raw, content_type="application/json")
    assert response.status_code in (201, 202), response.get_json()


def _raw_exchange(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send raw HTTP while reading the answer: the server may answer before the body ends."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:

        def send() -> None:
            with contextlib.suppress(OSError):  # the server closed after answering
                sock.sendall(head + body)

        sender = threading.Thread(target=send)
        sender.start()
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while b"\r\n\r\n" not in received or not _complete(received):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        sender.join(timeout=10)
    header_block, _, payload = received.partition(b"\r\n\r\n")
    status_line, *lines = header_block.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, payload


def _complete(received: bytes) -> bool:
    header_block, _, payload = received.partition(b"\r\n\r\n")
    for line in header_block.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            return len(payload) >= int(value)
    return False


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A running ``featurebridge serve`` with one public app and no GitHub."""
    tmp_path = tmp_path_factory.mktemp("serve")
    (tmp_path / "featurebridge.toml").write_text(SERVE_CONFIG)
    port = free_port()
    process = start_serve(tmp_path, port)
    yield port
    process.terminate()
    process.wait(timeout=10)


SERVE_CONFIG = """
[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request"]
public = true
"""


def test_serve_refuses_a_declared_length_beyond_any_route_with_the_json_envelope(
    served: int,
) -> None:
    head = (
        b"POST /github/webhooks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 6291456\r\n\r\n"
    )
    status, headers, payload = _raw_exchange(served, head)
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert json.loads(payload)["error"]["code"] == "payload_too_large"


def test_serve_refuses_a_chunked_body_beyond_any_route_with_the_json_envelope(
    served: int,
) -> None:
    head = (
        b"POST /v1/apps/mobile/requests HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * (1024 * 1024)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(6)) + b"0\r\n\r\n"
    status, _, payload = _raw_exchange(served, head, body)
    assert status == 413
    assert json.loads(payload)["error"]["code"] == "payload_too_large"


def test_serve_answers_an_api_body_over_256_kib_without_length_413(served: int) -> None:
    head = (
        b"POST /v1/apps/mobile/requests HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    data = json.dumps({"title": "Big", "description": "x" * (257 * 1024)}).encode()
    status, _, payload = _raw_exchange(served, head, b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
    assert status == 413
    assert json.loads(payload)["error"]["code"] == "payload_too_large"
