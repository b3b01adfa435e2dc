"""Where the time of one GraphQL request goes, layer by layer, in one process.

For an operation (the uncached news list by default) on the 10k-news demo database:

- parse: graphql-core's parser on the document;
- validate: the schema's validation rules on the parsed document;
- SQL: the statements the operation issues (captured once), replayed as raw SQL
  through the same Tortoise connection: the database plus the driver;
- ORM: the same reads through the services and the ORM (querysets built, SQL run,
  model instances made): minus SQL, it is what the ORM adds;
- execute: `schema.execute` with parse and validation cached, i.e. resolvers,
  DataLoaders, the ORM and graphql-core's walk over every field; minus the ORM,
  it is the field walk;
- serialise: orjson on the result;
- HTTP: the whole request through the ASGI app (Starlette, middleware, the view,
  auth, the rate limit) in process, no socket.

Medians of --rounds runs, in microseconds, CPU time of this process (the SQLite
driver's thread included), so that other load on the machine disturbs them less.

    .venv/bin/python bench/profile_layers.py [--operation news_list] [--rounds 300]
    .venv/bin/python bench/profile_layers.py --cprofile   # plus the top functions
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import logging
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness


async def timed(fn: Callable[[], Awaitable[Any]], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.process_time()
        await fn()
        samples.append(time.process_time() - started)
    return statistics.median(samples) * 1e6


async def profile(operation: str, rounds: int, news: int, use_cprofile: bool) -> None:
    import httpx
    import orjson
    from graphql import parse, validate
    from tortoise.connection import get_connection

    from cms.db import count_statements
    from cms.services.news import NewsFilter, news_count, news_ordering, news_queryset
    from cms.services.pagination import paginate, window
    from cms.services.publishing import PublicationStatus
    from cms.services.viewer import Viewer
    from cms.settings import load_settings
    from graphql_schema.context import Context
    from graphql_schema.news import dataloaders
    from graphql_schema.schema import schema
    from web.app import create_app

    work = Path(tempfile.mkdtemp(prefix="cms-profile-"))
    url = harness.demo_database(news, work)
    os.environ.update(harness.BENCH_ENV)
    os.environ["CMS_DATABASE_URL"] = url
    settings = load_settings()
    app = create_app(settings)
    op = harness.OPERATIONS[operation]
    results: dict[str, float] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            body = op.body()
            headers = {"content-type": "application/json"}

            async def http() -> None:
                response = await client.post("/graphql", content=body, headers=headers)
                assert response.status_code == 200

            for _ in range(30):
                await http()
            captured: list[tuple[str, Any]] = []

            class Capture(logging.Handler):
                def emit(self, record: logging.LogRecord) -> None:
                    if record.args and len(record.args) == 2:
                        query, values = record.args  # type: ignore[misc]
                        if str(query).lstrip()[:6].upper() in ("SELECT", "WITH"):
                            captured.append((str(query), values))

            capture = Capture()
            logging.getLogger("tortoise.db_client").addHandler(capture)
            with count_statements() as statements:
                await http()
            logging.getLogger("tortoise.db_client").removeHandler(capture)

            runtime = app.state.runtime if hasattr(app.state, "runtime") else None
            from cms.runtime import Runtime

            runtime = runtime or Runtime.create(settings)

            async def execute() -> Any:
                context = Context(runtime=runtime, viewer=Viewer())
                result = await schema.execute(
                    op.query, variable_values=op.variables, context_value=context
                )
                assert not result.errors, result.errors
                return result

            result = await execute()

            async def parse_only() -> None:
                parse(op.query)

            document = parse(op.query)

            async def validate_only() -> None:
                validate(schema._schema, document)

            async def serialise() -> None:
                orjson.dumps({"data": result.data})

            connection = get_connection("default")

            async def sql() -> None:
                for statement, values in captured:
                    await connection.execute_query(statement, values)

            async def orm() -> None:
                if operation not in ("news_list", "narrow_100"):
                    return
                viewer = Viewer()
                news_filter = NewsFilter()
                ordering = news_ordering(
                    dataloaders.NewsOrder.PUBLISHED_AT_DESC, (PublicationStatus.PUBLISHED,)
                )
                request = window(
                    ordering,
                    first=op.variables["first"],
                    after=None,
                    default_size=20,
                    max_size=100,
                )
                page = await paginate(
                    news_queryset(viewer, news_filter),
                    ordering,
                    request,
                    count=news_count(news_filter),
                )
                if operation == "news_list":
                    await page.total_count()
                    await dataloaders.tags_of_news(viewer, [item.pk for item in page.items])

            results["HTTP (whole request, in process)"] = await timed(http, rounds)
            results["parse"] = await timed(parse_only, rounds)
            results["validate"] = await timed(validate_only, rounds)
            results["execute (parse and validation cached)"] = await timed(execute, rounds)
            if operation in ("news_list", "narrow_100"):
                results["ORM reads (services, SQL, models)"] = await timed(orm, rounds)
            results["SQL only (same statements, raw)"] = await timed(sql, rounds)
            results["serialise (orjson)"] = await timed(serialise, rounds)
            if use_cprofile:
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(rounds):
                    await http()
                profiler.disable()
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
                print(out.getvalue())
    whole = results["HTTP (whole request, in process)"]
    execute_us = results["execute (parse and validation cached)"]
    sql_us = results["SQL only (same statements, raw)"]
    derived = {}
    orm_us = results.get("ORM reads (services, SQL, models)")
    if orm_us is not None:
        derived["ORM overhead (ORM reads − SQL)"] = orm_us - sql_us
        derived["field walk (execute − ORM reads)"] = execute_us - orm_us
    else:
        derived["ORM and field walk (execute − SQL)"] = execute_us - sql_us
    derived["HTTP, view, middleware (whole − execute − serialise)"] = (
        whole - execute_us - results["serialise (orjson)"]
    )
    print(
        f"\n{operation} on {news} news, {len(statements)} SQL statements, median CPU µs "
        f"of {rounds} rounds (load average {harness.load_average()}):\n"
    )
    print("| layer | µs | share of the whole request |")
    print("| --- | ---: | ---: |")
    for name, value in [*results.items(), *derived.items()]:
        print(f"| {name} | {value:,.0f} | {value / whole:.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description="Per-layer cost of one GraphQL request.")
    parser.add_argument("--operation", default="news_list", choices=sorted(harness.OPERATIONS))
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--news", type=int, default=10_000)
    parser.add_argument("--cprofile", action="store_true")
    args = parser.parse_args()
    asyncio.run(profile(args.operation, args.rounds, args.news, args.cprofile))


if __name__ == "__main__":
    main()
