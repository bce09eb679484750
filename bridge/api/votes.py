"""Voting and unvoting on a request."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from pydantic import ValidationError

from bridge.api.access import app_or_404, enforce_rate_limit, runtime
from bridge.api.body import read_body
from bridge.api.cors import install_cors
from bridge.api.errors import ApiError, fields_of
from bridge.api.voting import voter_of
from bridge.domain import Request, Vote, accepts_votes
from bridge.ports import TALLY_INTERVAL

blueprint = Blueprint("votes", __name__)
install_cors(blueprint)

VOTES = "/v1/apps/<app_id>/requests/<int:number>/votes"


def _vote_call(app_id: str, number: int) -> tuple[Request, str, int]:
    # Models and jobs load with the first vote, not at start (cold starts).
    from bridge.api.write_models import VoteIn

    app = app_or_404(app_id)
    try:
        body = VoteIn.model_validate(read_body())
    except ValidationError as error:
        raise ApiError("validation_failed", "invalid vote", fields=fields_of(error)) from error
    rt = runtime()
    enforce_rate_limit("vote", app, rt.settings.server.rate_limits.votes_per_hour)
    voter = voter_of(app, voter_token=body.voter_token, anonymous_id=body.anonymous_id)
    found = rt.store.get_request(app.id, number)
    if found is None:
        raise ApiError("not_found", f"no request #{number} in app {app.id!r}")
    return found, voter.key, voter.weight


def _answer(request: Request, voted: bool) -> Response:
    from bridge.api.write_models import VoteOut

    return jsonify(
        VoteOut(
            github_thumbs_up=request.github_thumbs_up,
            bridge_votes=request.bridge_votes,
            total_votes=request.total_votes,
            voted=voted,
        ).model_dump()
    )


@blueprint.post(VOTES)
def vote(app_id: str, number: int) -> Response:
    """Add this voter's vote; a repeat changes nothing."""
    found, voter, weight = _vote_call(app_id, number)
    if not accepts_votes(found.status):
        raise ApiError("conflict", f"request #{number} is {found.status.value}: it takes no votes")
    rt = runtime()
    result = rt.store.add_vote(Vote(found.app, number, voter, rt.clock(), weight=weight))
    if result is None:
        raise ApiError("not_found", f"no request #{number} in app {found.app!r}")
    _tally_later(result[1])
    return _answer(result[0], True)


@blueprint.delete(VOTES)
def unvote(app_id: str, number: int) -> Response:
    """Take this voter's vote back; unvoting twice changes nothing."""
    found, voter, _ = _vote_call(app_id, number)
    rt = runtime()
    result = rt.store.remove_vote(found.app, number, voter, now=rt.clock())
    if result is None:
        raise ApiError("not_found", f"no request #{number} in app {found.app!r}")
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
