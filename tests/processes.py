"""Running ``featurebridge`` as a real process, and talking to it over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

FEATUREBRIDGE = Path(sys.executable).parent / "featurebridge"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The test's environment without any GitHub or Feature Bridge settings of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FEATUREBRIDGE_"))}
    env.update({"FEATUREBRIDGE_ENV_FILE": str(tmp_path / "none.env"), **extra})
    return env


def http(
    method: str,
    url: str,
    body: dict[str, Any] | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request; returns the status and the decoded JSON answer."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def start_serve(tmp_path: Path, port: int, **env: str) -> subprocess.Popen[bytes]:
    """Start ``featurebridge serve`` in ``tmp_path`` and wait until it answers."""
    process = subprocess.Popen(
        [str(FEATUREBRIDGE), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            http("GET", f"http://127.0.0.1:{port}/healthz")
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("featurebridge serve did not start")


def wait_for(condition: Callable[[], object], timeout: float = 20.0) -> bool:
    """Poll ``condition`` every 0.1 s until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
