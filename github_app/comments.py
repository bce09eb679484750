"""The comments the bridge keeps on issues, each found again by its hidden marker."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from github_app.render import MARKER_PREFIX, inert_inline

# The tally's marker before markers named apps: a tally the bridge wrote then is adopted.
LEGACY_TALLY_MARKER = f"<!-- {MARKER_PREFIX}tally -->"


def tally_marker(app_id: str) -> str:
    """The hidden marker of an app's tally comment: one per issue per app."""
    return f"<!-- {MARKER_PREFIX}tally:{app_id} -->"


@cache
def _tally_template() -> Template:
    text = files("github_app").joinpath("templates/tally.toml").read_text(encoding="utf-8")
    return Template(tomllib.loads(text)["body"])


def render_tally(*, app_id: str, app_name: str, bridge_votes: int, thumbs_up: int) -> str:
    """The tally comment: total votes, app votes and 👍, then the marker."""
    return _tally_template().substitute(
        total_votes=bridge_votes + thumbs_up,
        app_votes=bridge_votes,
        app_name=app_name.replace("<", "&lt;").replace("@", "@\u200b"),
        thumbs_up=thumbs_up,
        marker=tally_marker(app_id),
    )


def analysis_marker(app_id: str) -> str:
    """The hidden marker of an app's analysis comment: one per issue per app."""
    return f"<!-- {MARKER_PREFIX}analysis:{app_id} -->"


@cache
def _analysis_templates() -> dict[str, Template]:
    text = files("github_app").joinpath("templates/analysis.toml").read_text(encoding="utf-8")
    return {name: Template(value) for name, value in tomllib.loads(text).items()}


def render_analysis(
    *,
    app_id: str,
    app_name: str,
    model_id: str,
    fields: Mapping[str, Any],
    duplicate_titles: Mapping[int, str],
) -> str:
    """The analysis comment from a validated analysis; every model-written word made inert.

    The only references in it are the duplicate links built here from issue
    numbers the analysis was checked to hold (this app's similar requests).
    """
    templates = _analysis_templates()
    items = [
        templates["duplicate_item"].substitute(
            number=int(duplicate["number"]),
            title=inert_inline(duplicate_titles.get(int(duplicate["number"]), ""), limit=120),
            reason=inert_inline(str(duplicate["reason"]), limit=200),
        )
        for duplicate in fields.get("likely_duplicates", ())
    ]
    duplicates = (
        templates["duplicates"].substitute(items="\n".join(items))
        if items
        else templates["no_duplicates"].template
    )
    return templates["body"].substitute(
        summary=inert_inline(str(fields["summary"]), limit=400),
        category=inert_inline(str(fields["category"]), limit=50),
        priority=int(fields["priority"]),
        priority_reason=inert_inline(str(fields["priority_reason"]), limit=200),
        complexity=inert_inline(str(fields["complexity"]), limit=5),
        sentiment=inert_inline(str(fields["sentiment"]), limit=20),
        business_value=inert_inline(str(fields["business_value"]), limit=20),
        duplicates=duplicates,
        model_id=inert_inline(model_id, limit=200),
        app_name=inert_inline(app_name, limit=100),
        marker=analysis_marker(app_id),
    )
