"""Command-line use cases that print progress: sync (and, later, export)."""

from __future__ import annotations

import sys
from typing import TextIO

from bridge.app import build_runtime
from bridge.ports import TrackerError
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
