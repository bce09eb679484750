"""GitHub Projects (v2) boards against the GitHub double (every GraphQL document validated).

Issues go on the app's board in a job after delivery, the board's Status option
comes back through ``projects_v2_item`` webhooks and sync, the Votes field is
written with the tally (once a minute per issue), and doctor judges the board.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bridge.app import build_runtime, create_app
from bridge.boards import ADD_TO_BOARD, BOARD_ITEM, board_problems
from bridge.doctor import check
from bridge.domain import Status, Vote
from bridge.jobs import run_job, write_tallies
from bridge.ports import Job, TrackerError
from bridge.runtime import Runtime
from bridge.settings import ProjectConfig, Settings
from bridge.stores.sqlite import SQLiteStore
from bridge.sync import sync_app
from bridge.tracker_values import BoardShape, ProjectRef
from github_app.client import GitHubIssueTracker
from github_app.webhooks import sign
from tests.fakes import FakeClock, RecordingQueue
from tests.github_double import Fault, GitHubDouble
from tests.github_double.projects import Project
from tests.webhook_payloads import example, issue_payload, validate_payload

SECRET = "webhook-secret"
REPO = "acme/mobile"
LABELS = ["feature-request", "app:mobile"]
BOARD_CONFIG = """
[server]
inline_delivery_seconds = 2

[[apps]]
id = "mobile"
name = "Acme Mobile"
repo = "acme/mobile"
labels = ["feature-request", "app:mobile"]
public = true

[apps.status_labels]
"status: planned" = "planned"

[apps.project]
owner = "acme"
number = 3

[apps.project.status_options]
"Up next" = "planned"

[[apps]]
id = "internal"
name = "Acme Internal"
repo = "acme/internal"
labels = ["feature-request", "app:internal"]
"""
OPTIONS = ["Todo", "Up next", "In Progress", "Done"]


@pytest.fixture
def clock() -> FakeClock:  # type: ignore[override]
    from bridge.timeutil import utcnow

    return FakeClock(utcnow())


@pytest.fixture
def board(github_double: GitHubDouble) -> Project:
    return github_double.add_project("acme", 3, status_options=OPTIONS)


@pytest.fixture
def runtime(  # type: ignore[override]
    make_settings: Callable[..., Settings],
    tmp_path: Path,
    github_tracker: GitHubIssueTracker,
    clock: FakeClock,
    board: Project,
) -> Runtime:
    return build_runtime(
        make_settings(BOARD_CONFIG, GITHUB_WEBHOOK_SECRET=SECRET),
        store=SQLiteStore(tmp_path / "boards.db"),
        tracker=github_tracker,
        queue=RecordingQueue(),
        clock=clock,
    )


@pytest.fixture
def app(runtime: Runtime) -> Iterator[Flask]:  # type: ignore[override]
    flask_app = create_app(runtime.settings, runtime)
    yield flask_app
    flask_app.extensions["featurebridge.inline"].shutdown()


def queued(runtime: Runtime, kind: str | None = None) -> list[Job]:
    jobs: list[Job] = runtime.queue.jobs  # type: ignore[attr-defined]
    return [job for job in jobs if kind is None or job.kind == kind]


def run_queued(runtime: Runtime) -> None:
    jobs: list[Job] = runtime.queue.jobs  # type: ignore[attr-defined]
    while jobs:
        run_job(runtime, jobs.pop(0))


def graphql(double: GitHubDouble, word: str = "") -> list[Any]:
    return [c for c in double.calls if c.path == "/graphql" and word in json.dumps(c.json)]


def submit(client: FlaskClient, title: str = "Dark mode", app_id: str = "mobile") -> int:
    response = client.post(f"/v1/apps/{app_id}/requests", json={"title": title})
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["number"])


def webhook(client: FlaskClient, event: str, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        "/github/webhooks",
        data=body,
        content_type="application/json",
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, SECRET),
        },
    )


def card_payload(
    action: str,
    double: GitHubDouble,
    project: Project,
    *,
    number: int | None = None,
    item_id: str | None = None,
    content_type: str = "Issue",
    field_name: str | None = "Status",
) -> dict[str, Any]:
    """A projects_v2_item payload derived from GitHub's examples, schema-checked."""
    base = {"edited": "edited", "deleted": "archived"}.get(action, action)
    payload = example("projects_v2_item", base, index=-1 if base == "created" else 0)
    payload["action"] = action
    payload["organization"]["login"] = project.owner.login
    item = payload["projects_v2_item"]
    item["project_node_id"] = project.node_id
    item["content_type"] = content_type
    if number is not None:
        item["content_node_id"] = double.issue(REPO, number)["node_id"]
        card = double.project_item(project, REPO, number)
        item["node_id"] = item_id or (card.node_id if card else "PVTI_gone")
    if action in ("created", "edited", "deleted"):
        payload.pop("changes", None)  # archived, restored, converted keep the example's
    if action == "edited":
        payload["changes"] = {"field_value": {"field_node_id": "PVTSSF_x", "field_type": "x"}}
        if field_name is not None:
            payload["changes"]["field_value"].update(
                field_name=field_name, project_number=project.number
            )
    validate_payload("projects-v2-item", action, payload)
    return payload


