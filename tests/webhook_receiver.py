"""A loopback HTTP receiver for outgoing webhooks: records each POST, fails or redirects on cue."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    """One POST as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the receiver got; ``fail_next`` answers 503 that many times first."""

    url: str = ""
    fail_next: int = 0
    redirect_to: str | None = None
    posts: list[Received] = field(default_factory=list)  # every POST, failed ones too
    accepted: list[Received] = field(default_factory=list)  # those answered 2xx


@contextmanager
def running_receiver(tls: ssl.SSLContext | None = None, **options: object) -> Iterator[Receiver]:
    """Serve a :class:`Receiver` on 127.0.0.1 with a free port until the block ends
    (over TLS with ``tls``, a server context)."""
    receiver = Receiver(**options)  # type: ignore[arg-type]
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen = Received(self.path, dict(self.headers.items()), body)
            with lock:
                receiver.posts.append(seen)
                failing = receiver.fail_next > 0
                receiver.fail_next -= 1 if failing else 0
            if receiver.redirect_to is not None:
                self.send_response(302)
                self.send_header("Location", receiver.redirect_to)
            elif failing:
                self.send_response(503)
            else:
                with lock:
                    receiver.accepted.append(seen)
                self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the suite's logs are checked for what they hold."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    scheme = "http"
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    receiver.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/hooks/feedback"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
