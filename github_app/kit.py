"""The githubkit client of a tracker: one per process, one HTTP pool for every thread.

Imported on first use by ``github_app.client`` (githubkit costs ~0.4 s to import).

Why a subclass: githubkit keeps an entered (``with gh:``) HTTP client in a
ContextVar, so entering it in one thread does not reach the WSGI threads or
the worker thread: each of their calls would build and close a new httpx
client (~50 ms of CPU). ``SharedGitHub`` holds one httpx client for all
threads instead (httpx clients are thread-safe), opened on first use and
closed by ``close()``. githubkit's HTTP cache and its sleeping auto-retry are
off: the worker reschedules.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from typing import Any

import httpx
from githubkit import GitHub, UnauthAuthStrategy
from githubkit.exception import RequestError, RequestFailed


class SharedGitHub(GitHub[UnauthAuthStrategy]):
    """A githubkit client whose HTTP client is shared by all threads.

    Requests carry their own ``Authorization`` header: which token to use
    depends on the repo (its App installation), so no client-wide auth.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float,
        user_agent: str,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            UnauthAuthStrategy(),
            base_url=base_url,
            timeout=timeout,
            user_agent=user_agent,
            transport=transport,
            http_cache=False,
            auto_retry=False,
            # Renamed repos answer 301/307; httpx drops Authorization off-origin.
            follow_redirects=True,
        )
        self._shared_lock = threading.Lock()
        self._shared: httpx.Client | None = None

    @contextmanager
    def get_sync_client(self) -> Generator[httpx.Client, None, None]:
        """The shared httpx client, opened on first use."""
        client = self._shared
        if client is None:
            with self._shared_lock:
                if self._shared is None:
                    self._shared = self._create_sync_client()
                client = self._shared
        yield client

    def close(self) -> None:
        """Close the HTTP client; a later call opens a new one."""
        with self._shared_lock:
            client, self._shared = self._shared, None
        if client is not None:
            client.close()


class Failed(Exception):
    """GitHub answered with an error status (the raw answer is kept)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"GitHub answered {response.status_code}")
        self.response = response


class NoAnswer(Exception):
    """The call got no answer; ``cause`` is httpx's exception."""

    def __init__(self, cause: Exception) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


def send(
    gh: SharedGitHub,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    params: Mapping[str, str | int] | None = None,
    json: Any = None,
) -> httpx.Response:
    """One request; raises Failed (an error status) or NoAnswer (timeout, dropped)."""
    try:
        response = gh.request(method, url, params=params, json=json, headers=dict(headers))
        return response.raw_response
    except RequestFailed as exc:  # includes githubkit's rate-limit subclasses
        raise Failed(exc.response.raw_response) from None
    except RequestError as exc:  # RequestTimeout and transport errors
        cause = exc.exc if isinstance(exc.exc, Exception) else exc
        raise NoAnswer(cause) from cause