# ------------------------------------------------------------------ adding issues


def test_new_issue_goes_on_the_board_in_a_job_after_delivery(
    client: FlaskClient, runtime: Runtime, github_double: GitHubDouble, board: Project
) -> None:
    submit(client, "Warm the token up")  # installation lookup and token, once per process
    run_queued(runtime)
    before = len(github_double.calls)
    number = submit(client, "Dark mode")
    assert len(github_double.calls) - before == 1  # the request path: only the issue
    assert github_double.project_item(board, REPO, number) is None
    [job] = queued(runtime, ADD_TO_BOARD)
    before = len(github_double.calls)
    run_queued(runtime)
    card = github_double.project_item(board, REPO, number)
    assert card is not None
    assert github_double.item_value(card, "Votes") == 1  # the submitter's vote
    assert len(github_double.calls) - before == 2  # add the card, set its Votes
    assert len(graphql(github_double, "addProjectV2ItemById")) == 2
    run_job(runtime, job)  # a repeat keeps the one card
    assert [i.content.number for i in board.items] == [1, number]  # type: ignore[union-attr]


def test_a_new_card_waits_for_githubs_content_budget(
    client: FlaskClient, runtime: Runtime, github_double: GitHubDouble, board: Project
) -> None:
    submit(client, "Warm the token up")
    run_queued(runtime)
    number = submit(client, "Dark mode")
    [job] = queued(runtime, ADD_TO_BOARD)
    runtime.queue.jobs.clear()  # type: ignore[attr-defined]
    runtime.queue.delays.clear()  # type: ignore[attr-defined]
    key = runtime.tracker.pacing_key(REPO)
    while runtime.pacer.reserve(key) == 0:
        pass  # new issues and tallies spent this minute's budget
    before = len(github_double.calls)
    run_job(runtime, job)
    assert len(github_double.calls) == before  # nothing sent
    assert github_double.project_item(board, REPO, number) is None
    assert queued(runtime) == [job]  # the same card, again once its slot opens
    assert runtime.queue.delays[0] > 0  # type: ignore[attr-defined]


def test_app_without_a_board_spends_one_request_and_queues_nothing(
    client: FlaskClient, runtime: Runtime, github_double: GitHubDouble
) -> None:
    submit(client, "Warm", app_id="internal")
    before = len(github_double.calls)
    submit(client, "Export", app_id="internal")
    assert len(github_double.calls) - before == 1
    assert queued(runtime) == []
    assert graphql(github_double) == []


def test_issue_opened_on_github_joins_the_board(
    client: FlaskClient, runtime: Runtime, github_double: GitHubDouble, board: Project
) -> None:
    issue = github_double.add_issue(REPO, "From GitHub", labels=LABELS)
    payload = issue_payload("opened", number=issue["number"])
    payload["issue"]["node_id"] = issue["node_id"]
    assert webhook(client, "issues", payload).status_code == 200
    assert [job.kind for job in queued(runtime)] == [ADD_TO_BOARD]
    run_queued(runtime)
    card = github_double.project_item(board, REPO, issue["number"])
    assert card is not None
    assert github_double.item_value(card, "Votes") == 0


# ------------------------------------------------------------------ Status from the board


