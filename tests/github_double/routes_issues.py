"""REST routes for issues, labels and issue comments."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.github_double import shapes
from tests.github_double.rest import ApiError, Context, Reply, not_found, paginate, route
from tests.github_double.state import Issue, Repo, User, ValidationFailedError, World


def _validation_failed(exc: ValidationFailedError) -> ApiError:
    return ApiError(422, "Validation Failed", errors=[exc.error])


def _issue(ctx: Context, repo: Repo) -> Issue:
    issue = repo.issues.get(ctx.int_param("issue_number"))
    if issue is None:
        raise not_found()
    return issue


def _via_app(ctx: Context) -> bool:
    return ctx.principal is not None and ctx.principal.kind == "installation"


def _actor(ctx: Context) -> User:
    assert ctx.principal is not None
    assert ctx.principal.actor is not None
    return ctx.principal.actor


# ---------------------------------------------------------------------------- issues


@route("POST", "/repos/{owner}/{repo}/issues")
def create_issue(ctx: Context) -> Reply:
    """File an issue; unknown labels are created in the repository."""
    repo, body = ctx.repo(), ctx.body or {}
    if body.get("title") is None:
        raise _validation_failed(ValidationFailedError("Issue", "title", "missing_field"))
    try:
        issue = ctx.double.world.create_issue(
            repo,
            title=str(body["title"]),
            body=body.get("body"),
            user=_actor(ctx),
            labels=body.get("labels") or (),
            via_app=_via_app(ctx),
        )
    except ValidationFailedError as exc:
        raise _validation_failed(exc) from exc
    return Reply(201, shapes.issue_json(repo, issue, ctx.double.app))


@route("GET", "/repos/{owner}/{repo}/issues")
def list_issues(ctx: Context) -> Reply:
    """Issues and pull requests, filtered, sorted and paginated as GitHub does."""
    repo, q = ctx.repo(), ctx.query
    state = q.get("state", "open")
    wanted = {name.strip().lower() for name in q.get("labels", "").split(",") if name.strip()}
    since = _parse_time(q.get("since"))
    creator = (q.get("creator") or "").lower()
    if creator.startswith("app/"):  # GitHub also names a bot author as app/<slug>
        creator = creator.removeprefix("app/") + "[bot]"
    picked = [
        issue
        for issue in repo.issues.values()
        if state in ("all", issue.state)
        and wanted <= {label.name.lower() for label in issue.labels}
        and (since is None or issue.updated_at >= since)
        and (not creator or issue.user.login.lower() == creator)
    ]
    sort = q.get("sort", "created")
    if sort == "updated":
        picked.sort(key=lambda i: (i.updated_at, i.number))
    elif sort == "comments":
        picked.sort(key=lambda i: (len(i.comments), i.number))
    else:
        picked.sort(key=lambda i: (i.created_at, i.number))
    if q.get("direction", "desc") == "desc":
        picked.reverse()
    app = ctx.double.app
    reply = paginate(ctx, picked)
    reply.body = [shapes.issue_json(repo, issue, app) for issue in reply.body]
    return reply


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(ctx: Context) -> Reply:
    """One issue (or pull request) by number."""
    repo = ctx.repo()
    return Reply(200, shapes.issue_json(repo, _issue(ctx, repo), ctx.double.app))


@route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}")
def update_issue(ctx: Context) -> Reply:
    """Edit title, body, labels (replacing them), state and state_reason."""
    repo = ctx.repo()
    issue = _issue(ctx, repo)
    try:
        ctx.double.world.update_issue(repo, issue, ctx.body or {}, _actor(ctx))
    except ValidationFailedError as exc:
        raise _validation_failed(exc) from exc
    return Reply(200, shapes.issue_json(repo, issue, ctx.double.app))


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(
            422, "Validation Failed", errors=[{"field": "since", "code": "invalid"}]
        ) from exc
    # GitHub reads a timestamp without an offset as UTC.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------- labels


@route("GET", "/repos/{owner}/{repo}/labels")
def list_labels(ctx: Context) -> Reply:
    """The repository's labels, paginated."""
    repo = ctx.repo()
    reply = paginate(ctx, sorted(repo.labels.values(), key=lambda label: label.name.lower()))
    reply.body = [shapes.label_json(repo, label) for label in reply.body]
    return reply


@route("POST", "/repos/{owner}/{repo}/labels")
def create_label(ctx: Context) -> Reply:
    """Create a label; a name taken in any case is 422 ``already_exists``."""
    repo, body = ctx.repo(), ctx.body or {}
    try:
        label = ctx.double.world.create_label(
            repo,
            str(body.get("name", "")),
            str(body.get("color") or "ededed"),
            body.get("description"),
        )
    except ValidationFailedError as exc:
        raise _validation_failed(exc) from exc
    return Reply(201, shapes.label_json(repo, label))


@route("GET", "/repos/{owner}/{repo}/labels/{name}")
def get_label(ctx: Context) -> Reply:
    """One label by name (any case)."""
    repo = ctx.repo()
    label = repo.labels.get(ctx.params["name"].lower())
    if label is None:
        raise not_found()
    return Reply(200, shapes.label_json(repo, label))


# ---------------------------------------------------------------------------- comments


@route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(ctx: Context) -> Reply:
    """An issue's comments, oldest first, paginated; ``since`` on ``updated_at``."""
    repo = ctx.repo()
    since = _parse_time(ctx.query.get("since"))
    comments = [c for c in _issue(ctx, repo).comments if since is None or c.updated_at >= since]
    reply = paginate(ctx, comments)
    reply.body = [shapes.comment_json(repo, c, ctx.double.app) for c in reply.body]
    return reply


@route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_comment(ctx: Context) -> Reply:
    """Comment on an issue."""
    repo = ctx.repo()
    issue = _issue(ctx, repo)
    world: World = ctx.double.world
    try:
        comment = world.add_comment(
            issue, str((ctx.body or {}).get("body", "")), _actor(ctx), _via_app(ctx)
        )
    except ValidationFailedError as exc:
        raise _validation_failed(exc) from exc
    return Reply(201, shapes.comment_json(repo, comment, ctx.double.app))


@route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(ctx: Context) -> Reply:
    """Replace a comment's body."""
    repo = ctx.repo()
    found = ctx.double.world.find_comment(repo, ctx.int_param("comment_id"))
    if found is None:
        raise not_found()
    try:
        ctx.double.world.edit_comment(found[1], str((ctx.body or {}).get("body", "")))
    except ValidationFailedError as exc:
        raise _validation_failed(exc) from exc
    return Reply(200, shapes.comment_json(repo, found[1], ctx.double.app))
