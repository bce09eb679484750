"""The analysis comment: golden files for representative analyses, inertness for the rest.

Regenerate the golden files after an intended change with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_analysis_comment.py`` and review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from github_app.comments import analysis_marker, render_analysis
from tests.bedrock_stub import GOOD_INPUT
from tests.golden_files import assert_golden
from tests.test_render import GITHUB_MENTION

GOLDEN = Path(__file__).parent / "golden" / "analysis"

CASES: dict[str, dict[str, Any]] = {
    "plain": {"fields": GOOD_INPUT, "titles": {}},
    "duplicates": {
        "fields": {
            **GOOD_INPUT,
            "likely_duplicates": [
                {"number": 3, "reason": "Asks for the same CSV export."},
                {"number": 9, "reason": "Exports, but as PDF | Excel."},
            ],
        },
        "titles": {3: "CSV export", 9: "Export *everything*"},
    },
    "injected": {
        "fields": {
            **GOOD_INPUT,
            "summary": "Ping @someone and @org/team about #1, acme/other#3 and GH-4.",
            "priority_reason": "See https://evil.example/x <!-- hidden --> <img src=x>",
            "likely_duplicates": [{"number": 3, "reason": "cc @someone, dup of #1"}],
        },
        "titles": {3: "@mention in a title #2"},
    },
}


def render(case: dict[str, Any]) -> str:
    return render_analysis(
        app_id="mobile",
        app_name="Acme Mobile",
        model_id="amazon.nova-micro-v1:0",
        fields=case["fields"],
        duplicate_titles=case["titles"],
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    assert_golden(GOLDEN / f"{name}.md", render(CASES[name]) + "\n")


def test_every_golden_file_has_a_case() -> None:
    assert {p.stem for p in GOLDEN.glob("*.md")} == set(CASES)


# A cross-reference GitHub would link: #N, owner/repo#N, GH-N, or a URL.
REFERENCE = re.compile(r"(?<![\w])#\d|\bGH-\d|[\w.-]+/[\w.-]+#\d|https?://")


def references(body: str) -> list[str]:
    return REFERENCE.findall(body)


def test_the_only_references_are_the_bridges_duplicate_links() -> None:
    body = render(CASES["injected"])
    assert GITHUB_MENTION.findall(body) == []
    assert references(body) == ["#3"]
    assert body.count("<!--") == 1
    assert body.endswith(analysis_marker("mobile"))
    assert "<img" not in body


def test_each_app_has_its_own_marker() -> None:
    assert analysis_marker("mobile") != analysis_marker("internal")
    assert "mobile" in analysis_marker("mobile")


@given(st.text(max_size=300))
def test_any_model_text_is_inert(text: str) -> None:
    fields = {
        **GOOD_INPUT,
        "summary": text or "x",
        "priority_reason": text or "x",
        "likely_duplicates": [{"number": 5, "reason": text or "x"}],
    }
    body = render_analysis(
        app_id="mobile",
        app_name="Acme Mobile",
        model_id="m",
        fields=fields,
        duplicate_titles={5: text},
    )
    assert GITHUB_MENTION.findall(body) == []
    assert references(body) == ["#5"]
    assert body.count("<!--") == 1
