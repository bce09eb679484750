"""The quick benchmarks still run to their verdict, on a few rows (``make bench`` runs them big).

A benchmark drives the product's own code, so a change there can break it
without any other test noticing. Each one here exits 0 (goals met) or 1 (a goal
missed, which a handful of rows says nothing about); anything else is a crash.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import clean_env

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize(
    ("script", "args", "last_figure"),
    [
        ("submit.py", ["--count", "10"], "index write transactions per submission"),
        ("store.py", [], "health: outbox_stats"),
        ("export.py", ["--rows", "50", "--repeat", "1"], "goals (each line"),
    ],
)
def test_the_benchmark_runs_to_its_verdict(
    tmp_path: Path, script: str, args: list[str], last_figure: str
) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-3000:]
    assert last_figure in result.stdout
    assert "Traceback" not in result.stderr
