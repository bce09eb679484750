"""What ``featurebridge doctor`` checks of email: the sender's SES identity, and the sandbox."""

from __future__ import annotations

from typing import Any

from bridge.notify.email.config import EmailSettings
from bridge.notify.email.ses import SESClient, ses_client


def _identity(client: SESClient, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        answer: dict[str, Any] = client.get_email_identity(EmailIdentity=name)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NotFoundException":
            return None
        raise
    return answer


def email_checks(
    settings: EmailSettings, client: SESClient | None = None
) -> list[tuple[bool, str]]:
    """``(ok, detail)`` of each check; one ok line when email is off."""
    if not settings.enabled:
        return [(True, "off: set [notify.email] sender to email people about their requests")]
    from botocore.exceptions import BotoCoreError, ClientError

    ses = client if client is not None else ses_client(settings.region)
    address = settings.sender_address
    domain = address.rpartition("@")[2]
    region = settings.region or "the default region"
    found: list[tuple[bool, str]] = []
    try:
        identity = _identity(ses, address)
        name = address
        if identity is None:
            identity, name = _identity(ses, domain), domain
        if identity is None:
            found.append(
                (
                    False,
                    f"neither {address} nor {domain} is an SES identity in {region}: verify"
                    " one (SES console → Identities → Create identity)",
                )
            )
        elif identity.get("VerifiedForSendingStatus") or identity.get("VerificationStatus") == (
            "SUCCESS"
        ):
            found.append((True, f"sender identity {name} is verified in {region}"))
        else:
            found.append(
                (
                    False,
                    f"sender identity {name} is not verified yet"
                    f" ({identity.get('VerificationStatus', 'pending')}): finish its DNS or"
                    " email verification",
                )
            )
        account = ses.get_account()
    except (ClientError, BotoCoreError) as error:
        found.append((False, f"SES in {region} did not answer: {type(error).__name__}: {error}"))
        return found
    if not account.get("ProductionAccessEnabled", False):
        found.append(
            (
                False,
                f"the SES account is in the sandbox in {region}: it sends only to verified"
                " addresses; request production access (SES console → Account dashboard)",
            )
        )
    else:
        found.append((True, "SES production access is enabled"))
    return found
