"""GitHub-shaped JSON for the double's records.

Every builder returns what api.github.com returns for that object, close enough that
the documented response schema validates it and githubkit's models parse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from tests.github_double.state import REACTIONS, Comment, Issue, Label, Repo, User

API = "https://api.github.com"
WEB = "https://github.com"
DOCS = "https://docs.github.com/rest"


@dataclass(frozen=True, slots=True)
class AppInfo:
    """The GitHub App the double pretends to host."""

    id: int
    slug: str
    name: str
    owner: User
    bot: User
    created_at: datetime
    permissions: dict[str, str]
    events: list[str]


def ts(when: datetime | None) -> str | None:
    """GitHub's timestamp format: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return None if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


def user_json(user: User) -> dict[str, Any]:
    """A ``simple-user``."""
    url = f"{API}/users/{user.login}"
    html = f"{WEB}/apps/{user.login.removesuffix('[bot]')}" if user.type == "Bot" else ""
    return {
        "login": user.login,
        "id": user.id,
        "node_id": user.node_id,
        "avatar_url": f"https://avatars.githubusercontent.com/u/{user.id}?v=4",
        "gravatar_id": "",
        "url": url,
        "html_url": html or f"{WEB}/{user.login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": user.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def app_json(app: AppInfo, installations: int = 0) -> dict[str, Any]:
    """An ``integration`` (the App itself, as ``GET /app`` and ``performed_via_github_app``)."""
    return {
        "id": app.id,
        "slug": app.slug,
        "node_id": f"A_kwHO{app.id}",
        "client_id": f"Iv1.{app.id:016x}",
        "owner": user_json(app.owner),
        "name": app.name,
        "description": "Feature requests from apps, as labeled issues.",
        "external_url": "https://featurebridge.example",
        "html_url": f"{WEB}/apps/{app.slug}",
        "created_at": ts(app.created_at),
        "updated_at": ts(app.created_at),
        "permissions": dict(app.permissions),
        "events": list(app.events),
        "installations_count": installations,
    }


def label_json(repo: Repo, label: Label) -> dict[str, Any]:
    """A ``label``."""
    return {
        "id": label.id,
        "node_id": label.node_id,
        "url": f"{API}/repos/{repo.full_name}/labels/{quote(label.name, safe='')}",
        "name": label.name,
        "description": label.description,
        "color": label.color,
        "default": label.default,
        # Required by API version 2026-03-10 (githubkit's default models), unknown to the
        # 2022-11-28 description: sending both keeps either client happy.
        "archived_at": None,
        "archived_by": None,
    }


def reactions_json(counts: dict[str, int], url: str) -> dict[str, Any]:
    """A ``reaction-rollup``."""
    rollup: dict[str, Any] = {"url": url, "total_count": sum(counts.values())}
    rollup.update({name: counts.get(name, 0) for name in REACTIONS})
    return rollup


def issue_json(repo: Repo, issue: Issue, app: AppInfo) -> dict[str, Any]:
    """An ``issue`` (pull requests carry a ``pull_request`` object, as on GitHub)."""
    url = f"{API}/repos/{repo.full_name}/issues/{issue.number}"
    kind = "pull" if issue.is_pull_request else "issues"
    out: dict[str, Any] = {
        "url": url,
        "repository_url": f"{API}/repos/{repo.full_name}",
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{WEB}/{repo.full_name}/{kind}/{issue.number}",
        "id": issue.id,
        "node_id": issue.node_id,
        "number": issue.number,
        "title": issue.title,
        "user": user_json(issue.user),
        "labels": [label_json(repo, label) for label in issue.labels],
        "state": issue.state,
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": len(issue.comments),
        "created_at": ts(issue.created_at),
        "updated_at": ts(issue.updated_at),
        "closed_at": ts(issue.closed_at),
        "author_association": "NONE" if issue.user.type == "Bot" else "CONTRIBUTOR",
        "active_lock_reason": None,
        "body": issue.body,
        "closed_by": user_json(issue.closed_by) if issue.closed_by else None,
        "reactions": reactions_json(issue.reactions, f"{url}/reactions"),
        "timeline_url": f"{url}/timeline",
        "performed_via_github_app": app_json(app) if issue.via_app else None,
        "state_reason": issue.state_reason,
    }
    if issue.is_pull_request:
        pull = f"{API}/repos/{repo.full_name}/pulls/{issue.number}"
        html = out["html_url"]
        out["pull_request"] = {
            "url": pull,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": None,
        }
        out["draft"] = False
    return out


def public_user_json(user: User) -> dict[str, Any]:
    """A ``public-user``, as ``GET /user`` shows a token's user."""
    return {
        **user_json(user),
        "name": None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": "2020-01-01T00:00:00Z",
        "updated_at": "2020-01-01T00:00:00Z",
    }


def comment_json(repo: Repo, comment: Comment, app: AppInfo) -> dict[str, Any]:
    """An ``issue-comment``."""
    url = f"{API}/repos/{repo.full_name}/issues/comments/{comment.id}"
    return {
        "id": comment.id,
        "node_id": comment.node_id,
        "url": url,
        "html_url": f"{WEB}/{repo.full_name}/issues/{comment.issue_number}"
        f"#issuecomment-{comment.id}",
        "body": comment.body,
        "user": user_json(comment.user),
        "created_at": ts(comment.created_at),
        "updated_at": ts(comment.updated_at),
        "issue_url": f"{API}/repos/{repo.full_name}/issues/{comment.issue_number}",
        "author_association": comment.author_association
        or ("NONE" if comment.user.type == "Bot" else "CONTRIBUTOR"),
        "performed_via_github_app": app_json(app) if comment.via_app else None,
        "reactions": reactions_json(comment.reactions, f"{url}/reactions"),
    }


# Every ``*_url`` of a repository, as GitHub lists them (suffix after the repo's API url).
_REPO_URLS = {
    "forks_url": "/forks",
    "keys_url": "/keys{/key_id}",
    "collaborators_url": "/collaborators{/collaborator}",
    "teams_url": "/teams",
    "hooks_url": "/hooks",
    "issue_events_url": "/issues/events{/number}",
    "events_url": "/events",
    "assignees_url": "/assignees{/user}",
    "branches_url": "/branches{/branch}",
    "tags_url": "/tags",
    "blobs_url": "/git/blobs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "trees_url": "/git/trees{/sha}",
    "statuses_url": "/statuses/{sha}",
    "languages_url": "/languages",
    "stargazers_url": "/stargazers",
    "contributors_url": "/contributors",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "commits_url": "/commits{/sha}",
    "git_commits_url": "/git/commits{/sha}",
    "comments_url": "/comments{/number}",
    "issue_comment_url": "/issues/comments{/number}",
    "contents_url": "/contents/{+path}",
    "compare_url": "/compare/{base}...{head}",
    "merges_url": "/merges",
    "archive_url": "/{archive_format}{/ref}",
    "downloads_url": "/downloads",
    "issues_url": "/issues{/number}",
    "pulls_url": "/pulls{/number}",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "labels_url": "/labels{/name}",
    "releases_url": "/releases{/id}",
    "deployments_url": "/deployments",
}


def repo_json(repo: Repo) -> dict[str, Any]:
    """A ``full-repository`` (private, issues on, no license)."""
    api = f"{API}/repos/{repo.full_name}"
    html = f"{WEB}/{repo.full_name}"
    open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
    out: dict[str, Any] = {
        "id": repo.id,
        "node_id": repo.node_id,
        "name": repo.name,
        "full_name": repo.full_name,
        "private": True,
        "owner": user_json(repo.owner),
        "html_url": html,
        "description": None,
        "fork": False,
        "url": api,
    }
    out.update({key: api + suffix for key, suffix in _REPO_URLS.items()})
    out.update(
        {
            "created_at": ts(repo.created_at),
            "updated_at": ts(repo.created_at),
            "pushed_at": ts(repo.created_at),
            "git_url": f"git://github.com/{repo.full_name}.git",
            "ssh_url": f"git@github.com:{repo.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": False,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private",
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": "main",
            "permissions": {
                "admin": False,
                "maintain": False,
                "push": True,
                "triage": True,
                "pull": True,
            },
            "network_count": 0,
            "subscribers_count": 0,
        }
    )
    return out


def installation_json(inst_id: int, account: User, app: AppInfo) -> dict[str, Any]:
    """An ``installation`` of the App on ``account`` (selected repositories)."""
    created = ts(app.created_at)
    return {
        "id": inst_id,
        "client_id": f"Iv1.{app.id:016x}",
        "account": user_json(account),
        "repository_selection": "selected",
        "access_tokens_url": f"{API}/app/installations/{inst_id}/access_tokens",
        "repositories_url": f"{API}/installation/repositories",
        "html_url": f"{WEB}/organizations/{account.login}/settings/installations/{inst_id}",
        "app_id": app.id,
        "app_slug": app.slug,
        "target_id": account.id,
        "target_type": account.type,
        "permissions": dict(app.permissions),
        "events": list(app.events),
        "created_at": created,
        "updated_at": created,
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": None,
    }


def error_json(status: int, message: str, **extra: Any) -> dict[str, Any]:
    """GitHub's error body: ``message``, ``documentation_url`` and ``status``."""
    return {"message": message, **extra, "documentation_url": DOCS, "status": str(status)}
