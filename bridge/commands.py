"""Command-line use cases that print progress: sync, export and analyze."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from bridge.app import build_runtime
from bridge.domain import Status
from bridge.export import (
    STREAM_PAGE_SIZE,
    ExportFormat,
    Row,
    parse_since,
    serialise,
    walk_pages,
)
from bridge.ports import ExportPage, Job, StoreError, TrackerError
from bridge.runtime import Runtime
from bridge.settings import Settings
from bridge.sync import sync_app

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class Progress:
    """A one-line counter on a terminal, silent when output is not a terminal."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self._label = label
        self._stream = stream
        self._live = stream.isatty()

    def __call__(self, done: int) -> None:
        if self._live and done % 25 == 0:
            self._stream.write(f"\r{self._label}: {done}")
            self._stream.flush()

    def close(self) -> None:
        """End the line."""
        if self._live:
            self._stream.write("\r\033[K")
            self._stream.flush()


def run_forget(settings: Settings, *, email: str, dry_run: bool, out: TextIO) -> int:
    """``featurebridge forget``: erase one address from the index and say what changed.

    GitHub is not touched: what people wrote on issues is the maintainers' to edit.
    """
    from bridge.privacy.forget import normalised

    try:
        address = normalised(email)
    except ValueError as error:
        print(f"featurebridge: {error}", file=sys.stderr)
        return EXIT_USAGE
    report = build_runtime(settings).store.forget_person(address, dry_run=dry_run)
    print(report.summary(email.strip(), dry_run=dry_run), file=out)
    return EXIT_OK


def run_sync(settings: Settings, *, app_id: str | None, dry_run: bool, out: TextIO) -> int:
    """``featurebridge sync``: reconcile and print what changed (or would)."""
    if app_id is not None and settings.app(app_id) is None:
        print(f"featurebridge: no app {app_id!r} in the configuration", file=sys.stderr)
        return EXIT_USAGE
    runtime = build_runtime(settings)
    if not runtime.tracker.health().configured:
        print(f"featurebridge: {runtime.tracker.health().detail}", file=sys.stderr)
        return EXIT_PROBLEMS
    status = EXIT_OK
    for app in settings.apps:
        if app_id is not None and app.id != app_id:
            continue
        progress = Progress(f"syncing {app.id}")
        try:
            report = sync_app(runtime, app, dry_run=dry_run, progress=progress)
        except TrackerError as error:
            progress.close()
            print(f"{app.id}: GitHub refused: {error}", file=out)
            status = EXIT_PROBLEMS
            continue
        progress.close()
        print(report.summary() + (" (dry run: nothing changed)" if dry_run else ""), file=out)
        if dry_run:
            for verb, numbers in (
                ("add", report.added),
                ("update", report.updated),
                ("remove", report.removed),
            ):
                if numbers:
                    print(f"  would {verb}: " + ", ".join(f"#{n}" for n in numbers), file=out)
    return status


# --------------------------------------------------------------------------- export


