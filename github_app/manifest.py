"""``app.yml`` and what GitHub's manifest flow needs from it; pure, no I/O but reading it.

https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
The flow itself (local page, GitHub's redirect, the code exchange) is in
``github_app.registration``.
"""

from __future__ import annotations

import copy
import html
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import yaml

from bridge.settings import DEFAULT_API_URL

WEBHOOK_PATH = "/github/webhooks"  # bridge/api/github.py
# lambda/template.yaml reads these SecureStrings under its ParameterPath (default below).
SSM_PATH = "/featurebridge"
SSM_PRIVATE_KEY = "github-app-private-key"
SSM_WEBHOOK_SECRET = "github-webhook-secret"  # noqa: S105 -- a parameter name, not a secret
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # newline is escaped; nothing else may pass


class ManifestError(Exception):
    """The manifest, a URL or an answer from GitHub cannot be used; the message says why."""


def load_manifest(path: Path) -> dict[str, Any]:
    """Read ``app.yml`` (Probot's format: GitHub's manifest fields, in YAML)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ManifestError(f"{path}: cannot be read: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ManifestError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw.get("url"):
        raise ManifestError(f"{path}: not a GitHub App manifest (it needs at least name and url)")
    return raw


def check_public_url(url: str) -> str:
    """The service's public base URL without a trailing slash, or ManifestError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ManifestError(
            f"{url!r} is not a public URL: use scheme://host[:port][/path], "
            'e.g. "https://feedback.example.com"'
        )
    return url.rstrip("/")


def is_loopback(url: str) -> bool:
    """Whether GitHub could not reach ``url`` because it names this machine."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.") or host.endswith(".localhost")


def fill_manifest(
    manifest: Mapping[str, Any], *, public_url: str, redirect_url: str
) -> dict[str, Any]:
    """The manifest to post: webhooks to ``public_url``, GitHub's redirect to ``redirect_url``."""
    filled = copy.deepcopy(dict(manifest))
    hook = dict(filled.get("hook_attributes") or {})
    hook["url"] = check_public_url(public_url) + WEBHOOK_PATH
    hook.setdefault("active", True)
    filled["hook_attributes"] = hook
    filled["redirect_url"] = redirect_url
    return filled


def web_url(api_url: str) -> str:
    """GitHub's web address for an API address.

    ``https://api.github.com`` → ``https://github.com``; Enterprise Server
    ``https://HOST/api/v3`` → ``https://HOST``; ``https://api.SUB.ghe.com`` →
    ``https://SUB.ghe.com``. Anything else (a test double) is its own web host.
    """
    parts = urlsplit(api_url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ManifestError(f"GITHUB_API_URL={api_url!r} is not an http(s) URL")
    host, path = parts.netloc, parts.path
    if path.endswith("/api/v3"):
        path = path.removesuffix("/api/v3")
    elif host.startswith("api."):
        host = host.removeprefix("api.")
    return urlunsplit((parts.scheme, host, path, "", ""))


def new_app_url(web: str, *, org: str | None, state: str) -> str:
    """GitHub's page that takes a posted manifest, for the user's account or ``org``."""
    if org is None:
        page = f"{web}/settings/apps/new"
    elif _LOGIN.match(org):
        page = f"{web}/organizations/{quote(org, safe='')}/settings/apps/new"
    else:
        raise ManifestError(f"{org!r} is not an organization login (letters, digits, '-')")
    return f"{page}?{urlencode({'state': state})}"


def form_page(manifest: Mapping[str, Any], action: str) -> str:
    """The local page whose form posts the manifest to GitHub (by itself, or on a click)."""
    hook = manifest.get("hook_attributes")
    hook = hook if isinstance(hook, Mapping) else {}
    granted = manifest.get("default_permissions")
    granted = granted if isinstance(granted, Mapping) else {}
    permissions = ", ".join(f"{name}: {level}" for name, level in granted.items())
    events = ", ".join(str(event) for event in manifest.get("default_events") or []) or "none"
    return _PAGE.format(
        title="Create the GitHub App",
        body=(
            f"<h1>Create the GitHub App “{html.escape(str(manifest.get('name', '')))}”</h1>"
            f"<p>Webhooks go to <code>{html.escape(str(hook.get('url', '')))}</code>.<br>"
            f"Permissions: {html.escape(permissions or 'none')}.<br>"
            f"Events: {html.escape(events)}.</p>"
            f'<form id="manifest-form" method="post" action="{html.escape(action)}">'
            '<input type="hidden" name="manifest" value="'
            f'{html.escape(json.dumps(manifest, ensure_ascii=False))}">'
            "<button type=submit>Continue on GitHub</button></form>"
            "<script>document.getElementById('manifest-form').submit()</script>"
        ),
    )


def message_page(title: str, message: str) -> str:
    """A plain local page: the outcome of GitHub's redirect."""
    return _PAGE.format(
        title=html.escape(title),
        body=f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>",
    )


_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    "<title>{title} · Feature Bridge</title>"
    "<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;"
    "padding:0 1rem}}code{{word-break:break-all}}</style></head>"
    "<body>{body}</body></html>"
)


