"""The ``featurebridge`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bridge.logs import configure as configure_logging
from bridge.settings import ENV_FILE, ConfigError, Settings

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
    analyze = commands.add_parser("analyze", help="run the AI analysis of requests now")
    analyze.add_argument("--app", required=True, help="the app id")
    which = analyze.add_mutually_exclusive_group(required=True)
    which.add_argument("--number", type=int, help="one request, by issue number")
    which.add_argument("--all", action="store_true", help="every request of the app")
    analyze.add_argument(
        "--dry-run", action="store_true", help="show what would be analysed; call no model"
    )
    reindex = commands.add_parser("reindex", help="embed an app's requests again (vectors)")
    reindex.add_argument("--app", required=True, help="the app id")
    reindex.add_argument("--dry-run", action="store_true", help="count and cost only")
    evaluate = commands.add_parser(
        "similar-eval", help="recall@5 of lexical vs fused similar requests on labelled pairs"
    )
    evaluate.add_argument("--app", required=True, help="the app id")
    evaluate.add_argument(
        "--pairs",
        required=True,
        type=Path,
        metavar="FILE",
        help='JSON Lines: {"title": ..., "description": ..., "original": <issue number>}',
    )
    mcp = commands.add_parser(
        "mcp", help="serve MCP on stdio: read-only tools over a running bridge's HTTP API"
    )
    mcp.add_argument(
        "--url",
        default="http://127.0.0.1:8000",
        help="the bridge's base URL (serve or Lambda); tokens from FEATUREBRIDGE_ADMIN_TOKEN"
        " or FEATUREBRIDGE_VOTER_TOKEN",
    )
    commands.add_parser("doctor", help="check configuration and credentials; exit 1 on problems")
    forget = commands.add_parser("forget", help="erase one person's personal data from the index")
    forget.add_argument("--email", required=True, metavar="ADDRESS", help="the person's address")
    forget.add_argument("--dry-run", action="store_true", help="count what would change only")
    _pipeline_commands(commands)
    notifications = commands.add_parser(
        "notifications", help="list recent webhook and SNS deliveries and their failures"
    )
    notifications.add_argument("--state", choices=("pending", "delivered", "failed"))
    notifications.add_argument("--limit", type=int, default=50, help="at most this many")
    export = commands.add_parser("export", help="write aggregated vote data (JSON, JSONL, CSV)")
    export.add_argument("--app", action="append", default=[], metavar="ID", help="repeatable")
    export.add_argument("--format", default="json", metavar="json|jsonl|csv")
    export.add_argument("--status", help="only requests with this status")
    export.add_argument("--since", metavar="ISO", help="only requests updated at or after this")
    export.add_argument("--output", metavar="FILE", help="written atomically; default: stdout")
    register = commands.add_parser("register", help="create the GitHub App from app.yml")
    register.add_argument("--org", help="create it in this organization (default: your account)")
    register.add_argument("--port", type=int, default=3000, help="local port for GitHub's redirect")
    register.add_argument("--public-url", help="webhooks base URL (default: [server] public_url)")
    register.add_argument("--no-browser", action="store_true", help="only print the URL to open")
    register.add_argument("--force", action="store_true", help="replace featurebridge.env")
    register.add_argument("--manifest", type=Path, help="the App manifest (default: app.yml)")
    return parser


def _pipeline_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``moderate`` and ``outbox``: what waits for review or for GitHub."""
    moderate = commands.add_parser("moderate", help="the review queue: list, approve, reject")
    moderate.add_argument("action", choices=("list", "approve", "reject"))
    moderate.add_argument("ids", nargs="*", metavar="ID", help="submission ids (approve, reject)")
    moderate.add_argument("--app", required=True, help="the app id")
    moderate.add_argument(
        "--all-matching",
        metavar="TEXT",
        help="every held submission whose title or description contains TEXT",
    )
    moderate.add_argument("--state", choices=("held", "rejected"), default="held", help="list")
    moderate.add_argument("--reason", help="recorded with each decision")
    moderate.add_argument("--dry-run", action="store_true", help="show what would be decided")
    outbox = commands.add_parser("outbox", help="what waits for GitHub; retry or cancel one")
    outbox.add_argument("action", nargs="?", choices=("list", "retry", "cancel"), default="list")
    outbox.add_argument("id", nargs="?", metavar="ID", help="the submission (retry, cancel)")
    outbox.add_argument(
        "--state",
        choices=("pending", "retrying", "held", "rejected", "dead", "cancelled"),
        default="pending",
    )
    outbox.add_argument("--app", help="only this app id")
    outbox.add_argument("--limit", type=int, default=100, help="at most this many")
    outbox.add_argument("--reason", help="recorded with a cancel")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    configure_logging()
    if args.command == "mcp":
        # A client of the HTTP API: it reads no configuration and opens no index.
        from bridge.agents.server import run_mcp
        from bridge.api.ops import service_version

        return run_mcp(args.url, dict(os.environ), version=service_version())
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
    if args.command == "export":
        from bridge.commands import run_export

        return run_export(
            settings,
            app_ids=args.app,
            fmt=args.format,
            status=args.status,
            since=args.since,
            output=args.output,
            out=sys.stdout.buffer,
        )
    if args.command == "analyze":
        from bridge.commands import run_analyze

        return run_analyze(
            settings, app_id=args.app, number=args.number, dry_run=args.dry_run, out=sys.stdout
        )
    if args.command in ("reindex", "similar-eval"):
        from bridge.embeddings.commands import run_reindex, run_similar_eval

        if args.command == "reindex":
            return run_reindex(settings, app_id=args.app, dry_run=args.dry_run, out=sys.stdout)
        return run_similar_eval(settings, app_id=args.app, pairs_path=args.pairs, out=sys.stdout)
    if args.command == "forget":
        from bridge.commands import run_forget

        return run_forget(settings, email=args.email, dry_run=args.dry_run, out=sys.stdout)
    if args.command == "moderate":
        from bridge.moderation.commands import run_moderate

        return run_moderate(
            settings,
            action=args.action,
            app_id=args.app,
            ids=args.ids,
            all_matching=args.all_matching,
            state=args.state,
            reason=args.reason,
            dry_run=args.dry_run,
            out=sys.stdout,
        )
    if args.command == "outbox":
        from bridge.outbox.commands import run_outbox

        return run_outbox(
            settings,
            action=args.action,
            submission_id=args.id,
            state=args.state,
            app_id=args.app,
            limit=args.limit,
            reason=args.reason,
            out=sys.stdout,
        )
    if args.command == "notifications":
        from bridge.notify.report import run_notifications

        return run_notifications(settings, state=args.state, limit=args.limit, out=sys.stdout)
    if args.command == "doctor":
        from bridge.doctor import run_doctor

        return run_doctor(settings, out=sys.stdout)
    if args.command == "register":
        from github_app.registration import default_manifest_path, run_register

        return run_register(
            settings,
            org=args.org,
            port=args.port,
            public_url=args.public_url,
            manifest_path=args.manifest or default_manifest_path(),
            env_path=Path(os.environ.get("FEATUREBRIDGE_ENV_FILE", ENV_FILE)),
            open_browser=not args.no_browser,
            force=args.force,
            out=sys.stdout,
            err=sys.stderr,
        )
    return EXIT_USAGE  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
