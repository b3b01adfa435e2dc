"""The command line: `python -m cms <command>`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from cms import db
from cms.errors import ValidationFailedError
from cms.models.accounts import Role, TokenScope
from cms.settings import Settings, SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cms", description="CMS administration")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("migrate", help="apply the database migrations")
    seed = commands.add_parser("seed", help="load the seed content (idempotent)")
    seed.add_argument(
        "--if-empty", action="store_true", help="only when the database holds no news yet"
    )
    demo = commands.add_parser("demo", help="add generated news for benchmarks")
    demo.add_argument("--news", type=int, required=True, metavar="N", help="how many news")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    createuser = commands.add_parser(
        "createuser",
        help="add a staff account (password from CMS_NEW_USER_PASSWORD or a prompt)",
    )
    createuser.add_argument("--email", required=True)
    # Roles and scopes as the API spells them (VIEWER, READ_DRAFTS) or in lower case.
    createuser.add_argument(
        "--role", required=True, type=str.lower, choices=[role.value for role in Role]
    )
    createuser.add_argument("--name", default=None, help="display name")
    commands.add_parser(
        "ensure-admin", help="create the first admin when there are no users, print how to log in"
    )
    token = commands.add_parser("create-token", help="create an API token and print it once")
    token.add_argument("--name", required=True)
    token.add_argument(
        "--scope",
        action="append",
        required=True,
        type=str.lower,
        choices=[scope.value for scope in TokenScope],
        help="repeat for several scopes",
    )
    commands.add_parser(
        "reindex", help="rebuild the full-text search index of every searchable type"
    )
    commands.add_parser(
        "purge-trash",
        help="remove for good what is in the trash longer than CMS_TRASH_RETENTION_DAYS",
    )
    retention = commands.add_parser(
        "feedback-retention",
        help="anonymise (or delete, by CMS_FEEDBACK_RETENTION_MODE) feedback older than "
        "CMS_FEEDBACK_RETENTION_DAYS",
    )
    retention.add_argument(
        "--dry-run", action="store_true", help="only count the messages it would change"
    )
    for name, what in (
        ("feedback-export", "print as JSON everything stored about one e-mail or phone"),
        ("feedback-erase", "remove the personal data of one e-mail or phone from feedback"),
    ):
        contact = commands.add_parser(name, help=what)
        contact.add_argument("--email", default=None)
        contact.add_argument("--phone", default=None)
    commands.add_parser("feeds", help="print the URLs of every feed and of the sitemap")
    overdue = commands.add_parser(
        "appeals-overdue",
        help="list open appeals past their deadline and those due soon (a daily report)",
    )
    overdue.add_argument(
        "--within", type=int, default=3, metavar="DAYS", help="also those due within DAYS (3)"
    )
    report = commands.add_parser(
        "appeals-report", help="print counts of appeals received in a period as CSV"
    )
    report.add_argument("--from", dest="start", default=None, help="YYYY-MM-DD, inclusive")
    report.add_argument("--to", dest="end", default=None, help="YYYY-MM-DD, inclusive")
    documents = commands.add_parser(
        "register-documents",
        help="register trusted GraphQL documents: a directory of .graphql files or a "
        "JSON manifest ({hash: query}, or Apollo's persisted query manifest)",
    )
    documents.add_argument("path", help="a directory or a manifest file")
    media_migrate = commands.add_parser(
        "media-migrate",
        help="copy the local media library (CMS_MEDIA_ROOT) to the S3 bucket (CMS_S3_*), "
        "with progress; run it again to resume",
    )
    media_migrate.add_argument("--to", required=True, choices=["s3"], help="the target storage")
    commands.add_parser(
        "worker",
        help="send e-mails and webhooks from the outbox until stopped (SIGTERM); for "
        "deployments that run it apart from the servers (CMS_BACKGROUND_IN_SERVER=off)",
    )
    return parser


async def _worker(settings: Settings) -> None:
    import signal

    from cms.runtime import Runtime

    runtime = Runtime.create(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    try:
        async with db.database(settings.database_url), runtime.background(force=True):
            print("Worker started: sending e-mails and webhooks from the outbox.", flush=True)
            await stop.wait()
    finally:
        await runtime.close()
    print("Worker stopped.", flush=True)


async def _media_migrate(settings: Settings) -> None:
    # The command line is the one place in cms that reaches media (see pyproject.toml).
    from media.migrate import MigrationError, StorageUnavailableError, migrate_to_s3

    try:
        await migrate_to_s3(settings, lambda line: print(line, flush=True))
    except MigrationError as error:
        raise SystemExit(f"error: {error}") from None
    except StorageUnavailableError as error:
        raise SystemExit(f"error: the copy stopped ({error}); run it again to resume") from None


async def _register_documents(database_url: str, path: str) -> None:
    from pathlib import Path

    from cms.services.trusted_documents import DocumentSourceError, read_documents, register

    try:
        documents = read_documents(Path(path))
    except (DocumentSourceError, OSError, UnicodeDecodeError) as error:
        raise SystemExit(f"error: {error}") from None
    async with db.database(database_url):
        added, known = await register(documents)
    print(f"Registered {added} new documents ({known} already registered).")


async def _bump_shared_cache(settings: Settings) -> None:
    """After a command changed content without announcing it: servers sharing Redis
    drop their cached responses (in-process caches of running servers cannot be told;
    restart them)."""
    if not settings.redis_url:
        return
    from redis.exceptions import RedisError

    from cms.services.events import shared_generation_key
    from cms.services.redis_guard import connect

    redis = connect(settings)
    try:
        # Servers carry on without Redis; this command must say that it could not.
        try:
            await redis.incr(shared_generation_key(settings.redis_prefix))
        except RedisError:
            raise SystemExit(
                "Redis is unavailable: the shared response cache was not cleared; "
                "run the command again when Redis answers, or restart the servers."
            ) from None
    finally:
        await redis.aclose()


async def _purge_trash(settings: Settings) -> None:
    from datetime import timedelta

    from cms.services.trash import purge_trash
    from cms.services.visibility import now

    cutoff = now() - timedelta(days=settings.trash_retention_days)
    async with db.database(settings.database_url):
        removed = await purge_trash(cutoff)
    if removed:
        await _bump_shared_cache(settings)
    details = ", ".join(f"{name}: {count}" for name, count in sorted(removed.items()))
    print(
        f"Removed from the trash (older than {settings.trash_retention_days} days): "
        f"{details or 'nothing'}."
    )


async def _reindex(database_url: str) -> None:
    from cms.services.fulltext import reindex

    started = time.perf_counter()

    def progress(kind: str, done: int, total: int) -> None:
        print(f"\r  {kind:<14} {done:>8}/{total}", end="" if done < total else "\n", flush=True)

    async with db.database(database_url):
        indexed = await reindex(progress)
    total = sum(indexed.values())
    print(f"Indexed {total} items in {time.perf_counter() - started:.1f} s.")


async def _migrate(database_url: str) -> None:
    print("Applying migrations…")
    await db.migrate(database_url, quiet=False)
    print("Database is up to date.")


async def _seed(settings: Settings, *, if_empty: bool) -> None:
    from cms.models import News
    from cms.services.seeding import load_seed

    async with db.database(settings.database_url):
        if if_empty and await News.exists():
            return
        report = await load_seed(
            progress=lambda step: print(f"  {step}"),
            image_hosts=settings.richtext_image_hosts,
        )
    print(report.summary())


async def _demo(database_url: str, *, news_count: int, seed: int) -> None:
    from cms.services.demo import generate_demo

    if news_count < 1:
        raise SystemExit("--news must be at least 1")
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        print(f"\r  {done:>7}/{total} news", end="", flush=True)

    async with db.database(database_url):
        added = await generate_demo(news_count, seed=seed, progress=progress)
    print(f"\nAdded {added} news in {time.perf_counter() - started:.1f} s.")


def _new_password() -> str:
    password = os.environ.get("CMS_NEW_USER_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise SystemExit("Set CMS_NEW_USER_PASSWORD or run in a terminal to type the password.")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise SystemExit("The passwords differ.")
    return password


def _report_problems(error: ValidationFailedError) -> NoReturn:
    raise SystemExit("\n".join(f"error: {problem.message}" for problem in error.errors))


async def _createuser(database_url: str, *, email: str, role: str, name: str | None) -> None:
    from cms.services.auth import create_user

    password = _new_password()
    async with db.database(database_url):
        try:
            user = await create_user(
                email=email, password=password, role=Role(role), display_name=name
            )
        except ValidationFailedError as error:
            _report_problems(error)
    print(f"Created {user.role.value} {user.email}.")


async def _ensure_admin(settings: Settings) -> None:
    from cms.services.auth import ensure_first_admin

    async with db.database(settings.database_url):
        try:
            created = await ensure_first_admin(settings.admin_email, settings.admin_password)
        except ValidationFailedError as error:
            _report_problems(error)
    if created is None:
        return
    user, password = created
    shown = password if not settings.admin_password else "(the value of CMS_ADMIN_PASSWORD)"
    print(
        "\n"
        "  First admin created. Log in in GraphiQL with:\n"
        f'    mutation {{ login(input: {{email: "{user.email}", password: "{shown}"}}) '
        "{ token errors { message } } }\n"
        '  then add the header {"Authorization": "Bearer <token>"}.\n'
        "  This password is shown only once.\n"
    )


async def _create_token(database_url: str, *, name: str, scopes: list[str]) -> None:
    from cms.services.auth import create_api_token

    async with db.database(database_url):
        try:
            secret, token = await create_api_token(
                name=name, scopes=[TokenScope(scope) for scope in scopes], created_by=None
            )
        except ValidationFailedError as error:
            _report_problems(error)
    print(f"API token «{token.name}» ({', '.join(token.scopes)}); shown only once:\n{secret}")


async def _feedback_retention(settings: Settings, *, dry_run: bool) -> None:
    from cms.models import FeedbackMessage
    from cms.services.feedback.privacy import apply_retention, retention_cutoff

    async with db.database(settings.database_url):
        cutoff = retention_cutoff(settings)
        if dry_run:
            old = FeedbackMessage.filter(created_at__lt=cutoff)
            if settings.feedback_retention_mode != "delete":
                old = old.filter(anonymized_at__isnull=True)
            count = await old.count()
            print(f"{count} messages received before {cutoff:%Y-%m-%d} would be changed.")
            return
        report = await apply_retention(settings)
    done = "deleted" if report.mode == "delete" else "anonymised"
    print(f"{report.affected} messages received before {report.cutoff:%Y-%m-%d} {done}.")


async def _feedback_contact(
    database_url: str, *, command: str, email: str | None, phone: str | None
) -> None:
    import json

    from cms.services.feedback import privacy

    try:
        contact = privacy.parse_contact(email, phone)
    except ValidationFailedError as error:
        _report_problems(error)
    async with db.database(database_url):
        if command == "feedback-export":
            data = await privacy.export_personal_data(contact)
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
            return
        tickets = await privacy.erase_personal_data(contact)
    print(f"Personal data removed from {len(tickets)} messages: {', '.join(tickets) or '-'}.")


async def _feeds(settings: Settings) -> None:
    from cms.services import syndication, urls

    async with db.database(settings.database_url):
        directory = await syndication.feed_directory(settings)
    print(f"Карта сайта: {urls.sitemap_url(settings)}")
    for label, links in directory:
        print(f"{label}:")
        for fmt, url in links.items():
            print(f"  {fmt:<5} {url}")


async def _appeals_overdue(settings: Settings, *, within: int) -> None:
    from cms.services.appeals.queue import overdue_lines

    if not 0 <= within <= 366:
        raise SystemExit("--within must be from 0 to 366")
    async with db.database(settings.database_url):
        lines = await overdue_lines(settings, within=within)
    sys.stdout.write("\n".join(lines) + "\n")


def _office_day(settings: Settings, value: str | None, name: str, *, end: bool) -> Any:
    """The start of the day (or of the next one, for an inclusive end) in the office's zone."""
    import zoneinfo
    from datetime import date, datetime, timedelta

    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"{name} must be a date like 2026-01-31, not {value!r}") from None
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), zoneinfo.ZoneInfo(settings.appeal_timezone))


