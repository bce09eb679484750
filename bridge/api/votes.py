"""Voting and unvoting on a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, Response, jsonify
from pydantic import ValidationError

from bridge.api.access import app_or_404, enforce_rate_limit, may_see, runtime
from bridge.api.body import read_body
from bridge.api.cors import install_cors, refuse_foreign_origin
from bridge.api.errors import ApiError, fields_of
from bridge.api.voting import voter_of
from bridge.domain import Request, Vote, accepts_votes
from bridge.ports import TALLY_INTERVAL
from bridge.settings import AppConfig

if TYPE_CHECKING:
    from bridge.api.write_models import VoteIn
    from bridge.notify.email.optin import OptInState
    from bridge.voters import Voter

blueprint = Blueprint("votes", __name__)
install_cors(blueprint)

VOTES = "/v1/apps/<app_id>/requests/<int:number>/votes"
DAY_SECONDS = 86_400


def _vote_call(app_id: str, number: int) -> tuple[AppConfig, Request, Voter, VoteIn]:
    # Models and jobs load with the first vote, not at start (cold starts).
    from bridge.api.write_models import VoteIn

    app = app_or_404(app_id)
    # A non-public app answers as if unknown to whoever may not see it, whatever they
    # send; the vote's own voter token is enough to see it.
    seen = may_see(app)
    if seen:
        refuse_foreign_origin(app)
    try:
        body = VoteIn.model_validate(read_body())
    except (ApiError, ValidationError) as error:
        if not seen:
            raise ApiError("not_found", f"no app {app_id!r}") from error
        if isinstance(error, ApiError):
            raise
        raise ApiError("validation_failed", "invalid vote", fields=fields_of(error)) from error
    if not seen:
        if not may_see(app, body.voter_token):
            raise ApiError("not_found", f"no app {app_id!r}")
        refuse_foreign_origin(app)
    rt = runtime()
    enforce_rate_limit("vote", app, rt.settings.server.rate_limits.votes_per_hour)
    voter = voter_of(app, voter_token=body.voter_token, anonymous_id=body.anonymous_id)
    found = rt.store.get_request(app.id, number)
    if found is None:
        raise ApiError("not_found", f"no request #{number} in app {app.id!r}")
    return app, found, voter, body


def _answer(request: Request, voted: bool, notify: OptInState | None = None) -> Response:
    from bridge.api.write_models import VoteOut

    return jsonify(
        VoteOut(
            github_thumbs_up=request.github_thumbs_up,
            bridge_votes=request.bridge_votes,
            total_votes=request.total_votes,
            voted=voted,
            notify=notify,
        ).model_dump(exclude_none=True)
    )


@blueprint.post(VOTES)
def vote(app_id: str, number: int) -> Response:
    """Add this voter's vote; a repeat changes nothing."""
    # Events load with the first vote, like the models (cold starts).
    from bridge.notify.emit import vote_recorded

    app, found, voter, body = _vote_call(app_id, number)
    if not accepts_votes(found.status):
        raise ApiError("conflict", f"request #{number} is {found.status.value}: it takes no votes")
    rt = runtime()
    if voter.anonymous:
        enforce_rate_limit(
            "anonymous vote",
            app,
            rt.settings.server.rate_limits.anonymous_votes_per_request_per_day,
            window_seconds=DAY_SECONDS,
            scope=str(number),
        )
    vote = Vote(found.app, number, voter.key, rt.clock(), weight=voter.weight)
    result = rt.store.add_vote(vote)
    if result is None:
        raise ApiError("not_found", f"no request #{number} in app {found.app!r}")
    _tally_later(result[1])
    vote_recorded(rt, result[0], new=result[1])
    notify = None
    if body.notify or voter.notify:
        from bridge.notify.email.model import request_topic
        from bridge.notify.email.optin import opt_in

        notify = opt_in(
            rt,
            app,
            voter=voter,
            typed=body.email,
            topic=request_topic(number),
            follower=voter.key,
            title=found.title,
            number=number,
        )
    return _answer(result[0], True, notify)


@blueprint.delete(VOTES)
def unvote(app_id: str, number: int) -> Response:
    """Take this voter's vote back; unvoting twice changes nothing."""
    _, found, voter, _ = _vote_call(app_id, number)
    rt = runtime()
    result = rt.store.remove_vote(found.app, number, voter.key, now=rt.clock())
    if result is None:
        raise ApiError("not_found", f"no request #{number} in app {found.app!r}")
    if rt.settings.notify.email.enabled:
        from bridge.notify.email.model import request_topic

        rt.store.unfollow(found.app, request_topic(number), voter.key)
    _tally_later(result[1])
    return _answer(result[0], False)


def _tally_later(changed: bool) -> None:
    """Ask for the tally once the coalescing interval has surely passed.

    Under ``serve`` the worker's sweep would find it anyway; on Lambda this
    is what writes it within a minute rather than at the next schedule.
    """
    if changed:
        from bridge.jobs import tally_job

        runtime().queue.enqueue(tally_job(), delay_seconds=TALLY_INTERVAL.total_seconds() + 1)
