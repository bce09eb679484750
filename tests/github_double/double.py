"""``GitHubDouble``: the façade tests hold — seeding, inspection, transports."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tests.github_double import graphql_api, shapes
from tests.github_double.auth import Credentials, app_private_key_pem
from tests.github_double.faults import FaultPlan
from tests.github_double.openapi import description
from tests.github_double.projects import Boards, BoardSeeding
from tests.github_double.server import InProcessTransport, serve
from tests.github_double.state import REACTIONS, Issue, Repo, World, utc_now
from tests.github_double.wsgi import Call, DoubleApp

APP_PERMISSIONS = {"issues": "write", "metadata": "read", "organization_projects": "write"}
APP_EVENTS = ["issues", "issue_comment", "projects_v2_item"]


class GitHubDouble(BoardSeeding):
    """An in-memory GitHub (REST + GraphQL) for one test.

    Cheap to create: the API description, GraphQL schema and App key are loaded once
    per process on first use. ``now`` steers the timestamps of records (not token
    expiry, which follows the wall clock like the JWTs clients sign).
    """

    def __init__(
        self,
        *,
        app_id: int = 424242,
        app_slug: str = "featurebridge",
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.world = World(now)
        self.app_id = app_id
        self.app = shapes.AppInfo(
            id=app_id,
            slug=app_slug,
            name="Feature Bridge",
            owner=self.world.user("featurebridge-dev", "Organization"),
            bot=self.world.user(f"{app_slug}[bot]", "Bot"),
            created_at=datetime(2024, 1, 1, tzinfo=UTC),
            permissions=dict(APP_PERMISSIONS),
            events=list(APP_EVENTS),
        )
        self.credentials = Credentials(app_id)
        self.faults = FaultPlan()
        self.calls: list[Call] = []
        self.violations: list[str] = []
        # Root GraphQL fields: name -> fn(info, **args). Features add theirs here.
        self.graphql_resolvers: dict[str, graphql_api.Resolver] = graphql_api.default_resolvers()
        # Projects (v2) boards: seeded through BoardSeeding, served over GraphQL.
        self.projects = Boards(self.world)
        self.graphql_resolvers.update(self.projects.resolvers())
        # Manifest-flow codes not yet traded: code -> the manifest posted to GitHub (or None).
        self.manifest_codes: dict[str, dict[str, Any] | None] = {}
        self.wsgi_app = DoubleApp(self)
        self._record_lock = threading.Lock()
        self._transport: InProcessTransport | None = None

    # ------------------------------------------------------------------ reaching it

    @property
    def private_key_pem(self) -> str:
        """PEM of the App's RSA private key (one key per process)."""
        return app_private_key_pem()

    @property
    def transport(self) -> InProcessTransport:
        """An httpx transport serving the double in this thread."""
        if self._transport is None:
            self._transport = InProcessTransport(self.wsgi_app)
        return self._transport

    def serve(self) -> contextlib.AbstractContextManager[str]:
        """Serve the double over loopback HTTP; the context yields its base URL."""
        return serve(self.wsgi_app)

    # ------------------------------------------------------------------ access

    def add_installation(self, account: str, repos: Iterable[str]) -> int:
        """Install the App on ``account`` for ``repos`` (created); the installation id."""
        with self.world.lock:
            return self.world.add_installation(account, repos).id

    def add_token(self, token: str, repos: Iterable[str], *, login: str = "octocat") -> None:
        """Accept a personal or ``GITHUB_TOKEN``-style token for ``repos`` (created)."""
        with self.world.lock:
            names = [self.world.add_repo(r).full_name for r in repos]
            actor = self.world.user(login, "Bot" if login.endswith("[bot]") else "User")
        self.credentials.add_token(token, actor, names)

    def expire_tokens(self, token: str | None = None) -> None:
        """Expire ``token``, or every installation token issued so far."""
        self.credentials.expire(token)

    def add_manifest_code(self, code: str, manifest: Mapping[str, Any] | None = None) -> None:
        """Accept ``code`` once at ``POST /app-manifests/{code}/conversions``, as if a user
        had posted ``manifest`` to GitHub's new-App page; the App created is this double's."""
        with self.world.lock:
            self.manifest_codes[code] = None if manifest is None else dict(manifest)

    # ------------------------------------------------------------------ seeding

    def add_repo(self, full_name: str) -> dict[str, Any]:
        """Create the repository ``owner/name`` (no one may reach it until granted)."""
        with self.world.lock:
            return shapes.repo_json(self.world.add_repo(full_name))

    def add_label(
        self, repo: str, name: str, color: str = "ededed", description: str | None = None
    ) -> dict[str, Any]:
        """Create a label in ``repo``."""
        with self.world.lock:
            r = self._repo(repo)
            return shapes.label_json(r, self.world.create_label(r, name, color, description))

    def add_issue(
        self,
        repo: str,
        title: str,
        body: str | None = "",
        labels: Iterable[str] = (),
        state: str = "open",
        state_reason: str | None = None,
        thumbs_up: int = 0,
        user_login: str = "octocat",
        created_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Seed an issue born on GitHub (by a human, unless ``user_login`` says otherwise)."""
        with self.world.lock:
            r = self._repo(repo)
            issue = self.world.create_issue(
                r,
                title=title,
                body=body,
                user=self.world.user(user_login),
                labels=labels,
                created_at=created_at,
            )
            issue.reactions["+1"] = thumbs_up
            if state == "closed":
                self.world.update_issue(
                    r, issue, {"state": "closed", "state_reason": state_reason}, issue.user
                )
            return shapes.issue_json(r, issue, self.app)

    def add_pull_request(
        self, repo: str, title: str, user_login: str = "octocat"
    ) -> dict[str, Any]:
        """Seed a pull request: it takes the next issue number and shows in issue lists."""
        with self.world.lock:
            r = self._repo(repo)
            issue = self.world.create_issue(
                r, title=title, body="", user=self.world.user(user_login), is_pull_request=True
            )
            return shapes.issue_json(r, issue, self.app)

    def add_comment(
        self,
        repo: str,
        number: int,
        body: str,
        user_login: str = "octocat",
        author_association: str = "",
    ) -> dict[str, Any]:
        """Seed a comment by a human on issue ``number`` (a stranger to the repo unless
        ``author_association`` says OWNER, MEMBER, COLLABORATOR...)."""
        with self.world.lock:
            r = self._repo(repo)
            comment = self.world.add_comment(
                self._issue(r, number),
                body,
                self.world.user(user_login),
                author_association=author_association,
            )
            return shapes.comment_json(r, comment, self.app)

    def set_reactions(self, repo: str, number: int, counts: Mapping[str, int]) -> dict[str, Any]:
        """Set reaction counts (``{"+1": 5}``) on an issue; like GitHub, no webhook, no
        ``updated_at`` change."""
        unknown = set(counts) - set(REACTIONS)
        if unknown:
            raise ValueError(f"unknown reactions {sorted(unknown)}; use {REACTIONS}")
        with self.world.lock:
            r = self._repo(repo)
            issue = self._issue(r, number)
            issue.reactions.update(counts)
            return shapes.issue_json(r, issue, self.app)

    def update_issue(
        self, repo: str, number: int, *, by: str = "octocat", **changes: Any
    ) -> dict[str, Any]:
        """Edit an issue as a maintainer on GitHub would (same fields as REST PATCH)."""
        with self.world.lock:
            r = self._repo(repo)
            issue = self._issue(r, number)
            self.world.update_issue(r, issue, changes, self.world.user(by))
            return shapes.issue_json(r, issue, self.app)

    def close_issue(
        self,
        repo: str,
        number: int,
        state_reason: str = "completed",
        duplicate_of: int | None = None,
        by: str = "octocat",
    ) -> dict[str, Any]:
        """Close an issue on GitHub; ``duplicate_of`` is the number of the canonical issue."""
        changes: dict[str, Any] = {"state": "closed", "state_reason": state_reason}
        if duplicate_of is not None:
            with self.world.lock:
                changes["duplicate_issue_id"] = self._issue(self._repo(repo), duplicate_of).id
        return self.update_issue(repo, number, by=by, **changes)

    def reopen_issue(self, repo: str, number: int, by: str = "octocat") -> dict[str, Any]:
        """Reopen an issue on GitHub."""
        return self.update_issue(repo, number, by=by, state="open")

    # ------------------------------------------------------------------ inspection

    def issues(self, repo: str) -> list[dict[str, Any]]:
        """Every issue and pull request of ``repo``, by number, GitHub-shaped."""
        with self.world.lock:
            r = self._repo(repo)
            return [shapes.issue_json(r, r.issues[n], self.app) for n in sorted(r.issues)]

    def issue(self, repo: str, number: int) -> dict[str, Any]:
        """One issue, GitHub-shaped."""
        with self.world.lock:
            r = self._repo(repo)
            return shapes.issue_json(r, self._issue(r, number), self.app)

    def labels(self, repo: str) -> list[dict[str, Any]]:
        """The labels of ``repo``, by name."""
        with self.world.lock:
            r = self._repo(repo)
            ordered = sorted(r.labels.values(), key=lambda label: label.name.lower())
            return [shapes.label_json(r, label) for label in ordered]

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """The comments on issue ``number``, oldest first."""
        with self.world.lock:
            r = self._repo(repo)
            return [shapes.comment_json(r, c, self.app) for c in self._issue(r, number).comments]

    def record_call(self, call: Call) -> None:
        """Append to ``calls`` (thread-safe; the loopback server is threaded)."""
        with self._record_lock:
            self.calls.append(call)

    def record_violations(self, messages: Iterable[str]) -> None:
        """Append to ``violations``."""
        with self._record_lock:
            self.violations.extend(messages)

    def assert_no_violations(self) -> None:
        """Fail if any request did not match GitHub's API description."""
        if self.violations:
            listing = "\n  ".join(self.violations)
            raise AssertionError(f"requests GitHub's API description does not allow:\n  {listing}")

    def response_violations(self) -> list[str]:
        """Recorded REST answers that do not validate against their documented schema.

        A 2xx must be documented and match; an error status is checked where documented.
        Answers shaped by a fault are skipped.
        """
        spec = description()
        problems = []
        for call in list(self.calls):
            if call.template in (None, "/graphql") or call.fault is not None:
                continue
            op = spec.match(call.method, call.path.strip("/").split("/"))
            if op is None:
                continue
            errors = spec.response_errors(
                op, call.status, call.response, undocumented_ok=not 200 <= call.status < 300
            )
            for error in errors:
                problems.append(f"{call.method} {call.path} -> {call.status}: {error}")
        return problems

    # ------------------------------------------------------------------ helpers

    def _repo(self, full_name: str) -> Repo:
        repo = self.world.repo(full_name)
        if repo is None:
            raise KeyError(f"no repository {full_name!r}; add_installation/add_token/add_repo it")
        return repo

    @staticmethod
    def _issue(repo: Repo, number: int) -> Issue:
        if number not in repo.issues:
            raise KeyError(f"no issue #{number} in {repo.full_name}")
        return repo.issues[number]
