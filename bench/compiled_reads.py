"""The read compiler against Strawberry, in one process, on the demo database.

For each representative operation (bench/harness.py): which executor answered
with the compiler on, whether both answers are equal, and the median CPU time of
a whole request through the ASGI app (no socket) with the compiler off and on,
the response cache off. Short on purpose: the machine is shared. With `--keyed`
the reads are anonymous GETs: both executors answer as on a miss of the public
cache (the answer stored for HTTP caches, with its surrogate keys).

    .venv/bin/python bench/compiled_reads.py [--news 10000] [--rounds 100] [--keyed]
    .venv/bin/python bench/compiled_reads.py --database-url postgres://postgres@127.0.0.1:5432/ladder
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import harness

HEADERS = {"content-type": "application/json"}
READS = ("news_list", "news_by_tag", "news_item", "narrow_100", "deep_agreement")


async def run(news: int, rounds: int, database_url: str | None, keyed: bool) -> None:
    import httpx
    import orjson

    from cms.db import count_statements, install_statement_counter
    from cms.settings import load_settings
    from web.app import create_app
    from web.view import EXECUTOR_HEADER

    work = Path(tempfile.mkdtemp(prefix="cms-compiled-"))
    url = harness.demo_database(news, work, database_url)
    os.environ.update(harness.BENCH_ENV)
    os.environ["CMS_DATABASE_URL"] = url
    os.environ["CMS_RESPONSE_CACHE"] = "off"
    # One app opens the database; the other uses the same connection.
    apps = {
        mode: create_app(
            load_settings({**os.environ, "CMS_QUERY_COMPILER": mode}),
            manage_database=mode == "off",
        )
        for mode in ("off", "on")
    }
    install_statement_counter()
    database = "PostgreSQL" if database_url else "SQLite"
    how = "anonymous GETs (keyed)" if keyed else "POSTs"
    print(f"{news} news, {database}, {rounds} rounds, {how}, load average {harness.load_average()}")
    print("| operation | path (on) | equal | statements off → on | µs off | µs on | × |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    async with (
        apps["off"].router.lifespan_context(apps["off"]),
        apps["on"].router.lifespan_context(apps["on"]),
    ):
        clients = {
            mode: httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
            for mode, app in apps.items()
        }
        for name in READS:
            op = harness.OPERATIONS[name]
            body = op.body()
            sent = orjson.loads(body)
            params = {
                "query": sent["query"],
                "variables": orjson.dumps(sent.get("variables")).decode(),
            }
            results: dict[str, Any] = {}
            for mode, client in clients.items():

                async def request(
                    client: httpx.AsyncClient = client,
                    body: bytes = body,
                    params: dict[str, str] = params,
                ) -> httpx.Response:
                    if keyed:
                        return await client.get("/graphql", params=params)
                    return await client.post("/graphql", content=body, headers=HEADERS)

                await request()  # plans, caches
                with count_statements() as statements:
                    first = await request()
                samples = []
                for _ in range(rounds):
                    started = time.process_time()
                    await request()
                    samples.append(time.process_time() - started)
                results[mode] = (
                    first,
                    len(statements),
                    statistics.median(samples) * 1e6,
                )
            off, on = results["off"], results["on"]
            equal = orjson.loads(off[0].content) == orjson.loads(on[0].content)
            path = on[0].headers.get(EXECUTOR_HEADER, "strawberry")
            print(
                f"| {name} | {path} | {'yes' if equal else 'NO'} | {off[1]} → {on[1]} | "
                f"{off[2]:,.0f} | {on[2]:,.0f} | {off[2] / on[2]:.1f} |"
            )
        for client in clients.values():
            await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--news", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--database-url", help="postgres://...: a demo database made there")
    parser.add_argument("--keyed", action="store_true", help="anonymous GETs, answers stored")
    arguments = parser.parse_args()
    asyncio.run(run(arguments.news, arguments.rounds, arguments.database_url, arguments.keyed))


if __name__ == "__main__":
    main()
