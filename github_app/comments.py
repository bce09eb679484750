"""The comments the bridge keeps on issues, each found again by its hidden marker."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib.resources import files
from string import Template

from github_app.render import MARKER_PREFIX

TALLY_MARKER = f"<!-- {MARKER_PREFIX}tally -->"


@cache
def _tally_template() -> Template:
    text = files("github_app").joinpath("templates/tally.toml").read_text(encoding="utf-8")
    return Template(tomllib.loads(text)["body"])


def render_tally(*, app_name: str, bridge_votes: int, thumbs_up: int) -> str:
    """The tally comment: total votes, app votes and 👍, then the marker."""
    return _tally_template().substitute(
        total_votes=bridge_votes + thumbs_up,
        app_votes=bridge_votes,
        app_name=app_name.replace("<", "&lt;").replace("@", "@\u200b"),
        thumbs_up=thumbs_up,
        marker=TALLY_MARKER,
    )
