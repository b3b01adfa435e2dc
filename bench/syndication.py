"""Feeds and delta sync at scale: a feed of 50 items and a sync page of 100 changes
against `python server.py` on a database of 100,000 generated news, beside the news
list, with the SQL statements of one request of each (the X-SQL-Count header).

The sync token is the one a client would hold after syncing up to just before 100
edits: the bench reads the end of the change log, makes 100 edits through GraphQL as
an admin, then asks for what changed since (one page of 100). Feeds are served with
the response cache off, like the other uncached rungs. Writes bench/REPORT-syndication.md.

    .venv/bin/python bench/syndication.py                      # SQLite, 100k news
    .venv/bin/python bench/syndication.py --news 10000 --duration 4
    .venv/bin/python bench/syndication.py --database-url postgres://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness
from ladder import write_between_markers

SYNC = (
    "query Sync($token: String, $first: Int) { sync(token: $token, first: $first) { "
    "items { __typename id ... on News { slug title lead publishedAt tags { slug } } } "
    "deletions { id kind deletedAt } nextPageToken nextSyncToken } }"
)
PASSWORD = "bench-admin-password-1"
TAG_FEED = "/feeds/tags/sotrudnichestvo.json"


def _token_before_edits(database_url: str) -> str:
    """A sync token positioned at the current end of the change log (what a client
    that just synced holds), made by the CMS's own code with the bench's secret."""
    script = (
        "import asyncio, time\n"
        "from cms import db\n"
        "from cms.settings import load_settings\n"
        "from cms.services import sync\n"
        "from cms.services.viewer import ANONYMOUS\n"
        "async def main():\n"
        "    settings = load_settings()\n"
        "    async with db.database(settings.database_url):\n"
        "        high, xmin = await sync._log_end()\n"
        "    position = sync.Position(ANONYMOUS.visibility_scope, sync.SYNC_KINDS, high, xmin,"
        " time.time())\n"
        "    print(sync.encode_token(settings, position))\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, **harness.BENCH_ENV, "CMS_DATABASE_URL": database_url}
    done = subprocess.run(
        [harness.PYTHON, "-c", script],
        cwd=harness.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def _make_admin(database_url: str) -> None:
    env = {
        **os.environ,
        **harness.BENCH_ENV,
        "CMS_DATABASE_URL": database_url,
        "CMS_NEW_USER_PASSWORD": PASSWORD,
    }
    subprocess.run(
        [
            harness.PYTHON,
            "-m",
            "cms",
            "createuser",
            "--email",
            "bench-admin@example.ru",
            "--role",
            "ADMIN",
        ],
        cwd=harness.ROOT,
        env=env,
        check=False,
        capture_output=True,
    )


async def _edit_news(base: str, count: int) -> None:
    """`count` edits of published news, as an editor would make them."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        login = await http.post(
            "/graphql",
            json={
                "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, "
                "password: $p}) { token errors { message } } }",
                "variables": {"e": "bench-admin@example.ru", "p": PASSWORD},
            },
        )
        token = login.json()["data"]["login"]["token"]
        assert token, login.text
        headers = {"authorization": f"Bearer {token}"}
        listed = await http.post(
            "/graphql",
            json={"query": f"{{ news(first: {count}) {{ edges {{ node {{ id }} }} }} }}"},
        )
        ids = [edge["node"]["id"] for edge in listed.json()["data"]["news"]["edges"]]
        for n, news_id in enumerate(ids):
            answer = await http.post(
                "/graphql",
                headers=headers,
                json={
                    "query": "mutation($id: ID!, $lead: String) { updateNews(id: $id, "
                    "input: {lead: $lead}) { errors { message } } }",
                    "variables": {"id": news_id, "lead": f"Обновлено для синхронизации {n}"},
                },
            )
            errors = answer.json()["data"]["updateNews"]["errors"]
            assert not errors, errors


