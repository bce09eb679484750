"""The deployment's signing key: one per deployment, whichever secret it comes from."""

from __future__ import annotations

from collections.abc import Callable

from bridge.app import build_runtime
from bridge.doctor import signing_finding
from bridge.secrets import SecretResolver, purpose_key, signing_key
from bridge.settings import Settings


def test_the_signing_secret_is_the_key() -> None:
    resolver = SecretResolver(
        {"FEATUREBRIDGE_SIGNING_SECRET": "s3cret", "GITHUB_WEBHOOK_SECRET": "w"}
    )
    assert signing_key(resolver) == b"s3cret"


def test_a_derived_key_is_the_same_in_every_process_and_hides_its_source() -> None:
    env = {"FEATUREBRIDGE_ADMIN_TOKEN": "admin-token-value"}
    first, second = signing_key(SecretResolver(env)), signing_key(SecretResolver(dict(env)))
    assert first == second
    assert b"admin-token-value" not in first
    # The admin token comes before the webhook secret.
    both = {**env, "GITHUB_WEBHOOK_SECRET": "hook"}
    assert signing_key(SecretResolver(both)) == first
    assert signing_key(SecretResolver({"GITHUB_WEBHOOK_SECRET": "hook"})) != first


def test_without_any_secret_each_process_has_its_own_random_key() -> None:
    assert signing_key(SecretResolver({})) != signing_key(SecretResolver({}))
    assert len(signing_key(SecretResolver({}))) == 32


def test_purposes_get_different_keys() -> None:
    assert purpose_key(b"k", "form") != purpose_key(b"k", "unsubscribe")
    assert purpose_key(b"k", "form") == purpose_key(b"k", "form")


def test_doctor_says_where_the_signing_key_comes_from(
    make_settings: Callable[..., Settings],
) -> None:
    assert signing_finding(make_settings("", FEATUREBRIDGE_SIGNING_SECRET="x")).ok
    derived = signing_finding(
        make_settings("", FEATUREBRIDGE_ADMIN_TOKEN="", GITHUB_WEBHOOK_SECRET="x")
    )
    assert derived.ok
    assert "GITHUB_WEBHOOK_SECRET" in derived.detail
    missing = signing_finding(make_settings("", FEATUREBRIDGE_ADMIN_TOKEN=""))
    assert not missing.ok
    assert "FEATUREBRIDGE_SIGNING_SECRET" in missing.detail


def test_the_runtime_resolves_its_key_once_on_first_use(
    make_settings: Callable[..., Settings],
) -> None:
    runtime = build_runtime(make_settings("", FEATUREBRIDGE_ADMIN_TOKEN=""))
    assert runtime.signing_key() == runtime.signing_key()
