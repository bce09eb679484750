"""``featurebridge outbox``: list, cancel and the mistakes an operator can make."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.cli import main
from bridge.domain import Hold, Source, Submission, SubmissionContent
from bridge.stores.sqlite import SQLiteStore
from bridge.timeutil import utcnow

CONFIG = """
[[apps]]
id = "demo"
name = "Demo"
repo = "acme/demo"
labels = ["feature-request"]
"""
SID = "a" * 32


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SQLiteStore:
    (tmp_path / "featurebridge.toml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("FEATUREBRIDGE_CONFIG", str(tmp_path / "featurebridge.toml"))
    monkeypatch.setenv("FEATUREBRIDGE_STORE", f"sqlite:///{tmp_path / 'index.db'}")
    monkeypatch.setenv("FEATUREBRIDGE_ENV_FILE", str(tmp_path / "absent.env"))
    index = SQLiteStore(tmp_path / "index.db")
    content = SubmissionContent(title="Dark mode", email="ada@example.com", name="Ada Lovelace")
    index.create_submission(
        Submission(id=SID, app="demo", source=Source.FORM, content=content, created_at=utcnow()),
        idempotency=None,
        now=utcnow(),
    )
    return index


def test_list_then_cancel_with_a_reason(
    store: SQLiteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox"]) == 0
    listed = capsys.readouterr().out
    assert SID in listed
    assert "pending" in listed
    assert "ada@example.com" not in listed
    assert "Dark mode" not in listed
    assert main(["outbox", "cancel", SID, "--reason", "spam"]) == 0
    assert "cancelled" in capsys.readouterr().out
    cancelled = store.get_submission(SID)
    assert cancelled is not None
    assert cancelled.hold is Hold.CANCELLED
    assert cancelled.decisions[0].by == "cli"
    assert main(["outbox", "--state", "cancelled", "--app", "demo"]) == 0
    assert SID in capsys.readouterr().out
    assert main(["outbox"]) == 0
    assert "no pending submissions" in capsys.readouterr().out


def test_mistakes_are_usage_errors_or_problems(
    store: SQLiteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox", "retry"]) == 2
    assert main(["outbox", "list", SID]) == 2
    assert main(["outbox", "--app", "nope"]) == 2
    assert main(["outbox", "retry", "f" * 32]) == 1
    assert "no such submission" in capsys.readouterr().out
    assert main(["outbox", "cancel", SID]) == 0
    assert main(["outbox", "retry", SID]) == 1
    assert "cancelled" in capsys.readouterr().out