def test_status_follows_the_board_through_webhooks(
    client: FlaskClient, runtime: Runtime, github_double: GitHubDouble, board: Project
) -> None:
    number = submit(client)
    run_queued(runtime)
    github_double.set_item_status(board, REPO, number, "In Progress")
    response = webhook(
        client, "projects_v2_item", card_payload("edited", github_double, board, number=number)
    )
    assert response.status_code == 200
    assert runtime.store.get_request("mobile", number).status is Status.OPEN  # type: ignore[union-attr]
    assert [job.kind for job in queued(runtime)] == [BOARD_ITEM]
    before = len(github_double.calls)
    run_queued(runtime)
    assert len(github_double.calls) - before == 1  # one GraphQL read resolves the node ids
    indexed = runtime.store.get_request("mobile", number)
    assert indexed is not None
    assert (indexed.status, indexed.board_option) == (Status.IN_PROGRESS, "In Progress")
    assert client.get(f"/v1/apps/mobile/requests/{number}").get_json()["status"] == "in_progress"

    github_double.set_item_status(board, REPO, number, "Up next")  # mapped in the config
    webhook(client, "projects_v2_item", card_payload("edited", github_double, board, number=number))
    run_queued(runtime)
    assert runtime.store.get_request("mobile", number).status is Status.PLANNED  # type: ignore[union-attr]

    item = github_double.project_item(board, REPO, number)
    assert item is not None
    github_double.set_item_archived(item)
    webhook(
        client, "projects_v2_item", card_payload("archived", github_double, board, number=number)
    )
    run_queued(runtime)
    off = runtime.store.get_request("mobile", number)
    assert off is not None
    assert (off.status, off.board_option) == (Status.OPEN, None)

    github_double.set_item_archived(item, archived=False)
    webhook(
        client, "projects_v2_item", card_payload("restored", github_double, board, number=number)
    )
    run_queued(runtime)
    assert runtime.store.get_request("mobile", number).status is Status.PLANNED  # type: ignore[union-attr]

    deleted = card_payload("deleted", github_double, board, number=number)
    github_double.delete_project_item(item)
    webhook(client, "projects_v2_item", deleted)
    run_queued(runtime)
    assert runtime.store.get_request("mobile", number).board_option is None  # type: ignore[union-attr]


def test_closed_wins_over_the_board_and_the_board_over_labels(
    client: FlaskClient, runtime: Runtime, github_double: GitHubDouble, board: Project
) -> None:
    number = submit(client)
    run_queued(runtime)
    github_double.set_item_status(board, REPO, number, "In Progress")
    webhook(client, "projects_v2_item", card_payload("edited", github_double, board, number=number))
    run_queued(runtime)

    def status_after(payload: dict[str, Any]) -> Status:
        assert webhook(client, "issues", payload).status_code == 200
        request = runtime.store.get_request("mobile", number)
        assert request is not None
        return request.status

    planned_label = (*LABELS, "status: planned")
    github_double.update_issue(REPO, number, labels=list(planned_label))  # as the payloads say
    assert status_after(issue_payload("labeled", number=number, labels=planned_label)) is (
        Status.IN_PROGRESS  # the board's option wins over the status label
    )
    closed = issue_payload(
        "closed", number=number, labels=planned_label, state="closed", state_reason="not_planned"
    )
    assert status_after(closed) is Status.DECLINED  # a closed issue's reason wins
    reopened = issue_payload(
        "reopened", number=number, labels=planned_label, state_reason="reopened"
    )
    assert status_after(reopened) is Status.IN_PROGRESS  # the index remembered the option
    github_double.set_item_status(board, REPO, number, None)  # no Status on the card
    webhook(client, "projects_v2_item", card_payload("edited", github_double, board, number=number))
    run_queued(runtime)
    assert runtime.store.get_request("mobile", number).status is Status.PLANNED  # type: ignore[union-attr]


def test_drafts_pull_requests_and_other_fields_are_ignored(
    client: FlaskClient, runtime: Runtime, github_double: GitHubDouble, board: Project
) -> None:
    github_double.add_draft_item(board, "Idea")
    pull = github_double.add_pull_request(REPO, "A fix")
    github_double.add_project_item(board, REPO, pull["number"])
    for payload in (
        card_payload("created", github_double, board, content_type="DraftIssue"),
        card_payload("edited", github_double, board, content_type="DraftIssue"),
        card_payload("converted", github_double, board, content_type="PullRequest"),
        card_payload("edited", github_double, board, number=pull["number"], field_name="Votes"),
    ):
        response = webhook(client, "projects_v2_item", payload)
        assert response.status_code == 200, response.get_json()
    assert queued(runtime) == []
    # A pull request that slips through (content_type says Issue) is read, then ignored.
    slipped = card_payload("edited", github_double, board, number=pull["number"])
    webhook(client, "projects_v2_item", slipped)
    run_queued(runtime)
    assert runtime.store.get_request("mobile", pull["number"]) is None
    assert graphql(github_double, "ProjectV2Item")  # the read happened, and answered


# ------------------------------------------------------------------ Votes


