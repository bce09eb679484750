"""The ``featurebridge`` command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bridge.settings import ConfigError, Settings

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="featurebridge",
        description="Feature requests from widgets and forms, filed as GitHub issues.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser("serve", help="run the web service and its background worker")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--threads", type=int, default=8, help="request threads")
    commands.add_parser("worker", help="run only the background worker (delivery, sync)")
    sync = commands.add_parser("sync", help="reconcile the index with GitHub now")
    sync.add_argument("--app", help="only this app id")
    sync.add_argument(
        "--dry-run", action="store_true", help="show what would change; change nothing"
    )
    commands.add_parser("doctor", help="check configuration and credentials; exit 1 on problems")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"featurebridge: configuration error\n{error}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "serve":
        from bridge.server import serve

        return serve(settings, host=args.host, port=args.port, threads=args.threads)
    if args.command == "worker":
        from bridge.server import work

        return work(settings)
    if args.command == "sync":
        from bridge.commands import run_sync

        return run_sync(settings, app_id=args.app, dry_run=args.dry_run, out=sys.stdout)
    if args.command == "doctor":
        from bridge.doctor import run_doctor

        return run_doctor(settings, out=sys.stdout)
    return EXIT_USAGE  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