def main() -> None:
    parser = argparse.ArgumentParser(description="Feeds and sync (bench/REPORT-syndication.md).")
    parser.add_argument("--news", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of SQLite")
    parser.add_argument("--report", default=str(harness.ROOT / "bench" / "REPORT-syndication.md"))
    args = parser.parse_args()
    command = " ".join([".venv/bin/python bench/syndication.py", *sys.argv[1:]])
    info = harness.machine()
    info["load_before"] = harness.load_average()
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cms-syndication-") as tmp:
        url = harness.demo_database(args.news, Path(tmp), args.database_url)
        _make_admin(url)
        token = _token_before_edits(url)
        with harness.serving(harness.cms_server(url, **harness.BENCH_ENV)) as server:
            asyncio.run(_edit_news(server.base, 100))
            sync_request = harness.Request(
                "POST",
                "/graphql",
                json.dumps({"query": SYNC, "variables": {"token": token, "first": 100}}).encode(),
                (("Content-Type", "application/json"),),
            )
            small_sync = harness.Request(
                "POST",
                "/graphql",
                json.dumps({"query": SYNC, "variables": {"token": token, "first": 10}}).encode(),
                (("Content-Type", "application/json"),),
            )
            cases = [
                ("news list with tags (20)", harness.post(harness.OPERATIONS["news_list"])),
                ("RSS feed of all news (50)", harness.Request("GET", "/feeds/news.rss")),
                (
                    "JSON Feed of a tag (50)",
                    harness.Request("GET", "/feeds/tags/sotrudnichestvo.json"),
                ),
                ("sitemap index", harness.Request("GET", "/sitemap.xml")),
                ("sync page of 100 changes", sync_request),
            ]
            small_sql, _ = harness.sql_count(server.base, small_sync)
            for label, request in cases:
                sql, response = harness.sql_count(server.base, request)
                if response.status_code != 200 or b'"errors"' in response.content[:2000]:
                    raise SystemExit(f"{label}: {response.status_code} {response.text[:300]}")
                if request is sync_request:
                    page = response.json()["data"]["sync"]
                    assert len(page["items"]) + len(page["deletions"]) == 100, page
                harness.wrk(
                    server.base, request, duration=args.warmup, connections=args.connections
                )
                result = harness.wrk(
                    server.base, request, duration=args.duration, connections=args.connections
                )
                rows.append((label, sql, result, len(response.content)))
                print(
                    f"{label:<28} {result.requests_per_second:8.0f} req/s  "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms  sql {sql}",
                    flush=True,
                )
    info["load_after"] = harness.load_average()
    lines = [
        f"Command: `{command}` ({'postgres' if args.database_url else 'sqlite'}, "
        f"{args.news:,} news; {time.perf_counter() - started:.0f} s; commit {info['commit']}).",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores; Linux {info['kernel']}; "
        f"Python {info['python']}; SQLite {info['sqlite']}; {info['wrk']}. Load average "
        f"(1/5/15 min) before: {info['load_before']}, after: {info['load_after']}.",
        "",
        f"wrk: 1 thread on core 1, {args.connections} connections, {args.warmup:g} s warm-up, "
        f"then {args.duration:g} s; the server on core 0; response cache off.",
        "",
        "| request | req/s | p50 ms | p99 ms | SQL statements | response bytes | failed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, sql, result, size in rows:
        lines.append(
            f"| {label} | {result.requests_per_second:,.0f} | {result.p50_ms:.2f} | "
            f"{result.p99_ms:.2f} | {sql} | {size:,} | {result.non_2xx_3xx} |"
        )
    lines += [
        "",
        f"A sync page of 10 changes from the same token takes {small_sql} statements. A "
        "sync page costs one statement for the end of the change log, one for the changed "
        "keys, one per kind present on the page (at most ten) and the dataloaders of the "
        "fields asked for: never one per item, whatever the number of news.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    write_between_markers(Path(args.report), text)


if __name__ == "__main__":
    main()
