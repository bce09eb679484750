"""Golden files: compare rendered text with its file, or rewrite it with UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
from pathlib import Path


def assert_golden(path: Path, rendered: str) -> None:
    """``rendered`` equals ``path`` byte for byte (regenerated when UPDATE_GOLDEN=1)."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered.encode("utf-8"))
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1"
    assert rendered == path.read_bytes().decode("utf-8")
