"""The featurebridge command: serve as a real process, doctor, configuration errors."""

from __future__ import annotations

import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import FEATUREBRIDGE, clean_env, free_port, http, start_serve

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "featurebridge.example.toml"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    shutil.copy(EXAMPLE, tmp_path / "featurebridge.toml")
    port = free_port()
    process = start_serve(tmp_path, port)
    yield f"http://127.0.0.1:{port}"
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
    assert (tmp_path / "featurebridge.db").exists()


def test_serve_answers_with_the_example_config_and_no_credentials(served: str) -> None:
    status, health = http("GET", served + "/healthz")
    assert status == 200
    assert health["github"]["configured"] is False  # type: ignore[index]
    status, accepted = http("POST", served + "/v1/apps/demo/requests", {"title": "Dark mode"})
    assert status == 202
    assert accepted["delivery"] == "queued"
    status, health = http("GET", served + "/healthz")
    assert health["queue"]["pending_submissions"] == 1  # type: ignore[index]


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FEATUREBRIDGE), *args],
        cwd=tmp_path,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_explicit_config_exits_2(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", FEATUREBRIDGE_CONFIG=str(tmp_path / "absent.toml"))
    assert result.returncode == 2
    assert "absent.toml" in result.stderr
    assert "does not exist" in result.stderr


def test_invalid_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "featurebridge.toml").write_text(
        '[[apps]]\nid = "x"\nname = "X"\nrepo = "bad"\nlabels = ["a"]\n'
    )
    result = run_cli(tmp_path, "doctor")
    assert result.returncode == 2
    assert "repo" in result.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "frobnicate").returncode == 2


def test_doctor_reports_problems_with_exit_1(tmp_path: Path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "featurebridge.toml")
    result = run_cli(tmp_path, "doctor")
    assert result.returncode == 1
    assert "[FIX] github: no GitHub credentials" in result.stdout
    assert "DEMO_VOTER_SECRET is not set" in result.stdout
    assert "[ok ] index" in result.stdout


def test_doctor_passes_when_all_is_set(tmp_path: Path) -> None:
    from bridge.doctor import check
    from bridge.settings import Settings

    shutil.copy(EXAMPLE, tmp_path / "featurebridge.toml")
    settings = Settings.from_env(
        {
            "FEATUREBRIDGE_CONFIG": str(tmp_path / "featurebridge.toml"),
            "FEATUREBRIDGE_STORE": f"sqlite:///{tmp_path / 'x.db'}",
            "FEATUREBRIDGE_ADMIN_TOKEN": "t",
            "DEMO_VOTER_SECRET": "v",
            "DEMO_FORM_SECRET": "f",
        }
    )
    findings = check(settings)
    assert [f.subject for f in findings if not f.ok] == ["github"]


def test_forget_erases_one_person_and_says_what_changed(tmp_path: Path) -> None:
    from bridge.domain import Source, Submission, SubmissionContent
    from bridge.stores.sqlite import SQLiteStore
    from bridge.timeutil import utcnow

    shutil.copy(EXAMPLE, tmp_path / "featurebridge.toml")
    db = tmp_path / "forget.db"
    content = SubmissionContent(title="Dark mode", email="Zoe@Example.com", name="Zoe")
    SQLiteStore(db).create_submission(
        Submission(id="s1", app="demo", source=Source.FORM, content=content, created_at=utcnow()),
        idempotency=None,
        now=utcnow(),
    )
    store = {"FEATUREBRIDGE_STORE": f"sqlite:///{db}"}
    dry = run_cli(tmp_path, "forget", "--email", "zoe@example.com", "--dry-run", **store)
    assert dry.returncode == 0, dry.stderr
    assert "would change 1 submission(s)" in dry.stdout
    done = run_cli(tmp_path, "forget", "--email", " zoe@example.com ", **store)
    assert "changed 1 submission(s)" in done.stdout
    kept = SQLiteStore(db).get_submission("s1")
    assert kept is not None
    assert (kept.content.email, kept.content.name) == (None, None)
    again = run_cli(tmp_path, "forget", "--email", "zoe@example.com", **store)
    assert "changed 0 submission(s)" in again.stdout
    assert run_cli(tmp_path, "forget", "--email", "not-an-address", **store).returncode == 2
