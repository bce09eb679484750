"""Outgoing webhooks reach only the address that was checked, and never a private one."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bridge.notify.model import DeliveryError, TargetRefusedError
from bridge.notify.ssrf import checked_address, refusal
from bridge.notify.webhooks import SafeWebhookPoster
from tests.webhook_receiver import running_receiver

REFUSED = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "169.254.10.1",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "fd00:ec2::254",
    "fc00::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "::ffff:8.8.8.8",
    "64:ff9b::a00:1",
    "2002:a00:1::",
    "224.0.0.1",
]


class Resolver:
    """An injected resolver: fixed answers per host, and a count of lookups."""

    def __init__(self, answers: dict[str, Sequence[str]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        if host not in self.answers:
            raise OSError("no such host")
        return self.answers[host]


@pytest.mark.parametrize("address", REFUSED)
def test_private_and_metadata_addresses_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), allow_private=False) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700:4700::1111", "93.184.216.34"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), allow_private=False) is None


def test_the_setting_allows_private_targets_but_never_cloud_metadata() -> None:
    for address in ("127.0.0.1", "10.0.0.1", "::ffff:127.0.0.1", "fc00::1"):
        assert refusal(ipaddress.ip_address(address), allow_private=True) is None
    for address in ("169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254"):
        assert refusal(ipaddress.ip_address(address), allow_private=True) is not None


def test_one_private_answer_among_public_ones_refuses_the_name() -> None:
    resolve = Resolver({"mixed.example": ["93.184.216.34", "10.0.0.1"]})
    address, why = checked_address("mixed.example", 443, resolver=resolve, allow_private=False)
    assert address is None
    assert why == "resolves to 10.0.0.1, a private address"


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::ffff:127.0.0.1"]
)
def test_a_target_resolving_to_a_forbidden_address_is_refused(address: str) -> None:
    poster = SafeWebhookPoster(resolver=Resolver({"hooks.example": [address]}))
    with running_receiver() as receiver, pytest.raises(TargetRefusedError) as refused:
        poster.post("https://hooks.example/feedback", b"{}", {})
    assert address in str(refused.value)
    assert receiver.posts == []


@pytest.mark.parametrize("answers", [{}, {"nowhere.example": []}])
def test_a_name_that_does_not_resolve_is_a_delivery_error_not_a_refusal(
    answers: dict[str, Sequence[str]],
) -> None:
    # DNS that fails now may answer later: the delivery is retried, not given up.
    poster = SafeWebhookPoster(resolver=Resolver(answers))
    with pytest.raises(DeliveryError, match="does not resolve") as failed:
        poster.post("https://nowhere.example/", b"{}", {})
    assert not isinstance(failed.value, TargetRefusedError)


def test_the_connection_goes_to_the_checked_address_with_the_original_host() -> None:
    with running_receiver() as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        resolve = Resolver({"receiver.test": ["127.0.0.1"]})
        poster = SafeWebhookPoster(allow_private=True, resolver=resolve)
        poster.post(f"http://receiver.test:{port}/hooks/feedback?x=1", b'{"a":1}', {"X-A": "b"})
        poster.close()
    assert resolve.lookups == ["receiver.test"]  # one lookup: the checked one
    (post,) = receiver.accepted
    assert post.headers["Host"] == f"receiver.test:{port}"
    assert post.path == "/hooks/feedback?x=1"
    assert post.body == b'{"a":1}'


def test_a_redirect_is_not_followed() -> None:
    with running_receiver(redirect_to="http://169.254.169.254/latest/meta-data/") as receiver:
        poster = SafeWebhookPoster(allow_private=True)
        with pytest.raises(DeliveryError, match="redirects are not followed"):
            poster.post(receiver.url, b"{}", {})
        poster.close()
    assert len(receiver.posts) == 1


def test_a_receiver_answering_an_error_is_a_delivery_error_with_its_retry_hint() -> None:
    with running_receiver(fail_next=1) as receiver:
        poster = SafeWebhookPoster(allow_private=True)
        with pytest.raises(DeliveryError, match="answered 503"):
            poster.post(receiver.url, b"{}", {})
        poster.post(receiver.url, b"{}", {})
        poster.close()
    assert len(receiver.accepted) == 1


def test_a_refused_connection_is_a_delivery_error() -> None:
    with running_receiver() as receiver:
        url = receiver.url
    poster = SafeWebhookPoster(allow_private=True)
    with pytest.raises(DeliveryError, match="ConnectError"):
        poster.post(url, b"{}", {})


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for ``name`` and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_over_tls_the_checked_address_is_reached_under_the_urls_name(tmp_path: Path) -> None:
    cert, key = _certificate(tmp_path, "receiver.test")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    trust = ssl.create_default_context(cafile=str(cert))
    with running_receiver(tls=server) as receiver:
        port = receiver.url.split(":")[2].split("/")[0]
        resolve = Resolver({"receiver.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
        poster = SafeWebhookPoster(allow_private=True, resolver=resolve, trust=trust)
        poster.post(f"https://receiver.test:{port}/hooks/feedback", b"{}", {})
        # The same address under a name the certificate does not carry: refused by TLS.
        with pytest.raises(DeliveryError, match="ConnectError"):
            poster.post(f"https://other.test:{port}/hooks/feedback", b"{}", {})
        poster.close()
    (post,) = receiver.accepted
    assert post.headers["Host"] == f"receiver.test:{port}"


def test_a_url_httpx_cannot_use_is_refused_not_retried() -> None:
    poster = SafeWebhookPoster(resolver=Resolver({}))
    with pytest.raises(TargetRefusedError, match="cannot be used"):
        poster.post("https://xn--/x", b"{}", {})
