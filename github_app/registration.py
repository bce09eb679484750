"""``featurebridge register``: GitHub's App manifest flow, from app.yml to featurebridge.env.

A loopback-only page posts the manifest to GitHub; GitHub redirects the browser back
to ``/callback?code=...&state=...``; the one-time code (valid for an hour) is traded at
``POST {api}/app-manifests/{code}/conversions`` for the App's id, key and webhook
secret, which go to ``featurebridge.env`` (mode 0600). Secrets are never logged or
printed; the request log drops query strings, which carry the code.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import sys
import tempfile
import threading
import urllib.error
import urllib.request
import webbrowser
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, quote, urlsplit

from msgspec import Struct

from bridge.settings import Settings, read_env_file
from github_app.manifest import (
    ManifestError,
    RegisteredApp,
    check_public_url,
    deployment_hints,
    env_file_text,
    env_values,
    fill_manifest,
    form_page,
    install_url,
    is_loopback,
    load_manifest,
    message_page,
    new_app_url,
    web_url,
)

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
CODE_LIFETIME = 3600.0  # GitHub's manifest codes expire after an hour
API_VERSION = "2022-11-28"
Converter = Callable[[str, str], RegisteredApp]


class RegistrationError(Exception):
    """The code exchange or the env file failed; the message says what to do."""


def convert_code(api_url: str, code: str, *, timeout: float = 30.0) -> RegisteredApp:
    """Trade a manifest code for the new App (no credentials needed; the code works once)."""
    url = f"{api_url.rstrip('/')}/app-manifests/{quote(code, safe='')}/conversions"
    request = urllib.request.Request(  # noqa: S310 -- GITHUB_API_URL is http(s), checked
        url,
        method="POST",
        headers={
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "featurebridge-register",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise RegistrationError(
                "GitHub does not know this code (404): a code works once and expires after "
                "an hour. Run `featurebridge register` again."
            ) from error
        raise RegistrationError(
            f"GitHub refused the code ({error.code}: {_message(error.read())})"
        ) from error
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise RegistrationError(f"could not reach {api_url}: {reason}") from error
    except ValueError as error:
        raise RegistrationError("GitHub's answer is not JSON") from error
    try:
        return RegisteredApp.from_conversion(body)
    except ManifestError as error:
        raise RegistrationError(str(error)) from error


def _message(raw: bytes) -> str:
    try:
        return str(json.loads(raw).get("message", "no message"))
    except (ValueError, AttributeError):
        return "no message"


def write_env_file(path: Path, values: Mapping[str, str], *, force: bool) -> None:
    """Write ``values`` to ``path``: mode 0600 from its creation, complete before it
    appears under its name; an existing file is replaced only with ``force``."""
    text = env_file_text(values)
    try:
        # mkstemp opens with O_EXCL and mode 0600 whatever the umask.
        fd, name = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".new", dir=path.parent)
    except OSError as error:
        raise RegistrationError(f"cannot write in {path.parent}: {error.strerror}") from error
    kept = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if read_env_file(kept) != dict(values):
            raise RegistrationError(f"{kept} does not read back as written; {path} untouched")
        if force:
            os.replace(kept, path)
        else:
            os.link(kept, path)  # FileExistsError rather than replacing anything
            kept.unlink()
    except FileExistsError as error:
        raise RegistrationError(
            f"{path} appeared meanwhile and was left alone; the new App's credentials are "
            f"in {kept}: move them into place yourself"
        ) from error
    except OSError as error:
        raise RegistrationError(
            f"cannot write {path}: {error.strerror}; the new App's credentials are in {kept}"
        ) from error


class Outcome(Struct, frozen=True):
    """How GitHub's redirect ended: the App and its env file, or why not."""

    app: RegisteredApp | None = None
    error: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, port: int, flow: Registration) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.flow = flow


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # http.server with keep-alive stalls ~40 ms a request on Nagle + delayed ACK.
    disable_nagle_algorithm = True
    server_version = "featurebridge-register"
    sys_version = ""

    def do_GET(self) -> None:
        """The page, or GitHub's redirect."""
        status, page = self.server.flow.respond(self.headers.get("Host"), self.path)
        payload = page.encode()
        self.send_response(status)
        for header, value in (
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),  # the callback URL carries the code
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
        ):
            self.send_header(header, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Log the method and path only: query strings carry the code."""
        path = urlsplit(getattr(self, "path", "") or "").path
        log.debug("%s %s", getattr(self, "command", None) or "-", path or "-")


class Registration:
    """One run of the manifest flow: serve the page, await GitHub's redirect, trade the code.

    ``start(port=0)`` picks a free port (tests); ``convert`` replaces the exchange.
    """

    def __init__(
        self,
        manifest: Mapping[str, Any],
        *,
        public_url: str,
        api_url: str,
        env_path: Path,
        org: str | None = None,
        force: bool = False,
        convert: Converter = convert_code,
    ) -> None:
        self.state = secrets.token_urlsafe(24)
        self.api_url = api_url.rstrip("/")
        self.public_url = check_public_url(public_url)
        self.new_app_url = new_app_url(web_url(self.api_url), org=org, state=self.state)
        self.env_path = env_path
        self.force = force
        self._manifest = dict(manifest)
        self._convert = convert
        self._filled: dict[str, Any] = {}
        self._hosts: set[str] = set()
        self._server: _Server | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._outcome: Outcome | None = None

    @property
    def manifest(self) -> dict[str, Any]:
        """The manifest the page posts (filled once the server listens)."""
        return self._filled

    @property
    def local_url(self) -> str:
        """The page to open in a browser."""
        if self._server is None:
            raise RuntimeError("start() first")
        return f"http://127.0.0.1:{self._server.server_port}/"

    def start(self, port: int = 3000) -> str:
        """Listen on 127.0.0.1:``port`` from a thread; the local page's URL."""
        self._server = _Server(port, self)
        bound = self._server.server_port
        self._hosts = {f"127.0.0.1:{bound}", f"localhost:{bound}"}
        self._filled = fill_manifest(
            self._manifest,
            public_url=self.public_url,
            redirect_url=f"http://127.0.0.1:{bound}/callback",
        )
        threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="featurebridge-register",
            daemon=True,
        ).start()
        return self.local_url

    def wait(self, timeout: float = CODE_LIFETIME) -> Outcome | None:
        """GitHub's redirect handled, or None after ``timeout`` seconds."""
        self._done.wait(timeout)
        return self._outcome

    def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Registration:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def respond(self, host: str | None, target: str) -> tuple[int, str]:
        """Status and page for ``GET target`` (sent with ``Host: host``)."""
        if host not in self._hosts:  # another site's name resolving here (DNS rebinding)
            return 400, message_page("Wrong address", f"Open {self.local_url} instead.")
        url = urlsplit(target)
        if url.path == "/":
            return 200, form_page(self._filled, self.new_app_url)
        if url.path == "/callback":
            return self._callback(parse_qs(url.query))
        return 404, message_page("Not found", f"Open {self.local_url} instead.")

    def _callback(self, query: Mapping[str, list[str]]) -> tuple[int, str]:
        state = query.get("state", [""])[0].encode()
        code = query.get("code", [""])[0]
        if not hmac.compare_digest(state, self.state.encode()):
            log.warning("refused a redirect whose state is not this run's; its code is unused")
            return 400, message_page(
                "Not this registration",
                "This redirect does not carry the state this run of `featurebridge register` "
                "sent to GitHub, so its code was not used. Start from the page it printed.",
            )
        if not code:
            return 400, message_page("No code", "GitHub's redirect carries no code.")
        with self._lock:
            if self._outcome is not None:
                return 409, message_page("Already done", "This registration is finished.")
            self._outcome = self._complete(code)
            self._done.set()
        app = self._outcome.app
        if app is None:
            return 502, message_page("Registration failed", self._outcome.error or "")
        return 200, message_page(
            "GitHub App created",
            f"“{app.name}” exists on GitHub and its credentials are in {self.env_path}. "
            f"Install it on your repositories: {install_url(app)} — "
            "then go back to the terminal.",
        )

    def _complete(self, code: str) -> Outcome:
        try:
            app = self._convert(self.api_url, code)
            write_env_file(self.env_path, env_values(app, self.api_url), force=self.force)
        except (RegistrationError, ManifestError) as error:
            return Outcome(error=str(error))
        log.info("registered GitHub App %s (id %d)", app.slug, app.id)
        return Outcome(app=app)


