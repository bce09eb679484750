"""Build the Lambda deployment package, ``build/lambda.zip``, offline from the lock file.

Usage: ``python scripts/build_lambda.py [--output build/lambda.zip] [--no-aws-sdk]``

1. Export the locked runtime dependencies from ``uv.lock`` with their hashes
   (``uv export --frozen --no-dev``), minus what Lambda never runs (waitress).
2. Install them for the functions' platform, never building anything:
   ``uv pip install --target --python-platform aarch64-manylinux2014
   --python-version 3.11 --only-binary :all: --no-deps --require-hashes``
   (manylinux2014 = glibc 2.17, which the python3.11 runtime's Amazon Linux 2
   (glibc 2.26) runs; a wheel tagged only manylinux_2_28 would not load there).
3. Add the project: ``bridge/``, ``github_app/``, the entries ``lambda/*.py``
   at the root (so handlers are ``http_entry.handler`` and so on),
   ``featurebridge.toml`` (or the example when there is none), and a minimal
   ``featurebridge`` dist-info so ``/openapi.json`` knows its version.
4. Strip what Lambda never reads: caches, ``bin/`` scripts, stubs, dist-info
   RECORD/INSTALLER files, test suites of dependencies, and botocore's models
   of services the bridge does not call.
5. Compile bytecode with CPython 3.11 (``compileall -j0 --invalidation-mode
   unchecked-hash``): Lambda's code directory is read-only, so a package without
   ``.pyc`` recompiles every module on every cold start (about 2.4x slower), and
   unchecked hashes are never re-validated against the sources. Paths are
   rewritten to ``/var/task`` so tracebacks name the deployed files.
6. Zip deterministically (sorted, fixed timestamps): the same tree gives the
   same bytes, so an unchanged build never redeploys. Print the sizes and fail
   when over Lambda's limits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASK_ROOT = "/var/task"  # where Lambda unpacks the package
PYTHON_VERSION = "3.11"
# Lambda architecture -> uv's --python-platform; the template uses arm64.
PLATFORMS = {"arm64": "aarch64-manylinux2014", "x86_64": "x86_64-manylinux2014"}

# Runtime dependencies Lambda never imports: the WSGI server of `featurebridge serve`.
NOT_ON_LAMBDA = ("waitress",)
# With --no-aws-sdk: the runtime's own boto3/botocore (and what only they need) are used.
AWS_SDK = ("boto3",)
# botocore models to keep (the rest of botocore/data is ~25 MB the bridge never reads).
BOTOCORE_SERVICES = frozenset(
    {"dynamodb", "sqs", "ssm", "secretsmanager", "bedrock-runtime", "sesv2", "sts", "kms"}
)
PROJECT_PACKAGES = ("bridge", "github_app")
STRIP_DIRS = frozenset({"__pycache__", "tests", "test"})
STRIP_SUFFIXES = (".pyi", ".pyc", ".pyo")
STRIP_DIST_INFO = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
# Packages whose ``tests``/``testing`` directories are real code, not test suites.
KEEP_TEST_DIRS = frozenset({"numpy"})

ZIP_LIMIT = 50 * 1024 * 1024  # direct upload of a zip
UNZIPPED_LIMIT = 250 * 1024 * 1024  # function plus layers, unzipped
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


class BuildError(Exception):
    """The package could not be built; the message says why and what to do."""


def _run(command: Sequence[str], *, cwd: Path = ROOT) -> str:
    try:
        done = subprocess.run(  # noqa: S603 -- a fixed argv of our own, no shell
            list(command), cwd=cwd, check=True, capture_output=True, text=True, timeout=900
        )
    except FileNotFoundError as error:
        raise BuildError(f"{command[0]} not found") from error
    except subprocess.CalledProcessError as error:
        raise BuildError(
            f"{' '.join(command)} failed ({error.returncode}):\n{error.stderr.strip()}"
        ) from error
    return done.stdout


def find_uv() -> str | None:
    """The uv the Makefile installs, else one on PATH."""
    pinned = ROOT / ".tools" / "bin" / "uv"
    if pinned.exists():
        return str(pinned)
    return shutil.which("uv")


def export_requirements(uv: str, *, prune: Iterable[str]) -> str:
    """The locked runtime requirements with hashes (no dev group, not the project)."""
    command = [uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-header"]
    command += ["--format", "requirements.txt"]
    for name in prune:
        command += ["--prune", name]
    return _run(command)


def install_dependencies(requirements: Path, target: Path, *, uv: str, arch: str) -> None:
    """Install exactly the locked wheels for Lambda's platform into ``target``.

    pip's equivalent: ``pip install --target DIR --platform manylinux2014_aarch64
    --implementation cp --python-version 3.11 --only-binary=:all: --no-deps
    --require-hashes -r requirements.txt``.
    """
    _run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--target",
            str(target),
            "--python-platform",
            PLATFORMS[arch],
            "--python-version",
            PYTHON_VERSION,
            "--only-binary",
            ":all:",
            "--no-deps",
            "--require-hashes",
            "--no-compile",
            "-r",
            str(requirements),
        ]
    )


def _ignore_caches(directory: str, names: list[str]) -> set[str]:
    return {name for name in names if name == "__pycache__" or name.endswith((".pyc", ".pyo"))}


def add_project(target: Path, *, config: Path | None = None) -> Path:
    """Copy the project's packages, the entries and the config; return the config used."""
    for package in PROJECT_PACKAGES:
        shutil.copytree(ROOT / package, target / package, ignore=_ignore_caches)
    # The browser side the service serves (bridge/api/pages.py): widget script, page templates.
    shutil.copytree(ROOT / "forms", target / "forms", ignore=shutil.ignore_patterns("*.gs"))
    for entry in sorted((ROOT / "lambda").glob("*.py")):
        shutil.copy2(entry, target / entry.name)
    if config is None:
        own = ROOT / "featurebridge.toml"
        config = own if own.exists() else ROOT / "featurebridge.example.toml"
    shutil.copy2(config, target / "featurebridge.toml")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dist_info = target / f"featurebridge-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n",
        encoding="utf-8",
    )
    return config