def test_votes_field_is_written_once_per_burst(
    client: FlaskClient,
    runtime: Runtime,
    github_double: GitHubDouble,
    board: Project,
    clock: FakeClock,
) -> None:
    number = submit(client)
    run_queued(runtime)  # on the board with Votes 1; the tally's minute starts
    writes = lambda: len(graphql(github_double, "updateProjectV2ItemFieldValue"))  # noqa: E731
    assert writes() == 1
    for n in range(10):
        clock.advance(1)
        runtime.store.add_vote(Vote("mobile", number, f"user-{n}", clock()))
        write_tallies(runtime)
    assert writes() == 1  # the burst waits for the minute
    clock.advance(60)
    write_tallies(runtime)
    write_tallies(runtime)
    card = github_double.project_item(board, REPO, number)
    assert card is not None
    assert (writes(), github_double.item_value(card, "Votes")) == (2, 11)
    for n in range(10, 15):
        clock.advance(5)
        runtime.store.add_vote(Vote("mobile", number, f"user-{n}", clock()))
        write_tallies(runtime)
    assert writes() == 2
    clock.advance(60)
    write_tallies(runtime)
    assert (writes(), github_double.item_value(card, "Votes")) == (3, 16)
    clock.advance(600)
    write_tallies(runtime)
    assert writes() == 3  # nothing new: nothing written


def test_votes_of_an_issue_off_the_board_only_reach_the_comment(
    client: FlaskClient,
    runtime: Runtime,
    github_double: GitHubDouble,
    board: Project,
    clock: FakeClock,
) -> None:
    number = submit(client)
    queued(runtime).clear()  # the add-to-board job is lost: the issue never reaches the board
    runtime.store.add_vote(Vote("mobile", number, "user-1", clock()))
    write_tallies(runtime)
    assert "**2 votes**" in github_double.comments(REPO, number)[0]["body"]
    assert graphql(github_double, "updateProjectV2ItemFieldValue") == []
    assert github_double.project_item(board, REPO, number) is None


# ------------------------------------------------------------------ sync


def test_board_sync_reads_ceil_n_over_100_pages(
    runtime: Runtime, github_double: GitHubDouble, board: Project
) -> None:
    total = 248
    for n in range(total):
        github_double.add_issue(REPO, f"Request {n}", labels=LABELS)
        github_double.set_item_status(board, REPO, n + 1, OPTIONS[n % 4])
    github_double.add_draft_item(board)
    pull = github_double.add_pull_request(REPO, "A fix")
    github_double.add_project_item(board, REPO, pull["number"])  # 250 cards
    app = runtime.settings.app("mobile")
    assert app is not None
    before = len(github_double.calls)
    report = sync_app(runtime, app)
    calls = github_double.calls[before:]
    reads = [c for c in calls if c.path == "/graphql"]
    assert len(reads) == math.ceil(250 / 100) == 3
    assert len(calls) == 3 + math.ceil(total / 100) + 2  # + REST pages + installation, token
    assert len(report.added) == total
    statuses = {
        n: runtime.store.get_request("mobile", n).status  # type: ignore[union-attr]
        for n in (1, 2, 3, 4)
    }
    assert statuses == {
        1: Status.OPEN,
        2: Status.PLANNED,
        3: Status.IN_PROGRESS,
        4: Status.COMPLETED,
    }
    # A move on the board whose webhook was lost is repaired by the next sync.
    github_double.set_item_status(board, REPO, 1, "Done")
    item = github_double.project_item(board, REPO, 2)
    assert item is not None
    github_double.delete_project_item(item)
    report = sync_app(runtime, app)
    assert sorted(report.updated) == [1, 2]
    assert runtime.store.get_request("mobile", 1).status is Status.COMPLETED  # type: ignore[union-attr]
    off = runtime.store.get_request("mobile", 2)
    assert off is not None
    assert (off.status, off.board_option) == (Status.OPEN, None)


# ------------------------------------------------------------------ doctor


def doctor(make_settings: Callable[..., Settings], double: GitHubDouble, owner: str) -> list[str]:
    config = BOARD_CONFIG.replace('owner = "acme"', f'owner = "{owner}"')
    with double.serve() as base_url:
        settings = make_settings(
            config,
            GITHUB_API_URL=base_url,
            GITHUB_APP_ID=str(double.app_id),
            GITHUB_APP_PRIVATE_KEY=double.private_key_pem,
        )
        findings = check(settings)
    return [
        f"{'ok' if f.ok else 'FIX'} {f.detail}" for f in findings if f.subject.endswith("board")
    ]