def default_manifest_path() -> Path:
    """``app.yml`` here, else the one of the source tree this package runs from."""
    here = Path("app.yml")
    return here if here.exists() else Path(__file__).resolve().parents[1] / "app.yml"


def _open_browser(url: str) -> None:
    # Without a display, webbrowser falls back to console browsers that take the terminal.
    graphical = sys.platform in ("darwin", "win32") or any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "BROWSER")
    )
    if graphical:
        try:
            webbrowser.open(url)
        except webbrowser.Error:
            log.debug("no browser to open")


def run_register(
    settings: Settings,
    *,
    org: str | None,
    port: int,
    public_url: str | None,
    manifest_path: Path,
    env_path: Path,
    open_browser: bool,
    force: bool,
    out: TextIO,
    err: TextIO,
    timeout: float = CODE_LIFETIME,
) -> int:
    """``featurebridge register``: the exit code (0 done, 1 refused or failed, 2 usage)."""
    if env_path.exists() and not force:
        print(f"featurebridge: {env_path} exists; pass --force to replace it", file=err)
        return EXIT_USAGE
    if not 0 <= port <= 65535:
        print(f"featurebridge: --port {port} is not a TCP port", file=err)
        return EXIT_USAGE
    try:
        flow = Registration(
            load_manifest(manifest_path),
            public_url=public_url or settings.server.public_url,
            api_url=settings.github.api_url,
            env_path=env_path,
            org=org,
            force=force,
        )
        local = flow.start(port)
    except ManifestError as error:
        print(f"featurebridge: {error}", file=err)
        return EXIT_USAGE
    except OSError as error:
        print(f"featurebridge: cannot listen on 127.0.0.1:{port}: {error.strerror}", file=err)
        return EXIT_USAGE
    with flow:
        hook = flow.manifest["hook_attributes"]["url"]
        if is_loopback(hook):
            print(
                f"featurebridge: warning: GitHub cannot deliver webhooks to {hook}; pass "
                "--public-url or set [server] public_url (or change it in the App later)",
                file=err,
            )
        print(
            f"Registering the GitHub App from {manifest_path} (webhooks to {hook}).\n"
            f"Open {local} in a browser signed in to GitHub: it takes you to\n"
            f"  {flow.new_app_url.partition('?')[0]}\n"
            f"Waiting for GitHub to send you back (up to {timeout / 60:.0f} min; Ctrl-C stops).",
            file=out,
            flush=True,
        )
        if open_browser:
            _open_browser(local)
        try:
            outcome = flow.wait(timeout)
        except KeyboardInterrupt:
            print("featurebridge: stopped; no App was created by this run", file=err)
            return EXIT_FAILED
    if outcome is None:
        print(
            f"featurebridge: GitHub did not send you back within {timeout / 60:.0f} min "
            "(its codes expire after an hour); run `featurebridge register` again",
            file=err,
        )
        return EXIT_FAILED
    if outcome.app is None:
        print(f"featurebridge: registration failed: {outcome.error}", file=err)
        return EXIT_FAILED
    print(_report(outcome.app, env_path), file=out)
    return EXIT_OK


def _report(app: RegisteredApp, env_path: Path) -> str:
    return (
        f"\nCreated the GitHub App “{app.name}” (id {app.id}): {app.html_url}\n"
        f"Its credentials are in {env_path.resolve()} (mode 0600), which "
        "`featurebridge serve` reads.\n\n"
        f"Now install it on your repos: {install_url(app)}\n"
        "then `featurebridge doctor` checks the installation.\n\n"
        "For the Lambda deployment, store the secrets as SSM SecureStrings "
        "(read from that file, never shown):\n" + deployment_hints(app, env_path.resolve())
    )