def strip(target: Path, *, botocore_services: frozenset[str] = BOTOCORE_SERVICES) -> int:
    """Remove what Lambda never reads; return the bytes saved."""
    saved = 0

    def remove(path: Path) -> None:
        nonlocal saved
        if path.is_dir():
            saved += sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            shutil.rmtree(path)
        elif path.exists():
            saved += path.stat().st_size
            path.unlink()

    remove(target / "bin")
    data = target / "botocore" / "data"
    if data.is_dir():
        for service in data.iterdir():
            if service.is_dir() and service.name not in botocore_services:
                remove(service)
    for path in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if not path.exists():
            continue
        top = path.relative_to(target).parts[0]
        if path.is_dir():
            if path.name in STRIP_DIRS and top not in KEEP_TEST_DIRS and path.parent != target:
                remove(path)
        elif _is_unread_file(path):
            remove(path)
    return saved


def _is_unread_file(path: Path) -> bool:
    if path.parent.name.endswith(".dist-info"):
        return path.name in STRIP_DIST_INFO
    return path.suffix in STRIP_SUFFIXES or path.name == "py.typed"


def python_311(uv: str | None) -> str:
    """A CPython 3.11 to compile with: ``.pyc`` files are only read by the same minor version."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == PYTHON_VERSION:
        return sys.executable
    if uv is not None:
        try:
            return _run([uv, "python", "find", PYTHON_VERSION]).strip()
        except BuildError:
            pass
    raise BuildError(
        "compiling for the python3.11 runtime needs CPython 3.11: run this script with it "
        f"(or install one with `uv python install {PYTHON_VERSION}`)"
    )


def compile_bytecode(target: Path, python: str) -> int:
    """Compile every module in place for /var/task; return the number of .pyc files."""
    _run(
        [
            python,
            "-m",
            "compileall",
            "-q",
            "-j0",
            "--invalidation-mode",
            "unchecked-hash",
            "-s",
            str(target),
            "-p",
            TASK_ROOT,
            str(target),
        ]
    )
    return sum(1 for _ in target.rglob("*.pyc"))


def write_zip(source: Path, output: Path) -> tuple[int, int, int]:
    """Zip ``source`` reproducibly; return (zip bytes, unzipped bytes, files)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".zip.partial")
    files = sorted(path for path in source.rglob("*") if path.is_file())
    unzipped = 0
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_DATE)
            mode = 0o755 if os.access(path, os.X_OK) and path.suffix == ".so" else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            unzipped += len(data)
            zf.writestr(info, data, compresslevel=6)
    partial.replace(output)
    return output.stat().st_size, unzipped, len(files)


