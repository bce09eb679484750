"""The outgoing webhook adapter: one POST over httpx to the address that was checked.

The URL's host is resolved once (:mod:`bridge.notify.ssrf`); the request goes
to that IP with the original ``Host`` header and, over TLS, the original name
as SNI and for certificate checks. Redirects are never followed, proxies from
the environment are never used (a proxy would look the name up again), and
connections are not kept alive (a pooled connection to one IP must not carry
another host's request).
"""

from __future__ import annotations

import ssl
import threading
from typing import TYPE_CHECKING

from bridge.notify.model import DeliveryError, TargetRefusedError
from bridge.notify.ssrf import Resolver, UnresolvedError, checked_address, system_resolver

if TYPE_CHECKING:
    import httpx

TIMEOUT_SECONDS = 5.0
_DEFAULT_PORTS = {"http": 80, "https": 443}


class SafeWebhookPoster:
    """A :class:`bridge.notify.model.WebhookPoster` that refuses private targets."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
        timeout: float = TIMEOUT_SECONDS,
        trust: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_private = allow_private
        # The certificates trusted; None: the system's (certifi's) roots.
        self._trust = trust
        self._resolver = resolver
        self._timeout = timeout
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> httpx.Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import httpx

                    self._client = httpx.Client(
                        timeout=httpx.Timeout(self._timeout),
                        verify=self._trust if self._trust is not None else True,
                        follow_redirects=False,
                        trust_env=False,
                        limits=httpx.Limits(max_keepalive_connections=0),
                    )
        return self._client

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        """POST to the checked address; DeliveryError unless the receiver answers 2xx."""
        import httpx

        try:
            target = httpx.URL(url)
            host = target.host
            port = target.port or _DEFAULT_PORTS[target.scheme]
        except (httpx.InvalidURL, KeyError, UnicodeError):
            raise TargetRefusedError("the webhook URL cannot be used") from None
        try:
            address, why = checked_address(
                host, port, resolver=self._resolver, allow_private=self.allow_private
            )
        except UnresolvedError as error:  # retried: the receiver's DNS may come back
            raise DeliveryError(f"{host} {error}") from None
        if address is None:
            raise TargetRefusedError(f"{host} {why}")
        host_header = host if target.port is None else f"{host}:{target.port}"
        extensions = {"sni_hostname": host} if target.scheme == "https" else {}
        request = self._http().build_request(
            "POST",
            target.copy_with(host=str(address)),
            content=body,
            headers={**headers, "Host": host_header},
            extensions=extensions,
        )
        try:
            response = self._http().send(request, follow_redirects=False)
            response.close()
        except httpx.HTTPError as error:
            raise DeliveryError(f"{type(error).__name__}: {str(error)[:200]}") from None
        if response.is_redirect:
            raise DeliveryError(f"answered {response.status_code}; redirects are not followed")
        if not response.is_success:
            raise DeliveryError(
                f"answered {response.status_code}",
                retry_after=_seconds(response.headers.get("Retry-After")),
            )

    def close(self) -> None:
        """Close the HTTP client, if one was built."""
        if self._client is not None:
            self._client.close()


def _seconds(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return float(min(int(value.strip()), 24 * 3600))
