"""``scripts/build_lambda.py``: the deployment package is complete, compiled and runs.

Builds the real package twice (about 10 s each with uv's cache warm; the
first run on a machine also downloads the wheels): once for arm64 as
deployed, inspected file by file, and once for x86_64 so this machine can run
the HTTP entry from the unpacked tree in an isolated interpreter.
"""

from __future__ import annotations

import importlib.util
import json
import marshal
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.lambda_support import APIGW_FIXTURES, ROOT

AARCH64, X86_64 = 0xB7, 0x3E  # ELF e_machine


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_lambda", ROOT / "scripts" / "build_lambda.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_lambda"] = module
    spec.loader.exec_module(module)
    return module


build_lambda = _load_script()


class Built:
    def __init__(self, tree: Path, zip_path: Path, figures: dict[str, float]) -> None:
        self.tree = tree
        self.zip = zip_path
        self.figures = figures


def _build(base: Path, arch: str) -> Built:
    zip_path = base / "lambda.zip"
    figures = build_lambda.build(zip_path, workdir=base / "tree", arch=arch)
    return Built(base / "tree", zip_path, figures)


@pytest.fixture(scope="module")
def arm64(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("arm64"), "arm64")


@pytest.fixture(scope="module")
def x86_64(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return _build(tmp_path_factory.mktemp("x86_64"), "x86_64")


def _elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", path
    return int.from_bytes(header[18:20], "little")


def test_package_has_the_entries_and_project_at_its_root(arm64: Built) -> None:
    names = set(zipfile.ZipFile(arm64.zip).namelist())
    for required in (
        "http_entry.py",
        "worker_entry.py",
        "schedule_entry.py",
        "entry_common.py",
        "__pycache__/http_entry.cpython-311.pyc",
        "featurebridge.toml",
        "bridge/app.py",
        "bridge/queues_sqs.py",
        "github_app/templates/issue.toml",
        "forms/widget.js",
        "forms/templates/roadmap.html",
        "flask/__init__.py",
        "mangum/__init__.py",
        "a2wsgi/__init__.py",
        "botocore/data/dynamodb/2012-08-10/service-2.json.gz",
        "botocore/data/sqs/2012-11-05/service-2.json.gz",
        "botocore/data/endpoints.json",
    ):
        assert required in names, required
    assert any(name.startswith("featurebridge-") and name.endswith("/METADATA") for name in names)
    assert not any(name.startswith("waitress") for name in names)  # serve only
    assert not any(name.startswith(("tests/", "lambda/", "bench/")) for name in names)
    assert not any(name.endswith(("/RECORD", ".pyi")) for name in names)
    assert not any(name.startswith("botocore/data/ec2/") for name in names)
    assert not any(name == "featurebridge.env" for name in names)  # secrets never ship


def test_native_code_is_for_arm64(arm64: Built) -> None:
    libraries = list(arm64.tree.rglob("*.so"))
    assert any("pydantic_core" in str(path) for path in libraries)
    assert {_elf_machine(path) for path in libraries} == {AARCH64}


def test_every_module_is_compiled_unchecked_for_var_task(arm64: Built) -> None:
    sources = [p for p in arm64.tree.rglob("*.py") if "__pycache__" not in p.parts]
    missing = [p for p in sources if not Path(importlib.util.cache_from_source(str(p))).exists()]
    assert missing == []
    pyc = Path(importlib.util.cache_from_source(str(arm64.tree / "bridge" / "app.py")))
    data = pyc.read_bytes()
    assert data[:4] == importlib.util.MAGIC_NUMBER
    # PEP 552 flags: hash-based (bit 0), not checked against the source (bit 1 clear).
    assert int.from_bytes(data[4:8], "little") == 0b01
    assert marshal.loads(data[16:]).co_filename == "/var/task/bridge/app.py"


def test_size_is_printed_and_within_lambdas_limits(arm64: Built) -> None:
    assert arm64.zip.stat().st_size == arm64.figures["zip_bytes"]
    assert arm64.figures["zip_bytes"] < build_lambda.ZIP_LIMIT
    assert arm64.figures["unzipped_bytes"] < build_lambda.UNZIPPED_LIMIT


def test_zip_is_reproducible(arm64: Built, tmp_path: Path) -> None:
    again = tmp_path / "again.zip"
    build_lambda.write_zip(arm64.tree, again)
    assert again.read_bytes() == arm64.zip.read_bytes()


@pytest.fixture
def unpacked(x86_64: Built, tmp_path: Path) -> Path:
    tree = tmp_path / "task"
    with zipfile.ZipFile(x86_64.zip) as archive:
        archive.extractall(tree)
    return tree


_RUN = """
import json, sys
sys.path.insert(0, ".")
import http_entry
event = json.load(open(sys.argv[1]))
answer = http_entry.handler(event, None)
print(json.dumps({
    "status": answer["statusCode"],
    "body": json.loads(answer["body"]),
    "files": sorted(
        m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)
    ),
}))
"""


def test_unpacked_package_answers_healthz_in_an_isolated_interpreter(
    unpacked: Path, tmp_path: Path
) -> None:
    assert {_elf_machine(p) for p in unpacked.rglob("*.so")} == {X86_64}
    before = {p: p.stat().st_mtime_ns for p in unpacked.rglob("*")}
    env = {
        "PATH": os.environ.get("PATH", ""),
        "FEATUREBRIDGE_CONFIG": str(unpacked / "featurebridge.toml"),
        "FEATUREBRIDGE_STORE": f"sqlite:///{tmp_path / 'index.db'}",
        "FEATUREBRIDGE_ENV_FILE": str(tmp_path / "absent.env"),
    }
    done = subprocess.run(
        # -I: no user site or PYTHON* variables; -S: no site-packages, only the package.
        [sys.executable, "-I", "-S", "-c", _RUN, str(APIGW_FIXTURES / "healthz.json")],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert result["status"] == 200
    assert result["body"]["index"] == {"ok": True}
    third_party = [f for f in result["files"] if "site-packages" in f]
    assert third_party == []  # everything came from the package or the standard library
    assert any(f.startswith(str(unpacked / "flask")) for f in result["files"])
    after = {p: p.stat().st_mtime_ns for p in unpacked.rglob("*")}
    assert after == before  # nothing compiled or written at run time (a read-only /var/task)


_RUN_PAGES = """
import json, sys
sys.path.insert(0, ".")
import http_entry
event = json.load(open(sys.argv[1]))
answers = {}
for path in sys.argv[2:]:
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    answer = http_entry.handler(event, None)
    headers = {k.lower(): v for k, v in answer["headers"].items()}
    answers[path] = [answer["statusCode"], headers.get("content-type")]
print(json.dumps(answers))
"""


def test_unpacked_package_serves_the_widget_and_pages(unpacked: Path, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "FEATUREBRIDGE_CONFIG": str(unpacked / "featurebridge.toml"),
        "FEATUREBRIDGE_STORE": f"sqlite:///{tmp_path / 'index.db'}",
        "FEATUREBRIDGE_ENV_FILE": str(tmp_path / "absent.env"),
    }
    paths = ["/widget.js", "/widget/de.json", "/apps/demo/form", "/apps/demo/roadmap"]
    done = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            _RUN_PAGES,
            str(APIGW_FIXTURES / "healthz.json"),
            *paths,
        ],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.splitlines()[-1])
    assert answers == {
        "/widget.js": [200, "application/javascript; charset=utf-8"],
        "/widget/de.json": [200, "application/json; charset=utf-8"],
        "/apps/demo/form": [200, "text/html; charset=utf-8"],
        "/apps/demo/roadmap": [200, "text/html; charset=utf-8"],
    }
