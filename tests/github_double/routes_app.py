"""REST routes for the App itself, its installations and repositories."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.github_double import shapes
from tests.github_double.rest import ApiError, Context, Reply, not_found, route


@route("GET", "/app", auth="jwt")
def get_app(ctx: Context) -> Reply:
    """The authenticated App."""
    world = ctx.double.world
    return Reply(200, shapes.app_json(ctx.double.app, len(world.installations)))


@route("GET", "/user")
def get_authenticated_user(ctx: Context) -> Reply:
    """The token's user; an installation token is no user (GitHub answers 403)."""
    principal = ctx.principal
    if principal is None or principal.kind != "token" or principal.actor is None:
        raise ApiError(403, "Resource not accessible by integration")
    return Reply(200, shapes.public_user_json(principal.actor))


@route("GET", "/repos/{owner}/{repo}/installation", auth="jwt")
def get_repo_installation(ctx: Context) -> Reply:
    """The App's installation covering a repository; 404 where it is not installed."""
    world = ctx.double.world
    repo = world.repo(f"{ctx.params['owner']}/{ctx.params['repo']}")
    inst = world.installation_for(repo) if repo else None
    if inst is None:
        raise not_found()
    return Reply(200, shapes.installation_json(inst.id, inst.account, ctx.double.app))


@route("POST", "/app/installations/{installation_id}/access_tokens", auth="jwt")
def create_access_token(ctx: Context) -> Reply:
    """An installation token for all the installation's repos, or the ones named."""
    world = ctx.double.world
    inst = world.installations.get(ctx.int_param("installation_id"))
    if inst is None:
        raise not_found()
    repos = set(inst.repos)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    if body.get("repositories") or body.get("repository_ids"):
        wanted = {f"{inst.account.login}/{name}".lower() for name in body.get("repositories", [])}
        by_id = {r.id: key for key, r in world.repos.items() if key in inst.repos}
        wanted |= {by_id.get(rid, f"#{rid}") for rid in body.get("repository_ids", [])}
        if not wanted <= repos:
            raise ApiError(
                422,
                "There is at least one repository that does not exist or is not "
                "accessible to the parent installation.",
            )
        repos = wanted
    app = ctx.double.app
    token, expires = ctx.double.credentials.issue_installation_token(inst.id, app.bot, repos)
    return Reply(
        201,
        {
            "token": token,
            "expires_at": shapes.ts(datetime.fromtimestamp(expires, UTC)),
            "permissions": dict(app.permissions),
            "repository_selection": "selected",
        },
    )


@route("GET", "/repos/{owner}/{repo}")
def get_repo(ctx: Context) -> Reply:
    """A repository the caller can see."""
    return Reply(200, shapes.repo_json(ctx.repo()))