# A dataclass, not a Struct like the other values: only it can keep a field out of repr.
@dataclass(frozen=True, slots=True)
class RegisteredApp:
    """GitHub's answer to the code exchange; the secrets stay out of ``repr``."""

    id: int
    slug: str
    name: str
    html_url: str
    client_id: str
    pem: str = field(repr=False)
    webhook_secret: str | None = field(repr=False)
    client_secret: str = field(repr=False)

    @classmethod
    def from_conversion(cls, body: Any) -> RegisteredApp:
        """Read ``POST /app-manifests/{code}/conversions``'s 201 answer."""
        if not isinstance(body, dict):
            raise ManifestError("GitHub's answer is not a JSON object")
        wanted = {"id": int, "slug": str, "name": str, "html_url": str, "pem": str}
        wanted |= {"client_id": str, "client_secret": str}
        bad = [key for key, kind in wanted.items() if not isinstance(body.get(key), kind)]
        if not isinstance(body.get("webhook_secret"), str | None):
            bad.append("webhook_secret")
        if bad:
            raise ManifestError(f"GitHub's answer lacks {', '.join(bad)}")
        return cls(
            id=body["id"],
            slug=body["slug"],
            name=body["name"],
            html_url=body["html_url"],
            client_id=body["client_id"],
            pem=body["pem"].replace("\r\n", "\n"),
            webhook_secret=body["webhook_secret"] or None,
            client_secret=body["client_secret"],
        )


def env_values(app: RegisteredApp, api_url: str) -> dict[str, str]:
    """What ``featurebridge.env`` holds for ``serve`` (and ``Settings.from_env``)."""
    values = {
        "GITHUB_APP_ID": str(app.id),
        "GITHUB_APP_SLUG": app.slug,
        "GITHUB_APP_PRIVATE_KEY": app.pem,
    }
    if app.webhook_secret:
        values["GITHUB_WEBHOOK_SECRET"] = app.webhook_secret
    if api_url.rstrip("/") != DEFAULT_API_URL:
        values["GITHUB_API_URL"] = api_url.rstrip("/")
    return values


def env_file_text(values: Mapping[str, str]) -> str:
    """``KEY="value"`` lines, newlines as ``\\n``: what ``bridge.settings.read_env_file`` reads."""
    lines = [
        "# Written by `featurebridge register`: the GitHub App's credentials.",
        "# Secret: keep it private (mode 0600) and out of version control.",
    ]
    for key, value in values.items():
        if _CONTROL.search(value):
            raise ManifestError(f"{key} holds control characters; refusing to write it")
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        lines.append(f'{key}="{escaped}"')
    return "\n".join(lines) + "\n"


def install_url(app: RegisteredApp) -> str:
    """Where the owner installs the App on repositories."""
    return f"{app.html_url.rstrip('/')}/installations/new"


def deployment_hints(app: RegisteredApp, env_path: Path) -> str:
    """Commands that move the secrets into SSM for lambda/template.yaml, reading them
    from ``env_path`` at run time: the secrets themselves are never printed."""
    env = shlex.quote(str(env_path))

    def extract(key: str) -> str:
        return f"printf '%b' \"$(sed -n 's/^{key}=\"\\(.*\\)\"$/\\1/p' {env})\""

    put = "aws ssm put-parameter --type SecureString --overwrite --name"
    lines = [
        "  (",
        "    set -eu; umask 077; tmp=$(mktemp -d); trap 'rm -rf \"$tmp\"' EXIT",
        f'    {extract("GITHUB_APP_PRIVATE_KEY")} > "$tmp/key.pem"',
        f'    {put} {SSM_PATH}/{SSM_PRIVATE_KEY} --value "file://$tmp/key.pem"',
    ]
    if app.webhook_secret:
        lines += [
            f'    {extract("GITHUB_WEBHOOK_SECRET")} > "$tmp/webhook-secret"',
            f'    {put} {SSM_PATH}/{SSM_WEBHOOK_SECRET} --value "file://$tmp/webhook-secret"',
        ]
    lines += [
        "  )",
        "  sam deploy --guided --template-file lambda/template.yaml "
        f"--parameter-overrides GitHubAppId={app.id}",
    ]
    return "\n".join(lines)
