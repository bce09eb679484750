"""The daily token budget: one UTC day's counter in the index, shared by processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

from bridge.analysis.budget import DailyBudget, next_day, tokens_key, worst_case_tokens
from bridge.analysis.model import AnalysisInput
from bridge.stores.sqlite import SQLiteStore

T0 = datetime(2026, 11, 25, 23, 59, 30, tzinfo=UTC)

SPENDER = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from bridge.analysis.budget import DailyBudget
    from bridge.stores.sqlite import SQLiteStore

    budget = DailyBudget(SQLiteStore(sys.argv[1]), limit=25_000)
    now = datetime.fromisoformat(sys.argv[2])
    granted = sum(budget.reserve(1_000, now) for _ in range(30))
    print(granted)
    """
)


def test_the_budget_holds_across_two_processes(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    SQLiteStore(path).ping()  # migrated before the race
    spenders = [
        subprocess.Popen(
            [sys.executable, "-c", SPENDER, str(path), T0.isoformat()],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    granted = [int(p.communicate(timeout=60)[0]) for p in spenders]
    assert all(p.returncode == 0 for p in spenders)
    assert sum(granted) == 25
    assert DailyBudget(SQLiteStore(path), limit=25_000).used(T0) == 25_000


def test_a_new_utc_day_has_a_whole_budget(tmp_path: Path) -> None:
    budget = DailyBudget(SQLiteStore(tmp_path / "index.db"), limit=1_000)
    assert budget.reserve(1_000, T0)
    assert not budget.reserve(1, T0)
    tomorrow = next_day(T0)
    assert tomorrow == datetime(2026, 11, 26, tzinfo=UTC)
    assert tokens_key(tomorrow) == "analysis-tokens:2026-11-26"
    assert budget.reserve(1_000, tomorrow)


def test_settling_returns_what_a_reservation_did_not_use(tmp_path: Path) -> None:
    budget = DailyBudget(SQLiteStore(tmp_path / "index.db"), limit=10_000)
    assert budget.reserve(4_000, T0)
    budget.settle(4_000, 1_200, T0)
    assert budget.used(T0) == 1_200


def test_the_worst_case_covers_every_attempt_at_the_output_cap() -> None:
    request = AnalysisInput(app_id="a", number=1, title="t" * 30, description="d" * 3000)
    one = worst_case_tokens(request, max_tokens=800, attempts=1)
    assert one >= 3030 // 4 + 800  # more than the prompt at English's ~4 characters a token
    assert worst_case_tokens(request, max_tokens=800, attempts=2) == 2 * one
