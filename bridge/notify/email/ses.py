"""The Amazon SES v2 adapter: ``SendEmail`` with ``Content.Raw``, errors as delivery outcomes.

The client comes from ``botocore.session`` on first use (boto3's import pulls in
s3transfer); its endpoint follows the standard AWS variables
(``AWS_ENDPOINT_URL_SESV2``). Throttling and service trouble are retried by the
delivery's backoff; a rejected message stops for that address.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bridge.notify.email.config import EmailSettings
from bridge.notify.model import AddressRefusedError, DeliveryError

# botocore's SES v2 client (no stubs are installed for it).
SESClient = Any

# Errors that say this message to this address will never be taken.
REFUSED = frozenset({"MessageRejected", "BadRequestException"})
# Errors that say "not now": the delivery is tried again later.
THROTTLED = frozenset(
    {"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException"}
)
THROTTLED_DELAY_SECONDS = 60.0


def ses_client(region: str | None) -> SESClient:
    """A botocore SES v2 client with short timeouts (built once per process by its owner)."""
    import botocore.session
    from botocore.config import Config

    config = Config(
        connect_timeout=2, read_timeout=10, retries={"mode": "standard", "max_attempts": 2}
    )
    return botocore.session.get_session().create_client("sesv2", region_name=region, config=config)


class SESSender:
    """A :class:`bridge.notify.email.model.MailSender` over SES v2."""

    def __init__(
        self,
        settings: EmailSettings,
        *,
        client: SESClient | None = None,
        client_factory: Callable[[str | None], SESClient] = ses_client,
    ) -> None:
        self.settings = settings
        self._client = client
        self._client_factory = client_factory
        self._lock = threading.Lock()

    def ses(self) -> SESClient:
        """The client, built on first use."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._client_factory(self.settings.region)
        return self._client

    def send(self, *, to: str, raw: bytes) -> str:
        """Send one raw message to ``to``; the SES message id."""
        from botocore.exceptions import BotoCoreError, ClientError

        params: dict[str, Any] = {
            "FromEmailAddress": self.settings.sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": raw}},
        }
        if self.settings.configuration_set:
            params["ConfigurationSetName"] = self.settings.configuration_set
        try:
            answer = self.ses().send_email(**params)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            # SES's messages may quote the address: only the code is kept.
            if code in REFUSED:
                raise AddressRefusedError(f"SES refused the message ({code})") from None
            if code in THROTTLED:
                raise DeliveryError(
                    f"SES throttled ({code})", retry_after=THROTTLED_DELAY_SECONDS
                ) from None
            raise DeliveryError(f"SES: {code or 'error'}") from None
        except BotoCoreError as error:
            raise DeliveryError(f"SES: {type(error).__name__}") from None
        return str(answer.get("MessageId", ""))