def build(
    output: Path,
    *,
    workdir: Path,
    aws_sdk: bool = True,
    config: Path | None = None,
    arch: str = "arm64",
) -> dict[str, float]:
    """Build the package; return its figures (sizes in bytes, seconds)."""
    started = time.perf_counter()
    uv = find_uv()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    figures: dict[str, float] = {}
    if uv is None:
        raise BuildError("uv not found: run `make install` (it installs .tools/bin/uv)")
    prune = [*NOT_ON_LAMBDA, *(() if aws_sdk else AWS_SDK)]
    requirements = workdir.with_name(workdir.name + "-requirements.txt")
    requirements.write_text(export_requirements(uv, prune=prune), encoding="utf-8")
    install_dependencies(requirements, workdir, uv=uv, arch=arch)
    figures["install_seconds"] = time.perf_counter() - started
    add_project(workdir, config=config)
    figures["stripped_bytes"] = strip(workdir)
    mark = time.perf_counter()
    figures["pyc_files"] = compile_bytecode(workdir, python_311(uv))
    figures["compile_seconds"] = time.perf_counter() - mark
    mark = time.perf_counter()
    zipped, unzipped, files = write_zip(workdir, output)
    figures.update(
        zip_bytes=zipped,
        unzipped_bytes=unzipped,
        files=files,
        zip_seconds=time.perf_counter() - mark,
        total_seconds=time.perf_counter() - started,
    )
    if zipped > ZIP_LIMIT:
        raise BuildError(f"{output} is {zipped / 2**20:.1f} MiB; Lambda takes at most 50 MiB")
    if unzipped > UNZIPPED_LIMIT:
        raise BuildError(f"unzipped {unzipped / 2**20:.1f} MiB; Lambda allows at most 250 MiB")
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: build and print the package's size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "lambda.zip")
    parser.add_argument("--workdir", type=Path, default=ROOT / "build" / "lambda")
    parser.add_argument("--config", type=Path, default=None, help="featurebridge.toml to ship")
    parser.add_argument(
        "--no-aws-sdk",
        dest="aws_sdk",
        action="store_false",
        help="leave boto3/botocore out and use the Lambda runtime's (smaller, unpinned)",
    )
    parser.add_argument(
        "--arch", choices=sorted(PLATFORMS), default="arm64", help="the functions' architecture"
    )
    args = parser.parse_args(argv)
    try:
        figures = build(
            args.output,
            workdir=args.workdir,
            aws_sdk=args.aws_sdk,
            config=args.config,
            arch=args.arch,
        )
    except BuildError as error:
        print(f"build_lambda: {error}", file=sys.stderr)
        return 1
    print(
        f"{args.output}: {figures['zip_bytes'] / 2**20:.1f} MiB zipped, "
        f"{figures['unzipped_bytes'] / 2**20:.1f} MiB unzipped, {int(figures['files'])} files "
        f"({int(figures['pyc_files'])} .pyc), built in {figures['total_seconds']:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
