"""``doctor`` on email: off is fine; the sender's identity on moto's SES; the sandbox (Stubber)."""

from __future__ import annotations

from collections.abc import Callable

import botocore.session
from botocore.stub import Stubber

from bridge.doctor import email_findings
from bridge.settings import Settings
from tests.conftest import CONFIG
from tests.email_support import EMAIL_CONFIG, sesv2, verify_sender


def test_email_off_is_fine(make_settings: Callable[..., Settings]) -> None:
    (finding,) = email_findings(make_settings(CONFIG))
    assert finding.ok
    assert "off" in finding.detail


def test_the_sender_identity_is_found_by_its_domain_on_moto(
    make_settings: Callable[..., Settings], moto_endpoint: str
) -> None:
    verify_sender(moto_endpoint)
    findings = email_findings(make_settings(CONFIG + EMAIL_CONFIG), sesv2(moto_endpoint))
    assert findings[0].ok, findings[0].detail
    assert "acme.example is verified" in findings[0].detail


def stubbed_ses() -> tuple[object, Stubber]:
    client = botocore.session.get_session().create_client("sesv2", region_name="us-east-1")
    return client, Stubber(client)


def test_an_unknown_sender_and_the_sandbox_are_to_fix(
    make_settings: Callable[..., Settings],
) -> None:
    client, stub = stubbed_ses()
    stub.add_client_error("get_email_identity", service_error_code="NotFoundException")
    stub.add_client_error("get_email_identity", service_error_code="NotFoundException")
    stub.add_response("get_account", {"ProductionAccessEnabled": False})
    with stub:
        identity, sandbox = email_findings(make_settings(CONFIG + EMAIL_CONFIG), client)
    assert not identity.ok
    assert "Create identity" in identity.detail
    assert not sandbox.ok
    assert "sandbox" in sandbox.detail


def test_a_verified_sender_out_of_the_sandbox_is_all_well(
    make_settings: Callable[..., Settings],
) -> None:
    client, stub = stubbed_ses()
    stub.add_response(
        "get_email_identity",
        {"IdentityType": "EMAIL_ADDRESS", "VerifiedForSendingStatus": True},
        {"EmailIdentity": "feedback@acme.example"},
    )
    stub.add_response("get_account", {"ProductionAccessEnabled": True})
    with stub:
        findings = email_findings(make_settings(CONFIG + EMAIL_CONFIG), client)
    assert [f.ok for f in findings] == [True, True]
