"""Settings: layers, errors that say where and how, secret indirection."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.domain import Status
from bridge.secrets import SecretError, SecretResolver
from bridge.settings import DEFAULT_STORE_URL, ConfigError, Settings, read_env_file

EXAMPLE = Path(__file__).parent.parent / "featurebridge.example.toml"


def settings_from(tmp_path: Path, text: str, **env: str) -> Settings:
    path = tmp_path / "featurebridge.toml"
    path.write_text(text, encoding="utf-8")
    return Settings.from_env({"FEATUREBRIDGE_CONFIG": str(path), **env})


def test_example_config_is_valid() -> None:
    settings = Settings.from_env({"FEATUREBRIDGE_CONFIG": str(EXAMPLE)})
    demo = settings.app("demo")
    assert demo is not None
    assert demo.public
    assert demo.status_labels["status: planned"] is Status.PLANNED
    assert settings.store_url == DEFAULT_STORE_URL
    assert settings.github.api_url == "https://api.github.com"


def test_environment_overrides(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        "",
        FEATUREBRIDGE_STORE="dynamodb://table",
        GITHUB_API_URL="https://ghe.example.com/api/v3/",
        GITHUB_APP_ID="123",
    )
    assert settings.store_url == "dynamodb://table"
    assert settings.github.api_url == "https://ghe.example.com/api/v3"
    assert settings.github.app_id == "123"
    assert settings.apps == ()


def test_missing_explicit_config_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Settings.from_env({"FEATUREBRIDGE_CONFIG": str(tmp_path / "nope.toml")})


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"featurebridge\.toml: not valid TOML"):
        settings_from(tmp_path, "[server\n")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[apps]]\nid = "m"\nname = "M"\nrepo = "nope"\nlabels = ["x"]\n',
            "apps[0] (id = 'm').repo: 'nope' must be \"owner/name\"",
        ),
        (
            '[[apps]]\nid = "Mobile!"\nname = "M"\nrepo = "a/b"\nlabels = ["x"]\n',
            "apps[0] (id = 'Mobile!').id",
        ),
        (
            '[[apps]]\nid = "m"\nname = "M"\nrepo = "a/b"\nlabels = ["x"]\ncolour = 1\n',
            "apps[0] (id = 'm').colour: unknown key",
        ),
        (
            '[[apps]]\nid = "m"\nname = "M"\nrepo = "a/b"\n',
            "apps[0] (id = 'm').labels: required key is missing",
        ),
        (
            '[[apps]]\nid = "m"\nname = "M"\nrepo = "a/b"\nlabels = ["x"]\n'
            '[apps.status_labels]\n"s" = "done"\n',
            "'done' is not a status; use one of open, planned",
        ),
        (
            '[[apps]]\nid = "m"\nname = "M"\nrepo = "a/b"\nlabels = ["x"]\n'
            'allowed_origins = ["https://a.example/"]\n',
            "is not an origin",
        ),
        ("[server]\ninline_delivery_seconds = -1\n", "server.inline_delivery_seconds"),
        (
            '[[apps]]\nid = "m"\nname = "M"\nrepo = "a/b"\nlabels = ["x"]\n'
            '[[apps]]\nid = "m"\nname = "N"\nrepo = "a/c"\nlabels = ["y"]\n',
            "used twice",
        ),
    ],
)
def test_errors_name_the_key_and_fix(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from(tmp_path, text)
    assert "featurebridge.toml" in str(raised.value)
    assert expected in str(raised.value)


def two_apps(first: str, second: str) -> str:
    return (
        f'[[apps]]\nid = "mobile"\nname = "M"\n{first}\n'
        f'[[apps]]\nid = "web"\nname = "W"\n{second}\n'
    )


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (
            'repo = "acme/app"\nlabels = ["feature-request"]',
            'repo = "Acme/App"\nlabels = ["Feature-Request"]',
            "have the same labels",
        ),
        (
            'repo = "acme/app"\nlabels = ["feature-request"]',
            'repo = "acme/app"\nlabels = ["feature-request", "app:web"]',
            "every label of 'mobile' is also a label of 'web'",
        ),
        (
            'repo = "acme/m"\nlabels = ["x"]\nvoter_secret_env = "VOTER"',
            'repo = "acme/w"\nlabels = ["x"]\nvoter_secret_env = "VOTER"',
            "both name voter_secret_env = 'VOTER'",
        ),
        (
            'repo = "acme/m"\nlabels = ["x"]\nform_secret_env = "FORM"',
            'repo = "acme/w"\nlabels = ["x"]\nform_secret_env = "FORM"',
            "both name form_secret_env = 'FORM'",
        ),
        (
            'repo = "acme/m"\nlabels = ["x"]\ntypeform_secret_env = "TF"',
            'repo = "acme/w"\nlabels = ["x"]\ntypeform_secret_env = "TF"',
            "both name typeform_secret_env = 'TF'",
        ),
    ],
)
def test_apps_that_would_leak_into_each_other_are_refused(
    tmp_path: Path, first: str, second: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from(tmp_path, two_apps(first, second))
    message = str(raised.value)
    assert "featurebridge.toml" in message
    assert "'mobile' and 'web'" in message
    assert expected in message
    assert "give each app" in message


def test_apps_with_labels_apart_may_share_a_repo(tmp_path: Path) -> None:
    text = two_apps(
        'repo = "acme/app"\nlabels = ["feature-request", "app:mobile"]',
        'repo = "acme/app"\nlabels = ["feature-request", "app:web"]',
    )
    assert [app.id for app in settings_from(tmp_path, text).apps] == ["mobile", "web"]


def test_env_file_supplies_what_the_environment_lacks(tmp_path: Path) -> None:
    env_file = tmp_path / "featurebridge.env"
    env_file.write_text(
        "# written by featurebridge register\nGITHUB_APP_ID=42\n"
        'GITHUB_APP_PRIVATE_KEY="-----BEGIN KEY-----\\nabc\\n-----END KEY-----"\n'
        "GITHUB_WEBHOOK_SECRET=from-file\n"
    )
    settings = settings_from(
        tmp_path, "", FEATUREBRIDGE_ENV_FILE=str(env_file), GITHUB_WEBHOOK_SECRET="from-env"
    )
    assert settings.github.app_id == "42"
    assert (
        settings.secrets.get("GITHUB_APP_PRIVATE_KEY")
        == "-----BEGIN KEY-----\nabc\n-----END KEY-----"
    )
    assert settings.secrets.get("GITHUB_WEBHOOK_SECRET") == "from-env"


def test_env_file_with_a_bad_line(tmp_path: Path) -> None:
    bad = tmp_path / "x.env"
    bad.write_text("JUST TEXT\n")
    with pytest.raises(ConfigError, match=r"x\.env:1"):
        read_env_file(bad)


def test_secret_indirection_resolves_once() -> None:
    calls: list[tuple[str, str]] = []

    def fetch(kind: str, name: str) -> str:
        calls.append((kind, name))
        return f"value-of-{name}"

    resolver = SecretResolver(
        {"A_SSM_PARAMETER": "/fb/a", "B_SECRET_ARN": "arn:aws:secretsmanager:x", "C": "direct"},
        fetch,
    )
    assert resolver.get("A") == "value-of-/fb/a"
    assert resolver.get("A") == "value-of-/fb/a"
    assert resolver.get("B") == "value-of-arn:aws:secretsmanager:x"
    assert resolver.get("C") == "direct"
    assert resolver.get("D") is None
    assert calls == [("ssm", "/fb/a"), ("secretsmanager", "arn:aws:secretsmanager:x")]
    assert resolver.source("A") == "A_SSM_PARAMETER"
    assert resolver.is_set("B")
    assert not resolver.is_set("D")


def test_secret_fetch_failure_names_the_variable_not_a_value() -> None:
    def fetch(kind: str, name: str) -> str:
        raise RuntimeError("AccessDenied for token=hunter2")

    resolver = SecretResolver({"A_SSM_PARAMETER": "/fb/a"}, fetch)
    with pytest.raises(SecretError) as raised:
        resolver.get("A")
    assert "A_SSM_PARAMETER" in str(raised.value)
    assert "hunter2" not in str(raised.value)


def test_ssm_indirection_through_botocore_stubber(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.session
    from botocore.stub import Stubber

    client = botocore.session.get_session().create_client("ssm", region_name="us-east-1")
    stubber = Stubber(client)
    stubber.add_response(
        "get_parameter",
        {"Parameter": {"Name": "/fb/key", "Value": "s3cret", "Type": "SecureString"}},
        {"Name": "/fb/key", "WithDecryption": True},
    )
    monkeypatch.setattr(
        botocore.session.Session, "create_client", lambda self, service, **kw: client
    )
    with stubber:
        resolver = SecretResolver({"GITHUB_WEBHOOK_SECRET_SSM_PARAMETER": "/fb/key"})
        assert resolver.get("GITHUB_WEBHOOK_SECRET") == "s3cret"
    stubber.assert_no_pending_responses()


def test_analysis_is_off_until_a_model_is_named(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "")
    assert settings.analysis.model_id is None
    assert settings.analysis.max_tokens == 800


def test_analysis_settings_and_the_region_fallback(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        '[analysis]\nmodel_id = "us.amazon.nova-micro-v1:0"\nmax_tokens = 500\n'
        "daily_token_budget = 1000\n"
        '[[apps]]\nid = "a"\nname = "A"\nrepo = "o/r"\nlabels = ["x"]\n'
        'categories = ["ux", "api"]\n'
        '[apps.analysis]\napply_labels = true\nallowed_labels = ["ux"]\n',
        AWS_REGION="eu-west-1",
    )
    assert settings.analysis.model_id == "us.amazon.nova-micro-v1:0"
    assert settings.analysis.region == "eu-west-1"
    assert settings.analysis.daily_token_budget == 1000
    app = settings.app("a")
    assert app is not None
    assert app.categories == ["ux", "api"]
    assert app.analysis.apply_labels
    assert app.analysis.allowed_labels == ["ux"]


def test_an_unknown_analysis_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model"):
        settings_from(tmp_path, '[analysis]\nmodel = "x"\n')


def test_the_stack_names_the_embedding_model_size_and_vector_index(tmp_path: Path) -> None:
    text = (
        '[analysis]\nembedding_model_id = "cohere.embed-english-v3"\nembedding_dimensions = 1024\n'
    )
    assert settings_from(tmp_path, text).analysis.embedding_dimensions == 1024
    settings = settings_from(
        tmp_path,
        text,
        FEATUREBRIDGE_EMBEDDING_MODEL_ID="amazon.titan-embed-text-v2:0",
        FEATUREBRIDGE_EMBEDDING_DIMENSIONS="256",
        FEATUREBRIDGE_VECTORS="s3vectors://bucket/requests-256",
    )
    assert settings.analysis.embedding_model_id == "amazon.titan-embed-text-v2:0"
    assert settings.analysis.embedding_dimensions == 256
    assert settings.vectors_url == "s3vectors://bucket/requests-256"
    with pytest.raises(ConfigError, match="FEATUREBRIDGE_EMBEDDING_DIMENSIONS='-1'"):
        settings_from(tmp_path, text, FEATUREBRIDGE_EMBEDDING_DIMENSIONS="-1")


def test_a_vectors_url_that_names_no_index_stops_the_start(tmp_path: Path) -> None:
    from bridge.app import build_runtime

    settings = settings_from(
        tmp_path,
        '[analysis]\nembedding_model_id = "amazon.titan-embed-text-v2:0"\n',
        FEATUREBRIDGE_VECTORS="s3vectors://bucket",
        FEATUREBRIDGE_STORE=f"sqlite:///{tmp_path / 'index.db'}",
    )
    with pytest.raises(ConfigError, match="FEATUREBRIDGE_VECTORS"):
        build_runtime(settings)