def run_export(
    settings: Settings,
    *,
    app_ids: Sequence[str],
    fmt: str,
    status: str | None,
    since: str | None,
    output: str | Path | None,
    out: BinaryIO,
) -> int:
    """``featurebridge export``: every matching request, page by page, to a file or ``out``.

    Memory stays flat whatever the size; a file is written atomically (a
    temporary file beside it, renamed over it once complete).
    """
    if fmt not in set(ExportFormat):
        return _usage(f"--format {fmt!r}: use one of {', '.join(ExportFormat)}")
    if status is not None and status not in set(Status):
        return _usage(f"--status {status!r}: use one of {', '.join(Status)}")
    try:
        updated_since = parse_since(since) if since is not None else None
    except ValueError as error:
        return _usage(f"--since {since!r}: {error}")
    for app_id in app_ids:
        if settings.app(app_id) is None:
            return _usage(f"no app {app_id!r} in the configuration")
    apps = sorted((a for a in settings.apps if not app_ids or a.id in app_ids), key=lambda a: a.id)
    ids = [app.id for app in apps]
    wanted = Status(status) if status is not None else None
    # No counter over the data itself when the export goes to the terminal.
    progress = Progress("exporting", sys.stderr if output or not out.isatty() else io.StringIO())
    done = 0

    def pages(runtime: Runtime) -> Iterator[Sequence[Row]]:
        nonlocal done

        def fetch(cursor: str | None) -> ExportPage:
            return runtime.store.export_rows(
                apps=ids,
                status=wanted,
                updated_since=updated_since,
                limit=STREAM_PAGE_SIZE,
                cursor=cursor,
            )

        for items in walk_pages(fetch):
            yield items
            done += len(items)
            progress(done - done % 25)  # Progress draws at multiples of 25; pages vary in size

    try:
        runtime = build_runtime(settings)
        refs = [{"id": app.id, "name": app.name, "repo": app.repo} for app in apps]
        chunks = serialise(
            ExportFormat(fmt), pages(runtime), exported_at=runtime.clock(), apps=refs
        )
        if output is None:
            for chunk in chunks:
                out.write(chunk.encode())
            out.flush()
        else:
            write_atomically(Path(output), chunks)
    except (StoreError, OSError) as error:
        progress.close()
        print(f"featurebridge: export failed: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    progress.close()
    print(f"exported {done} requests" + (f" to {output}" if output else ""), file=sys.stderr)
    return EXIT_OK


def _usage(message: str) -> int:
    print(f"featurebridge: {message}", file=sys.stderr)
    return EXIT_USAGE


def write_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Write UTF-8 text to a temporary file beside ``path``, then rename it over ``path``.

    Readers see the old file or the complete new one, never a partial export;
    on any failure the temporary file is removed and ``path`` is left as it was.
    """
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
            for chunk in chunks:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # the mode open() would have given it
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


# --------------------------------------------------------------------------- analyze


class CommandQueue:
    """The command's own queue: a retry the job asks for is run here, after its delay."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Job, float]] = []

    def enqueue(self, job: Job, *, delay_seconds: float = 0) -> None:
        self.jobs.append((job, delay_seconds))

    def depth(self) -> int | None:
        return len(self.jobs)


# A retry due later than this is left for `serve` or the next run.
ANALYZE_MAX_WAIT_SECONDS = 120.0


def run_analyze(
    settings: Settings,
    *,
    app_id: str,
    number: int | None,
    dry_run: bool,
    out: TextIO,
    sleep: Callable[[float], None] = time.sleep,
    runtime: Runtime | None = None,
) -> int:
    """``featurebridge analyze``: analyse one request (``number``) or all of an app's."""
    from bridge.analysis.job import Prepared, prepare, worst_case_for

    app = settings.app(app_id)
    if app is None:
        return _usage(f"no app {app_id!r} in the configuration")
    # A runtime given (tests) must hold a CommandQueue too.
    runtime = runtime or build_runtime(settings, queue=CommandQueue())
    queue = runtime.queue
    if not isinstance(queue, CommandQueue):
        raise TypeError("featurebridge analyze runs its retries from a CommandQueue")
    if runtime.analyzer is None or not app.analysis.enabled:
        print(f"featurebridge: analysis is off for {app_id}: set [analysis] model_id", file=out)
        return EXIT_PROBLEMS
    numbers = [number] if number is not None else all_numbers(runtime, app_id)
    progress = Progress(f"analysing {app_id}")
    counts: dict[str, int] = {}
    for done, each in enumerate(numbers, 1):
        if dry_run:
            prepared = prepare(runtime, app_id, each)
            if isinstance(prepared, Prepared):
                result = "would analyse"
                line = f"#{each} {prepared.request.title}: would analyse (reserves up to"
                line += f" {worst_case_for(runtime, prepared):,} tokens)"
            else:
                result, line = prepared, f"#{each}: {prepared}"
        else:
            result = _analyse_with_retries(runtime, queue, app_id, each, sleep)
            line = f"#{each}: {result}"
        counts[result] = counts.get(result, 0) + 1
        progress(done)
        print(line, file=out)
    progress.close()
    summary = ", ".join(f"{count} {result}" for result, count in sorted(counts.items()))
    print(f"{app_id}: {summary or 'no requests'}" + (" (dry run)" if dry_run else ""), file=out)
    return EXIT_PROBLEMS if counts.get("failed") or counts.get("missing") else EXIT_OK


def _analyse_with_retries(
    runtime: Runtime,
    queue: CommandQueue,
    app_id: str,
    number: int,
    sleep: Callable[[float], None],
) -> str:
    from bridge.analysis.job import analyse_request

    return run_with_retries(analyse_request, runtime, queue, app_id, number, sleep=sleep)


def run_with_retries(
    job: Callable[..., str],
    runtime: Runtime,
    queue: CommandQueue,
    app_id: str,
    number: int,
    *,
    sleep: Callable[[float], None],
) -> str:
    """Run a request's job (``job(runtime, app_id, number, attempts=...)``) now, and the
    retries it queues while they are due within ``ANALYZE_MAX_WAIT_SECONDS``."""
    result: str = job(runtime, app_id, number)
    while result == "retrying" and queue.jobs:
        queued, delay = queue.jobs.pop()
        if delay > ANALYZE_MAX_WAIT_SECONDS:
            break
        sleep(delay)
        result = job(runtime, app_id, number, attempts=int(queued.payload["attempts"]))
    queue.jobs.clear()
    return result


def all_numbers(runtime: Runtime, app_id: str) -> list[int]:
    """Every request number of the app in the index."""
    numbers: list[int] = []
    cursor: str | None = None
    while True:
        page = runtime.store.export_rows(
            apps=[app_id], status=None, updated_since=None, limit=500, cursor=cursor
        )
        numbers.extend(row.number for row in page.rows)
        if page.next_cursor is None:
            return numbers
        cursor = page.next_cursor
