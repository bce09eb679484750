"""Reconciliation against the GitHub double: read budget, repairs, dry run."""

from __future__ import annotations

import math
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.app import build_runtime, create_app
from bridge.commands import run_sync
from bridge.domain import Source, Status
from bridge.ports import ListQuery
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from bridge.sync import sync_all, sync_app
from github_app.client import GitHubIssueTracker
from tests.fakes import RecordingQueue
from tests.github_double import GitHubDouble

LABELS = ["feature-request", "app:mobile"]


@pytest.fixture
def gh_runtime(
    make_settings: Callable[..., Settings], tmp_path: Path, github_tracker: GitHubIssueTracker
) -> Runtime:
    return build_runtime(
        make_settings(),
        store=SQLiteStore(tmp_path / "sync.db"),
        tracker=github_tracker,
        queue=RecordingQueue(),
    )


def test_sync_of_1000_issues_reads_at_most_12_times(
    gh_runtime: Runtime, github_double: GitHubDouble
) -> None:
    for n in range(1000):
        github_double.add_issue("acme/mobile", f"Request {n}", labels=LABELS, thumbs_up=n % 7)
    github_double.add_issue("acme/mobile", "Not a request", labels=["bug"])
    app = gh_runtime.settings.app("mobile")
    assert app is not None
    before = len(github_double.calls)
    report = sync_app(gh_runtime, app)
    used = len(github_double.calls) - before
    assert used <= 12
    assert used == math.ceil(1000 / 100) + 2  # pages, plus installation lookup and token
    assert report.seen == 1000
    assert len(report.added) == 1000
    page = gh_runtime.store.list_requests(ListQuery(app="mobile", limit=3))
    assert [r.github_thumbs_up for r in page.items] == [6, 6, 6]
    assert all(r.source is Source.GITHUB for r in page.items)


def test_status_changed_while_its_webhook_was_lost_is_repaired(
    gh_runtime: Runtime, github_double: GitHubDouble
) -> None:
    first = github_double.add_issue("acme/mobile", "Dark mode", labels=LABELS)
    second = github_double.add_issue("acme/mobile", "Offline", labels=LABELS)
    github_double.add_issue("acme/mobile", "Export", labels=LABELS)
    sync_all(gh_runtime)
    # On GitHub, while no webhook reached the bridge:
    github_double.close_issue("acme/mobile", first["number"], state_reason="not_planned")
    github_double.set_reactions("acme/mobile", second["number"], {"+1": 9})
    github_double.update_issue("acme/mobile", second["number"], labels=[*LABELS, "status: planned"])
    [report] = sync_all(gh_runtime, app_id="mobile")
    assert sorted(report.updated) == sorted([first["number"], second["number"]])
    closed = gh_runtime.store.get_request("mobile", first["number"])
    planned = gh_runtime.store.get_request("mobile", second["number"])
    assert closed is not None
    assert planned is not None
    assert closed.status is Status.DECLINED
    assert closed.closed_at is not None
    assert (planned.status, planned.github_thumbs_up) == (Status.PLANNED, 9)


def test_issue_that_left_the_app_is_removed(
    gh_runtime: Runtime, github_double: GitHubDouble
) -> None:
    issue = github_double.add_issue("acme/mobile", "Dark mode", labels=LABELS)
    sync_all(gh_runtime)
    github_double.update_issue("acme/mobile", issue["number"], labels=["feature-request"])
    [report] = sync_all(gh_runtime, app_id="mobile")
    assert report.removed == [issue["number"]]
    assert gh_runtime.store.get_request("mobile", issue["number"]) is None


def test_sync_keeps_bridge_votes(gh_runtime: Runtime, github_double: GitHubDouble) -> None:
    app = create_app(gh_runtime.settings, gh_runtime)
    response = app.test_client().post("/v1/apps/mobile/requests", json={"title": "Dark mode"})
    assert response.status_code == 201
    number = response.get_json()["number"]
    github_double.set_reactions("acme/mobile", number, {"+1": 2})
    sync_all(gh_runtime)
    request = gh_runtime.store.get_request("mobile", number)
    assert request is not None
    assert (request.bridge_votes, request.github_thumbs_up, request.total_votes) == (1, 2, 3)
    assert request.source is Source.API


def test_dry_run_changes_nothing_and_says_what_it_would(
    gh_runtime: Runtime,
    github_double: GitHubDouble,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    github_double.add_issue("acme/mobile", "Dark mode", labels=LABELS)
    monkeypatch.setattr("bridge.commands.build_runtime", lambda settings: gh_runtime)
    assert run_sync(gh_runtime.settings, app_id="mobile", dry_run=True, out=sys.stdout) == 0
    printed = capsys.readouterr().out
    assert "1 added" in printed
    assert "would add: #1" in printed
    assert gh_runtime.store.get_request("mobile", 1) is None
    assert run_sync(gh_runtime.settings, app_id="mobile", dry_run=False, out=sys.stdout) == 0
    assert gh_runtime.store.get_request("mobile", 1) is not None


def test_sync_command_refuses_unknown_app(
    gh_runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_sync(gh_runtime.settings, app_id="nope", dry_run=False, out=sys.stdout) == 2


def test_sync_endpoint_needs_the_operator_and_queues(gh_runtime: Runtime) -> None:
    client = create_app(gh_runtime.settings, gh_runtime).test_client()
    assert client.post("/v1/sync").status_code == 401
    auth = {"Authorization": "Bearer operator-secret"}
    response = client.post("/v1/sync?app=mobile", headers=auth)
    assert response.status_code == 202
    assert isinstance(gh_runtime.queue, RecordingQueue)
    assert gh_runtime.queue.jobs[-1].payload == {"app": "mobile"}
    assert client.post("/v1/sync?app=nope", headers=auth).status_code == 404


def test_sync_backfills_descriptions_the_index_lacks(
    gh_runtime: Runtime, github_double: GitHubDouble, tmp_path: Path
) -> None:
    issue = github_double.add_issue(
        "acme/mobile", "Night theme", body="Easier on the eyes after sunset", labels=LABELS
    )
    sync_all(gh_runtime)
    indexed = gh_runtime.store.get_request("mobile", issue["number"])
    assert indexed is not None
    # An index from before descriptions were kept: the request without its text.
    with sqlite3.connect(tmp_path / "sync.db") as db:
        db.execute("UPDATE request_text SET description = ''")
    assert gh_runtime.store.similar("mobile", "sunset", "") == []
    [report] = sync_all(gh_runtime, app_id="mobile")
    assert report.updated == [issue["number"]]
    found = gh_runtime.store.similar("mobile", "sunset", "")
    assert [match.request.number for match in found] == [issue["number"]]
    # Once held, an unchanged issue is not written again.
    [again] = sync_all(gh_runtime, app_id="mobile")
    assert again.updated == []
