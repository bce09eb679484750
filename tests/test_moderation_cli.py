"""``featurebridge moderate``: the review queue from a terminal."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace

from bridge.cli import main
from bridge.domain import Hold, OperatorAction, Source, Submission, SubmissionContent
from bridge.stores.sqlite import SQLiteStore
from bridge.timeutil import utcnow

CONFIG = """
[[apps]]
id = "demo"
name = "Demo"
repo = "acme/demo"
labels = ["feature-request"]
"""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SQLiteStore:
    (tmp_path / "featurebridge.toml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.setenv("FEATUREBRIDGE_CONFIG", str(tmp_path / "featurebridge.toml"))
    monkeypatch.setenv("FEATUREBRIDGE_STORE", f"sqlite:///{tmp_path / 'index.db'}")
    monkeypatch.setenv("FEATUREBRIDGE_ENV_FILE", str(tmp_path / "absent.env"))
    index = SQLiteStore(tmp_path / "index.db")
    now = utcnow()
    for n, (sid, title) in enumerate(
        (("a" * 32, "Casino bonus"), ("b" * 32, "Dark mode"), ("c" * 32, "CASINO again"))
    ):
        index.create_submission(
            Submission(
                id=sid,
                app="demo",
                source=Source.WIDGET,
                content=SubmissionContent(title=title, email="ada@example.com"),
                created_at=now + timedelta(seconds=n),
                hold=Hold.HELD,
                signals=("blocked_word",) if "asino" in title else ("too_fast",),
            ),
            idempotency=None,
            now=now,
        )
    return index


def test_list_shows_the_queue_oldest_first_without_the_person(
    store: SQLiteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["moderate", "list", "--app", "demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["a" * 32, "b" * 32, "c" * 32]
    assert "blocked_word" in lines[0]
    assert "ada@example.com" not in "\n".join(lines)
    assert main(["moderate", "list", "--app", "demo", "--state", "rejected"]) == 0
    assert "no rejected submissions" in capsys.readouterr().out


def test_approve_by_id_records_the_cli_and_the_reason(
    store: SQLiteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    sid = "b" * 32
    assert main(["moderate", "approve", sid, "--app", "demo", "--reason", "fine"]) == 0
    assert "approved" in capsys.readouterr().out
    approved = store.get_submission(sid)
    assert approved is not None
    assert approved.hold is None
    assert [(d.action, d.by, d.reason) for d in approved.decisions] == [
        (OperatorAction.APPROVE, "cli", "fine")
    ]
    assert approved.may_be_sent
    assert main(["moderate", "approve", sid, "--app", "demo"]) == 0  # a repeat
    again = store.get_submission(sid)
    assert again is not None
    assert len(again.decisions) == 1


def test_reject_all_matching_with_a_dry_run_first(
    store: SQLiteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["moderate", "reject", "--app", "demo", "--all-matching", "casino"]
    assert main([*args, "--dry-run"]) == 0
    assert "would reject 2 submission(s)" in capsys.readouterr().out
    assert store.get_submission("a" * 32).hold is Hold.HELD  # type: ignore[union-attr]
    assert main(args) == 0
    assert capsys.readouterr().out.count("rejected") == 2
    holds = {sid: store.get_submission(sid).hold for sid in ("a" * 32, "b" * 32, "c" * 32)}  # type: ignore[union-attr]
    assert holds == {"a" * 32: Hold.REJECTED, "b" * 32: Hold.HELD, "c" * 32: Hold.REJECTED}


def test_mistakes_are_usage_errors_or_problems(
    store: SQLiteStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["moderate", "approve", "--app", "demo"]) == 2
    assert main(["moderate", "approve", "a" * 32, "--app", "demo", "--all-matching", "x"]) == 2
    assert main(["moderate", "list", "--app", "nope"]) == 2
    assert main(["moderate", "approve", "f" * 32, "--app", "demo"]) == 1
    assert "no such submission" in capsys.readouterr().out
    plain = replace(store.get_submission("b" * 32), id="d" * 32, hold=None)  # type: ignore[type-var]
    store.create_submission(plain, idempotency=None, now=utcnow())
    assert main(["moderate", "reject", "d" * 32, "--app", "demo"]) == 1
    assert "only a held submission" in capsys.readouterr().out
