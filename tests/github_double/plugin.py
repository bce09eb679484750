"""pytest plugin: the ``github_double`` fixture.

Enable with ``pytest_plugins = ["tests.github_double.plugin"]`` in ``conftest.py``.
A test that sends invalid requests on purpose marks itself
``@pytest.mark.github_double_allows_violations`` (or clears ``double.violations``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.github_double import GitHubDouble

MARKER = "github_double_allows_violations"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker (the suite runs with ``--strict-markers``)."""
    config.addinivalue_line(
        "markers", f"{MARKER}: the github_double fixture tolerates API-description violations"
    )


@pytest.fixture
def github_double(request: pytest.FixtureRequest) -> Iterator[GitHubDouble]:
    """A fresh GitHub double; the test fails if a request broke GitHub's API description."""
    double = GitHubDouble()
    yield double
    if double.violations and request.node.get_closest_marker(MARKER) is None:
        listing = "\n  ".join(double.violations)
        pytest.fail(
            f"requests GitHub's API description does not allow:\n  {listing}", pytrace=False
        )
