"""Closing as duplicate moves bridge voters to the original, once, within the app."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bridge.app import build_runtime
from bridge.domain import Status, Vote
from bridge.duplicates import MERGE_DUPLICATE, merge_duplicate
from bridge.jobs import run_job
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.stores.sqlite import SQLiteStore
from bridge.sync import sync_all
from github_app.client import GitHubIssueTracker
from tests.fakes import RecordingQueue
from tests.github_double import GitHubDouble

LABELS = ["feature-request", "app:mobile"]


@pytest.fixture
def rt(
    make_settings: Callable[..., Settings], tmp_path: Path, github_tracker: GitHubIssueTracker
) -> Runtime:
    return build_runtime(
        make_settings(GITHUB_WEBHOOK_SECRET="s"),
        store=SQLiteStore(tmp_path / "d.db"),
        tracker=github_tracker,
        queue=RecordingQueue(),
    )


def setup_pair(rt: Runtime, double: GitHubDouble) -> tuple[int, int]:
    original = double.add_issue("acme/mobile", "Dark mode", labels=LABELS, thumbs_up=2)["number"]
    duplicate = double.add_issue("acme/mobile", "Night theme", labels=LABELS, thumbs_up=3)["number"]
    sync_all(rt)
    for voter in ("a", "b", "c"):
        rt.store.add_vote(Vote("mobile", duplicate, voter, rt.clock()))
    for voter in ("c", "d"):
        rt.store.add_vote(Vote("mobile", original, voter, rt.clock()))
    return original, duplicate


def test_duplicate_voters_move_once_and_thumbs_stay(
    rt: Runtime, github_double: GitHubDouble
) -> None:
    original, duplicate = setup_pair(rt, github_double)
    github_double.close_issue(
        "acme/mobile", duplicate, state_reason="duplicate", duplicate_of=original
    )
    [report] = sync_all(rt, app_id="mobile")
    assert duplicate in report.updated
    assert isinstance(rt.queue, RecordingQueue)
    [job] = [job for job in rt.queue.jobs if job.kind == MERGE_DUPLICATE]
    run_job(rt, job)
    moved_from = rt.store.get_request("mobile", duplicate)
    moved_to = rt.store.get_request("mobile", original)
    assert moved_from is not None
    assert moved_to is not None
    assert (moved_from.status, moved_from.duplicate_of, moved_from.bridge_votes) == (
        Status.DUPLICATE,
        original,
        0,
    )
    assert moved_from.github_thumbs_up == 3
    assert (moved_to.bridge_votes, moved_to.github_thumbs_up) == (4, 2)
    assert rt.store.voted("mobile", "a", [original, duplicate]) == frozenset({original})
    assert merge_duplicate(rt, "mobile", duplicate) == original  # again: nothing more moves
    assert rt.store.get_request("mobile", original).bridge_votes == 4  # type: ignore[union-attr]
    due = {(d.app, d.number) for d in rt.store.due_tallies(now=rt.clock(), limit=10)}
    assert {("mobile", original), ("mobile", duplicate)} <= due


def test_fallback_to_a_duplicate_of_comment(rt: Runtime, github_double: GitHubDouble) -> None:
    original, duplicate = setup_pair(rt, github_double)
    github_double.add_comment(
        "acme/mobile", duplicate, f"Duplicate of #{original}", author_association="MEMBER"
    )
    github_double.close_issue("acme/mobile", duplicate, state_reason="duplicate")
    sync_all(rt)
    assert merge_duplicate(rt, "mobile", duplicate) == original
    assert rt.store.get_request("mobile", original).bridge_votes == 4  # type: ignore[union-attr]


def test_a_duplicate_of_comment_without_write_access_moves_nothing(
    rt: Runtime, github_double: GitHubDouble
) -> None:
    original, duplicate = setup_pair(rt, github_double)
    decoy = github_double.add_issue("acme/mobile", "Decoy", labels=LABELS)["number"]
    for association in ("CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE"):
        github_double.add_comment(
            "acme/mobile", duplicate, f"Duplicate of #{decoy}", author_association=association
        )
    github_double.close_issue("acme/mobile", duplicate, state_reason="duplicate")
    sync_all(rt)
    before = rt.store.get_request("mobile", duplicate).bridge_votes  # type: ignore[union-attr]
    assert merge_duplicate(rt, "mobile", duplicate) is None
    assert rt.store.get_request("mobile", decoy).bridge_votes == 0  # type: ignore[union-attr]
    assert rt.store.get_request("mobile", duplicate).bridge_votes == before  # type: ignore[union-attr]
    github_double.add_comment(
        "acme/mobile", duplicate, f"Duplicate of #{original}", author_association="COLLABORATOR"
    )
    assert merge_duplicate(rt, "mobile", duplicate) == original


def test_never_across_apps(rt: Runtime, github_double: GitHubDouble) -> None:
    original = github_double.add_issue("acme/mobile", "Elsewhere", labels=["feature-request"])[
        "number"
    ]
    duplicate = github_double.add_issue("acme/mobile", "Night theme", labels=LABELS)["number"]
    sync_all(rt)
    rt.store.add_vote(Vote("mobile", duplicate, "a", rt.clock()))
    github_double.close_issue(
        "acme/mobile", duplicate, state_reason="duplicate", duplicate_of=original
    )
    sync_all(rt)
    assert merge_duplicate(rt, "mobile", duplicate) is None
    assert rt.store.get_request("mobile", duplicate).bridge_votes == 1  # type: ignore[union-attr]


def test_closed_as_duplicate_webhook_queues_the_merge(
    rt: Runtime, github_double: GitHubDouble
) -> None:
    import json

    from bridge.app import create_app
    from github_app.webhooks import sign
    from tests.webhook_payloads import issue_payload

    client = create_app(rt.settings, rt).test_client()
    original, duplicate = setup_pair(rt, github_double)
    github_double.close_issue(
        "acme/mobile", duplicate, state_reason="duplicate", duplicate_of=original
    )
    payload = issue_payload("closed", number=duplicate, state="closed", state_reason="duplicate")
    body = json.dumps(payload).encode()
    response = client.post(
        "/github/webhooks",
        data=body,
        content_type="application/json",
        headers={
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": "dup-1",
            "X-Hub-Signature-256": sign(body, "s"),
        },
    )
    assert response.status_code == 200, response.get_json()
    assert isinstance(rt.queue, RecordingQueue)
    [job] = [job for job in rt.queue.jobs if job.kind == MERGE_DUPLICATE]
    assert job.payload == {"app": "mobile", "number": duplicate}
    run_job(rt, job)
    assert rt.store.get_request("mobile", original).bridge_votes == 4  # type: ignore[union-attr]