def test_doctor_on_a_user_owned_board(
    make_settings: Callable[..., Settings], github_double: GitHubDouble
) -> None:
    github_double.add_installation("acme", repos=[REPO, "acme/internal"])
    github_double.add_project("alice", 3, org=False)
    [finding] = doctor(make_settings, github_double, "alice")
    assert finding.startswith("FIX board alice/3: alice is a user account")
    assert "cannot reach user-owned boards" in finding
    assert "organization" in finding
    [missing] = doctor(make_settings, github_double, "nobody")
    assert "no organization 'nobody'" in missing


def test_doctor_on_a_board_missing_fields(
    make_settings: Callable[..., Settings], github_double: GitHubDouble
) -> None:
    github_double.add_installation("acme", repos=[REPO, "acme/internal"])
    github_double.add_project(
        "acme", 3, status_options=["Todo", "Up next", "Blocked", "Done"], votes_field=False
    )
    findings = doctor(make_settings, github_double, "acme")
    assert len(findings) == 2
    unmapped, votes = findings
    assert unmapped.startswith("FIX board acme/3: Status option(s) 'Blocked' map to no status")
    assert '[apps.project.status_options], e.g. "Blocked" = "planned"' in unmapped
    assert votes == (
        "FIX board acme/3 has no Votes field: in the project, + New field → Number → name it Votes"
    )


def test_doctor_on_a_healthy_board_and_a_missing_project(
    make_settings: Callable[..., Settings], github_double: GitHubDouble
) -> None:
    github_double.add_installation("acme", repos=[REPO, "acme/internal"])
    assert doctor(make_settings, github_double, "acme") == [
        "FIX board acme/3: organization acme has no project 3 the App can see: check"
        " [apps.project] number against the project's URL (github.com/orgs/acme/projects/N)"
        " and give the App the Organization projects (read and write) permission, accepted"
        " on the installation"
    ]
    github_double.add_project("acme", 3, status_options=OPTIONS)
    assert doctor(make_settings, github_double, "acme") == [
        "ok board acme/3: Status mapped, Votes field present"
    ]


def test_board_problems_rule() -> None:
    project = ProjectConfig(owner="acme", number=3, status_options={"Gone": Status.PLANNED})
    shape = BoardShape(
        owner="organization",
        found=True,
        status_type="TEXT",
        status_options=(),
        votes_type="TEXT",
    )
    text, votes = board_problems(project, shape)
    assert "Status field is a text field, not single select" in text
    assert "Votes field is a text field, not a number" in votes
    shape = BoardShape(
        owner="organization",
        found=True,
        status_type="SINGLE_SELECT",
        status_options=("Todo", "Done"),
        votes_type="NUMBER",
    )
    [stale] = board_problems(project, shape)
    assert "'Gone' that the Status field does not have" in stale


def test_adding_by_number_reads_the_node_id_and_rate_limits_are_retried_later(
    runtime: Runtime, github_double: GitHubDouble, board: Project
) -> None:
    issue = github_double.add_issue(REPO, "Born on GitHub", labels=LABELS)
    project = ProjectRef("acme", 3)
    card_id = runtime.tracker.add_to_board(project, REPO, issue["number"])  # no node id: read it
    card = github_double.project_item(board, REPO, issue["number"])
    assert card is not None
    assert card.node_id == card_id
    assert github_double.item_value(card, "Votes") is None  # no votes given, none written
    github_double.faults.add(Fault(method="POST", path="/graphql", kind="primary_rate_limit"))
    with pytest.raises(TrackerError) as limited:
        runtime.tracker.set_board_votes(project, REPO, issue["number"], 3)
    assert limited.value.retry_after is not None
    assert limited.value.retry_after > 0
    assert runtime.tracker.set_board_votes(project, REPO, issue["number"], 3)
    assert github_double.item_value(card, "Votes") == 3
    other = github_double.add_issue(REPO, "Not on the board", labels=LABELS)
    assert not runtime.tracker.set_board_votes(project, REPO, other["number"], 3)


def test_boards_out_of_the_apps_reach_are_refused(
    runtime: Runtime, github_double: GitHubDouble
) -> None:
    github_double.add_issue(REPO, "Dark mode", labels=LABELS)
    github_double.add_project("alice", 1, org=False)  # user-owned: App tokens cannot reach it
    github_double.add_project("other", 1)  # an organization the App is not installed on
    for owner in ("alice", "other"):
        with pytest.raises(TrackerError, match=f"could not read board {owner}/1"):
            runtime.tracker.add_to_board(ProjectRef(owner, 1), REPO, 1)
    assert github_double.projects.projects[("alice", 1)].items == []
