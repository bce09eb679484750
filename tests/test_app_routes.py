"""The app's URL rules compile their URL builders on first use (cold starts), and build
the same URLs as werkzeug's own rules."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.routing import Map, Rule

from bridge.app import LazyBuilderRule, create_app
from bridge.settings import Settings

# One value for each converter's argument name in the app's routes.
VALUES: dict[str, object] = {
    "app_id": "demo app",
    "number": 42,
    "submission_id": "s" * 26,
    "lang": "en",
}


def test_every_route_builds_the_url_werkzeug_builds(
    make_settings: Callable[..., Settings],
) -> None:
    app = create_app(make_settings())
    ours = list(app.url_map.iter_rules())
    assert ours
    assert all(isinstance(rule, LazyBuilderRule) for rule in ours)
    plain = Map([Rule(rule.rule, endpoint=rule.endpoint, methods=rule.methods) for rule in ours])
    built, expected = app.url_map.bind("bridge.test"), plain.bind("bridge.test")
    for rule in ours:
        values = {name: VALUES[name] for name in rule.arguments}
        # Unknown values become the query string; the builder is compiled on this first call.
        for extra in ({}, {"q": "a b"}):
            method = sorted(rule.methods or {"GET"})[0]
            got = built.build(rule.endpoint, {**values, **extra}, method=method)
            assert got == expected.build(rule.endpoint, {**values, **extra}, method=method)