async def _appeals_report(settings: Settings, *, start: str | None, end: str | None) -> None:
    from cms.services.appeals.reports import appeal_report, report_csv

    after = _office_day(settings, start, "--from", end=False)
    before = _office_day(settings, end, "--to", end=True)
    async with db.database(settings.database_url):
        report = await appeal_report(settings, after, before)
    sys.stdout.write(report_csv(report))


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as error:
        raise SystemExit(f"Configuration error: {error}") from None
    if args.command == "migrate":
        asyncio.run(_migrate(settings.database_url))
    elif args.command == "seed":
        asyncio.run(_seed(settings, if_empty=args.if_empty))
        asyncio.run(_bump_shared_cache(settings))
    elif args.command == "demo":
        asyncio.run(_demo(settings.database_url, news_count=args.news, seed=args.seed))
        asyncio.run(_bump_shared_cache(settings))
    elif args.command == "feeds":
        asyncio.run(_feeds(settings))
    elif args.command == "register-documents":
        asyncio.run(_register_documents(settings.database_url, args.path))
    elif args.command == "createuser":
        asyncio.run(
            _createuser(settings.database_url, email=args.email, role=args.role, name=args.name)
        )
    elif args.command == "ensure-admin":
        asyncio.run(_ensure_admin(settings))
    elif args.command == "create-token":
        asyncio.run(_create_token(settings.database_url, name=args.name, scopes=args.scope))
    elif args.command == "reindex":
        asyncio.run(_reindex(settings.database_url))
        asyncio.run(_bump_shared_cache(settings))
    elif args.command == "purge-trash":
        asyncio.run(_purge_trash(settings))
    elif args.command == "feedback-retention":
        asyncio.run(_feedback_retention(settings, dry_run=args.dry_run))
    elif args.command == "appeals-overdue":
        asyncio.run(_appeals_overdue(settings, within=args.within))
    elif args.command == "appeals-report":
        asyncio.run(_appeals_report(settings, start=args.start, end=args.end))
    elif args.command == "media-migrate":
        asyncio.run(_media_migrate(settings))
    elif args.command == "worker":
        asyncio.run(_worker(settings))
    elif args.command in ("feedback-export", "feedback-erase"):
        asyncio.run(
            _feedback_contact(
                settings.database_url, command=args.command, email=args.email, phone=args.phone
            )
        )


if __name__ == "__main__":
    main()
