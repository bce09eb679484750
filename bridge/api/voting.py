"""Identifying voters in API calls: a voter token or an anonymous id, as errors the API speaks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import request

from bridge.api.access import runtime
from bridge.api.errors import ApiError
from bridge.settings import AppConfig

if TYPE_CHECKING:
    from bridge.voters import Voter

VOTER_HEADER = "X-Featurebridge-Voter"


def token_voter(token: str, app: AppConfig) -> Voter:
    """The voter a token names, or 401/403."""
    # Loaded when a token is first presented: most listings carry none.
    from bridge.voters import VoterError, voter_from_token

    rt = runtime()
    try:
        return voter_from_token(token, app, rt.settings, now=rt.clock())
    except VoterError as error:
        raise ApiError(error.code, error.message) from error


def voter_of(app: AppConfig, *, voter_token: str | None, anonymous_id: str | None) -> Voter:
    """The voter of a vote call; exactly one of token and anonymous id is required."""
    from bridge.voters import VoterError, anonymous_voter

    if voter_token is not None and anonymous_id is None:
        return token_voter(voter_token, app)
    if anonymous_id is not None and voter_token is None:
        try:
            return anonymous_voter(anonymous_id, app)
        except VoterError as error:
            raise ApiError(error.code, error.message) from error
    raise ApiError(
        "validation_failed",
        "give either voter_token or anonymous_id",
        fields={"voter_token": "one of voter_token or anonymous_id is required"},
    )


def header_voter(app: AppConfig) -> Voter | None:
    """The voter named by X-Featurebridge-Voter, when the header is sent."""
    token = request.headers.get(VOTER_HEADER)
    return token_voter(token, app) if token else None
