"""Full-text search next to the news list, in process, on SQLite or PostgreSQL.

Builds a database with N generated news (`cms.services.demo`, bulk inserts that the
index triggers follow), then sends GraphQL requests through the whole app in process
(httpx over ASGI, one at a time: no network, no server), and prints for each query
p50 and p99 latency, requests/s and the SQL statements of one request; then the
query plan of the search statement, to show that the index serves it (FTS5 MATCH on
SQLite, a GIN bitmap scan on PostgreSQL), not a scan of the table.

    .venv/bin/python bench/search.py --news 100000                     # SQLite, /tmp
    .venv/bin/python bench/search.py --news 100000 \\
        --database-url postgres://postgres@127.0.0.1:5432/bench_search   # dropped first
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUERIES = {
    "news list": ("{ news(first: 20) { totalCount edges { node { slug title } } } }", {}),
    "search: сотрудничества": (
        "query ($q: String!) { search(query: $q, first: 20) { totalCount edges { node {"
        " score highlights { field snippet } item { id } } } } }",
        {"q": "сотрудничества"},
    ),
    "search: предприятий края": (
        "query ($q: String!) { search(query: $q, first: 20) { edges { node { score"
        " item { id } } } } }",
        {"q": "предприятий края"},
    ),
    "search: prefix косм": (
        "query ($q: String!) { search(query: $q, first: 20) { edges { node { item { id } } } } }",
        {"q": "косм"},
    ),
    "news filter.search": (
        "query ($q: String!) { news(first: 20, filter: {search: $q}) { edges { node { slug } } } }",
        {"q": "инвестиции"},
    ),
    "news filter.search, RELEVANCE": (
        "query ($q: String!) { news(first: 20, filter: {search: $q}, orderBy: RELEVANCE) {"
        " edges { node { slug } } } }",
        {"q": "инвестиции"},
    ),
    "search: typo, suggestion": (
        "query ($q: String!) { search(query: $q, first: 20) { totalCount suggestion } }",
        {"q": "сатрудничества"},
    ),
}


async def _prepare(url: str, news: int) -> None:
    from cms import db
    from cms.services.demo import generate_demo
    from cms.services.seeding import load_seed

    if url.startswith("postgres"):
        import asyncpg

        admin_url, name = url.rsplit("/", 1)
        admin = await asyncpg.connect(f"{admin_url}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
    await db.migrate(url)
    started = time.perf_counter()
    async with db.database(url):
        await load_seed()
        await generate_demo(news, seed=1)
        # Fresh statistics, as autovacuum would gather them (PostgreSQL plans without).
        if url.startswith("postgres"):
            await db.get_connection("default").execute_script("ANALYZE")
    print(f"{news} news generated and indexed in {time.perf_counter() - started:.0f} s")


async def _measure(url: str, requests: int) -> None:
    import httpx

    from cms import db
    from cms.services import fulltext
    from cms.services.viewer import Viewer
    from cms.settings import load_settings
    from web.app import create_app

    settings = load_settings(
        {"CMS_DATABASE_URL": url, "CMS_SECRET_KEY": "bench", "CMS_RESPONSE_CACHE": "off"}
    )
    async with db.database(url):
        app = create_app(settings, manage_database=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            print("| query | p50 ms | p99 ms | req/s | SQL statements |\n|---|---|---|---|---|")
            for label, (query, variables) in QUERIES.items():
                body: dict[str, Any] = {"query": query, "variables": variables}
                answer = (await client.post("/graphql", json=body)).json()
                assert "errors" not in answer, answer
                with db.count_statements() as statements:
                    await client.post("/graphql", json=body)
                times = []
                for _ in range(requests):
                    started = time.perf_counter()
                    await client.post("/graphql", json=body)
                    times.append(time.perf_counter() - started)
                times.sort()
                p50 = statistics.median(times) * 1000
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
                print(
                    f"| {label} | {p50:.1f} | {p99:.1f} | {len(times) / sum(times):.0f} "
                    f"| {len(statements)} |"
                )
        # A word in half the news (PostgreSQL rightly scans) and a rare one (the index).
        for text in ("сотрудничества", "космодром"):
            parsed = fulltext.parse_query(text)
            statement = fulltext._hits_sql(["News"], Viewer(), parsed)
            explain = "EXPLAIN" if statement.postgres else "EXPLAIN QUERY PLAN"
            _, rows = await db.get_connection("default").execute_query(
                f"{explain} {statement.sql}", statement.params
            )
            print(f"\nPlan of the search statement (news, «{text}»):")
            for row in rows:
                print("  " + " ".join(str(value) for value in dict(row).values()))
        # The lexicon's candidates for a misspelt word: its trigram index.
        connection = db.get_connection("default")
        if db.dialect() == "postgres":
            sql = (
                "EXPLAIN SELECT word FROM search_lexicon WHERE word % 'сатрудничества' "
                "ORDER BY similarity(word, 'сатрудничества') DESC LIMIT 50"
            )
        else:
            sql = (
                "EXPLAIN QUERY PLAN SELECT word FROM search_lexicon_trigrams WHERE "
                'search_lexicon_trigrams MATCH \'"сат" OR "атр"\' ORDER BY rank LIMIT 200'
            )
        _, rows = await connection.execute_query(sql)
        _, size = await connection.execute_query("SELECT count(*) AS n FROM search_lexicon")
        print(f"\nPlan of the lexicon's candidates ({size[0]['n']} words):")
        for row in rows:
            print("  " + " ".join(str(value) for value in dict(row).values()))


def main() -> None:
    parser = argparse.ArgumentParser(description="Full-text search next to the news list.")
    parser.add_argument("--news", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default="sqlite:///tmp/cms-bench-search.db")
    parser.add_argument("--reuse", action="store_true", help="keep the database of a last run")
    args = parser.parse_args()
    if not args.reuse:
        if args.database_url.startswith("sqlite"):
            path = args.database_url.removeprefix("sqlite://")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        asyncio.run(_prepare(args.database_url, args.news))
    asyncio.run(_measure(args.database_url, args.requests))


if __name__ == "__main__":
    main()
