"""The command line: `python -m cms <command>`."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

from cms import db
from cms.settings import SettingsError, load_settings


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
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    return parser


async def _migrate(database_url: str) -> None:
    print("Applying migrations…")
    await db.migrate(database_url, quiet=False)
    print("Database is up to date.")


async def _seed(database_url: str, *, if_empty: bool) -> None:
    from cms.models import News
    from cms.services.seeding import load_seed

    async with db.database(database_url):
        if if_empty and await News.exists():
            return
        report = await load_seed(progress=lambda step: print(f"  {step}"))
    print(f"Seed content loaded: {report}")


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


def _export_schema() -> None:
    # The one place where `cms` reaches into the API layer: printing its SDL.
    from graphql_schema.schema import schema

    sys.stdout.write(schema.as_str() + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        _export_schema()
        return
    try:
        settings = load_settings()
    except SettingsError as error:
        raise SystemExit(f"Configuration error: {error}") from None
    if args.command == "migrate":
        asyncio.run(_migrate(settings.database_url))
    elif args.command == "seed":
        asyncio.run(_seed(settings.database_url, if_empty=args.if_empty))
    elif args.command == "demo":
        asyncio.run(_demo(settings.database_url, news_count=args.news, seed=args.seed))


if __name__ == "__main__":
    main()
